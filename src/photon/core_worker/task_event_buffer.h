// Task events of one core worker: the state transitions of the tasks it owns
// (submitted, waiting for a lease, pushed, failed by the system) and of the
// ones it runs (running, finished, failed by the task), kept in a buffer and
// sent to the GCS every task_events_report_interval_ms (Ray's task events,
// read back by the state API and the timeline).
//
// Recording is on the hot path of every task, so it only appends a small
// record under a mutex; the protos are built on the flush. One report per
// task: the executor hands its side of an attempt (RUNNING, the end, where
// it ran) back in the PushTask reply and its owner sends it with its own
// transitions; the executor sends RUNNING itself only for an execution that
// is still running at one of its flushes (so long tasks show RUNNING). A full buffer
// (task_events_max_buffer_size) drops new transitions and counts them per
// job; the count goes with the next batch, so the state API can say that
// data is missing. A batch the GCS does not take is dropped the same way
// (events are best effort, as in Ray), never retried forever.
//
// Threading: thread-safe. Its mutex is a leaf: nothing is called while it is
// held, so callers may record under their own locks. The flush runs on the
// timer thread, and sends without the mutex held.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "photon/common/callback_guard.h"
#include "photon/common/id.h"
#include "photon/common/timer.h"
#include "photon/protocol/common.pb.h"
#include "photon/protocol/core_worker.pb.h"
#include "photon/protocol/gcs.pb.h"

namespace photon::core {

class TaskEventBuffer {
 public:
  using SendFn = std::function<void(rpc::AddTaskEventDataRequest,
                                    std::function<void(const absl::Status&)> done)>;
  struct Options {
    bool enabled = true;
    int64_t max_buffer_size = 100000;
    // Who records: set on the transitions of tasks this process runs.
    NodeID node;
    WorkerID worker;
    int32_t pid = 0;
    // A worker whose stdout and stderr are its log files (worker-<id>.out,
    // .err): executions record where their output is in them (task_log_info).
    bool worker_log_files = false;
  };
  TaskEventBuffer(Options options, SendFn send);

  // Starts the periodic flush on `timer` (every `period`).
  void Start(Timer* timer, absl::Duration period, std::shared_ptr<CallbackGuard> guard);

  bool enabled() const { return options_.enabled; }

  // The owner submitted `spec` (its attempt): PENDING_ARGS_AVAIL, with what
  // the state API shows of the task (name, function, resources, ...).
  void RecordSubmitted(const rpc::TaskSpec& spec);
  // A transition seen by the owner (PENDING_NODE_ASSIGNMENT,
  // SUBMITTED_TO_WORKER) or a failure it decided (FAILED with `error`).
  void RecordStatus(const TaskID& task, const JobID& job, int32_t attempt, rpc::TaskStatus status,
                    const rpc::ErrorInfo* error = nullptr);
  // PENDING_NODE_ASSIGNMENT with why it waits (shared: one per lease shape).
  void RecordWaiting(const TaskID& task, const JobID& job, int32_t attempt,
                     std::shared_ptr<const std::string> reason);
  // The executing side. This process starts running the attempt of `spec`
  // (RUNNING, with this node, worker and pid): kept aside, and sent by a
  // flush only if it still runs then.
  void StartExecution(const rpc::TaskSpec& spec);
  // It ended (FAILED with `error`, else FINISHED): `*out` (for the reply)
  // says when it ran, where and how it ended, for its owner to report.
  void EndExecution(const rpc::TaskSpec& spec, const rpc::ErrorInfo* error,
                    rpc::TaskExecutionReport* out);
  // The owning side: what the executor of an attempt reported in its reply
  // (RUNNING and its end, with where it ran).
  void RecordExecutionReport(rpc::TaskExecutionReport report);
  // Why the task waits, shown by list_tasks while it is pending.
  void RecordPendingReason(const TaskID& task, const JobID& job, int32_t attempt,
                           std::string reason);

  // Sends what is buffered now (also called by the timer); `done`
  // (optional) runs once the GCS answered, or at once if there was nothing.
  void Flush(std::function<void()> done = nullptr);
  // Flush, waiting up to `timeout` for the GCS (when the process stops).
  void FlushAndWait(absl::Duration timeout);

  // For tests and stats.
  int64_t NumBuffered() const;
  int64_t NumDropped() const;

 private:
  struct Record {
    TaskID task;
    JobID job;
    int32_t attempt = 0;
    rpc::TaskStatus status = rpc::NIL;
    int64_t time_ns = 0;
    std::shared_ptr<rpc::TaskInfoEntry> info;  // the owner's submission (shared, never changed)
    std::shared_ptr<rpc::ErrorInfo> error;
    std::shared_ptr<const std::string> pending_reason;
    // An execution elsewhere, as its executor reported it (owner side).
    std::shared_ptr<const rpc::TaskExecutionReport> execution;
  };
  // An execution of this process that has not ended.
  struct Running {
    JobID job;
    int64_t start_ns = 0;
    int64_t stdout_start = -1;
    int64_t stderr_start = -1;
    bool reported = false;  // its RUNNING went with a flush
  };
  // The sizes of this process's stdout and stderr files (-1: not files),
  // after what stdio buffers if `flush`.
  void OutputOffsets(bool flush, int64_t* out, int64_t* err) const;
  // Buffers `r` (with the description of `described`, if given) unless full.
  void Add(Record r, const rpc::TaskSpec* described = nullptr);
  static std::shared_ptr<rpc::TaskInfoEntry> InfoOf(const rpc::TaskSpec& spec);
  // The description of `spec`, shared with the last task of the same name
  // when it matches (a loop submits many alike: one proto, not one each).
  std::shared_ptr<rpc::TaskInfoEntry> SharedInfoOf(const rpc::TaskSpec& spec)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  const SendFn send_;
  mutable absl::Mutex mu_;
  std::vector<Record> buffer_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::pair<TaskID, int32_t>, Running> running_ ABSL_GUARDED_BY(mu_);
  const std::string stdout_file_, stderr_file_;                       // worker-<id>.out / .err
  absl::flat_hash_map<JobID, int64_t> dropped_ ABSL_GUARDED_BY(mu_);  // not yet reported
  absl::flat_hash_map<std::string, std::shared_ptr<rpc::TaskInfoEntry>> infos_
      ABSL_GUARDED_BY(mu_);  // by task name (SharedInfoOf)
  int64_t dropped_total_ ABSL_GUARDED_BY(mu_) = 0;
  // Transitions in batches the GCS did not take (not in dropped_: never reported).
  const std::shared_ptr<std::atomic<int64_t>> lost_ = std::make_shared<std::atomic<int64_t>>(0);
};

}  // namespace photon::core
