// The core worker: the library in every driver and worker process, and the
// one surface the front ends (the C++ API, the Python bindings) use.
//
// It is assembled from parts that each do one thing and take what they need
// in their constructors (see docs/architecture.md, "The core worker"):
// the reference counter and the memory store (what this process owns and
// holds), the object fetcher (values from owners and other nodes), the borrow
// tracker (references lent between processes), the task spec builder, the
// dependency resolver and the task manager (what every submission shares), the
// task and actor submitters (leases and pushes; calls to actors), the stream
// manager (generators), the task receiver (tasks pushed to a worker), and the
// CoreWorkerService that routes RPCs to them. The seams to other processes are
// the GCS client, the raylet client pool and the core worker client pool; all
// delayed work runs on one timer.
//
// Threading: public methods are thread-safe. gRPC callback threads run RPC
// handlers and replies; delayed work runs on the timer's thread; a worker runs
// tasks on its execution thread(s). Blocking methods (Get, Wait, StreamNext)
// block only the calling thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "photon/common/config.h"
#include "photon/common/id.h"
#include "photon/common/timer.h"
#include "photon/core_worker/execute/task_receiver.h"
#include "photon/core_worker/object_value.h"
#include "photon/core_worker/reference_counter.h"
#include "photon/core_worker/submit/task_spec_builder.h"
#include "photon/gcs_client/gcs_client.h"
#include "photon/protocol/raylet.pb.h"
#include "photon/stats/metrics_service.h"

namespace photon {
class CallbackGuard;
}
namespace photon::object_store {
class StoreClient;
}
namespace photon::rpc {
class GrpcServer;
class RayletClientPool;
class CoreWorkerClientPool;
}  // namespace photon::rpc

namespace photon::core {

class ActorSubmitter;
class BorrowTracker;
class CoreWorkerServiceImpl;
class DependencyResolver;
class MemoryStore;
class NodeDirectory;
class ObjectFetcher;
class StreamManager;
class TaskContexts;
class TaskManager;
class TaskSubmitter;
class WorkerLiveness;

struct CoreWorkerOptions {
  bool is_driver = true;
  rpc::Language language = rpc::CPP;
  std::string host = "127.0.0.1";
  std::string gcs_address;
  std::string raylet_address;  // host:port of this node's raylet
  JobID job_id;                // drivers: from the GCS; workers: from the raylet
  WorkerID worker_id;          // workers: from the raylet; drivers: nil (the raylet makes it)
  std::vector<std::string> worker_command;  // argv that starts a worker of this job
  std::map<std::string, std::string> worker_env;
  std::string ray_namespace;
  TaskExecutor executor;  // workers only
  // Workers only, optional: asks the front end to stop the running task
  // `task` (ray.cancel of a running task; best effort, any thread).
  std::function<void(const TaskID& task)> interrupt;
};

struct ActorCreationOptions {
  std::string factory_name;
  // What the state API shows (ActorState.class_name; the creation task is
  // "<class_name>.__init__"); empty: factory_name.
  std::string class_name;
  std::string name;
  std::string ray_namespace;  // empty: the job's
  std::map<std::string, double> resources;
  int max_restarts = 0;
  int max_task_retries = 0;
  int max_concurrency = 1;
  bool detached = false;
  rpc::SchedulingStrategy scheduling;
  std::string runtime_env;  // TaskSpec.runtime_env
  std::string call_site;    // TaskSpec.call_site
};

struct TaskOptions {
  std::string function_name;
  std::string name;
  std::map<std::string, double> resources;
  int max_retries = -2;  // -2: config default
  bool retry_exceptions = false;
  int num_returns = 1;
  // A streaming generator task: it returns one object, its completion, and
  // reports its items as it yields them (see StreamNext).
  bool streaming = false;
  rpc::SchedulingStrategy scheduling;  // normal tasks (actor calls go to the actor)
  std::string runtime_env;             // TaskSpec.runtime_env
  std::string call_site;               // TaskSpec.call_site
};

class CoreWorker {
 public:
  // Connects to the GCS and the raylet, starts this process's server and
  // registers with the raylet. Fails with a message naming what is wrong.
  static absl::StatusOr<std::unique_ptr<CoreWorker>> Create(SystemConfig config,
                                                            CoreWorkerOptions options);
  ~CoreWorker();

  // Stops everything; for a driver, also marks its job finished. Idempotent.
  void Shutdown();

