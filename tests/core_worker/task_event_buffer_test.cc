// TaskEventBuffer: transitions batched per attempt, the executor's identity
// on what it ran, a full buffer drops and counts, a disabled one records nothing.
#include "photon/core_worker/task_event_buffer.h"

#include <gtest/gtest.h>

namespace photon::core {
namespace {

const JobID kJob = JobID::FromParts(1, 1);

rpc::TaskSpec Spec(uint64_t n) {
  rpc::TaskSpec s;
  s.set_task_id(TaskID::ForNormalTask(kJob, TaskID::ForDriverTask(kJob), n).Binary());
  s.set_job_id(kJob.Binary());
  s.set_name("f");
  (*s.mutable_resources())["CPU"] = 1;
  return s;
}

struct Sent {
  std::vector<rpc::AddTaskEventDataRequest> batches;
};

TaskEventBuffer Make(Sent* sent, bool enabled = true, int64_t max = 100) {
  TaskEventBuffer::Options o;
  o.enabled = enabled;
  o.max_buffer_size = max;
  o.node = NodeID::FromRandom();
  o.worker = WorkerID::FromRandom(o.node);
  o.pid = 7;
  return TaskEventBuffer(
      o, [sent](rpc::AddTaskEventDataRequest r, std::function<void(const absl::Status&)> done) {
        sent->batches.push_back(std::move(r));
        done(absl::OkStatus());
      });
}

TEST(TaskEventBufferTest, BatchesTransitionsPerAttempt) {
  Sent sent;
  TaskEventBuffer b = Make(&sent);
  rpc::TaskSpec s = Spec(1);
  TaskID t = TaskID::FromBinaryOrDie(s.task_id());
  b.RecordSubmitted(s);
  b.RecordStatus(t, kJob, 0, rpc::PENDING_NODE_ASSIGNMENT);
  // The executor's account of the run, as its reply brings it back.
  rpc::TaskExecutionReport report;
  {
    Sent executor_sent;
    TaskEventBuffer executor = Make(&executor_sent);
    executor.StartExecution(s);
    executor.EndExecution(s, nullptr, &report);
    executor.Flush();
    EXPECT_TRUE(executor_sent.batches.empty());  // a short run: nothing of its own to send
  }
  EXPECT_FALSE(report.failed());
  EXPECT_GE(report.end_ns(), report.start_ns());
  b.RecordExecutionReport(report);
  b.Flush();
  ASSERT_EQ(sent.batches.size(), 1u);
  ASSERT_EQ(sent.batches[0].events_size(), 1);
  const auto& e = sent.batches[0].events(0);
  EXPECT_EQ(e.transitions_size(), 4);
  ASSERT_EQ(e.info_ref(), 1);  // the description goes once per batch, by reference
  ASSERT_EQ(sent.batches[0].infos_size(), 1);
  EXPECT_EQ(sent.batches[0].infos(0).name(), "f");
  EXPECT_EQ(sent.batches[0].infos(0).required_resources().at("CPU"), 1);
  EXPECT_EQ(e.worker_pid(), 7);
  EXPECT_EQ(b.NumBuffered(), 0);
}

TEST(TaskEventBufferTest, AnExecutionStillRunningAtAFlushIsReportedByItsExecutor) {
  Sent sent;
  TaskEventBuffer b = Make(&sent);
  rpc::TaskSpec s = Spec(1);
  b.StartExecution(s);
  b.Flush();
  ASSERT_EQ(sent.batches.size(), 1u);
  ASSERT_EQ(sent.batches[0].events_size(), 1);
  const auto& e = sent.batches[0].events(0);
  ASSERT_EQ(e.transitions_size(), 1);
  EXPECT_EQ(e.transitions(0).state(), rpc::RUNNING);
  EXPECT_EQ(e.worker_pid(), 7);
  b.Flush();  // once
  EXPECT_EQ(sent.batches.size(), 1u);
  rpc::ErrorInfo err;
  err.set_type(rpc::TASK_EXECUTION_EXCEPTION);
  rpc::TaskExecutionReport report;
  b.EndExecution(s, &err, &report);
  EXPECT_TRUE(report.failed());
  EXPECT_EQ(report.error().type(), rpc::TASK_EXECUTION_EXCEPTION);
  // The owner reports the end: FAILED and RUNNING with where it ran.
  b.RecordExecutionReport(report);
  b.Flush();
  ASSERT_EQ(sent.batches.size(), 2u);
  const auto& end = sent.batches[1].events(0);
  EXPECT_EQ(end.transitions_size(), 2);
  EXPECT_EQ(end.error_type(), "TASK_EXECUTION_EXCEPTION");
  EXPECT_EQ(end.worker_pid(), 7);
}

TEST(TaskEventBufferTest, TasksAlikeShareOneDescriptionInABatch) {
  Sent sent;
  TaskEventBuffer b = Make(&sent);
  for (int i = 1; i <= 3; ++i) b.RecordSubmitted(Spec(i));
  rpc::TaskSpec other = Spec(4);
  other.set_name("g");
  b.RecordSubmitted(other);
  b.Flush();
  ASSERT_EQ(sent.batches.size(), 1u);
  EXPECT_EQ(sent.batches[0].events_size(), 4);
  EXPECT_EQ(sent.batches[0].infos_size(), 2);
}

TEST(TaskEventBufferTest, TasksMadeAtAnotherCallSiteGetTheirOwnDescription) {
  Sent sent;
  TaskEventBuffer b = Make(&sent);
  rpc::TaskSpec here = Spec(1), there = Spec(2);
  here.set_call_site("(task call) a.py:1:main");
  there.set_call_site("(task call) a.py:2:main");
  b.RecordSubmitted(here);
  b.RecordSubmitted(there);
  b.Flush();
  ASSERT_EQ(sent.batches.size(), 1u);
  ASSERT_EQ(sent.batches[0].infos_size(), 2);
  EXPECT_EQ(sent.batches[0].infos(0).call_site(), "(task call) a.py:1:main");
  EXPECT_EQ(sent.batches[0].infos(1).call_site(), "(task call) a.py:2:main");
}

TEST(TaskEventBufferTest, AFullBufferDropsAndCountsPerJob) {
  Sent sent;
  TaskEventBuffer b = Make(&sent, true, 2);
  for (int i = 1; i <= 5; ++i) b.RecordSubmitted(Spec(i));
  EXPECT_EQ(b.NumDropped(), 3);
  b.Flush();
  ASSERT_EQ(sent.batches.size(), 1u);
  EXPECT_EQ(sent.batches[0].events_size(), 2);
  EXPECT_EQ(sent.batches[0].dropped_by_job().at(kJob.Hex()), 3);
}

TEST(TaskEventBufferTest, DisabledRecordsNothing) {
  Sent sent;
  TaskEventBuffer b = Make(&sent, false);
  b.RecordSubmitted(Spec(1));
  b.Flush();
  EXPECT_TRUE(sent.batches.empty());
}

}  // namespace
}  // namespace photon::core
