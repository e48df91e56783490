// Out-of-memory prevention: how full a node's memory is, and which worker
// the raylet kills when it is over memory_usage_threshold (Ray's policy).
//
// Usage is the machine's (MemTotal - MemAvailable of /proc/meminfo), or its
// cgroup's (memory.current / memory.max) when the cgroup has a lower limit.
// With memory_monitor_capacity_bytes set, the node instead counts as having
// that much memory, used by the resident memory of its own workers: a small
// explicit capacity for tests and for sharing a machine between nodes.
//
// Pure functions over /proc and plain values: the raylet's timer calls them.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace photon::raylet {

struct MemoryUsage {
  int64_t used_bytes = 0;
  int64_t total_bytes = 0;
  double fraction() const {
    return total_bytes > 0 ? static_cast<double>(used_bytes) / total_bytes : 0;
  }
};

// MemTotal - MemAvailable from the text of /proc/meminfo.
absl::StatusOr<MemoryUsage> ParseMeminfo(const std::string& text);

// The node's memory as described above; `workers` are the pids counted when
// `capacity_bytes` > 0.
absl::StatusOr<MemoryUsage> ReadNodeMemory(int64_t capacity_bytes,
                                           const std::vector<pid_t>& workers);

// Resident memory of a process (from /proc/<pid>/statm); 0 if it is gone.
int64_t ResidentBytes(pid_t pid);

// A leased worker that may be killed.
struct OomCandidate {
  pid_t pid = 0;
  std::string owner;  // who submitted its work (a worker id, binary)
  bool retriable = false;
  absl::Time leased_at;
};

// Ray's choice: retriable work before non-retriable; among those, the owner
// with the most leased workers here (the one whose burst fills the node),
// and of its workers the newest lease. nullopt if there is none.
std::optional<size_t> PickOomVictim(const std::vector<OomCandidate>& candidates);

}  // namespace photon::raylet
