// ReferenceCounter: every way an object is held (local handles, pending
// tasks, containing values, borrowers), and the borrow protocol's epochs.
#include "photon/core_worker/reference_counter.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace photon::core {
namespace {

rpc::Address Owner(const std::string& worker) {
  rpc::Address a;
  a.set_ip("127.0.0.1");
  a.set_port(1234);
  a.set_worker_id(worker);
  return a;
}

class ReferenceCounterTest : public ::testing::Test {
 protected:
  ReferenceCounterTest()
      : refs_([this](const ReferenceCounter::Freed& f) { freed_.push_back(f); }) {}

  bool WasFreed(const ObjectID& id) const {
    for (const auto& f : freed_) {
      if (f.id == id) return true;
    }
    return false;
  }

  std::vector<ReferenceCounter::Freed> freed_;
  ReferenceCounter refs_;
};

TEST_F(ReferenceCounterTest, OwnedObjectIsFreedWithItsLastLocalReference) {
  ObjectID id = ObjectID::FromRandom();
  refs_.AddOwned(id, 1);
  refs_.AddLocalRef(id);
  refs_.RemoveLocalRef(id);
  EXPECT_FALSE(WasFreed(id));
  refs_.RemoveLocalRef(id);
  ASSERT_TRUE(WasFreed(id));
  EXPECT_TRUE(freed_.back().owned);
  EXPECT_FALSE(refs_.Contains(id));
}

TEST_F(ReferenceCounterTest, PendingTaskHoldsItsArguments) {
  ObjectID arg = ObjectID::FromRandom();
  refs_.AddOwned(arg, 1);
  refs_.AddSubmittedRefs({arg});
  refs_.RemoveLocalRef(arg);  // the caller drops its handle while the task waits
  EXPECT_FALSE(WasFreed(arg));
  EXPECT_EQ(refs_.CountsOf(arg)->submitted, 1);
  refs_.RemoveSubmittedRefs({arg});
  EXPECT_TRUE(WasFreed(arg));
}

TEST_F(ReferenceCounterTest, SnapshotShowsHoldersContainersAndCallSites) {
  ObjectID outer = ObjectID::FromRandom();
  ObjectID inner = ObjectID::FromRandom();
  refs_.AddOwned(outer, 1);
  refs_.AddOwned(inner, 1);
  refs_.AddContainedRefs(outer, {{inner, Owner("me")}});
  refs_.RemoveLocalRef(inner);
  refs_.SetCallSite({outer, ObjectID::FromRandom()}, "(put object) a.py:3:f");
  size_t total = 0;
  auto entries = refs_.Snapshot(0, &total);
  ASSERT_EQ(total, 2u);
  ASSERT_EQ(entries.size(), 2u);
  for (const auto& e : entries) {
    if (e.id == outer) {
      EXPECT_EQ(e.counts.local, 1);
      EXPECT_TRUE(e.contained_in.empty());
      EXPECT_EQ(e.call_site, "(put object) a.py:3:f");
    } else {
      EXPECT_EQ(e.id, inner);
      EXPECT_EQ(e.counts.local, 0);
      EXPECT_EQ(e.contained_in, std::vector<ObjectID>{outer});
      EXPECT_EQ(e.call_site, "");
    }
  }
  EXPECT_EQ(refs_.Snapshot(1, &total).size(), 1u);
  EXPECT_EQ(total, 2u);
}

// The data-loss case, at the counter: `wait_for.remote([slow.remote()])`
// holds slow's return (nested in the list argument) until wait_for has run,
// even though the caller never held a handle of its own past submission.
TEST_F(ReferenceCounterTest, RefNestedInAPendingTasksArgumentIsHeldUntilTheTaskEnds) {
  ObjectID inner = ObjectID::FromRandom();  // slow.remote()
  refs_.AddOwned(inner, 1);                 // the caller's temporary handle
  refs_.AddSubmittedRefs({inner});          // wait_for's argument [inner] is pending
  refs_.RemoveLocalRef(inner);              // the temporary list is gone
  EXPECT_FALSE(WasFreed(inner)) << "freed while the task that needs it is pending";
  refs_.RemoveSubmittedRefs({inner});  // wait_for finished
  EXPECT_TRUE(WasFreed(inner));
}

TEST_F(ReferenceCounterTest, ContainedRefsLiveAsLongAsTheirContainer) {
  ObjectID outer = ObjectID::FromRandom(), a = ObjectID::FromRandom(), b = ObjectID::FromRandom();
  refs_.AddOwned(a, 1);
  refs_.AddOwned(b, 1);
  refs_.AddOwned(outer, 1);
  refs_.AddContainedRefs(outer, {{a, {}}, {b, {}}});  // ray.put([a, b])
  refs_.RemoveLocalRef(a);
  refs_.RemoveLocalRef(b);
  EXPECT_FALSE(WasFreed(a));
  EXPECT_EQ(refs_.CountsOf(a)->contained_in, 1);
  refs_.RemoveLocalRef(outer);
  EXPECT_TRUE(WasFreed(outer));
  EXPECT_TRUE(WasFreed(a));
  EXPECT_TRUE(WasFreed(b));
  EXPECT_EQ(refs_.NumObjects(), 0u);
}

TEST_F(ReferenceCounterTest, NestedContainersAreFreedRecursively) {
  ObjectID leaf = ObjectID::FromRandom(), mid = ObjectID::FromRandom(),
           top = ObjectID::FromRandom();
  for (const auto& id : {leaf, mid, top}) refs_.AddOwned(id, 1);
  refs_.AddContainedRefs(mid, {{leaf, {}}});
  refs_.AddContainedRefs(top, {{mid, {}}});
  refs_.RemoveLocalRef(leaf);
  refs_.RemoveLocalRef(mid);
  EXPECT_TRUE(refs_.Contains(leaf));
  refs_.RemoveLocalRef(top);
  EXPECT_EQ(refs_.NumObjects(), 0u);
}

TEST_F(ReferenceCounterTest, ContainedBorrowedRefKeepsItsOwner) {
  ObjectID outer = ObjectID::FromRandom(), x = ObjectID::FromRandom();
  refs_.AddOwned(outer, 1);
  refs_.AddContainedRefs(outer, {{x, Owner("w1")}});
  ASSERT_TRUE(refs_.OwnerOf(x).has_value());
  EXPECT_EQ(refs_.OwnerOf(x)->worker_id(), "w1");
}

TEST_F(ReferenceCounterTest, BorrowersKeepAnOwnedObject) {
  ObjectID id = ObjectID::FromRandom();
  refs_.AddOwned(id, 1);
  refs_.UpdateBorrows({{id, 1}}, "worker-a", "node-1", "", true);
  refs_.RemoveLocalRef(id);
  EXPECT_FALSE(WasFreed(id));
  EXPECT_EQ(refs_.CountsOf(id)->borrowers, 1);
  refs_.UpdateBorrows({{id, 1}}, "worker-a", "node-1", "", false);
  EXPECT_TRUE(WasFreed(id));
}

TEST_F(ReferenceCounterTest, RetriedRegistrationIsCountedOnce) {
  ObjectID id = ObjectID::FromRandom();
  refs_.AddOwned(id, 1);
  refs_.UpdateBorrows({{id, 5}}, "w", "n", "", true);
  refs_.UpdateBorrows({{id, 5}}, "w", "n", "", true);  // the reply was lost: sent again
  refs_.RemoveLocalRef(id);
  refs_.UpdateBorrows({{id, 5}}, "w", "n", "", false);
  EXPECT_TRUE(WasFreed(id)) << "a duplicated registration must not keep the object";
}

TEST_F(ReferenceCounterTest, LateEndOfAnOlderBorrowDoesNotFreeANewerOne) {
  ObjectID id = ObjectID::FromRandom();
  refs_.AddOwned(id, 0);                                // owned, no local handle
  refs_.UpdateBorrows({{id, 1}}, "w", "n", "", true);   // borrow 1
  refs_.UpdateBorrows({{id, 2}}, "w", "n", "", true);   // dropped and borrowed again: borrow 2
  refs_.UpdateBorrows({{id, 1}}, "w", "n", "", false);  // the end of borrow 1 comes late
  EXPECT_TRUE(refs_.Contains(id)) << "borrow 2 still holds it";
  refs_.UpdateBorrows({{id, 2}}, "w", "n", "", false);
  EXPECT_FALSE(refs_.Contains(id));
}

TEST_F(ReferenceCounterTest, EndThatOvertakesItsRegistrationWins) {
  ObjectID id = ObjectID::FromRandom();
  refs_.AddOwned(id, 1);
  refs_.UpdateBorrows({{id, 3}}, "w", "n", "", false);  // the end arrives first
  refs_.UpdateBorrows({{id, 3}}, "w", "n", "", true);   // then a retried registration
  refs_.RemoveLocalRef(id);
  EXPECT_TRUE(WasFreed(id));
}

TEST_F(ReferenceCounterTest, TagsSeparateOnBehalfBorrowsFromOwnOnes) {
  ObjectID id = ObjectID::FromRandom();
  refs_.AddOwned(id, 1);
  refs_.UpdateBorrows({{id, 1}}, "caller", "n", "return-object", true);  // registered for it
  refs_.UpdateBorrows({{id, 1}}, "caller", "n", "", true);               // and by itself
  refs_.RemoveLocalRef(id);
  refs_.UpdateBorrows({{id, 1}}, "caller", "n", "return-object", false);
  EXPECT_TRUE(refs_.Contains(id)) << "its own borrow still holds it";
  refs_.UpdateBorrows({{id, 1}}, "caller", "n", "", false);
  EXPECT_FALSE(refs_.Contains(id));
}

TEST_F(ReferenceCounterTest, DeadBorrowersLoseTheirBorrows) {
  ObjectID a = ObjectID::FromRandom(), b = ObjectID::FromRandom();
  refs_.AddOwned(a, 0);
  refs_.AddOwned(b, 0);
  refs_.UpdateBorrows({{a, 1}}, "w1", "node-1", "", true);
  refs_.UpdateBorrows({{a, 1}}, "w1", "node-1", "tag", true);
  refs_.UpdateBorrows({{b, 1}}, "w2", "node-2", "", true);
  refs_.DropBorrower("w1");
  EXPECT_FALSE(refs_.Contains(a));
  EXPECT_TRUE(refs_.Contains(b));
  refs_.DropBorrowersOnNode("node-2");
  EXPECT_FALSE(refs_.Contains(b));
}

TEST_F(ReferenceCounterTest, BorrowedObjectReportsItsRegistrationWhenFreed) {
  ObjectID id = ObjectID::FromRandom();
  refs_.AddLocalRef(id);
  EXPECT_TRUE(refs_.AddBorrowed(id, Owner("owner"), /*to_register=*/true));
  // A second user waits for the registration in flight, then does not register again.
  std::thread second([&] { EXPECT_FALSE(refs_.AddBorrowed(id, Owner("owner"), true)); });
  refs_.MarkRegistered(id, 7);
  second.join();
  EXPECT_FALSE(refs_.AddBorrowed(id, Owner("owner"), /*to_register=*/true));  // registered
  refs_.RemoveLocalRef(id);
  ASSERT_TRUE(WasFreed(id));
  EXPECT_FALSE(freed_.back().owned);
  EXPECT_EQ(freed_.back().borrow_epoch, 7u);
  EXPECT_EQ(freed_.back().owner->worker_id(), "owner");
}

TEST_F(ReferenceCounterTest, FailedRegistrationEndsNothing) {
  ObjectID id = ObjectID::FromRandom();
  refs_.AddLocalRef(id);
  ASSERT_TRUE(refs_.AddBorrowed(id, Owner("owner"), true));
  refs_.MarkRegistered(id, 0);
  refs_.RemoveLocalRef(id);
  ASSERT_TRUE(WasFreed(id));
  EXPECT_EQ(freed_.back().borrow_epoch, 0u);
}

TEST_F(ReferenceCounterTest, OnBehalfBorrowsEndWithTheirObject) {
  ObjectID ret = ObjectID::FromRandom(), inner = ObjectID::FromRandom();
  refs_.AddOwned(ret, 1);
  ASSERT_TRUE(refs_.AddOnBehalfBorrows(ret, {{inner, Owner("executor")}}));
  refs_.RemoveLocalRef(ret);
  ASSERT_TRUE(WasFreed(ret));
  ASSERT_EQ(freed_.back().on_behalf.size(), 1u);
  EXPECT_EQ(freed_.back().on_behalf[0].id, inner);
  EXPECT_FALSE(refs_.AddOnBehalfBorrows(ObjectID::FromRandom(), {{inner, Owner("x")}}))
      << "an untracked object cannot hold borrows";
}

TEST_F(ReferenceCounterTest, ActorHandleObjectIsCountedLikeAnyObject) {
  ActorID actor =
      ActorID::Of(JobID::FromParts(1, 1), TaskID::ForDriverTask(JobID::FromParts(1, 1)), 1);
  ObjectID handle = ObjectID::ForActorHandle(actor);
  EXPECT_TRUE(handle.IsActorHandle());
  EXPECT_EQ(handle.TaskId().ActorId(), actor);
  EXPECT_FALSE(ObjectID::FromIndex(TaskID::ForActorCreationTask(actor), 1).IsActorHandle());
  refs_.AddOwned(handle, 1);                                    // the creator's handle
  refs_.AddSubmittedRefs({handle});                             // passed to a pending task
  refs_.RemoveLocalRef(handle);                                 // the creator drops it
  refs_.UpdateBorrows({{handle, 1}}, "caller", "n", "", true);  // the task's worker keeps it
  refs_.RemoveSubmittedRefs({handle});
  EXPECT_FALSE(WasFreed(handle)) << "a borrower-only handle keeps the actor";
  refs_.UpdateBorrows({{handle, 1}}, "caller", "n", "", false);
  EXPECT_TRUE(WasFreed(handle));
}

}  // namespace
}  // namespace photon::core
