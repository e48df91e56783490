#include "photon/gcs/task_event_store.h"

#include <algorithm>
#include <vector>

#include "photon/rpc/server.h"

namespace photon::gcs {

namespace {
// Order of the states an attempt goes through; an end outranks the rest,
// and FAILED outranks FINISHED (an owner that failed the attempt has the
// last word).
int Rank(rpc::TaskStatus s) {
  switch (s) {
    case rpc::PENDING_ARGS_AVAIL:
      return 1;
    case rpc::PENDING_NODE_ASSIGNMENT:
      return 2;
    case rpc::SUBMITTED_TO_WORKER:
      return 3;
    case rpc::RUNNING:
      return 4;
    case rpc::FINISHED:
      return 5;
    case rpc::FAILED:
      return 6;
    default:
      return 0;
  }
}
bool IsEnd(rpc::TaskStatus s) { return s == rpc::FINISHED || s == rpc::FAILED; }
}  // namespace

rpc::TaskStatus TaskEventStore::StateOf(const rpc::TaskEvents& e) {
  rpc::TaskStatus best = rpc::NIL;
  for (const auto& t : e.transitions()) {
    if (Rank(t.state()) > Rank(best)) best = t.state();
  }
  return best;
}

void TaskEventStore::Add(const rpc::AddTaskEventDataRequest& request) {
  absl::MutexLock lock(&mu_);
  std::vector<std::shared_ptr<const rpc::TaskInfoEntry>> infos;
  infos.reserve(request.infos_size());
  for (const auto& i : request.infos()) infos.push_back(std::make_shared<rpc::TaskInfoEntry>(i));
  for (const auto& [job, n] : request.dropped_by_job()) dropped_at_workers_ += n;
  for (const auto& e : request.events()) {
    std::shared_ptr<const rpc::TaskInfoEntry> info;
    if (e.has_info()) {
      info = std::make_shared<rpc::TaskInfoEntry>(e.info());
    } else if (e.info_ref() > 0 && e.info_ref() <= static_cast<int32_t>(infos.size())) {
      info = infos[e.info_ref() - 1];
    }
    Merge(e, std::move(info), next_seq_++);
  }
  Evict();
}

void TaskEventStore::Merge(const rpc::TaskEvents& from,
                           std::shared_ptr<const rpc::TaskInfoEntry> info, uint64_t seq) {
  auto task = TaskID::FromBinary(from.task_id());
  if (!task.ok()) return;
  Key key{*task, from.attempt_number()};
  auto [it, added] = entries_.try_emplace(key);
  Entry& e = it->second;
  if (added) {
    e.seq = seq;
    e.events.set_task_id(from.task_id());
    e.events.set_attempt_number(from.attempt_number());
    e.events.set_job_id(from.job_id());
    added_order_.emplace_back(key, seq);
  }
  rpc::TaskEvents& to = e.events;
  if (info != nullptr && e.info == nullptr) e.info = std::move(info);
  for (const auto& t : from.transitions()) {
    // One time per state: the first report of it.
    bool seen = false;
    for (const auto& have : to.transitions()) seen |= have.state() == t.state();
    if (!seen) *to.add_transitions() = t;
  }
  if (!from.node_id().empty()) {
    to.set_node_id(from.node_id());
    to.set_worker_id(from.worker_id());
    to.set_worker_pid(from.worker_pid());
  }
  if (!from.error_type().empty()) {
    to.set_error_type(from.error_type());
    to.set_error_message(from.error_message());
  }
  if (!from.pending_reason().empty()) to.set_pending_reason(from.pending_reason());
  if (from.has_task_log_info()) {
    const rpc::TaskLogInfo& l = from.task_log_info();
    rpc::TaskLogInfo* into = to.mutable_task_log_info();
    if (!l.stdout_file().empty()) into->set_stdout_file(l.stdout_file());
    if (!l.stderr_file().empty()) into->set_stderr_file(l.stderr_file());
    if (l.has_stdout_start()) into->set_stdout_start(l.stdout_start());
    if (l.has_stdout_end()) into->set_stdout_end(l.stdout_end());
    if (l.has_stderr_start()) into->set_stderr_start(l.stderr_start());
    if (l.has_stderr_end()) into->set_stderr_end(l.stderr_end());
  }
  if (!e.ended && IsEnd(StateOf(to))) {
    e.ended = true;
    ended_order_.emplace_back(key, e.seq);
  }
  RecountLocked(key, e);
}

void TaskEventStore::RecountLocked(const Key& key, Entry& e) {
  rpc::TaskStatus state = StateOf(e.events);
  const std::string& name = e.info != nullptr ? e.info->name() : e.counted_name;
  if (state == e.counted_state && name == e.counted_name) return;
  const bool retry = key.second > 0;
  if (e.counted_state != rpc::NIL) {
    auto it = counts_.find(CountKey{e.counted_state, e.counted_name, retry, e.events.job_id()});
    if (it != counts_.end() && --it->second <= 0) counts_.erase(it);
  }
  e.counted_state = state;
  e.counted_name = name;
  if (state != rpc::NIL) ++counts_[CountKey{state, name, retry, e.events.job_id()}];
}

std::vector<TaskEventStore::StateCount> TaskEventStore::CountByState() const {
  absl::MutexLock lock(&mu_);
  std::vector<StateCount> out;
  out.reserve(counts_.size());
  for (const auto& [k, n] : counts_) {
    out.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), std::get<3>(k), n});
  }
  return out;
}

