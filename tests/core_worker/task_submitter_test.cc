// TaskSubmitter against fake raylets and workers: leases, reuse, idle
// return, spillback, evidence-based retries, cancellation.
#include "photon/core_worker/submit/task_submitter.h"

#include "tests/core_worker/submitter_test_util.h"

namespace photon::core::testing {
namespace {

class TaskSubmitterTest : public SubmitterFixture {
 protected:
  TaskSubmitterTest()
      : submitter_(TaskSubmitter::Deps{&config_,
                                       &tasks_,
                                       &resolver_,
                                       &raylets_,
                                       &workers_,
                                       &liveness_,
                                       &timer_,
                                       guard_,
                                       kLocalRaylet,
                                       rpc::PYTHON,
                                       job_,
                                       {"python", "-m", "worker"},
                                       {},
                                       [this](const std::vector<ObjectID>& lost) {
                                         rebuilt_.insert(rebuilt_.end(), lost.begin(), lost.end());
                                         return rebuild_ok_;
                                       }}) {}

  TaskID Submit(int max_retries = 0, bool retry_exceptions = false,
                const std::string& resource = "CPU") {
    TaskID id = TaskID::ForNormalTask(job_, TaskID::ForDriverTask(job_), ++counter_);
    rpc::TaskSpec spec;
    spec.set_task_id(id.Binary());
    spec.set_job_id(job_.Binary());
    spec.set_type(rpc::NORMAL_TASK);
    spec.set_name("f");
    spec.set_num_returns(1);
    spec.set_max_retries(max_retries);
    spec.set_retry_exceptions(retry_exceptions);
    (*spec.mutable_resources())[resource] = 1;
    tasks_.AddPendingTask(spec, {});
    submitter_.Submit(spec);
    return id;
  }

  // Grants the oldest lease request at `raylet` with a new worker.
  rpc::Address GrantLease(const std::shared_ptr<FakeRayletClient>& raylet, const NodeID& node) {
    rpc::Address w = NewWorker(node);
    raylet->leases.Reply(absl::OkStatus(), Grant(w));
    return w;
  }

