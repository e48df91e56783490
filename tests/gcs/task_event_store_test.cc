// TaskEventStore: merging reports per attempt, the bound (ended attempts go
// first), drop counts, job end, and the query's filters and limit.
#include "photon/gcs/task_event_store.h"

#include <gtest/gtest.h>

namespace photon::gcs {
namespace {

const JobID kJob = JobID::FromParts(1, 1);

TaskID Task(uint64_t n) { return TaskID::ForNormalTask(kJob, TaskID::ForDriverTask(kJob), n); }

rpc::TaskEvents Report(const TaskID& t, int attempt, rpc::TaskStatus state, int64_t time_ns) {
  rpc::TaskEvents e;
  e.set_task_id(t.Binary());
  e.set_attempt_number(attempt);
  e.set_job_id(kJob.Binary());
  auto* tr = e.add_transitions();
  tr->set_state(state);
  tr->set_time_ns(time_ns);
  return e;
}

void Add(TaskEventStore* s, const rpc::TaskEvents& e) {
  rpc::AddTaskEventDataRequest req;
  *req.add_events() = e;
  s->Add(req);
}

TEST(TaskEventStoreTest, MergesTheOwnersAndTheExecutorsReportsOfAnAttempt) {
  TaskEventStore store(100);
  rpc::TaskEvents owner = Report(Task(1), 0, rpc::PENDING_ARGS_AVAIL, 1);
  owner.mutable_info()->set_name("f");
  Add(&store, owner);
  rpc::TaskEvents ran = Report(Task(1), 0, rpc::RUNNING, 2);
  ran.set_worker_pid(42);
  ran.set_node_id(std::string(28, 'n'));
  *ran.add_transitions() = Report(Task(1), 0, rpc::FINISHED, 3).transitions(0);
  Add(&store, ran);
  auto got = store.Get(rpc::GetTaskEventsRequest());
  ASSERT_EQ(got.events_size(), 1);
  EXPECT_EQ(got.events(0).info().name(), "f");
  EXPECT_EQ(got.events(0).worker_pid(), 42);
  EXPECT_EQ(got.events(0).transitions_size(), 3);
  EXPECT_EQ(TaskEventStore::StateOf(got.events(0)), rpc::FINISHED);
}

TEST(TaskEventStoreTest, ResolvesDescriptionsSharedByReference) {
  TaskEventStore store(100);
  rpc::AddTaskEventDataRequest req;
  req.add_infos()->set_name("shared");
  for (int i = 1; i <= 2; ++i) {
    rpc::TaskEvents e = Report(Task(i), 0, rpc::PENDING_ARGS_AVAIL, i);
    e.set_info_ref(1);
    *req.add_events() = e;
  }
  rpc::TaskEvents bad = Report(Task(3), 0, rpc::PENDING_ARGS_AVAIL, 3);
  bad.set_info_ref(7);  // out of range: no description, no crash
  *req.add_events() = bad;
  store.Add(req);
  const rpc::GetTaskEventsReply got = store.Get(rpc::GetTaskEventsRequest());
  ASSERT_EQ(got.events_size(), 3);
  int named = 0;
  for (const auto& e : got.events()) named += e.info().name() == "shared";
  EXPECT_EQ(named, 2);
}

TEST(TaskEventStoreTest, AttemptsAreSeparateAndAGetByIdReturnsEveryOne) {
  TaskEventStore store(100);
  for (int a = 0; a < 4; ++a)
    Add(&store, Report(Task(1), a, a < 3 ? rpc::FAILED : rpc::FINISHED, a));
  Add(&store, Report(Task(2), 0, rpc::RUNNING, 9));
  rpc::GetTaskEventsRequest req;
  req.add_task_ids(Task(1).Binary());
  auto got = store.Get(req);
  EXPECT_EQ(got.events_size(), 4);
  EXPECT_EQ(got.num_total(), 4);
}

TEST(TaskEventStoreTest, BeyondTheBoundEndedAttemptsGoFirstAndAreCounted) {
  TaskEventStore store(3);
  Add(&store, Report(Task(1), 0, rpc::RUNNING, 1));   // oldest, still running
  Add(&store, Report(Task(2), 0, rpc::FINISHED, 2));  // ended: goes first
  Add(&store, Report(Task(3), 0, rpc::RUNNING, 3));
  Add(&store, Report(Task(4), 0, rpc::RUNNING, 4));
  EXPECT_EQ(store.size(), 3u);
  auto got = store.Get(rpc::GetTaskEventsRequest());
  EXPECT_EQ(got.num_evicted(), 1);
  for (const auto& e : got.events()) EXPECT_NE(e.task_id(), Task(2).Binary());
  // None ended: the oldest goes.
  Add(&store, Report(Task(5), 0, rpc::RUNNING, 5));
  got = store.Get(rpc::GetTaskEventsRequest());
  EXPECT_EQ(got.num_evicted(), 2);
  for (const auto& e : got.events()) EXPECT_NE(e.task_id(), Task(1).Binary());
}

int64_t CountOf(const TaskEventStore& s, rpc::TaskStatus state, const std::string& name) {
  int64_t n = 0;
  for (const auto& c : s.CountByState()) {
    if (c.state == state && c.name == name) n += c.count;
  }
  return n;
}

TEST(TaskEventStoreTest, CountsByStateFollowTheAttemptsAndKeepEndedOnesPastEviction) {
  TaskEventStore store(2);
  for (int i = 1; i <= 3; ++i) {
    rpc::TaskEvents e = Report(Task(i), 0, rpc::PENDING_ARGS_AVAIL, i);
    e.mutable_info()->set_name("f");
    Add(&store, e);
  }
  // The bound dropped one live attempt: it leaves the count.
  EXPECT_EQ(CountOf(store, rpc::PENDING_ARGS_AVAIL, "f"), 2);
  Add(&store, Report(Task(2), 0, rpc::RUNNING, 10));
  EXPECT_EQ(CountOf(store, rpc::PENDING_ARGS_AVAIL, "f"), 1);
  EXPECT_EQ(CountOf(store, rpc::RUNNING, "f"), 1);
  Add(&store, Report(Task(2), 0, rpc::FINISHED, 11));
  Add(&store, Report(Task(3), 0, rpc::FINISHED, 12));
  EXPECT_EQ(CountOf(store, rpc::RUNNING, "f"), 0);
  EXPECT_EQ(CountOf(store, rpc::FINISHED, "f"), 2);
  // Newer attempts push the finished ones out of the table, not out of the count.
  for (int i = 4; i <= 6; ++i) {
    rpc::TaskEvents e = Report(Task(i), 0, rpc::FINISHED, 20 + i);
    e.mutable_info()->set_name("f");
    Add(&store, e);
  }
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(CountOf(store, rpc::FINISHED, "f"), 5);
  // A retry is counted apart.
  rpc::TaskEvents retry = Report(Task(1), 1, rpc::FINISHED, 30);
  retry.mutable_info()->set_name("f");
  Add(&store, retry);
  bool retry_seen = false;
  for (const auto& c : store.CountByState()) retry_seen |= c.is_retry && c.count == 1;
  EXPECT_TRUE(retry_seen);
}

TEST(TaskEventStoreTest, CountsWhatWorkersDroppedAndLimitsNewestFirst) {
  TaskEventStore store(100);
  rpc::AddTaskEventDataRequest req;
  (*req.mutable_dropped_by_job())[kJob.Hex()] = 7;
  for (int i = 1; i <= 5; ++i) *req.add_events() = Report(Task(i), 0, rpc::RUNNING, i);
  store.Add(req);
  rpc::GetTaskEventsRequest q;
  q.set_limit(2);
  auto got = store.Get(q);
  EXPECT_EQ(got.num_dropped_at_workers(), 7);
  EXPECT_EQ(got.num_total(), 5);
  ASSERT_EQ(got.events_size(), 2);
  EXPECT_EQ(got.events(0).task_id(), Task(5).Binary());
}

TEST(TaskEventStoreTest, AJobThatEndsFailsItsUnfinishedAttempts) {
  TaskEventStore store(100);
  Add(&store, Report(Task(1), 0, rpc::RUNNING, 1));
  Add(&store, Report(Task(2), 0, rpc::FINISHED, 2));
  store.OnJobFinished(kJob, 10);
  const rpc::GetTaskEventsReply got = store.Get(rpc::GetTaskEventsRequest());
  for (const auto& e : got.events()) {
    if (e.task_id() == Task(1).Binary()) {
      EXPECT_EQ(TaskEventStore::StateOf(e), rpc::FAILED);
      EXPECT_FALSE(e.error_message().empty());
    } else {
      EXPECT_EQ(TaskEventStore::StateOf(e), rpc::FINISHED);
    }
  }
}

}  // namespace
}  // namespace photon::gcs
