// Reference counting of the objects this process knows: the ones it owns (it
// submitted the task that makes them, or put them) and the ones it borrows (it
// holds a reference to an object another process owns). Actor handles are
// counted here too, as references to the actor's handle object
// (ObjectID::ForActorHandle), so they are borrowed, nested and lent exactly
// like object references.
//
// An object is held by (Ray's reference types):
//  - local references: handles in the front end (LOCAL_REFERENCE);
//  - submitted references: pending tasks that take it as an argument, at the
//    top level or nested inside an argument's value (USED_BY_PENDING_TASK);
//  - containing objects: values this process holds that contain a reference
//    to it (CAPTURED_IN_OBJECT), until the containing object is freed;
//  - borrows (owned objects only): other processes that registered as
//    borrowers, each under a tag ("" for its own references, or the id of a
//    value that holds the reference on its behalf).
// When none is left, the entry goes and `on_free` is told what went with it.
//
// Borrow registrations are idempotent: each carries an epoch that grows per
// borrower, and an update whose epoch is older than the last one seen for the
// (borrower, tag, object) is ignored, so retried and reordered updates cannot
// free an object that is still borrowed or keep one that is not.
//
// Threading: one mutex; `on_free` runs outside it, in the order of release.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "photon/common/id.h"
#include "photon/protocol/common.pb.h"

namespace photon::core {

// A reference to an object with its owner's address.
struct OwnedRef {
  ObjectID id;
  rpc::Address owner;
};

class ReferenceCounter {
 public:
  // What goes with the last reference to an object.
  struct Freed {
    ObjectID id;
    bool owned = false;
    std::optional<rpc::Address> owner;  // borrowed objects
    uint64_t borrow_epoch = 0;          // borrowed: this process's registration (0: none)
    // Borrows that owners registered for this process on behalf of this
    // object's value (refs nested in a task return or stream item), to end
    // now: tag = `id`.
    std::vector<OwnedRef> on_behalf;
  };
  // on_free runs (outside the lock) when the last reference to an object goes.
  using FreeCallback = std::function<void(const Freed&)>;
  explicit ReferenceCounter(FreeCallback on_free) : on_free_(std::move(on_free)) {}

  // --- owned and borrowed entries ---
  // Starts tracking an object this process owns, with `local_refs` handles.
  void AddOwned(const ObjectID& id, int local_refs);
  // Starts tracking (or keeps) a borrowed object and remembers its owner.
  // With `to_register`: true if the borrow is not registered with the owner
  // yet and nobody is registering it: the caller registers it, then calls
  // MarkRegistered. If another thread is registering it, waits until it has.
  bool AddBorrowed(const ObjectID& id, const rpc::Address& owner, bool to_register = false);
  // The owner counts this process under `epoch` (0: the registration failed).
  void MarkRegistered(const ObjectID& id, uint64_t epoch);

  bool IsOwned(const ObjectID& id) const;
  bool Contains(const ObjectID& id) const;
  // The owner of a borrowed object, if known.
  std::optional<rpc::Address> OwnerOf(const ObjectID& id) const;

  // --- holders ---
  void AddLocalRef(const ObjectID& id);
  void RemoveLocalRef(const ObjectID& id);
  // Ids may repeat (each occurrence counts).
  void AddSubmittedRefs(const std::vector<ObjectID>& ids);
  void RemoveSubmittedRefs(const std::vector<ObjectID>& ids);
  // `outer`'s value contains references to `inner` (each with its owner;
  // unknown ones start as borrowed entries): they are held until `outer` is
  // freed. `outer` must be tracked (else the inner refs are not held).
  void AddContainedRefs(const ObjectID& outer, const std::vector<OwnedRef>& inner);
  // Owners registered this process as a borrower of `refs` on behalf of
  // `outer`'s value (tag = outer); ended when `outer` is freed. Returns false
  // (nothing recorded) if `outer` is not tracked: the caller ends them now.
  bool AddOnBehalfBorrows(const ObjectID& outer, const std::vector<OwnedRef>& refs);

  // --- the owner's side of borrowing ---
  // Process `borrower` (a WorkerID in binary, on node `node`) took
  // (`borrowing`) or ended borrows of owned objects under `tag`, each with
  // its epoch. Ids this process does not own are ignored.
  void UpdateBorrows(const std::vector<std::pair<ObjectID, uint64_t>>& borrows,
                     const std::string& borrower, const std::string& node, const std::string& tag,
                     bool borrowing);
  // The borrower process died (or its node did): its borrows go.
  void DropBorrower(const std::string& borrower);
  void DropBorrowersOnNode(const std::string& node);

  size_t NumObjects() const;

  // What holds an object (for tests and the memory view); nullopt if untracked.
  struct Counts {
    bool owned = false;
    int local = 0;
    int submitted = 0;
    int contained_in = 0;
    int borrowers = 0;  // owned: active borrows
    bool registered = false;
  };
  std::optional<Counts> CountsOf(const ObjectID& id) const;

  // Where the objects were created (record_ref_creation_sites): shown by the
  // memory view. Untracked ids are ignored.
  void SetCallSite(const std::vector<ObjectID>& ids, const std::string& call_site);
  // The whole table for the memory view: every tracked object with its
  // holders and the tracked values that contain it (at most `limit` entries
  // if > 0; `*total` is the table's size).
  struct Entry {
    ObjectID id;
    Counts counts;
    std::vector<ObjectID> contained_in;
    std::string call_site;
  };
  std::vector<Entry> Snapshot(size_t limit, size_t* total) const;

 private:
  struct BorrowState {
    uint64_t epoch = 0;
    bool active = false;
  };
  struct Ref {
    bool owned = false;
    int local = 0;
    int submitted = 0;
    int contained_in = 0;  // holding values (tracked here) that contain it
    std::vector<ObjectID> contains;
    std::vector<OwnedRef> on_behalf;
    std::string call_site;
    // Owned: borrows by (borrower + '\0' + tag).
    absl::flat_hash_map<std::string, BorrowState> borrows;
    int active_borrows = 0;
    // Borrowed:
    std::optional<rpc::Address> owner;
    uint64_t borrow_epoch = 0;  // registered with the owner under this epoch
    bool registering = false;
  };
  struct Borrower {
    std::string node;
    absl::flat_hash_set<ObjectID> objects;
  };
  // Removes `id` (and, recursively, what only it held) if nothing holds it.
  void MaybeRelease(const ObjectID& id, std::vector<Freed>* freed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DropBorrowerLocked(const std::string& borrower, std::vector<Freed>* freed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Notify(const std::vector<Freed>& freed);

  FreeCallback on_free_;
  mutable absl::Mutex mu_;
  absl::CondVar registered_;  // a registration in progress finished
  absl::flat_hash_map<ObjectID, Ref> refs_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Borrower> borrowers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace photon::core