  // --- objects ---
  // Stores a value owned by this process; returns its id (one local ref held).
  absl::StatusOr<ObjectID> Put(std::string metadata, std::string data);
  // As Put, with the value given as parts written one after another (large
  // values are copied once, straight into shared memory).
  absl::StatusOr<ObjectID> PutParts(std::string metadata,
                                    const std::vector<std::string_view>& parts);
  // Keeps `inner` alive until `outer` is freed here: refs serialized inside a
  // value (`outer`, tracked here) live as long as the value.
  void AddContainedRefs(const ObjectID& outer, const std::vector<ObjectID>& inner);
  // The owner of an object this process knows (itself if it owns it).
  std::optional<rpc::Address> OwnerOf(const ObjectID& id) const;
  // Values of `ids` in order, or the first error: DeadlineExceeded on timeout
  // (timeout_ms < 0: wait forever), NotFound for an unknown id. A failed
  // object comes back as an error value (ObjectValue::IsError), not as a
  // Status. `priority` orders the pulls of remote objects. `interrupted`
  // (optional) is asked every 100 ms while it blocks; true ends the get
  // with Cancelled (Ctrl-C in the Python API).
  absl::StatusOr<std::vector<std::shared_ptr<ObjectValue>>> Get(
      const std::vector<ObjectID>& ids, int64_t timeout_ms,
      rpc::PullObjectRequest::Priority priority = rpc::PullObjectRequest::GET,
      const std::function<bool()>& interrupted = nullptr);
  // One flag per id: ready. Returns once `num_objects` are ready or on timeout.
  // With `fetch_local` (as in Ray), an object held in a store counts as ready
  // only once a copy is on this node.
  absl::StatusOr<std::vector<bool>> Wait(const std::vector<ObjectID>& ids, int num_objects,
                                         int64_t timeout_ms, bool fetch_local = false);
  void AddLocalReference(const ObjectID& id);
  void RemoveLocalReference(const ObjectID& id);
  size_t NumTrackedObjects() const;
  // What holds one object here (nullopt if untracked).
  std::optional<ReferenceCounter::Counts> ReferenceCountsOf(const ObjectID& id) const;
  // This node's store counters by field name (rpc::StoreStats); empty if the
  // store cannot be reached.
  std::map<std::string, double> LocalStoreStats();
  // One object's entry in this node's store (rpc::StoreObject fields, `found`
  // 0/1); `object_id` is binary. Empty if the id is malformed.
  std::map<std::string, double> LocalObjectInfo(const std::string& object_id);

  // Where `ids` were created (a front end's call site, with
  // record_ref_creation_sites): shown by the memory view.
  void RecordCallSite(const std::vector<ObjectID>& ids, const std::string& call_site);
  // This process's stats and, with include_memory_info, its reference table
  // as the memory view shows it (GetCoreWorkerStats).
  void Stats(const rpc::GetCoreWorkerStatsRequest& req, rpc::GetCoreWorkerStatsReply* reply);

  // --- borrowing ---
  // References to objects owned by other processes that this process just
  // deserialized (refs nested in arguments or in values it got, actor handles
  // as their handle objects). New borrows are registered with their owners,
  // one blocking call per owner, before this returns.
  void RegisterBorrowedRefs(const std::vector<OwnedRef>& refs);

  // --- tasks ---
  // Submits a normal task; returns the ids of its returns (one local ref each).
  absl::StatusOr<std::vector<ObjectID>> SubmitTask(std::vector<TaskArgument> args,
                                                   const TaskOptions& options);
  // Cancels the task that makes `id` (Ray's cancel): get then yields
  // TASK_CANCELLED. A queued task never runs; a running normal task is
  // interrupted (`force`: its worker is killed); with `recursive` the tasks it
  // submitted are cancelled too. An actor call is dropped if it has not
  // started (a running one of an async actor is cancelled); `force` is refused
  // for actor calls (InvalidArgument), as in Ray.
  absl::Status Cancel(const ObjectID& id, bool force = false, bool recursive = true);
  // Worker side: this worker exits once the running task has replied (its
  // owner is told not to push more to it). Ray's max_calls.
  void ExitAfterCurrentTask();

  // --- streaming generators ---
  // The caller's side. The next item of streaming task `task`, waiting up to
  // `timeout_ms` (< 0: forever): the id of item `index` (the caller now holds
  // its reference), or the task's completion object if the generator failed
  // before that item (its get raises; given once), or nullopt at the end.
  // DeadlineExceeded on timeout; NotFound for a task that is not a stream of
  // this process.
  absl::StatusOr<std::optional<ObjectID>> StreamNext(const TaskID& task, int64_t index,
                                                     int64_t timeout_ms);
  // The caller dropped its generator: items it has not taken are released.
  void StreamRelease(const TaskID& task);
  // The executing side, inside a streaming task: hands item `index` to the
  // task's caller and blocks until the caller has it. `nested`: references
  // serialized inside the item. Any thread of the task may call it.
  absl::Status ReportStreamItem(const TaskID& task, int64_t index, const std::string& metadata,
                                const std::vector<std::string_view>& parts,
                                const std::vector<ObjectID>& nested = {});

