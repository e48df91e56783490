// The TaskManager's lineage: kept for finished retriable tasks whose returns
// are in a store, resubmitted to rebuild a lost return within max_retries,
// dropped with the last return or for the budget.
#include "photon/core_worker/submit/task_manager.h"

#include <gtest/gtest.h>

namespace photon::core {
namespace {

class TaskManagerTest : public ::testing::Test {
 protected:
  explicit TaskManagerTest(int64_t budget = 1 << 20)
      : refs_([](const ReferenceCounter::Freed&) {}),
        tasks_(
            &refs_, &store_, rpc::Address(), [](const ObjectID&, const NodeID&) {},
            [](const ObjectID&, const std::vector<OwnedRef>&) {}, budget) {}

  // Submits and completes a task of `max_retries` whose one return is in a
  // store (taking `arg`, an object of this process, if set).
  ObjectID RunTask(int max_retries, bool in_plasma = true, const ObjectID* arg = nullptr) {
    rpc::TaskSpec spec;
    if (arg != nullptr) {
      auto* ref = spec.add_args()->mutable_ref();
      ref->set_object_id(arg->Binary());
      *ref->mutable_owner() = rpc::Address();  // this process (the manager's self)
    }
    TaskID id = TaskID::FromRandom(JobID::FromParts(1, 1));
    spec.set_task_id(id.Binary());
    spec.set_name("make");
    spec.set_num_returns(1);
    spec.set_max_retries(max_retries);
    auto returns = tasks_.AddPendingTask(spec, ArgumentRefs());
    // As the submitter does: lineage for a return in a store, with retries left.
    Complete(id, returns[0], in_plasma, in_plasma && max_retries != 0 ? &spec : nullptr,
             max_retries);
    return returns[0];
  }
  void Complete(const TaskID& id, const ObjectID& ret, bool in_plasma,
                const rpc::TaskSpec* lineage = nullptr, int retries_left = 0) {
    rpc::PushTaskReply reply;
    rpc::ReturnObject* r = reply.add_returns();
    r->set_object_id(ret.Binary());
    if (in_plasma) {
      r->set_in_plasma(true);
      r->set_node_id(NodeID::FromRandom().Binary());
    } else {
      r->mutable_value()->set_data("small");
    }
    tasks_.CompleteTask(id, reply, lineage, retries_left);
  }

  MemoryStore store_;
  ReferenceCounter refs_;
  TaskManager tasks_;
};

TEST_F(TaskManagerTest, ALostReturnIsResubmittedWithinMaxRetries) {
  ObjectID ret = RunTask(/*max_retries=*/1);
  EXPECT_EQ(tasks_.NumLineageEntries(), 1u);
  EXPECT_TRUE(store_.Contains(ret));
  auto spec = tasks_.Resubmit(ret);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->attempt(), 1);
  EXPECT_EQ(spec->max_retries(), 0);   // the rebuild used the one retry
  EXPECT_FALSE(store_.Contains(ret));  // getters wait for the rebuilt value
  EXPECT_TRUE(tasks_.IsPending(ret.TaskId()));
  EXPECT_TRUE(absl::IsAlreadyExists(tasks_.Resubmit(ret).status()));
  // The rebuilt task finished with no retries left: lost again, it says so.
  Complete(ret.TaskId(), ret, true, &*spec, 0);
  auto again = tasks_.Resubmit(ret);
  EXPECT_TRUE(absl::IsFailedPrecondition(again.status())) << again.status();
  EXPECT_NE(again.status().message().find("no retries left"), std::string::npos);
  // max_retries=-1: rebuilt as often as it is lost.
  ObjectID forever = RunTask(-1);
  for (int i = 0; i < 3; ++i) {
    auto s = tasks_.Resubmit(forever);
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ(s->max_retries(), -1);
    Complete(forever.TaskId(), forever, true, &*s, -1);
  }
}

TEST_F(TaskManagerTest, NoLineageWithoutRetriesOrWithAnInlineReturn) {
  EXPECT_TRUE(absl::IsNotFound(tasks_.Resubmit(RunTask(0)).status()));
  EXPECT_TRUE(absl::IsNotFound(tasks_.Resubmit(RunTask(3, /*in_plasma=*/false)).status()));
  EXPECT_EQ(tasks_.NumLineageEntries(), 0u);
}

TEST_F(TaskManagerTest, LineageGoesWithTheLastReturn) {
  ObjectID ret = RunTask(-1);
  ASSERT_EQ(tasks_.NumLineageEntries(), 1u);
  tasks_.OnObjectFreed(ret);
  EXPECT_EQ(tasks_.NumLineageEntries(), 0u);
}

TEST_F(TaskManagerTest, LineageOfAnArgumentIsPinnedByItsConsumersLineage) {
  // a -> b -> c: each task takes the previous one's return.
  ObjectID a = RunTask(-1);
  ObjectID b = RunTask(-1, true, &a);
  ObjectID c = RunTask(-1, true, &b);
  ASSERT_EQ(tasks_.NumLineageEntries(), 3u);
  // a and b freed (only c is referenced): their lineage stays for c's rebuild.
  tasks_.OnObjectFreed(a);
  tasks_.OnObjectFreed(b);
  EXPECT_EQ(tasks_.NumLineageEntries(), 3u);
  EXPECT_TRUE(tasks_.HasLineage(a));
  // A rebuild of c that needs b again: b is tracked again, held by the rebuild.
  auto spec = tasks_.Resubmit(c);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_TRUE(tasks_.Retrack(b, c.TaskId()));
  EXPECT_TRUE(refs_.Contains(b));
  EXPECT_EQ(refs_.CountsOf(b)->submitted, 1);                        // held by the rebuild of c
  EXPECT_FALSE(tasks_.Retrack(ObjectID::FromRandom(), c.TaskId()));  // no lineage
  // c is freed for good: the whole chain's lineage goes with it.
  tasks_.OnObjectFreed(c);
  tasks_.OnObjectFreed(b);  // what the rebuild's completion releases
  EXPECT_EQ(tasks_.NumLineageEntries(), 0u);
}

class TinyLineageBudgetTest : public TaskManagerTest {
 protected:
  TinyLineageBudgetTest() : TaskManagerTest(/*budget=*/60) {}
};

TEST_F(TinyLineageBudgetTest, TheOldestLineageIsDroppedForTheBudgetAndSaysSo) {
  ObjectID first = RunTask(2);
  ObjectID second = RunTask(2);
  EXPECT_EQ(tasks_.NumLineageEntries(), 1u);
  auto evicted = tasks_.Resubmit(first);
  EXPECT_TRUE(absl::IsOutOfRange(evicted.status())) << evicted.status();
  EXPECT_TRUE(tasks_.Resubmit(second).ok());
}

}  // namespace
}  // namespace photon::core
