// The seam between the C++ API templates (include/photon/*.h) and the runtime
// that carries out their calls (src/photon/api/, on the core worker).
//
// Not for users: the API headers call these; users call the API. Everything
// here is type-erased: values are msgpack bytes, objects are 40-byte binary
// ObjectIDs (std::string), functions are registered names.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace photon::internal {

// One argument of a remote call: a serialized value, or a reference to an
// object (resolved to its value before the call runs).
struct TaskArg {
  bool is_ref = false;
  std::string value;      // msgpack bytes when !is_ref
  std::string object_id;  // binary ObjectID when is_ref
  // Binary ActorIDs of the actor handles packed inside `value`: the pending call
  // holds them, so the actors outlive the caller's own handles.
  std::vector<std::string> nested_actor_ids;
};

// While it lives, collects the binary ActorIDs of the actor handles packed
// (serialized) on this thread, so that handles nested in a value count as
// references held by what holds the value (a pending call, a put object, a
// task's return). A collector made while another lives on the same thread
// hides what is packed during its life from the outer one. It holds one
// handle reference per packed handle, so the actors live at least as long as
// the collector even if the packed value is destroyed first.
class PackedActorHandles {
 public:
  PackedActorHandles();
  ~PackedActorHandles();  // releases the references still held
  PackedActorHandles(const PackedActorHandles&) = delete;
  PackedActorHandles& operator=(const PackedActorHandles&) = delete;

  // What was packed so far (each handle once per time it was packed).
  const std::vector<std::string>& ids() const { return ids_; }
  // Hands the ids over with their references: the caller releases each
  // (ReleaseActor) once it no longer needs the actor kept.
  std::vector<std::string> ReleaseHeld() { return std::move(ids_); }
  // Records `actor_id` in this thread's innermost collector, if there is one,
  // and holds a reference to it (ActorHandle's msgpack_pack calls it).
  static void Note(const std::string& actor_id);

 private:
  std::vector<std::string> ids_;
  PackedActorHandles* outer_;
};

// Options of one remote call (see photon::TaskCaller).
// Where a task or actor runs inside a placement group (empty id: not in one).
struct PlacementOptions {
  std::string placement_group_id;                                // binary PlacementGroupID
  int bundle_index = -1;                                         // -1: any bundle
  std::vector<std::unordered_map<std::string, double>> bundles;  // the group's, for checks
};

struct CallOptions {
  std::string name;                                   // display name; empty: function name
  std::unordered_map<std::string, double> resources;  // empty: {"CPU": 1}
  int max_retries = -2;                               // -2: the configured default (3)
  bool retry_exceptions = false;
  PlacementOptions placement;
};

// Options of an actor (see photon::ActorCreator).
struct ActorOptions {
  std::string name;                                   // empty: anonymous
  std::string ray_namespace;                          // empty: the job's namespace
  std::unordered_map<std::string, double> resources;  // empty: {"CPU": 1} to place, 0 held
  int max_restarts = 0;                               // -1: infinite
  int max_task_retries = 0;                           // -1: infinite
  int max_concurrency = 1;                            // > 1: a pool of that many threads
  bool detached = false;                              // outlives its driver until killed
  PlacementOptions placement;
};

// A placement group as the GCS reports it.
struct PlacementGroupData {
  std::string id;  // binary
  std::string name;
  std::vector<std::unordered_map<std::string, double>> bundles;
  int strategy = 0;  // photon::PlacementStrategy
  int state = 0;     // photon::PlacementGroupState
};

// The bytes of one object, valid while the shared_ptr lives (they may be a
// read-only view of shared memory).
struct ObjectBuffer {
  const char* data = nullptr;
  size_t size = 0;
  std::shared_ptr<const void> holder;  // keeps `data` alive
};

// Implemented by the runtime (and by fakes in unit tests). All methods are
// thread-safe. Failures are thrown as the exception types of photon/errors.h.
class Runtime {
 public:
  virtual ~Runtime() = default;

  // Submits a call of the function registered as `function_name`; returns the
  // binary ObjectID of its return value (the caller owns it, with one local
  // reference already counted). Never blocks on the call itself.
  virtual std::string SubmitTask(const std::string& function_name, std::vector<TaskArg> args,
                                 const CallOptions& options) = 0;

  // Stores `value` (msgpack bytes) as a new object owned by the caller; returns
  // its binary ObjectID with one local reference counted. The actors of
  // `nested_actor_ids` (handles packed inside `value`) live at least as long
  // as the object.
  virtual std::string Put(std::string value, const std::vector<std::string>& nested_actor_ids) = 0;

  // Blocks until every object exists or `timeout_ms` passes (-1: forever).
  // Returns their bytes in input order. Throws GetTimeoutError on timeout and
  // the stored error (TaskError, WorkerCrashedError, ...) for a failed object.
  virtual std::vector<ObjectBuffer> Get(const std::vector<std::string>& object_ids,
                                        int64_t timeout_ms) = 0;