  // --- actors ---
  // Registers and starts creating an actor (asynchronously); one handle held.
  // AlreadyExists if its name is taken in the namespace.
  absl::StatusOr<ActorID> CreateActor(std::vector<TaskArgument> args,
                                      const ActorCreationOptions& options);
  absl::StatusOr<std::vector<ObjectID>> SubmitActorTask(const ActorID& actor,
                                                        std::vector<TaskArgument> args,
                                                        const TaskOptions& options);
  absl::Status KillActor(const ActorID& actor, bool no_restart);
  // The live actor named `name` in `ns` (empty: the job's namespace), if any.
  absl::StatusOr<std::optional<ActorID>> GetNamedActor(const std::string& name,
                                                       const std::string& ns);
  // One more (or one fewer) handle to `actor` in this process. A handle that
  // came from elsewhere with its owner's address (`owner`, from a serialized
  // handle) is borrowed from it; the caller registers the borrow with the
  // other refs of the value (RegisterBorrowedRefs). Without an address (a
  // GetNamedActor, a C++ handle unpacked from a value), the owner is looked
  // up and the borrow registered here (blocking), so the actor lives while
  // the handle is held.
  void AddActorHandle(const ActorID& actor, const std::optional<rpc::Address>& owner = {});
  void RemoveActorHandle(const ActorID& actor);
  // The owner of `actor`'s handle object, for serializing a handle.
  std::optional<rpc::Address> ActorOwner(const ActorID& actor);
  // Calls this process made to `actor` that have not finished (Ray's
  // max_pending_calls is checked against it).
  size_t NumPendingActorCalls(const ActorID& actor);
  // Inside an actor: exit after the current call. FailedPrecondition elsewhere.
  absl::Status ExitActor();
  bool actor_restarted() const;
  ActorID current_actor_id() const;

  // For a worker: serves tasks until told to exit; returns the exit code.
  // On a graceful exit (ExitActor, or the Exit RPC) `before_exit` runs (the
  // front end's shutdown hooks) before an actor tells the GCS it is gone.
  int RunTaskLoop(const std::function<void()>& before_exit = {});

  // --- identity ---
  const JobID& job_id() const { return options_.job_id; }
  const WorkerID& worker_id() const { return worker_id_; }
  const NodeID& node_id() const { return node_id_; }
  const rpc::Address& address() const { return address_; }
  // The task the calling thread runs (a driver's: its driver task).
  TaskID current_task_id() const;
  bool is_driver() const { return options_.is_driver; }
  const std::string& ray_namespace() const { return options_.ray_namespace; }
  const SystemConfig& config() const { return config_; }
  GcsClient& gcs() { return *gcs_; }
  // Sends this process's buffered task events now and waits for the GCS
  // (up to gcs_rpc_timeout_ms), so a state query that follows sees them.
  void FlushTaskEvents();

 private:
  CoreWorker(SystemConfig config, CoreWorkerOptions options);
  absl::Status Start();
  absl::Status Register(int port);
  void Assemble();
  // Runs the task of a lost owned object again (ObjectFetcher::Deps::reconstruct).
  bool Reconstruct(const ObjectID& id, rpc::ErrorInfo* error);
  void OnObjectFreed(const ReferenceCounter::Freed& freed);
  void StartLogSubscriber();
  absl::StatusOr<ObjectID> PutValue(std::string metadata,
                                    const std::vector<std::string_view>& parts);
  // Asks the GCS to end the actor this worker hosts (after ExitActor).
  void OnActorExitRequested();

  const SystemConfig config_;
  CoreWorkerOptions options_;
  WorkerID worker_id_;
  NodeID node_id_;
  rpc::Address address_;
  std::string store_socket_;
  std::atomic<bool> shut_down_{false};

  // Declared in the order they are built; destroyed in reverse.
  std::shared_ptr<CallbackGuard> guard_;
  std::shared_ptr<ThreadTimer> timer_;
  std::unique_ptr<GcsClient> gcs_;
  std::unique_ptr<rpc::RayletClientPool> raylets_;
  std::unique_ptr<rpc::CoreWorkerClientPool> workers_;
  std::unique_ptr<NodeDirectory> nodes_;
  std::unique_ptr<WorkerLiveness> liveness_;
  std::unique_ptr<CoreWorkerServiceImpl> service_;
  // The process's metrics (stats/metrics.h), for the node's /metrics endpoint.
  std::unique_ptr<stats::MetricsServiceImpl> metrics_service_;
  std::unique_ptr<rpc::GrpcServer> server_;
  std::unique_ptr<object_store::StoreClient> store_;
  std::unique_ptr<TaskContexts> contexts_;
  std::unique_ptr<MemoryStore> memory_store_;
  std::unique_ptr<ReferenceCounter> refs_;
  std::unique_ptr<ObjectFetcher> fetcher_;
  std::unique_ptr<BorrowTracker> borrows_;
  std::unique_ptr<TaskEventBuffer> events_;
  std::unique_ptr<TaskManager> tasks_;
  std::unique_ptr<DependencyResolver> resolver_;
  std::unique_ptr<TaskSpecBuilder> specs_;
  std::unique_ptr<StreamManager> streams_;
  std::unique_ptr<TaskSubmitter> submitter_;
  std::unique_ptr<ActorSubmitter> actor_submitter_;
  std::unique_ptr<TaskReceiver> receiver_;

  mutable absl::Mutex mu_;
  ActorID current_actor_ ABSL_GUARDED_BY(mu_);
  bool actor_restarted_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace photon::core