  uint64_t counter_ = 0;
  std::vector<ObjectID> rebuilt_;  // what rebuild_args was asked for
  bool rebuild_ok_ = true;
  TaskSubmitter submitter_;
};

TEST_F(TaskSubmitterTest, LeasesAWorkerAndPushesTheTask) {
  TaskID t = Submit();
  ASSERT_EQ(Local()->leases.size(), 1u);
  EXPECT_EQ(Local()->leases.Peek().resources().at("CPU"), 1);
  EXPECT_FALSE(Local()->leases.Peek().grant_or_reject());
  rpc::Address w = GrantLease(Local(), local_node_);
  ASSERT_EQ(Worker(w)->pushes.size(), 1u);
  auto push = Worker(w)->pushes.Take();
  EXPECT_EQ(push.request.intended_worker_id(), w.worker_id());
  push.done(absl::OkStatus(), ReplyWith(push.request.task(), "42"));
  ASSERT_NE(Value(t), nullptr);
  EXPECT_EQ(Value(t)->data, "42");
  EXPECT_EQ(submitter_.NumPendingTasks(), 0u);
}

TEST_F(TaskSubmitterTest, ATaskWhoseArgumentsWereLostRunsAgainOnceTheyAreRebuilt) {
  TaskID t = Submit(/*max_retries=*/0);
  rpc::Address w = GrantLease(Local(), local_node_);
  auto push = Worker(w)->pushes.Take();
  ObjectID lost = ObjectID::FromRandom();
  rpc::PushTaskReply reply;
  reply.add_lost_args(lost.Binary());
  push.done(absl::OkStatus(), std::move(reply));
  ASSERT_EQ(rebuilt_, std::vector<ObjectID>{lost});
  EXPECT_EQ(Value(t), nullptr);  // no error stored: it runs again (not a retry)
  ASSERT_EQ(Worker(w)->pushes.size(), 1u);
  push = Worker(w)->pushes.Take();
  EXPECT_EQ(push.request.task().attempt(), 1);
  push.done(absl::OkStatus(), ReplyWith(push.request.task(), "rebuilt"));
  ASSERT_NE(Value(t), nullptr);
  EXPECT_EQ(Value(t)->data, "rebuilt");
  // An argument that cannot be rebuilt leaves the task's error.
  rebuild_ok_ = false;
  TaskID u = Submit();
  push = Worker(w)->pushes.Take();
  rpc::PushTaskReply failed = ReplyWith(push.request.task(), "");
  failed.add_lost_args(lost.Binary());
  push.done(absl::OkStatus(), std::move(failed));
  EXPECT_NE(Value(u), nullptr);
}

TEST_F(TaskSubmitterTest, ReusesTheLeaseAndReturnsItOnceIdle) {
  TaskID a = Submit();
  rpc::Address w = GrantLease(Local(), local_node_);
  TaskID b = Submit();  // queued behind a; asks for a lease of its own
  EXPECT_EQ(Local()->leases.size(), 1u);
  auto push = Worker(w)->pushes.Take();
  push.done(absl::OkStatus(), ReplyWith(push.request.task(), "a"));
  // b runs on the same worker; its own lease request is no longer needed.
  ASSERT_EQ(Worker(w)->pushes.size(), 1u);
  EXPECT_EQ(Local()->cancels.size(), 1u);
  push = Worker(w)->pushes.Take();
  push.done(absl::OkStatus(), ReplyWith(push.request.task(), "b"));
  EXPECT_EQ(Value(a)->data, "a");
  EXPECT_EQ(Value(b)->data, "b");
  EXPECT_EQ(Local()->returns.size(), 0u);
  timer_.Advance(absl::Milliseconds(config_.worker_lease_timeout_ms()));
  ASSERT_EQ(Local()->returns.size(), 1u);
  EXPECT_EQ(Local()->returns.Peek().worker_id(), w.worker_id());
  EXPECT_FALSE(Local()->returns.Peek().disconnect());
  EXPECT_EQ(submitter_.NumLeases(), 0u);
}

// A lease that keeps running tasks has one idle check pending, not one per
// task, and is returned a full timeout after its last task, not its first.
TEST_F(TaskSubmitterTest, OneIdleCheckPerLeaseCountsFromTheLastTask) {
  const absl::Duration timeout = absl::Milliseconds(config_.worker_lease_timeout_ms());
  Submit();
  rpc::Address w = GrantLease(Local(), local_node_);
  auto push = Worker(w)->pushes.Take();
  push.done(absl::OkStatus(), ReplyWith(push.request.task(), "0"));
  for (int i = 1; i <= 5; ++i) {
    timer_.Advance(timeout / 4);
    Submit();
    push = Worker(w)->pushes.Take();
    push.done(absl::OkStatus(), ReplyWith(push.request.task(), std::to_string(i)));
    EXPECT_EQ(timer_.NumPending("return idle lease"), 1u);
  }
  EXPECT_EQ(Local()->returns.size(), 0u);
  timer_.Advance(timeout - absl::Milliseconds(1));
  EXPECT_EQ(Local()->returns.size(), 0u);
  EXPECT_EQ(submitter_.NumLeases(), 1u);
  timer_.Advance(absl::Milliseconds(1));
  ASSERT_EQ(Local()->returns.size(), 1u);
  EXPECT_EQ(submitter_.NumLeases(), 0u);
  EXPECT_EQ(timer_.NumPending("return idle lease"), 0u);
}

// A lease with nothing left of its shape is given back at once, not after
// worker_lease_timeout_ms, while tasks of another shape wait for a worker:
// the raylet can hand the worker on instead of starting one per shape.
TEST_F(TaskSubmitterTest, AnIdleLeaseIsReturnedAtOnceWhileAnotherShapeWaits) {
  TaskID a = Submit();
  rpc::Address w = GrantLease(Local(), local_node_);
  TaskID b = Submit(0, false, "custom");  // another shape: its own lease request
  ASSERT_EQ(Local()->leases.size(), 1u);
  auto push = Worker(w)->pushes.Take();
  push.done(absl::OkStatus(), ReplyWith(push.request.task(), "a"));
  EXPECT_EQ(Value(a)->data, "a");
  ASSERT_EQ(Local()->returns.size(), 1u);
  EXPECT_EQ(Local()->returns.Take().request.worker_id(), w.worker_id());
  // The same when the lease already idles as the other shape's tasks come.
  rpc::Address v = GrantLease(Local(), local_node_);
  push = Worker(v)->pushes.Take();
  push.done(absl::OkStatus(), ReplyWith(push.request.task(), "b"));
  EXPECT_EQ(Value(b)->data, "b");
  EXPECT_EQ(Local()->returns.size(), 0u);  // nothing else waits: kept for reuse
  Submit();
  ASSERT_EQ(Local()->returns.size(), 1u);
  EXPECT_EQ(Local()->returns.Take().request.worker_id(), v.worker_id());
  EXPECT_EQ(Local()->leases.size(), 1u);
}

TEST_F(TaskSubmitterTest, FollowsSpillbackToAnotherRaylet) {
  TaskID t = Submit();
  rpc::RequestWorkerLeaseReply spill;
  spill.mutable_retry_at_raylet()->set_ip("127.0.0.1");
  spill.mutable_retry_at_raylet()->set_port(7001);
  Local()->leases.Reply(absl::OkStatus(), spill);
  ASSERT_EQ(Remote()->leases.size(), 1u);
  EXPECT_TRUE(Remote()->leases.Peek().grant_or_reject());
  rpc::Address w = GrantLease(Remote(), remote_node_);
  auto push = Worker(w)->pushes.Take();
  push.done(absl::OkStatus(), ReplyWith(push.request.task(), "x"));
  EXPECT_EQ(Value(t)->data, "x");
}

// A push that gets no answer from a live worker is sent again, not counted
// as a failure: the task has max_retries=0 and still succeeds.
TEST_F(TaskSubmitterTest, UnansweredPushIsResentWhileTheWorkerLives) {
  TaskID t = Submit(/*max_retries=*/0);
  rpc::Address w = GrantLease(Local(), local_node_);
  Worker(w)->pushes.Reply(absl::UnavailableError("connection timed out"));
  ASSERT_EQ(Local()->states.size(), 1u);
  EXPECT_EQ(Local()->states.Peek().worker_id(), w.worker_id());
  rpc::GetWorkerStateReply alive;
  alive.set_state(rpc::GetWorkerStateReply::ALIVE);
  Local()->states.Reply(absl::OkStatus(), alive);
  EXPECT_EQ(Worker(w)->pushes.size(), 0u);  // after a backoff
  timer_.Advance(absl::Seconds(1));
  ASSERT_EQ(Worker(w)->pushes.size(), 1u);
  auto push = Worker(w)->pushes.Take();
  EXPECT_EQ(push.request.task().attempt(), 0) << "the same attempt, not a retry";
  push.done(absl::OkStatus(), ReplyWith(push.request.task(), "ok"));
  EXPECT_EQ(Value(t)->data, "ok");
}

TEST_F(TaskSubmitterTest, DeadWorkerRetriesTheTaskOnANewLease) {
  TaskID t = Submit(/*max_retries=*/1);
  rpc::Address w = GrantLease(Local(), local_node_);
  Worker(w)->pushes.Reply(absl::UnavailableError("connection refused"));
  rpc::GetWorkerStateReply dead;
  dead.set_state(rpc::GetWorkerStateReply::DEAD);
  dead.set_reason("its worker process exited with code 1");
  Local()->states.Reply(absl::OkStatus(), dead);
  ASSERT_EQ(Local()->returns.size(), 1u);
  EXPECT_TRUE(Local()->returns.Peek().disconnect());
  ASSERT_EQ(Local()->leases.size(), 1u);  // a new lease for the retry
  rpc::Address w2 = GrantLease(Local(), local_node_);
  auto push = Worker(w2)->pushes.Take();
  EXPECT_EQ(push.request.task().attempt(), 1);
  push.done(absl::OkStatus(), ReplyWith(push.request.task(), "again"));
  EXPECT_EQ(Value(t)->data, "again");
}

TEST_F(TaskSubmitterTest, DeadWorkerWithoutRetriesFailsTheTask) {
  TaskID t = Submit(/*max_retries=*/0);
  rpc::Address w = GrantLease(Local(), local_node_);
  Worker(w)->pushes.Reply(absl::UnavailableError("connection refused"));
  rpc::GetWorkerStateReply dead;
  dead.set_state(rpc::GetWorkerStateReply::DEAD);
  dead.set_reason("killed by signal 9");
  Local()->states.Reply(absl::OkStatus(), dead);
  ASSERT_NE(Value(t), nullptr);
  ASSERT_TRUE(Value(t)->IsError());
  EXPECT_EQ(Value(t)->Error().type(), rpc::WORKER_DIED);
  EXPECT_NE(Value(t)->Error().message().find("killed by signal 9"), std::string::npos);
}

TEST_F(TaskSubmitterTest, ATaskWhoseNodeDiedWithoutRetriesFailsWithNodeDied) {
  TaskID t = Submit(/*max_retries=*/0);
  rpc::Address w = GrantLease(Local(), remote_node_);  // a worker on the other node
  rpc::NodeInfo dead = Node(remote_node_, 7001);
  dead.set_state(rpc::NodeInfo::DEAD);
  gcs_.SetNodes({Node(local_node_, 7000), dead});
  Worker(w)->pushes.Reply(absl::UnavailableError("connection refused"));
  ASSERT_NE(Value(t), nullptr);
  ASSERT_TRUE(Value(t)->IsError());
  EXPECT_EQ(Value(t)->Error().type(), rpc::NODE_DIED);
  EXPECT_NE(Value(t)->Error().message().find("node running task 'f' died"), std::string::npos)
      << Value(t)->Error().message();
}

TEST_F(TaskSubmitterTest, ApplicationErrorsRetryOnlyWithRetryExceptions) {
  TaskID t = Submit(/*max_retries=*/1, /*retry_exceptions=*/true);
  rpc::Address w = GrantLease(Local(), local_node_);
  auto push = Worker(w)->pushes.Take();
  rpc::PushTaskReply failed = ReplyWith(push.request.task(), "boom");
  failed.set_is_application_error(true);
  push.done(absl::OkStatus(), std::move(failed));
  ASSERT_EQ(Worker(w)->pushes.size(), 1u);  // again, on the same lease
  push = Worker(w)->pushes.Take();
  EXPECT_EQ(push.request.task().attempt(), 1);
  push.done(absl::OkStatus(), ReplyWith(push.request.task(), "fine"));
  EXPECT_EQ(Value(t)->data, "fine");
}

TEST_F(TaskSubmitterTest, CancelledQueuedTaskNeverRuns) {
  TaskID t = Submit();
  ASSERT_EQ(Local()->leases.size(), 1u);
  ASSERT_TRUE(submitter_.Cancel(t).ok());
  ASSERT_NE(Value(t), nullptr);
  EXPECT_EQ(Value(t)->Error().type(), rpc::TASK_CANCELLED);
  EXPECT_EQ(Local()->cancels.size(), 1u) << "its lease request is cancelled";
  rpc::Address w = GrantLease(Local(), local_node_);  // granted anyway: given back
  EXPECT_EQ(Worker(w)->pushes.size(), 0u);
  EXPECT_EQ(Local()->returns.size(), 1u);
  EXPECT_TRUE(absl::IsNotFound(submitter_.Cancel(t)));
}

TEST_F(TaskSubmitterTest, CancelOfARunningTaskAsksItsWorker) {
  TaskID t = Submit();
  rpc::Address w = GrantLease(Local(), local_node_);
  ASSERT_EQ(Worker(w)->pushes.size(), 1u);
  ASSERT_TRUE(submitter_.Cancel(t, /*force=*/true).ok());
  ASSERT_EQ(Worker(w)->cancels.size(), 1u);
  EXPECT_TRUE(Worker(w)->cancels.Peek().force());
  ASSERT_EQ(Local()->returns.size(), 1u);
  EXPECT_TRUE(Local()->returns.Peek().disconnect()) << "force kills the worker";
  EXPECT_EQ(Value(t)->Error().type(), rpc::TASK_CANCELLED);
}

TEST_F(TaskSubmitterTest, RefusedLeaseRequestFailsTheQueuedTasks) {
  TaskID t = Submit();
  Local()->leases.Reply(absl::InvalidArgumentError("CPU=0.00001 is finer than 0.0001"));
  ASSERT_NE(Value(t), nullptr);
  EXPECT_EQ(Value(t)->Error().type(), rpc::TASK_UNSCHEDULABLE);
}

TEST_F(TaskSubmitterTest, UnreachableRayletIsAskedAgainAfterTheRetryDelay) {
  Submit();
  Local()->leases.Reply(absl::UnavailableError("the raylet did not answer"));
  EXPECT_EQ(Local()->leases.size(), 0u);
  timer_.Advance(absl::Milliseconds(config_.lease_retry_delay_ms() - 1));
  EXPECT_EQ(Local()->leases.size(), 0u);
  timer_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(Local()->leases.size(), 1u);
}

TEST_F(TaskSubmitterTest, InfeasibleTaskWaitsAndAsksAgain) {
  TaskID t = Submit();
  rpc::RequestWorkerLeaseReply infeasible;
  infeasible.set_infeasible(true);
  infeasible.set_message("no node has GPU=8");
  Local()->leases.Reply(absl::OkStatus(), infeasible);
  EXPECT_EQ(Value(t), nullptr) << "it stays pending";
  timer_.Advance(absl::Milliseconds(config_.infeasible_retry_delay_ms()));
  EXPECT_EQ(Local()->leases.size(), 1u);
}

}  // namespace
}  // namespace photon::core::testing
