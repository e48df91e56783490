// Reference counting of the objects this process knows: the ones it owns
// (it submitted the task that makes them, or put them) and the ones it
// borrows (it received a reference). An owned object is freed once no local
// handle, no pending task that takes it as an argument and no registered
// borrower (another process that deserialized a reference to it) holds it; a
// borrowed one is forgotten then (and its owner told, if it was registered).
//
// Threading: one mutex; the free callback runs outside it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "photon/common/id.h"
#include "photon/protocol/common.pb.h"

namespace photon::core {

class ReferenceCounter {
 public:
  // What goes with the last reference to an object.
  struct Freed {
    ObjectID id;
    bool owned = false;
    std::optional<rpc::Address> owner;  // borrowed objects
    bool registered = false;            // a borrow the owner was told of
  };
  // on_free runs (outside the lock) when the last reference to an object goes.
  using FreeCallback = std::function<void(const Freed&)>;
  explicit ReferenceCounter(FreeCallback on_free) : on_free_(std::move(on_free)) {}

  // Starts tracking an object this process owns, with `local_refs` handles.
  void AddOwned(const ObjectID& id, int local_refs);
  // Starts tracking (or keeps) a borrowed object and remembers its owner.
  // With `to_register`: true if the borrow is not registered with the owner
  // yet (and nobody is registering it): the caller registers it, then calls
  // MarkRegistered. (A task's top-level argument is resolved, not kept: it
  // needs no registration.)
  bool AddBorrowed(const ObjectID& id, const rpc::Address& owner, bool to_register = false);
  // The owner was told of the borrow (`ok`), or could not be.
  void MarkRegistered(const ObjectID& id, bool ok);
  // Owner side: process `borrower` (a WorkerID in binary, on node `node`)
  // took (`delta` > 0) or dropped (< 0) borrows of owned objects; an object is
  // kept while some borrower holds it. Ids this process does not own, and
  // drops of borrows that were never taken, are ignored.
  void AddBorrowers(const std::vector<ObjectID>& ids, const std::string& borrower,
                    const std::string& node, int delta);
  // Owner side: the borrower process died (or its node did): its borrows go.
  void DropBorrower(const std::string& borrower);
  void DropBorrowersOnNode(const std::string& node);

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
    int borrowers = 0;        // owned: borrows registered by other processes (sum)
    bool registered = false;  // borrowed: the owner counts this process
    bool registering = false;
    std::optional<rpc::Address> owner;
  };
  // A process that borrows owned objects: its node and its borrows by object.
  struct Borrower {
    std::string node;
    absl::flat_hash_map<ObjectID, int> objects;
  };
  // Removes `id` if nothing holds it; returns what the callback needs.
  std::optional<Freed> MaybeRelease(const ObjectID& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DropBorrowerLocked(const std::string& borrower, std::vector<Freed>* freed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  FreeCallback on_free_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<ObjectID, Ref> refs_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Borrower> borrowers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace photon::core
