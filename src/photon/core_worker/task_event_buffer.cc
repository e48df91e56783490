#include "photon/core_worker/task_event_buffer.h"

#include <sys/stat.h>

#include <cstdio>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "fmt/format.h"
#include "photon/common/logging.h"
#include "photon/protocol/task_events.h"

namespace photon::core {

TaskEventBuffer::TaskEventBuffer(Options options, SendFn send)
    : options_(std::move(options)),
      send_(std::move(send)),
      stdout_file_(rpc::WorkerLogFile(options_.worker.Binary(), "out")),
      stderr_file_(rpc::WorkerLogFile(options_.worker.Binary(), "err")) {}

void TaskEventBuffer::Start(Timer* timer, absl::Duration period,
                            std::shared_ptr<CallbackGuard> guard) {
  if (!options_.enabled) return;
  timer->RunEvery("flush task events", period, [this, guard] {
    auto token = guard->Enter();
    if (token) Flush();
  });
}

std::shared_ptr<rpc::TaskInfoEntry> TaskEventBuffer::InfoOf(const rpc::TaskSpec& spec) {
  auto info = std::make_shared<rpc::TaskInfoEntry>();
  info->set_name(spec.name());
  info->set_func_or_class_name(spec.name());
  info->set_type(spec.type());
  info->set_language(spec.language());
  info->set_job_id(spec.job_id());
  info->set_parent_task_id(spec.parent_task_id());
  info->set_actor_id(spec.actor_id());
  info->mutable_required_resources()->insert(spec.resources().begin(), spec.resources().end());
  info->set_placement_group_id(spec.scheduling().placement_group_id());
  info->set_runtime_env(spec.runtime_env());
  info->set_call_site(spec.call_site());
  return info;
}

std::shared_ptr<rpc::TaskInfoEntry> TaskEventBuffer::SharedInfoOf(const rpc::TaskSpec& spec) {
  auto& cached = infos_[spec.name()];
  if (cached != nullptr) {
    const rpc::TaskInfoEntry& c = *cached;
    bool same = c.type() == spec.type() && c.parent_task_id() == spec.parent_task_id() &&
                c.actor_id() == spec.actor_id() && c.job_id() == spec.job_id() &&
                c.placement_group_id() == spec.scheduling().placement_group_id() &&
                c.runtime_env() == spec.runtime_env() && c.call_site() == spec.call_site() &&
                c.required_resources_size() == spec.resources_size();
    for (const auto& [k, v] : spec.resources()) {
      if (!same) break;
      auto it = c.required_resources().find(k);
      same = it != c.required_resources().end() && it->second == v;
    }
    if (same) return cached;
  }
  if (infos_.size() > 1024) infos_.clear();  // many names: keep the cache small
  cached = InfoOf(spec);
  return cached;
}

void TaskEventBuffer::Add(Record r, const rpc::TaskSpec* described) {
  absl::MutexLock lock(&mu_);
  if (static_cast<int64_t>(buffer_.size()) >= options_.max_buffer_size) {
    ++dropped_[r.job];
    ++dropped_total_;
    return;
  }
  if (described != nullptr) r.info = SharedInfoOf(*described);
  buffer_.push_back(std::move(r));
}

void TaskEventBuffer::RecordSubmitted(const rpc::TaskSpec& spec) {
  if (!options_.enabled) return;
  Record r;
  r.task = TaskID::FromBinaryOrDie(spec.task_id());
  r.job = JobID::FromBinaryOrDie(spec.job_id());
  r.attempt = spec.attempt();
  r.status = rpc::PENDING_ARGS_AVAIL;
  r.time_ns = absl::GetCurrentTimeNanos();
  Add(std::move(r), &spec);
}

void TaskEventBuffer::RecordStatus(const TaskID& task, const JobID& job, int32_t attempt,
                                   rpc::TaskStatus status, const rpc::ErrorInfo* error) {
  if (!options_.enabled) return;
  Record r;
  r.task = task;
  r.job = job;
  r.attempt = attempt;
  r.status = status;
  r.time_ns = absl::GetCurrentTimeNanos();
  if (error != nullptr) r.error = std::make_shared<rpc::ErrorInfo>(*error);
  Add(std::move(r));
}

void TaskEventBuffer::OutputOffsets(bool flush, int64_t* out, int64_t* err) const {
  *out = *err = -1;
  if (!options_.worker_log_files) return;
  if (flush) {
    std::fflush(stdout);
    std::fflush(stderr);
  }
  struct stat st {};
  if (fstat(1, &st) == 0 && S_ISREG(st.st_mode)) *out = st.st_size;
  if (fstat(2, &st) == 0 && S_ISREG(st.st_mode)) *err = st.st_size;
}

void TaskEventBuffer::StartExecution(const rpc::TaskSpec& spec) {
  if (!options_.enabled) return;
  Running r;
  r.job = JobID::FromBinaryOrDie(spec.job_id());
  r.start_ns = absl::GetCurrentTimeNanos();
  OutputOffsets(false, &r.stdout_start, &r.stderr_start);
  auto key = std::make_pair(TaskID::FromBinaryOrDie(spec.task_id()), spec.attempt());
  absl::MutexLock lock(&mu_);
  running_[key] = r;
}

void TaskEventBuffer::EndExecution(const rpc::TaskSpec& spec, const rpc::ErrorInfo* error,
                                   rpc::TaskExecutionReport* out) {
  if (!options_.enabled) return;
  const int64_t end_ns = absl::GetCurrentTimeNanos();
  int64_t stdout_end = -1, stderr_end = -1;
  OutputOffsets(true, &stdout_end, &stderr_end);
  Running r;  // none if it never ran (its arguments could not be had): no start
  {
    absl::MutexLock lock(&mu_);
    auto it =
        running_.find(std::make_pair(TaskID::FromBinaryOrDie(spec.task_id()), spec.attempt()));
    if (it != running_.end()) {
      r = it->second;
      running_.erase(it);
    }
  }
  out->set_task_id(spec.task_id());
  out->set_attempt(spec.attempt());
  out->set_job_id(spec.job_id());
  out->set_start_ns(r.start_ns);
  out->set_end_ns(end_ns);
  out->set_failed(error != nullptr);
  if (error != nullptr) *out->mutable_error() = *error;
  out->set_node_id(options_.node.Binary());
  out->set_worker_id(options_.worker.Binary());
  out->set_pid(options_.pid);
  out->set_stdout_start(r.stdout_start);
  out->set_stdout_end(stdout_end);
  out->set_stderr_start(r.stderr_start);
  out->set_stderr_end(stderr_end);
}

void TaskEventBuffer::RecordExecutionReport(rpc::TaskExecutionReport report) {
  if (!options_.enabled || report.end_ns() == 0) return;
  auto task = TaskID::FromBinary(report.task_id());
  auto job = JobID::FromBinary(report.job_id());
  if (!task.ok() || !job.ok()) return;
  Record r;
  r.task = *task;
  r.job = *job;
  r.attempt = report.attempt();
  r.status = report.failed() ? rpc::FAILED : rpc::FINISHED;
  r.time_ns = report.end_ns();
  r.execution = std::make_shared<const rpc::TaskExecutionReport>(std::move(report));
  Add(std::move(r));
}

void TaskEventBuffer::RecordPendingReason(const TaskID& task, const JobID& job, int32_t attempt,
                                          std::string reason) {
  if (!options_.enabled) return;
  Record r;
  r.task = task;
  r.job = job;
  r.attempt = attempt;
  r.status = rpc::NIL;  // no transition: only the reason
  r.time_ns = absl::GetCurrentTimeNanos();
  r.pending_reason = std::make_shared<const std::string>(std::move(reason));
  Add(std::move(r));
}

void TaskEventBuffer::RecordWaiting(const TaskID& task, const JobID& job, int32_t attempt,
                                    std::shared_ptr<const std::string> reason) {
  if (!options_.enabled) return;
  Record r;
  r.task = task;
  r.job = job;
  r.attempt = attempt;
  r.status = rpc::PENDING_NODE_ASSIGNMENT;
  r.time_ns = absl::GetCurrentTimeNanos();
  r.pending_reason = std::move(reason);
  Add(std::move(r));
}

void TaskEventBuffer::FlushAndWait(absl::Duration timeout) {
  if (!options_.enabled) return;
  auto landed = std::make_shared<absl::Notification>();
  Flush([landed] { landed->Notify(); });
  landed->WaitForNotificationWithTimeout(timeout);
}

void TaskEventBuffer::Flush(std::function<void()> done) {
  std::vector<Record> records;
  std::vector<std::pair<std::pair<TaskID, int32_t>, Running>> running;
  absl::flat_hash_map<JobID, int64_t> dropped;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [key, run] : running_) {
      if (!run.reported) {
        running.emplace_back(key, run);
        run.reported = true;
      }
    }
    if (buffer_.empty() && dropped_.empty() && running.empty()) {
      if (done) done();
      return;
    }
    records.swap(buffer_);
    dropped.swap(dropped_);
  }
  // One entry per attempt in the batch, its transitions in order.
  rpc::AddTaskEventDataRequest req;
  absl::flat_hash_map<std::pair<TaskID, int32_t>, rpc::TaskEvents*> by_attempt;
  absl::flat_hash_map<const rpc::TaskInfoEntry*, int32_t> info_refs;  // sent once per batch
  std::string names_of, out_name, err_name;  // the log files of the last executor seen
  for (Record& r : records) {
    auto [it, added] = by_attempt.try_emplace(std::make_pair(r.task, r.attempt), nullptr);
    if (added) {
      it->second = req.add_events();
      it->second->set_task_id(r.task.Binary());
      it->second->set_attempt_number(r.attempt);
      it->second->set_job_id(r.job.Binary());
    }
    rpc::TaskEvents* e = it->second;
    if (r.info != nullptr && e->info_ref() == 0) {
      auto [ref, fresh] = info_refs.try_emplace(r.info.get(), req.infos_size() + 1);
      if (fresh) *req.add_infos() = *r.info;
      e->set_info_ref(ref->second);
    }
    if (r.execution != nullptr) {
      // The end, RUNNING and where it ran, as its executor reported them.
      const std::string& worker = r.execution->worker_id();
      if (worker != names_of) {  // a batch holds many runs of each worker
        names_of = worker;
        out_name = rpc::WorkerLogFile(worker, "out");
        err_name = rpc::WorkerLogFile(worker, "err");
      }
      rpc::AddExecution(*r.execution, out_name, err_name, e);
    } else if (r.status != rpc::NIL) {
      rpc::TaskStateTransition* t = e->add_transitions();
      t->set_state(r.status);
      t->set_time_ns(r.time_ns);
    }
    if (r.error != nullptr) {
      e->set_error_type(rpc::ErrorType_Name(r.error->type()));
      e->set_error_message(r.error->message());
    }
    if (r.pending_reason != nullptr) e->set_pending_reason(*r.pending_reason);
  }
  // Executions of this process that still run: RUNNING now (their end goes
  // back to their owners in the replies).
  for (const auto& [key, run] : running) {
    rpc::TaskEvents* e = req.add_events();
    e->set_task_id(key.first.Binary());
    e->set_attempt_number(key.second);
    e->set_job_id(run.job.Binary());
    rpc::TaskStateTransition* t = e->add_transitions();
    t->set_state(rpc::RUNNING);
    t->set_time_ns(run.start_ns);
    e->set_node_id(options_.node.Binary());
    e->set_worker_id(options_.worker.Binary());
    e->set_worker_pid(options_.pid);
    if (run.stdout_start >= 0 || run.stderr_start >= 0) {
      rpc::TaskLogInfo* l = e->mutable_task_log_info();
      l->set_stdout_file(stdout_file_);
      l->set_stderr_file(stderr_file_);
      if (run.stdout_start >= 0) l->set_stdout_start(run.stdout_start);
      if (run.stderr_start >= 0) l->set_stderr_start(run.stderr_start);
    }
  }
  for (const auto& [job, n] : dropped) (*req.mutable_dropped_by_job())[job.Hex()] = n;
  const int64_t sent = static_cast<int64_t>(records.size() + running.size());
  // The reply may come after this buffer is gone: it touches only `lost`.
  send_(std::move(req), [lost = lost_, sent, done = std::move(done)](const absl::Status& s) {
    if (!s.ok()) {
      PHOTON_LOG_DEBUG("task events lost ({} transitions): {}", sent, std::string(s.message()));
      *lost += sent;
    }
    if (done) done();
  });
}

int64_t TaskEventBuffer::NumBuffered() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(buffer_.size());
}

int64_t TaskEventBuffer::NumDropped() const {
  absl::MutexLock lock(&mu_);
  return dropped_total_ + *lost_;
}

}  // namespace photon::core