  // Blocks until `num_objects` of `object_ids` exist or `timeout_ms` passes
  // (-1: forever). Returns one flag per input: true if that object is ready.
  virtual std::vector<bool> Wait(const std::vector<std::string>& object_ids, int num_objects,
                                 int64_t timeout_ms) = 0;

  // Cancels the task that makes `object_id` if it has not finished; a later
  // Get throws TaskCancelledError.
  virtual void Cancel(const std::string& object_id) = 0;

  // Local reference counting of ObjectRef handles in this process.
  virtual void AddLocalReference(const std::string& object_id) = 0;
  virtual void RemoveLocalReference(const std::string& object_id) = 0;

  // --- actors ---
  // Creates an actor whose state is made by the factory registered as
  // `factory_name` (run in a new worker); returns the binary ActorID with one
  // handle reference counted. Does not wait for the constructor. Throws
  // std::invalid_argument for bad options and photon::Error if `options.name`
  // is already taken in the namespace.
  virtual std::string CreateActor(const std::string& factory_name, std::vector<TaskArg> args,
                                  const ActorOptions& options) = 0;
  // Calls the method registered as `method_name` on the actor; calls from one
  // caller run in submission order. Returns the binary ObjectID of the result
  // (one local reference counted). Never blocks on the call.
  virtual std::string SubmitActorTask(const std::string& actor_id, const std::string& method_name,
                                      std::vector<TaskArg> args, const CallOptions& options) = 0;
  // Kills the actor; pending and later calls fail with ActorDiedError. With
  // no_restart=false it restarts if its max_restarts allows.
  virtual void KillActor(const std::string& actor_id, bool no_restart) = 0;
  // The binary ActorID of the live actor named `name` in `ray_namespace` (empty:
  // the job's namespace), or "" if there is none. Blocks on one GCS call.
  virtual std::string GetNamedActor(const std::string& name, const std::string& ray_namespace) = 0;
  // Reference counting of ActorHandle copies in this process (including ones
  // deserialized from arguments). When the last handle anywhere is gone, a
  // non-detached actor is destroyed.
  virtual void AddActorHandleReference(const std::string& actor_id) = 0;
  virtual void RemoveActorHandleReference(const std::string& actor_id) = 0;
  // Inside an actor's method: the actor exits once the current call returns.
  // Throws photon::Error outside an actor.
  virtual void ExitActor() = 0;
  // Inside an actor: true if this instance is a restart (the constructor ran
  // again after the actor's process died).
  virtual bool WasCurrentActorRestarted() = 0;

  // Introspection for tests: how many objects this process tracks (owned or
  // borrowed, with a live reference). 0 if the runtime does not know.
  // Placement groups. Each throws photon::Error when the cluster refuses
  // (a bad group, a name in use) and std::runtime_error where unsupported.
  virtual std::string CreatePlacementGroup(
      const std::string& name, const std::vector<std::unordered_map<std::string, double>>& bundles,
      int strategy, bool detached) {
    (void)name, (void)bundles, (void)strategy, (void)detached;
    throw std::runtime_error("placement groups are not supported by this runtime");
  }
  virtual void RemovePlacementGroup(const std::string& id) {
    (void)id;
    throw std::runtime_error("placement groups are not supported by this runtime");
  }
  // True once created; false after timeout_ms (< 0: none).
  virtual bool WaitPlacementGroupReady(const std::string& id, int64_t timeout_ms) {
    (void)id, (void)timeout_ms;
    throw std::runtime_error("placement groups are not supported by this runtime");
  }
  // By binary id, or (id empty) by name in the job's namespace.
  virtual std::optional<PlacementGroupData> GetPlacementGroup(const std::string& id,
                                                              const std::string& name) {
    (void)id, (void)name;
    throw std::runtime_error("placement groups are not supported by this runtime");
  }
  virtual std::vector<PlacementGroupData> GetAllPlacementGroups() {
    throw std::runtime_error("placement groups are not supported by this runtime");
  }

  virtual size_t NumTrackedObjects() const { return 0; }
  // Introspection for tests and tools: the counters of this node's object
  // store by name (capacity, bytes_used, num_objects, spilled_bytes_total,
  // evicted_objects_total, ...; docs/architecture.md lists them). Empty if
  // the runtime has no store.
  virtual std::map<std::string, double> LocalObjectStoreStats() const { return {}; }
  // The pins, placement and spill state of one object in this node's store
  // (found, pins, primary, spilled, in_memory, data_size); empty if unknown.
  virtual std::map<std::string, double> LocalObjectInfo(const std::string& object_id) const {
    return {};
  }
};

// The runtime of this process; throws photon::Error if photon::Init has not run.
Runtime& GetRuntime();
// The runtime of this process, or nullptr before Init / after Shutdown.
Runtime* GetRuntimeOrNull();
// Installs `runtime` (not owned) as this process's runtime, or removes it with
// nullptr. Used by Init/Shutdown and by unit tests with a fake runtime.
void SetRuntime(Runtime* runtime);

}  // namespace photon::internal