bool TaskEventStore::EvictFrom(std::deque<std::pair<Key, uint64_t>>* order, bool ended_only) {
  while (!order->empty()) {
    auto [key, seq] = order->front();
    order->pop_front();
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.seq != seq) continue;  // already gone
    if (ended_only && !it->second.ended) continue;
    if (!it->second.ended && it->second.counted_state != rpc::NIL) {
      // A live attempt leaves the counts with the table; an ended one stays counted.
      Entry& e = it->second;
      auto c = counts_.find(
          CountKey{e.counted_state, e.counted_name, key.second > 0, e.events.job_id()});
      if (c != counts_.end() && --c->second <= 0) counts_.erase(c);
    }
    entries_.erase(it);
    ++evicted_;
    return true;
  }
  return false;
}

void TaskEventStore::Evict() {
  while (static_cast<int64_t>(entries_.size()) > max_attempts_) {
    if (!EvictFrom(&ended_order_, true) && !EvictFrom(&added_order_, false)) break;
  }
  Compact(&added_order_);
  Compact(&ended_order_);
}

void TaskEventStore::Compact(std::deque<std::pair<Key, uint64_t>>* order) {
  // Drop the stale pairs an order collects, so it stays near the table's size.
  if (order->size() <= 2 * entries_.size() + 1024) return;
  std::deque<std::pair<Key, uint64_t>> kept;
  for (const auto& [key, seq] : *order) {
    auto it = entries_.find(key);
    if (it != entries_.end() && it->second.seq == seq) kept.emplace_back(key, seq);
  }
  order->swap(kept);
}

void TaskEventStore::OnJobFinished(const JobID& job, int64_t time_ns) {
  absl::MutexLock lock(&mu_);
  const std::string jid = job.Binary();
  for (auto& [key, e] : entries_) {
    if (e.ended || e.events.job_id() != jid) continue;
    rpc::TaskStateTransition* t = e.events.add_transitions();
    t->set_state(rpc::FAILED);
    t->set_time_ns(time_ns);
    if (e.events.error_type().empty()) {
      e.events.set_error_type("WORKER_DIED");
      e.events.set_error_message("the job finished before the task did");
    }
    e.ended = true;
    ended_order_.emplace_back(key, e.seq);
    RecountLocked(key, e);
  }
}

rpc::GetTaskEventsReply TaskEventStore::Get(const rpc::GetTaskEventsRequest& request) const {
  rpc::GetTaskEventsReply reply;
  std::vector<const Entry*> matched;
  absl::MutexLock lock(&mu_);
  if (!request.task_ids().empty()) {
    for (const auto& b : request.task_ids()) {
      auto task = TaskID::FromBinary(b);
      if (!task.ok()) continue;
      // Attempts are few: look each up until one is missing past the last.
      for (int32_t attempt = 0, misses = 0; misses < 4; ++attempt) {
        auto it = entries_.find(Key{*task, attempt});
        if (it == entries_.end()) {
          ++misses;
          continue;
        }
        misses = 0;
        matched.push_back(&it->second);
      }
    }
  } else {
    matched.reserve(entries_.size());
    for (const auto& [key, e] : entries_) matched.push_back(&e);
  }
  std::erase_if(matched, [&](const Entry* e) {
    if (!request.job_id().empty() && e->events.job_id() != request.job_id()) return true;
    if (!request.actor_id().empty() &&
        (e->info == nullptr || e->info->actor_id() != request.actor_id())) {
      return true;
    }
    return false;
  });
  reply.set_num_total(static_cast<int64_t>(matched.size()));
  // Newest first, so that a limit keeps the most recent.
  size_t n = matched.size();
  if (request.limit() > 0) n = std::min(n, static_cast<size_t>(request.limit()));
  std::partial_sort(matched.begin(), matched.begin() + static_cast<std::ptrdiff_t>(n),
                    matched.end(), [](const Entry* a, const Entry* b) { return a->seq > b->seq; });
  for (size_t i = 0; i < n; ++i) {
    rpc::TaskEvents* out = reply.add_events();
    *out = matched[i]->events;
    if (matched[i]->info != nullptr) *out->mutable_info() = *matched[i]->info;
  }
  reply.set_num_dropped_at_workers(dropped_at_workers_);
  reply.set_num_evicted(evicted_);
  return reply;
}

size_t TaskEventStore::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

grpc::ServerUnaryReactor* TaskInfoService::AddTaskEventData(
    grpc::CallbackServerContext* ctx, const rpc::AddTaskEventDataRequest* request,
    rpc::AddTaskEventDataReply*) {
  store_->Add(*request);
  return rpc::FinishNow(ctx);
}

grpc::ServerUnaryReactor* TaskInfoService::GetTaskEvents(grpc::CallbackServerContext* ctx,
                                                         const rpc::GetTaskEventsRequest* request,
                                                         rpc::GetTaskEventsReply* reply) {
  *reply = store_->Get(*request);
  return rpc::FinishNow(ctx);
}

}  // namespace photon::gcs
