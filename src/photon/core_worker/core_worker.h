// The core worker: the library in every driver and worker process.
//
// It owns the objects its process creates (the in-process memory store, the
// reference counts, the locations of large copies), submits tasks (leasing
// workers from raylets and pushing tasks straight to them, through
// TaskSubmitter), serves the CoreWorkerService other processes call (tasks
// pushed to this worker, status of objects it owns), and executes pushed
// tasks through the front end's TaskExecutor (TaskReceiver).
//
// Threading: public methods are thread-safe. gRPC callback threads run RPC
// handlers and replies; a worker runs tasks on one execution thread. Blocking
// methods (Get, Wait) block only the calling thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "photon/common/config.h"
#include "photon/common/id.h"
#include "photon/core_worker/callback_guard.h"
#include "photon/core_worker/memory_store.h"
#include "photon/core_worker/reference_counter.h"
#include "photon/gcs_client/gcs_client.h"
#include "photon/object_store/store_client.h"
#include "photon/protocol/core_worker.grpc.pb.h"
#include "photon/protocol/raylet.grpc.pb.h"
#include "photon/protocol/raylet.pb.h"
#include "photon/rpc/server.h"

namespace photon::core {

class TaskSubmitter;
class TaskReceiver;
class ActorSubmitter;

// What the front end's executor returns for one task.
struct TaskResult {
  enum class Kind { kOk, kApplicationError, kFunctionNotFound };
  Kind kind = Kind::kOk;
  std::string metadata;  // of the (first) return value (e.g. "msgpack")
  std::string value;
  // Returns 2..num_returns, as (metadata, value).
  std::vector<std::pair<std::string, std::string>> more_returns;
  std::string error_type;
  std::string error_message;
  // kApplicationError: a complete serialized ErrorInfo from the front end
  // (e.g. with the pickled Python exception); overrides type and message.
  std::string serialized_error;
};

// Runs one task: the spec and its arguments' values (metadata, data), in order.
using TaskExecutor = std::function<TaskResult(const rpc::TaskSpec& spec,
                                              const std::vector<const ObjectValue*>& args)>;

struct CoreWorkerOptions {
  bool is_driver = true;
  rpc::Language language = rpc::CPP;
  std::string host = "127.0.0.1";
  std::string gcs_address;
  std::string raylet_address;               // host:port of this node's raylet
  JobID job_id;                             // drivers: from the GCS; workers: from the raylet
  WorkerID worker_id;                       // workers: from the raylet; drivers: nil (made here)
  std::vector<std::string> worker_command;  // argv that starts a worker of this job
  std::map<std::string, std::string> worker_env;
  std::string ray_namespace;
  TaskExecutor executor;  // workers only
  // Workers only, optional: asks the front end to stop the running task
  // `task` (ray.cancel of a running task; best effort, any thread).
  std::function<void(const TaskID& task)> interrupt;
};

// One argument of a task as the front end gives it.
struct TaskArgument {
  bool is_ref = false;
  ObjectID ref;
  std::string metadata;
  std::string value;
};

struct ActorCreationOptions {
  std::string factory_name;
  std::string name;
  std::string ray_namespace;  // empty: the job's
  std::map<std::string, double> resources;
  int max_restarts = 0;
  int max_task_retries = 0;
  int max_concurrency = 1;
  bool detached = false;
  rpc::SchedulingStrategy scheduling;
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
  // Keeps `inner` objects alive (one local reference each) until `outer` is
  // freed here: refs serialized inside a value live as long as the value.
  void AddContainedRefs(const ObjectID& outer, const std::vector<ObjectID>& inner);
  // The owner of an object this process knows (itself if it owns it).
  std::optional<rpc::Address> OwnerOf(const ObjectID& id) const;
  // Values of `ids` in order, or the first error: DeadlineExceeded on timeout
  // (timeout_ms < 0: wait forever). A failed object comes back as an error
  // value (ObjectValue::IsError), not as a Status.
  // `priority` orders the pulls of remote objects (task arguments come last).
  absl::StatusOr<std::vector<std::shared_ptr<ObjectValue>>> Get(
      const std::vector<ObjectID>& ids, int64_t timeout_ms,
      rpc::PullObjectRequest::Priority priority = rpc::PullObjectRequest::GET);
  // One flag per id: ready. Returns once `num_objects` are ready or on timeout.
  // With `fetch_local` (as in Ray), an object held in a store counts as ready
  // only once a copy is on this node: ready remote objects are pulled here at
  // WAIT priority and the call waits for those pulls.
  absl::StatusOr<std::vector<bool>> Wait(const std::vector<ObjectID>& ids, int num_objects,
                                         int64_t timeout_ms, bool fetch_local = false);
  void AddLocalReference(const ObjectID& id);
  void RemoveLocalReference(const ObjectID& id);
  size_t NumTrackedObjects() const;
  // This node's store counters by field name (rpc::StoreStats); empty if the
  // store cannot be reached.
  std::map<std::string, double> LocalStoreStats();
  // One object's entry in this node's store (rpc::StoreObject fields, `found`
  // 0/1); `object_id` is binary. Empty if the id is malformed.
  std::map<std::string, double> LocalObjectInfo(const std::string& object_id);

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
  // Calls this process made to `actor` that have not finished (Ray's
  // max_pending_calls is checked against it).
  size_t NumPendingActorCalls(const ActorID& actor);
  // Worker side of Cancel: drops `task` if queued here, else interrupts it.
  void HandleCancelTask(const rpc::CancelTaskRequest& req, rpc::CancelTaskReply* reply);

