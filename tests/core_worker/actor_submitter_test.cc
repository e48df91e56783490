// ActorSubmitter against fake workers and a fake GCS: ordering, resends to
// the same incarnation, restarts, deaths, and destruction once every handle
// is gone.
#include "photon/core_worker/submit/actor_submitter.h"

#include "tests/core_worker/submitter_test_util.h"

namespace photon::core::testing {
namespace {

class ActorSubmitterTest : public SubmitterFixture {
 protected:
  ActorSubmitterTest()
      : actor_(ActorID::Of(job_, TaskID::ForDriverTask(job_), 1)),
        submitter_(ActorSubmitter::Deps{&config_, &tasks_, &resolver_, &workers_, &gcs_, &timer_,
                                        guard_, "self-worker"}) {}

  rpc::ActorTableData State(rpc::ActorTableData::State state, const rpc::Address* worker,
                            int max_task_retries = 0) {
    rpc::ActorTableData d;
    d.set_actor_id(actor_.Binary());
    d.set_state(state);
    d.set_version(++version_);
    d.set_max_task_retries(max_task_retries);
    if (worker) *d.mutable_address() = *worker;
    return d;
  }
  // Creates the actor as its owner, alive on `worker`.
  void CreateAlive(const rpc::Address& worker, int max_task_retries = 0) {
    auto d = State(rpc::ActorTableData::PENDING_CREATION, nullptr, max_task_retries);
    gcs_.SetActor(d);
    submitter_.AddOwnedActor(actor_, d, TaskID::ForActorCreationTask(actor_));
    submitter_.OnActorUpdate(State(rpc::ActorTableData::ALIVE, &worker, max_task_retries));
  }
  TaskID Call() {
    TaskID id = TaskID::ForActorTask(job_, TaskID::ForDriverTask(job_), ++counter_, actor_);
    rpc::TaskSpec spec;
    spec.set_task_id(id.Binary());
    spec.set_type(rpc::ACTOR_TASK);
    spec.set_actor_id(actor_.Binary());
    spec.set_name("A.f");
    spec.set_num_returns(1);
    tasks_.AddPendingTask(spec, {});
    submitter_.Submit(actor_, spec);
    return id;
  }

