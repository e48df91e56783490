#include "photon/state/memory_view.h"

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "fmt/format.h"

namespace photon::state {

std::string ReferenceTypeOf(const rpc::ObjectRefInfo& ref) {
  if (ref.is_actor_handle()) return "ACTOR_HANDLE";
  if (ref.pinned_in_memory()) return "PINNED_IN_MEMORY";
  if (ref.submitted_task_ref_count() > 0) return "USED_BY_PENDING_TASK";
  if (ref.local_ref_count() > 0) return "LOCAL_REFERENCE";
  if (ref.contained_in_owned_size() > 0) return "CAPTURED_IN_OBJECT";
  return "UNKNOWN_STATUS";
}

bool IsHeld(const rpc::ObjectRefInfo& ref) {
  return ref.pinned_in_memory() || ref.local_ref_count() > 0 ||
         ref.submitted_task_ref_count() > 0 || ref.contained_in_owned_size() > 0;
}

absl::flat_hash_map<std::string, int64_t> KnownSizes(const std::vector<ProcessObjectRefs>& refs) {
  absl::flat_hash_map<std::string, int64_t> sizes;
  for (const auto& p : refs) {
    for (const auto& r : p.stats.object_refs()) {
      int64_t& size = sizes.try_emplace(r.object_id(), -1).first->second;
      size = std::max(size, r.object_size());
    }
  }
  return sizes;
}

namespace {

struct Row {
  std::string group;
  std::string ip;
  int pid = 0;
  bool driver = false;
  std::string call_site;
  std::string status;
  int attempt = 0;
  int64_t size = -1;
  std::string ref_type;
  std::string object_id;  // hex
};

// The kinds the summary counts, in the order it shows them.
constexpr const char* kKinds[] = {"LOCAL_REFERENCE", "PINNED_IN_MEMORY", "USED_BY_PENDING_TASK",
                                  "CAPTURED_IN_OBJECT", "ACTOR_HANDLE"};

std::string Upper(std::string s) {
  s = absl::AsciiStrToUpper(s);
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
}

}  // namespace

absl::StatusOr<std::string> RenderMemorySummary(const std::vector<ProcessObjectRefs>& refs,
                                                const std::vector<NodeStore>& stores,
                                                const MemoryOptions& options) {
  const std::string group_by = Upper(options.group_by);
  const bool by_node = group_by == "NODE_ADDRESS" || group_by == "NODE";
  if (!by_node && group_by != "STACK_TRACE") {
    return absl::InvalidArgumentError(fmt::format(
        "--group-by '{}' is not one of NODE_ADDRESS (node) or STACK_TRACE", options.group_by));
  }
  const std::string sort_by = Upper(options.sort_by);
  if (sort_by != "OBJECT_SIZE" && sort_by != "PID" && sort_by != "REFERENCE_TYPE") {
    return absl::InvalidArgumentError(fmt::format(
        "--sort-by '{}' is not one of PID, OBJECT_SIZE or REFERENCE_TYPE", options.sort_by));
  }
  static const std::map<std::string, double> kUnits = {
      {"B", 1.0}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}};
  const std::string unit_name = absl::AsciiStrToUpper(options.units);
  auto unit = kUnits.find(unit_name);
  if (unit == kUnits.end()) {
    return absl::InvalidArgumentError(
        fmt::format("--units '{}' is not one of B, KB, MB or GB", options.units));
  }
  auto size_text = [&](int64_t bytes) {
    if (bytes < 0) return std::string("?");
    return fmt::format("{:.{}f} {}", static_cast<double>(bytes) / unit->second,
                       unit_name == "B" ? 0 : 3, unit_name);
  };

