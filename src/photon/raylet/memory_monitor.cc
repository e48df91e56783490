#include "photon/raylet/memory_monitor.h"

#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "fmt/format.h"

namespace photon::raylet {
namespace {

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream f(path);
  if (!f) return std::nullopt;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A cgroup v2 counter ("max" or a number of bytes); nullopt for "max" or none.
std::optional<int64_t> CgroupValue(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) return std::nullopt;
  int64_t v = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &v)) return std::nullopt;
  return v;
}

}  // namespace

absl::StatusOr<MemoryUsage> ParseMeminfo(const std::string& text) {
  std::map<std::string, int64_t> kib;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> parts = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (parts.size() < 2) continue;
    int64_t v = 0;
    if (absl::SimpleAtoi(parts[1], &v)) kib[std::string(absl::StripSuffix(parts[0], ":"))] = v;
  }
  if (!kib.contains("MemTotal") || !kib.contains("MemAvailable")) {
    return absl::InternalError("/proc/meminfo has no MemTotal or MemAvailable");
  }
  MemoryUsage u;
  u.total_bytes = kib["MemTotal"] * 1024;
  u.used_bytes = (kib["MemTotal"] - kib["MemAvailable"]) * 1024;
  return u;
}

int64_t ResidentBytes(pid_t pid) {
  auto text = ReadFile(fmt::format("/proc/{}/statm", pid));
  if (!text) return 0;
  std::vector<absl::string_view> parts = absl::StrSplit(*text, ' ', absl::SkipEmpty());
  int64_t pages = 0;
  if (parts.size() < 2 || !absl::SimpleAtoi(parts[1], &pages)) return 0;
  return pages * sysconf(_SC_PAGESIZE);
}

absl::StatusOr<MemoryUsage> ReadNodeMemory(int64_t capacity_bytes,
                                           const std::vector<pid_t>& workers) {
  if (capacity_bytes > 0) {
    MemoryUsage u;
    u.total_bytes = capacity_bytes;
    for (pid_t p : workers) u.used_bytes += ResidentBytes(p);
    return u;
  }
  auto text = ReadFile("/proc/meminfo");
  if (!text) return absl::InternalError("cannot read /proc/meminfo");
  auto u = ParseMeminfo(*text);
  if (!u.ok()) return u;
  // A container's limit, when lower than the machine's memory.
  auto limit = CgroupValue("/sys/fs/cgroup/memory.max");
  auto current = CgroupValue("/sys/fs/cgroup/memory.current");
  if (limit && current && *limit > 0 && *limit < u->total_bytes) {
    u->total_bytes = *limit;
    u->used_bytes = *current;
  }
  return u;
}

std::optional<size_t> PickOomVictim(const std::vector<OomCandidate>& candidates) {
  if (candidates.empty()) return std::nullopt;
  bool any_retriable = false;
  for (const auto& c : candidates) any_retriable |= c.retriable;
  std::map<std::string, int> per_owner;
  for (const auto& c : candidates) {
    if (c.retriable == any_retriable) ++per_owner[c.owner];
  }
  std::optional<size_t> best;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const OomCandidate& c = candidates[i];
    if (c.retriable != any_retriable) continue;
    if (!best) {
      best = i;
      continue;
    }
    const OomCandidate& b = candidates[*best];
    int cn = per_owner[c.owner], bn = per_owner[b.owner];
    if (cn != bn ? cn > bn : c.leased_at > b.leased_at) best = i;
  }
  return best;
}

}  // namespace photon::raylet
