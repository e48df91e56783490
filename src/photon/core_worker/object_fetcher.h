// Getting object values into this process: asking owners for the values of
// borrowed objects, pulling store copies to this node, mapping them, and the
// blocking Get and Wait built on those. Also the store writes and frees that
// go with them.
//
// Threading: thread-safe. Get and Wait block the calling thread only (a
// worker tells its raylet while it is blocked, so its CPU can serve the
// tasks it waits for); the rest is asynchronous.
#pragma once

#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "photon/common/callback_guard.h"
#include "photon/common/config.h"
#include "photon/common/timer.h"
#include "photon/core_worker/memory_store.h"
#include "photon/core_worker/node_directory.h"
#include "photon/core_worker/reference_counter.h"
#include "photon/core_worker/worker_liveness.h"
#include "photon/object_store/store_client.h"
#include "photon/rpc/core_worker_client.h"
#include "photon/rpc/raylet_client.h"

namespace photon::core {

class ObjectFetcher {
 public:
  struct Deps {
    const SystemConfig* config;
    MemoryStore* memory_store;
    ReferenceCounter* refs;
    object_store::StoreClient* store;  // this node's store
    rpc::RayletClientPool* raylets;
    std::string local_raylet;  // "host:port"
    rpc::CoreWorkerClientPool* workers;
    NodeDirectory* nodes;
    WorkerLiveness* liveness;
    Timer* timer;
    std::shared_ptr<CallbackGuard> guard;
    NodeID node_id;         // this node
    std::string worker_id;  // this process (binary)
    bool is_driver;
    // Rebuilds an owned object whose every copy is lost by running its task
    // again (lineage): true if it was resubmitted (getters then wait for the
    // new value); false with `error` set when it cannot be. Optional.
    std::function<bool(const ObjectID& id, rpc::ErrorInfo* error)> reconstruct;
  };
  explicit ObjectFetcher(Deps deps);

  // Asks `owner` for the value of `id` (a borrowed object): the value, or an
  // error value (OWNER_DIED when the owner is dead, OBJECT_LOST when it no
  // longer has it), goes into the memory store. No-op if the value is here.
  // With `lost_on`, the copy this process was told of (on that node) is
  // lost: the owner rebuilds it if it can (the answer is the new copy's
  // location, or the error that stops the rebuild).
  void FetchFromOwner(const ObjectID& id, const rpc::Address& owner,
                      const std::optional<NodeID>& lost_on = std::nullopt);

  // Values of `ids` in order: DeadlineExceeded on timeout (timeout_ms < 0:
  // wait forever), NotFound for an id this process does not know. A failed
  // object comes back as an error value (ObjectValue::IsError), not as a
  // Status. `priority` orders the pulls of remote objects. An owned object
  // whose copies are all lost is rebuilt through `reconstruct` and waited
  // for again. `interrupted` (optional) is asked every
  // MemoryStore::kStopPollInterval while the get blocks; true ends it with
  // Cancelled.
  absl::StatusOr<std::vector<std::shared_ptr<ObjectValue>>> Get(
      const std::vector<ObjectID>& ids, int64_t timeout_ms,
      rpc::PullObjectRequest::Priority priority,
      const std::function<bool()>& interrupted = nullptr);
  // One flag per id: ready. Returns once `num_objects` are ready or on
  // timeout. With `fetch_local`, an object held in a store counts as ready
  // only once a copy is on this node (ready remote objects are pulled at WAIT
  // priority; a failed pull counts as ready, so get reports the loss).
  absl::StatusOr<std::vector<bool>> Wait(const std::vector<ObjectID>& ids, int num_objects,
                                         int64_t timeout_ms, bool fetch_local);

  // Writes `parts` (`total` bytes) as object `id` into this node's store,
  // waiting up to object_store_full_grace_ms for room.
  absl::Status PutToStore(const ObjectID& id, const std::string& metadata,
                          const std::vector<std::string_view>& parts, size_t total);
  // Deletes the copy of `id` held in `node`'s store.
  void FreeCopy(const ObjectID& id, const NodeID& node);

  // Tells the raylet that this worker waits (its CPU can serve others) or
  // runs again. No-op in a driver.
  void NotifyBlocked(bool blocked);

 private:
  // Maps a store copy, pulling it here first if it is elsewhere. Errors come
  // back as error values.
  std::shared_ptr<ObjectValue> Materialize(const ObjectID& id, const ObjectValue& marker,
                                           rpc::PullObjectRequest::Priority priority);
  absl::Status PullToLocal(const ObjectID& id, const NodeID& from,
                           rpc::PullObjectRequest::Priority priority);
  void PullAsync(const ObjectID& id, const NodeID& from, rpc::PullObjectRequest::Priority priority,
                 std::function<void(const absl::Status&)> done);
  // Marks in `ready` the ids whose value is known and local, up to the
  // `num_objects`-th; true when that many are.
  bool ReadyHere(const std::vector<ObjectID>& ids, size_t num_objects,
                 std::vector<bool>* ready) const;
  absl::StatusOr<std::vector<bool>> WaitFetchLocal(const std::vector<ObjectID>& ids,
                                                   size_t num_objects, absl::Time deadline);

  Deps d_;
  std::atomic<uint64_t> blocked_seq_{0};
};

}  // namespace photon::core