  ActorID actor_;
  int64_t version_ = 0;
  uint64_t counter_ = 0;
  ActorSubmitter submitter_;
};

TEST_F(ActorSubmitterTest, CallsAreNumberedAndSentInOrder) {
  rpc::Address w = NewWorker(local_node_);
  CreateAlive(w);
  TaskID a = Call(), b = Call(), c = Call();
  ASSERT_EQ(Worker(w)->pushes.size(), 3u);
  for (uint64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(Worker(w)->pushes.Peek(i).task().sequence_number(), i);
    EXPECT_EQ(Worker(w)->pushes.Peek(i).caller_worker_id(), "self-worker");
  }
  EXPECT_EQ(Worker(w)->pushes.Peek(2).skip_before(), 0u) << "nothing below 0 is finished";
  for (const TaskID& t : {a, b, c}) {
    auto push = Worker(w)->pushes.Take();
    push.done(absl::OkStatus(), ReplyWith(push.request.task(), t.Hex()));
  }
  EXPECT_EQ(Value(c)->data, c.Hex());
  EXPECT_EQ(submitter_.NumPendingCalls(actor_), 0u);
}

TEST_F(ActorSubmitterTest, CallsWaitUntilTheActorIsAlive) {
  auto d = State(rpc::ActorTableData::PENDING_CREATION, nullptr);
  gcs_.SetActor(d);
  submitter_.AddOwnedActor(actor_, d, TaskID::ForActorCreationTask(actor_));
  TaskID t = Call();
  rpc::Address w = NewWorker(local_node_);
  EXPECT_EQ(Worker(w)->pushes.size(), 0u);
  submitter_.OnActorUpdate(State(rpc::ActorTableData::ALIVE, &w));
  ASSERT_EQ(Worker(w)->pushes.size(), 1u);
  auto push = Worker(w)->pushes.Take();
  push.done(absl::OkStatus(), ReplyWith(push.request.task(), "up"));
  EXPECT_EQ(Value(t)->data, "up");
}

// No answer from a live incarnation: the same call is sent again (the
// receiver answers a resend with its reply), and nothing counts as a death,
// even with max_task_retries=0.
TEST_F(ActorSubmitterTest, UnansweredCallIsResentToTheSameIncarnation) {
  rpc::Address w = NewWorker(local_node_);
  CreateAlive(w, /*max_task_retries=*/0);
  TaskID t = Call();
  Worker(w)->pushes.Reply(absl::UnavailableError("deadline"));
  EXPECT_EQ(Value(t), nullptr);
  timer_.Advance(absl::Seconds(1));
  ASSERT_EQ(Worker(w)->pushes.size(), 1u);
  auto push = Worker(w)->pushes.Take();
  EXPECT_EQ(push.request.task().sequence_number(), 0u);
  push.done(absl::OkStatus(), ReplyWith(push.request.task(), "once"));
  EXPECT_EQ(Value(t)->data, "once");
}

TEST_F(ActorSubmitterTest, CallsInFlightGoToTheRestartedActorWhileRetriesAllow) {
  rpc::Address w1 = NewWorker(local_node_);
  CreateAlive(w1, /*max_task_retries=*/1);
  TaskID t = Call();
  // The GCS reports the worker's death, then the restart.
  submitter_.OnActorUpdate(State(rpc::ActorTableData::RESTARTING, nullptr, 1));
  Worker(w1)->pushes.Reply(absl::UnavailableError("connection reset"));
  rpc::Address w2 = NewWorker(local_node_);
  submitter_.OnActorUpdate(State(rpc::ActorTableData::ALIVE, &w2, 1));
  ASSERT_EQ(Worker(w2)->pushes.size(), 1u);
  auto push = Worker(w2)->pushes.Take();
  push.done(absl::OkStatus(), ReplyWith(push.request.task(), "second life"));
  EXPECT_EQ(Value(t)->data, "second life");
}

TEST_F(ActorSubmitterTest, CallInFlightFailsWhenItsIncarnationDiesWithoutRetries) {
  rpc::Address w1 = NewWorker(local_node_);
  CreateAlive(w1, /*max_task_retries=*/0);
  TaskID t = Call();
  submitter_.OnActorUpdate(State(rpc::ActorTableData::RESTARTING, nullptr, 0));
  Worker(w1)->pushes.Reply(absl::UnavailableError("connection reset"));
  ASSERT_NE(Value(t), nullptr);
  EXPECT_EQ(Value(t)->Error().type(), rpc::ACTOR_DIED);
}

TEST_F(ActorSubmitterTest, DeadActorFailsQueuedCallsWithItsCause) {
  auto d = State(rpc::ActorTableData::PENDING_CREATION, nullptr);
  gcs_.SetActor(d);
  submitter_.AddOwnedActor(actor_, d, TaskID::ForActorCreationTask(actor_));
  TaskID t = Call();
  auto dead = State(rpc::ActorTableData::DEAD, nullptr);
  dead.mutable_death_cause()->set_type(rpc::ACTOR_DIED);
  dead.mutable_death_cause()->set_message("the constructor raised");
  submitter_.OnActorUpdate(dead);
  ASSERT_NE(Value(t), nullptr);
  EXPECT_EQ(Value(t)->Error().message(), "the constructor raised");
  TaskID later = Call();
  EXPECT_EQ(Value(later)->Error().message(), "the constructor raised");
}

TEST_F(ActorSubmitterTest, ActorIsDestroyedOnceHandlesAreGoneAndCallsFinished) {
  rpc::Address w = NewWorker(local_node_);
  CreateAlive(w);
  Call();
  submitter_.OnHandlesGone(actor_);
  EXPECT_TRUE(Worker(w)->exits.size() == 0) << "a call is still in flight";
  auto push = Worker(w)->pushes.Take();
  push.done(absl::OkStatus(), ReplyWith(push.request.task(), "last"));
  // A live actor is asked to end gracefully (it then tells the GCS itself).
  ASSERT_EQ(Worker(w)->exits.size(), 1u);
  Worker(w)->exits.Reply(absl::OkStatus());
  EXPECT_TRUE(gcs_.Kills().empty());
}

TEST_F(ActorSubmitterTest, OutOfScopeActorThatCannotBeAskedIsKilledByTheGcs) {
  rpc::Address w = NewWorker(local_node_);
  CreateAlive(w);
  submitter_.OnHandlesGone(actor_);
  ASSERT_EQ(Worker(w)->exits.size(), 1u);
  Worker(w)->exits.Reply(absl::UnavailableError("connection refused"));
  ASSERT_EQ(gcs_.Kills().size(), 1u);
  EXPECT_EQ(gcs_.Kills()[0], actor_);
}

TEST_F(ActorSubmitterTest, OutOfScopeActorNotYetAliveIsKilledByTheGcs) {
  auto d = State(rpc::ActorTableData::PENDING_CREATION, nullptr);
  gcs_.SetActor(d);
  submitter_.AddOwnedActor(actor_, d, TaskID::ForActorCreationTask(actor_));
  submitter_.OnHandlesGone(actor_);
  ASSERT_EQ(gcs_.Kills().size(), 1u);
}

TEST_F(ActorSubmitterTest, DetachedActorIsNotDestroyedByHandleCounting) {
  rpc::Address w = NewWorker(local_node_);
  auto d = State(rpc::ActorTableData::ALIVE, &w);
  d.set_detached(true);
  gcs_.SetActor(d);
  submitter_.AddOwnedActor(actor_, d, TaskID::ForActorCreationTask(actor_));
  submitter_.OnHandlesGone(actor_);
  EXPECT_TRUE(gcs_.Kills().empty());
}

TEST_F(ActorSubmitterTest, CancelOfAnUnsentCallFailsIt) {
  auto d = State(rpc::ActorTableData::PENDING_CREATION, nullptr);
  gcs_.SetActor(d);
  submitter_.AddOwnedActor(actor_, d, TaskID::ForActorCreationTask(actor_));
  TaskID t = Call();
  ASSERT_TRUE(submitter_.Cancel(t).ok());
  EXPECT_EQ(Value(t)->Error().type(), rpc::TASK_CANCELLED);
  rpc::Address w = NewWorker(local_node_);
  submitter_.OnActorUpdate(State(rpc::ActorTableData::ALIVE, &w));
  EXPECT_EQ(Worker(w)->pushes.size(), 0u);
}

}  // namespace
}  // namespace photon::core::testing
