// The memory view (Ray's `ray memory` and the object rows of the state API)
// from what the processes and stores report: each process's reference table
// (GetCoreWorkerStats) and each node's store stats. Pure functions; StateApi
// gathers their input.
#pragma once

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "photon/protocol/core_worker.pb.h"
#include "photon/protocol/store.pb.h"

namespace photon::state {

// One process's reference table (its GetCoreWorkerStats) and where it runs.
struct ProcessObjectRefs {
  std::string node_id;  // hex
  rpc::GetCoreWorkerStatsReply stats;
};
// One node's object store, for the memory view's totals.
struct NodeStore {
  std::string node_id;  // hex
  std::string ip;
  rpc::StoreStats store;
};

// Ray's reference type of an object in one process: ACTOR_HANDLE,
// PINNED_IN_MEMORY (the process maps its store copy), USED_BY_PENDING_TASK,
// LOCAL_REFERENCE, CAPTURED_IN_OBJECT, else UNKNOWN_STATUS (in that order).
std::string ReferenceTypeOf(const rpc::ObjectRefInfo& ref);
// Each object's size (by binary id) as the processes that know it report it,
// so that a borrower that does not know a size shows its owner's (-1: none knows).
absl::flat_hash_map<std::string, int64_t> KnownSizes(const std::vector<ProcessObjectRefs>& refs);
// Whether anything in the process holds it (else the memory view skips it:
// an owned object only other processes borrow shows in their rows).
bool IsHeld(const rpc::ObjectRefInfo& ref);

// `photon memory` (Ray's `ray memory`): how the memory view groups, sorts and
// prints. InvalidArgument names a bad group_by, sort_by or units.
struct MemoryOptions {
  std::string group_by = "NODE_ADDRESS";  // or STACK_TRACE (also "node", "stack_trace")
  std::string sort_by = "OBJECT_SIZE";    // or PID, REFERENCE_TYPE
  std::string units = "B";                // B, KB, MB, GB
  bool stats_only = false;                // only the store totals
  int64_t num_entries = -1;               // rows per group (-1: all)
  bool line_wrap = true;                  // false: one wide line per row
  bool call_sites_recorded = false;       // (for the hint shown when they are not)
};
// The text of the memory view from what the processes and stores reported
// (a pure function: StateApi::MemorySummary gathers its input).
absl::StatusOr<std::string> RenderMemorySummary(const std::vector<ProcessObjectRefs>& refs,
                                                const std::vector<NodeStore>& stores,
                                                const MemoryOptions& options);

}  // namespace photon::state
