#include "photon/core_worker/task_event_buffer.h"

#include <sys/stat.h>

#include <cstdio>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "fmt/format.h"
#include "photon/common/logging.h"

namespace photon::core {

TaskEventBuffer::TaskEventBuffer(Options options, SendFn send)
    : options_(std::move(options)), send_(std::move(send)) {}

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
  return info;
}

std::shared_ptr<rpc::TaskInfoEntry> TaskEventBuffer::SharedInfoOf(const rpc::TaskSpec& spec) {
  auto& cached = infos_[spec.name()];
  if (cached != nullptr) {
    const rpc::TaskInfoEntry& c = *cached;
    bool same = c.type() == spec.type() && c.parent_task_id() == spec.parent_task_id() &&
                c.actor_id() == spec.actor_id() && c.job_id() == spec.job_id() &&
                c.placement_group_id() == spec.scheduling().placement_group_id() &&
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

void TaskEventBuffer::RecordExecution(const rpc::TaskSpec& spec, rpc::TaskStatus status,
                                      const rpc::ErrorInfo* error) {
  if (!options_.enabled) return;
  Record r;
  r.task = TaskID::FromBinaryOrDie(spec.task_id());
  r.job = JobID::FromBinaryOrDie(spec.job_id());
  r.attempt = spec.attempt();
  r.status = status;
  r.time_ns = absl::GetCurrentTimeNanos();
  r.executed_here = true;
  if (error != nullptr) r.error = std::make_shared<rpc::ErrorInfo>(*error);
  if (options_.worker_log_files) {
    // Where this execution's output starts (RUNNING) or ends: the size of
    // the files behind stdout and stderr, after what stdio still buffers.
    if (status != rpc::RUNNING) {
      std::fflush(stdout);
      std::fflush(stderr);
    }
    struct stat st {};
    if (fstat(1, &st) == 0 && S_ISREG(st.st_mode)) r.stdout_offset = st.st_size;
    if (fstat(2, &st) == 0 && S_ISREG(st.st_mode)) r.stderr_offset = st.st_size;
  }
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
  absl::flat_hash_map<JobID, int64_t> dropped;
  {
    absl::MutexLock lock(&mu_);
    if (buffer_.empty() && dropped_.empty()) {
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
    if (r.status != rpc::NIL) {
      rpc::TaskStateTransition* t = e->add_transitions();
      t->set_state(r.status);
      t->set_time_ns(r.time_ns);
    }
    if (r.executed_here) {
      e->set_node_id(options_.node.Binary());
      e->set_worker_id(options_.worker.Binary());
      e->set_worker_pid(options_.pid);
      if (r.stdout_offset >= 0 || r.stderr_offset >= 0) {
        rpc::TaskLogInfo* l = e->mutable_task_log_info();
        l->set_stdout_file(fmt::format("worker-{}.out", options_.worker.Hex()));
        l->set_stderr_file(fmt::format("worker-{}.err", options_.worker.Hex()));
        const bool start = r.status == rpc::RUNNING;
        if (r.stdout_offset >= 0) {
          start ? l->set_stdout_start(r.stdout_offset) : l->set_stdout_end(r.stdout_offset);
        }
        if (r.stderr_offset >= 0) {
          start ? l->set_stderr_start(r.stderr_offset) : l->set_stderr_end(r.stderr_offset);
        }
      }
    }
    if (r.error != nullptr) {
      e->set_error_type(rpc::ErrorType_Name(r.error->type()));
      e->set_error_message(r.error->message());
    }
    if (r.pending_reason != nullptr) e->set_pending_reason(*r.pending_reason);
  }
  for (const auto& [job, n] : dropped) (*req.mutable_dropped_by_job())[job.Hex()] = n;
  const int64_t sent = static_cast<int64_t>(records.size());
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