  const absl::flat_hash_map<std::string, int64_t> sizes = KnownSizes(refs);
  std::vector<Row> rows;
  std::map<std::string, std::string> node_of_ip;
  for (const auto& p : refs) {
    for (const auto& r : p.stats.object_refs()) {
      if (!IsHeld(r)) continue;
      Row row;
      row.ip = p.stats.ip_address();
      row.pid = p.stats.pid();
      row.driver = p.stats.worker_type() == "DRIVER";
      row.call_site = r.call_site().empty() ? "disabled" : r.call_site();
      row.status = r.task_status() == "NIL" || r.task_status().empty() ? "-" : r.task_status();
      row.attempt = r.attempt_number();
      row.size = sizes.at(r.object_id());
      row.ref_type = ReferenceTypeOf(r);
      row.object_id = absl::BytesToHexString(r.object_id());
      row.group =
          by_node ? fmt::format("{} (node {})", row.ip, p.node_id.substr(0, 12)) : row.call_site;
      rows.push_back(std::move(row));
    }
  }
  // Largest first for sizes (where the memory went); then a stable order.
  std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
    if (sort_by == "OBJECT_SIZE" && a.size != b.size) return a.size > b.size;
    if (sort_by == "PID" && a.pid != b.pid) return a.pid < b.pid;
    if (sort_by == "REFERENCE_TYPE" && a.ref_type != b.ref_type) return a.ref_type < b.ref_type;
    return a.object_id < b.object_id;
  });
  std::vector<std::string> order;
  std::map<std::string, std::vector<const Row*>> groups;
  for (const Row& r : rows) {
    auto [it, added] = groups.try_emplace(r.group);
    if (added) order.push_back(r.group);
    it->second.push_back(&r);
  }

  std::string out =
      fmt::format("======== Object references status: {} ========\n",
                  absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::Now(), absl::LocalTimeZone()));
  if (!options.stats_only) {
    out += fmt::format(
        "Grouping by {}...        Sorting by {}...        Display {} entries per "
        "group...\n\n",
        by_node ? "node address" : "stack trace",
        absl::AsciiStrToLower(sort_by == "OBJECT_SIZE"      ? "object size"
                              : sort_by == "REFERENCE_TYPE" ? "reference type"
                                                            : "pid"),
        options.num_entries < 0 ? std::string("all") : std::to_string(options.num_entries));
    const char* what = by_node ? "node address" : "call site";
    for (const std::string& key : order) {
      const auto& members = groups[key];
      int64_t used = 0;
      std::map<std::string, std::pair<int64_t, int64_t>> kinds;  // count, bytes
      for (const Row* r : members) {
        if (r->size > 0) used += r->size;
        auto& k = kinds[r->ref_type];
        ++k.first;
        k.second += std::max<int64_t>(r->size, 0);
      }
      out += fmt::format("\n--- Summary for {}: {} ---\n", what, key);
      out += fmt::format("{:<19}  {:<18}  {:<18}  {:<18}  {:<19}  {:<18}\n", "Mem Used by Objects",
                         "Local References", "Pinned", "Used by task", "Captured in Objects",
                         "Actor Handles");
      std::vector<std::string> cells;
      for (const char* kind : kKinds) {
        cells.push_back(fmt::format("{}, ({})", kinds[kind].first, size_text(kinds[kind].second)));
      }
      out += fmt::format("{:<19}  {:<18}  {:<18}  {:<18}  {:<19}  {:<18}\n", size_text(used),
                         cells[0], cells[1], cells[2], cells[3], cells[4]);
      out += fmt::format("\n--- Object references for {}: {} ---\n", what, key);
      const std::string header = options.line_wrap ? "{:<15}  {:<7}  {:<6}  {:<22}  {:<22}  "
                                                     "{:<7}  {:<12}  {:<20}  {}\n"
                                                   : "{} | {} | {} | {} | {} | {} | {} | {} | {}\n";
      out += fmt::format(fmt::runtime(header), "IP Address", "PID", "Type", "Call Site", "Status",
                         "Attempt", "Size", "Reference Type", "Object Ref");
      int64_t shown = 0;
      for (const Row* r : members) {
        if (options.num_entries >= 0 && shown >= options.num_entries) break;
        ++shown;
        out += fmt::format(fmt::runtime(header), r->ip, r->pid, r->driver ? "Driver" : "Worker",
                           r->call_site, r->status, r->attempt + 1, size_text(r->size), r->ref_type,
                           r->object_id);
      }
    }
    if (!options.call_sites_recorded) {
      out +=
          "\nTo record callsite information for each ObjectRef created, set env variable "
          "PHOTON_RECORD_REF_CREATION_SITES=1\n";
    }
  }
  int64_t used = 0, capacity = 0, objects = 0, spilled = 0, spilled_objects = 0;
  for (const auto& n : stores) {
    used += n.store.bytes_used();
    capacity += n.store.capacity();
    objects += n.store.num_objects_in_memory();
    spilled += n.store.spilled_bytes_current();
    spilled_objects += n.store.num_objects() - n.store.num_objects_in_memory();
  }
  constexpr double kMiB = 1024.0 * 1024.0;
  out += "\n--- Aggregate object store stats across all nodes ---\n";
  out += fmt::format("Plasma memory usage {:.0f} MiB, {} objects, {:.1f}% full\n", used / kMiB,
                     objects, capacity > 0 ? 100.0 * used / capacity : 0.0);
  if (spilled > 0 || spilled_objects > 0) {
    out += fmt::format("Spilled {:.0f} MiB, {} objects\n", spilled / kMiB, spilled_objects);
  }
  for (const auto& n : stores) {
    out += fmt::format("  node {} ({}): {:.1f} MiB used of {:.1f} MiB, {} objects in memory\n",
                       n.node_id.substr(0, 12), n.ip, n.store.bytes_used() / kMiB,
                       n.store.capacity() / kMiB, n.store.num_objects_in_memory());
  }
  return out;
}

}  // namespace photon::state
