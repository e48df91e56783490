// A node's shared-memory object store, as seen by a process on that node.
//
// This is the interim store of the core-runtime milestone: each object is a
// file in a per-node folder on tmpfs (/dev/shm), written once and sealed by an
// atomic rename; readers map it read-only, so a get copies nothing and every
// process on the node sees the same bytes. The raylet owns the folder (creates
// it, frees objects, removes it at exit). The arena-based store of the object
// store milestone replaces the implementation behind this interface.
//
// Thread-safe: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "photon/common/id.h"

namespace photon {

// A sealed object mapped read-only. The views stay valid while the
// StoredObject (or a copy of `holder`) lives.
struct StoredObject {
  std::string_view metadata;
  std::string_view data;
  std::shared_ptr<const void> holder;
};

class ObjectStore {
 public:
  // Uses the folder `dir` (created if missing).
  static absl::StatusOr<std::unique_ptr<ObjectStore>> Open(const std::string& dir);
  ~ObjectStore();

  // Writes and seals an object. AlreadyExists if `id` is already sealed here
  // (objects are immutable; the existing copy stands). ResourceExhausted
  // names the size if the store has no room.
  absl::Status Put(const ObjectID& id, std::string_view metadata, std::string_view data);
  // As Put, with the data written by `fill(dst)` straight into shared memory
  // (no intermediate copy). `fill` must write exactly `data_size` bytes.
  absl::Status PutWith(const ObjectID& id, std::string_view metadata, size_t data_size,
                       const std::function<void(char* dst)>& fill);

  // Maps a sealed object; NotFound if it is not here.
  absl::StatusOr<StoredObject> Get(const ObjectID& id) const;
  bool Contains(const ObjectID& id) const;
  // Bytes the sealed object takes in the store; NotFound if absent.
  absl::StatusOr<int64_t> Size(const ObjectID& id) const;

  // Removes the object; readers that mapped it keep their view. OK if absent.
  absl::Status Delete(const ObjectID& id);
  // Removes every object and the folder.
  void DeleteAll();

  const std::string& dir() const { return dir_; }

 private:
  explicit ObjectStore(std::string dir) : dir_(std::move(dir)) {}
  std::string PathOf(const ObjectID& id) const;
  std::string dir_;
};

}  // namespace photon