  // --- borrowing (core_worker_borrows.cc) ---
  // References to objects owned by other processes that this process just
  // deserialized (Python: refs nested in arguments or in values it got). New
  // borrows are registered with their owners, one blocking call per owner,
  // before this returns, so the objects outlive the values they came in.
  void RegisterBorrowedRefs(const std::vector<std::pair<ObjectID, rpc::Address>>& refs);

  // --- streaming generators (core_worker_streams.cc) ---
  // The caller's side. The next item of streaming task `task`, waiting up to
  // `timeout_ms` (< 0: forever): the id of item `index` (the caller now holds
  // its reference), or the task's completion object if the generator failed
  // before that item (its get raises; given once), or nullopt at the end.
  // DeadlineExceeded on timeout; NotFound for a task that is not a stream of
  // this process.
  absl::StatusOr<std::optional<ObjectID>> StreamNext(const TaskID& task, int64_t index,
                                                     int64_t timeout_ms);
  // The caller dropped its generator: items it has not taken are released,
  // and items reported later are freed on arrival.
  void StreamRelease(const TaskID& task);
  // The executing side, inside a streaming task: hands item `index` to the
  // task's caller and blocks until the caller has it (large items are put into
  // this node's store first). Any thread of the task may call it.
  absl::Status ReportStreamItem(const TaskID& task, int64_t index, const std::string& metadata,
                                const std::vector<std::string_view>& parts);
  // Registers the stream of a task being submitted (its one return is the
  // completion; CHECKs num_returns == 1).
  void OpenStream(const TaskID& task, int num_returns);
  // Called by the task receiver around a streaming task.
  void BeginExecutingStream(const TaskID& task, const rpc::Address& caller);
  void EndExecutingStream(const TaskID& task);
  // The owner's handler of ReportGeneratorItem.
  void OnStreamItem(const rpc::ReportGeneratorItemRequest& req);

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
  void AddActorHandle(const ActorID& actor);
  void UpdateActorBorrower(const ActorID& actor, const std::string& borrower,
                           const std::string& node, bool borrowing);
  // Owner side: from the first borrower on, follows worker and node deaths
  // (WORKER_CHANNEL, NODE_CHANNEL) and drops the borrows of the dead, so that
  // objects and actors lent to a process that died are freed. Idempotent.
  void WatchBorrowers();
  void RemoveActorHandle(const ActorID& actor);
  // Inside an actor: exit after the current call. FailedPrecondition elsewhere.
  absl::Status ExitActor();
  bool actor_restarted() const;
  ActorID current_actor_id() const;
  // Called by the receiver.
  void SetCurrentActor(const ActorID& id, bool restarted);
  void OnActorExitRequested();

  // For a worker: serves tasks until told to exit; returns the exit code.
  int RunTaskLoop();

  // --- identity ---
  const JobID& job_id() const { return options_.job_id; }
  const WorkerID& worker_id() const { return worker_id_; }
  const NodeID& node_id() const { return node_id_; }
  const rpc::Address& address() const { return address_; }
  TaskID current_task_id() const;
  // The id of the next task the current task submits (deterministic: parent + counter).
  TaskID NextTaskId();
  bool is_driver() const { return options_.is_driver; }
  const SystemConfig& config() const { return config_; }
  GcsClient& gcs() { return *gcs_; }

