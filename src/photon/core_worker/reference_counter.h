// Reference counting of the objects this process knows: the ones it owns
// (it submitted the task that makes them, or put them) and the ones it
// borrows (it received a reference). An owned object is freed once no local
// handle and no pending task that takes it as an argument holds it; a
// borrowed one is forgotten then.
//
// Threading: one mutex; the free callback runs outside it.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "photon/common/id.h"
#include "photon/protocol/common.pb.h"

namespace photon::core {

class ReferenceCounter {
 public:
  // on_free(id, owned) runs when the last reference to `id` goes.
  using FreeCallback = std::function<void(const ObjectID&, bool owned)>;
  explicit ReferenceCounter(FreeCallback on_free) : on_free_(std::move(on_free)) {}

  // Starts tracking an object this process owns, with `local_refs` handles.
  void AddOwned(const ObjectID& id, int local_refs);
  // Starts tracking (or keeps) a borrowed object and remembers its owner.
  void AddBorrowed(const ObjectID& id, const rpc::Address& owner);

  bool IsOwned(const ObjectID& id) const;
  bool Contains(const ObjectID& id) const;
  // The owner of a borrowed object, if known.
  std::optional<rpc::Address> OwnerOf(const ObjectID& id) const;

  void AddLocalRef(const ObjectID& id);
  void RemoveLocalRef(const ObjectID& id);
  void AddSubmittedRefs(const std::vector<ObjectID>& ids);
  void RemoveSubmittedRefs(const std::vector<ObjectID>& ids);

  size_t NumObjects() const;

 private:
  struct Ref {
    bool owned = false;
    int local = 0;
    int submitted = 0;
    std::optional<rpc::Address> owner;
  };
  // Removes `id` if nothing holds it; returns whether the callback must run.
  bool MaybeRelease(const ObjectID& id, bool* owned) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  FreeCallback on_free_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<ObjectID, Ref> refs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace photon::core
