// The GCS's task table for the state API: the task events core workers send
// (AddTaskEventData), merged per task attempt, and read back by
// GetTaskEvents (list_tasks, get_task, summarize_tasks, the timeline).
//
// Bounded: at most task_events_max_num_task_in_gcs attempts. Beyond it the
// attempts that ended first are dropped, then (if none has ended) the oldest;
// every drop is counted per job, as are the transitions workers report they
// dropped, and GetTaskEvents returns both counts so that a reader can say
// that data is missing. Not persisted: a restarted GCS starts empty, as in
// Ray.
//
// Threading: TaskEventStore is thread-safe (one mutex); the service's
// handlers run on gRPC threads and only call it.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "photon/common/id.h"
#include "photon/protocol/gcs.grpc.pb.h"

namespace photon::gcs {

class TaskEventStore {
 public:
  explicit TaskEventStore(int64_t max_attempts) : max_attempts_(max_attempts) {}

  void Add(const rpc::AddTaskEventDataRequest& request);
  rpc::GetTaskEventsReply Get(const rpc::GetTaskEventsRequest& request) const;
  // A job ended: its attempts that never reached an end are FAILED now
  // (their owner is gone), as Ray shows them.
  void OnJobFinished(const JobID& job, int64_t time_ns);

  size_t size() const;

  // How many attempts are in each state, by task name, for photon_tasks:
  // live attempts as they are now, ended ones (FINISHED, FAILED) ever since
  // the GCS started, evicted or not.
  struct StateCount {
    rpc::TaskStatus state;
    std::string name;
    bool is_retry;
    std::string job_id;  // binary
    int64_t count;
  };
  std::vector<StateCount> CountByState() const;

  // The state an entry shows: its furthest transition (an end wins).
  static rpc::TaskStatus StateOf(const rpc::TaskEvents& e);

 private:
  using Key = std::pair<TaskID, int32_t>;
  struct Entry {
    rpc::TaskEvents events;                          // without its description, which is `info`
    std::shared_ptr<const rpc::TaskInfoEntry> info;  // shared by tasks alike
    uint64_t seq = 0;  // when it was added: newer entries have larger ones
    bool ended = false;
    // What CountByState counts it as (NIL: not counted yet).
    rpc::TaskStatus counted_state = rpc::NIL;
    std::string counted_name;
  };
  using CountKey = std::tuple<rpc::TaskStatus, std::string, bool, std::string>;
  // Moves the entry's count to its present state and name.
  void RecountLocked(const Key& key, Entry& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Merge(const rpc::TaskEvents& from, std::shared_ptr<const rpc::TaskInfoEntry> info,
             uint64_t seq) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Evict() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool EvictFrom(std::deque<std::pair<Key, uint64_t>>* order, bool ended_only)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Compact(std::deque<std::pair<Key, uint64_t>>* order) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int64_t max_attempts_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<Key, Entry> entries_ ABSL_GUARDED_BY(mu_);
  // (key, seq) in the order entries were added and ended; entries dropped
  // by the other order leave stale pairs (their seq no longer matches).
  std::deque<std::pair<Key, uint64_t>> added_order_ ABSL_GUARDED_BY(mu_);
  std::deque<std::pair<Key, uint64_t>> ended_order_ ABSL_GUARDED_BY(mu_);
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 1;
  int64_t evicted_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t dropped_at_workers_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<CountKey, int64_t> counts_ ABSL_GUARDED_BY(mu_);
};

// TaskInfoGcsService on a TaskEventStore.
class TaskInfoService : public rpc::TaskInfoGcsService::CallbackService {
 public:
  explicit TaskInfoService(TaskEventStore* store) : store_(store) {}
  grpc::ServerUnaryReactor* AddTaskEventData(grpc::CallbackServerContext* ctx,
                                             const rpc::AddTaskEventDataRequest* request,
                                             rpc::AddTaskEventDataReply* reply) override;
  grpc::ServerUnaryReactor* GetTaskEvents(grpc::CallbackServerContext* ctx,
                                          const rpc::GetTaskEventsRequest* request,
                                          rpc::GetTaskEventsReply* reply) override;

 private:
  TaskEventStore* const store_;
};

}  // namespace photon::gcs