  // Internal, for the submitter and receiver.
  // RPC callbacks enter this before touching the worker (see CallbackGuard).
  const std::shared_ptr<CallbackGuard>& guard() const { return guard_; }
  MemoryStore& memory_store() { return memory_store_; }
  ReferenceCounter& references() { return refs_; }
  object_store::StoreClient& local_store() { return *store_; }
  rpc::NodeManagerService::Stub& raylet() { return *raylet_; }
  const std::string& raylet_address() const { return options_.raylet_address; }
  const CoreWorkerOptions& options() const { return options_; }
  // Resolves the value of an object this process does not own by asking its
  // owner; stores it in the memory store when it arrives.
  void FetchFromOwner(const ObjectID& id, const rpc::Address& owner);
  // Turns a store marker into bytes: maps the local copy, pulling it to this
  // node first if needed. Errors come back as error values.
  // Maps an object held in a node's store, pulling it here first if it is on
  // another node (`priority` orders pulls when the store is short of room).
  std::shared_ptr<ObjectValue> MaterializePlasma(const ObjectID& id, const ObjectValue& marker,
                                                 rpc::PullObjectRequest::Priority priority);
  // Writes `parts` (`total` bytes) as object `id` into this node's store,
  // waiting up to object_store_full_grace_ms for room.
  absl::Status PutPartsToStore(const ObjectID& id, const std::string& metadata,
                               const std::vector<std::string_view>& parts, size_t total);
  // Asks the local raylet to copy `id` here from `from`, without waiting.
  // Starts a pull of `id` from node `from` at WAIT priority; `done` (optional)
  // runs with the pull's outcome on an RPC thread.
  void PrefetchAsync(const ObjectID& id, const NodeID& from,
                     std::function<void(const absl::Status&)> done = nullptr);
  absl::StatusOr<std::vector<bool>> WaitFetchLocal(const std::vector<ObjectID>& ids,
                                                   size_t num_objects, absl::Time deadline);
  // Asks the local raylet to copy `id` here from `from`; blocks until done.
  absl::Status PullToLocal(const ObjectID& id, const NodeID& from,
                           rpc::PullObjectRequest::Priority priority);
  // Replaces each ObjectRef argument of `spec` whose value is small and here
  // with that value. Returns the error of the first argument that failed.
  std::optional<rpc::ErrorInfo> InlineReadyArgs(rpc::TaskSpec* spec);
  // Stores a task's return value if anything still references it, else frees it.
  void StoreReturn(const ObjectID& id, std::shared_ptr<ObjectValue> value);
  // Asks the raylet of `node` to delete its copy of `id`.
  void FreePlasmaCopy(const ObjectID& id, const NodeID& node);
  // Marks the current task (worker side) for nested submissions and puts.
  void SetCurrentTask(const TaskID& id);
  void NotifyBlocked(bool blocked);

 private:
  CoreWorker(SystemConfig config, CoreWorkerOptions options);
  absl::Status Start();
  // Builds the spec fields shared by tasks and actor calls; fills `ref_ids`
  // with the ObjectRef arguments (their submitted references counted).
  absl::Status BuildArgs(std::vector<TaskArgument>& args, rpc::TaskSpec* spec,
                         std::vector<ObjectID>* ref_ids);
  void OnObjectFreed(const ReferenceCounter::Freed& freed);
  // Borrows (core_worker_borrows.cc): a dropped borrow is told to its owner
  // in batches, from the flusher thread.
  void QueueUnborrow(const rpc::Address& owner, const ObjectID& id);
  void BorrowFlushLoop();
  void FlushUnborrows(int64_t timeout_ms);
  void StopBorrowFlusher();
  absl::StatusOr<rpc::Address> NodeAddress(const NodeID& node);
  void StartLogSubscriber();

  const SystemConfig config_;
  CoreWorkerOptions options_;
  std::shared_ptr<CallbackGuard> guard_ = std::make_shared<CallbackGuard>();
  WorkerID worker_id_;
  NodeID node_id_;
  rpc::Address address_;
  MemoryStore memory_store_;
  ReferenceCounter refs_;
  std::unique_ptr<GcsClient> gcs_;
  std::unique_ptr<rpc::NodeManagerService::Stub> raylet_;
  std::unique_ptr<object_store::StoreClient> store_;
  std::unique_ptr<rpc::GrpcServer> server_;
  std::unique_ptr<TaskSubmitter> submitter_;
  std::unique_ptr<TaskReceiver> receiver_;
  std::unique_ptr<ActorSubmitter> actor_submitter_;

  mutable absl::Mutex mu_;
  TaskID current_task_ ABSL_GUARDED_BY(mu_);
  uint32_t put_counter_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t task_counter_ ABSL_GUARDED_BY(mu_) = 0;
  ActorID current_actor_ ABSL_GUARDED_BY(mu_);
  bool actor_restarted_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_map<NodeID, rpc::Address> node_addresses_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<ObjectID, NodeID> plasma_locations_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<ObjectID, std::vector<ObjectID>> contained_ ABSL_GUARDED_BY(mu_);
  struct StreamState {
    absl::flat_hash_set<int64_t> reported;  // items that arrived and are not yet taken
    int64_t next_index = 0;                 // items below were taken
    bool error_given = false;
  };
  absl::flat_hash_map<TaskID, StreamState> streams_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<TaskID, rpc::Address> executing_streams_ ABSL_GUARDED_BY(mu_);

  absl::Mutex borrow_mu_;
  // Owner address (ip:port) -> (owner, borrows dropped since the last flush).
  std::map<std::string, std::pair<rpc::Address, std::vector<ObjectID>>> unborrows_
      ABSL_GUARDED_BY(borrow_mu_);
  bool borrow_flusher_stop_ ABSL_GUARDED_BY(borrow_mu_) = false;
  std::thread borrow_flusher_;
  std::atomic<bool> shut_down_{false};
  std::atomic<bool> watching_borrowers_{false};
};

}  // namespace photon::core
