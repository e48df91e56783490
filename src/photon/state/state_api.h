// The state API: the cluster's tasks, actors, nodes, jobs, workers and
// placement groups as rows with Ray's field names (Ray's "State API"), with
// its filters, limit and detail, and its summaries. One implementation for
// every reader: the `photon list/get/summary` commands, photon.util.state
// (through the Python bindings) and the dashboard's JSON API.
//
// It reads through the GCS's services (and each raylet's GetNodeStats for
// workers, each core worker's GetCoreWorkerStats for objects), never through
// a private door.
//
// Threading: each call is synchronous and thread-compatible; the GcsClient
// is thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "photon/common/config.h"
#include "photon/gcs_client/gcs_client.h"
#include "photon/protocol/raylet.pb.h"
#include "photon/state/memory_view.h"

namespace photon::state {

// One column of a resource's rows: shown without `detail`, and usable in a filter.
struct Column {
  std::string name;
  bool detail = false;
  bool filterable = false;
};

// The resources, by Ray's names: "tasks", "actors", "nodes", "jobs",
// "workers", "placement_groups" (the CLI's "placement-groups" too), "objects".
const std::vector<std::string>& Resources();
// The columns of `resource`, in Ray's order; InvalidArgument for an unknown one.
absl::StatusOr<std::vector<Column>> Schema(const std::string& resource);

struct Filter {
  std::string key;
  std::string op;  // "=" or "!="
  std::string value;
};
// "key=value" or "key!=value" (the CLI's --filter).
absl::StatusOr<Filter> ParseFilter(const std::string& text);

struct ListOptions {
  std::vector<Filter> filters;
  int64_t limit = 100;
  bool detail = false;
};

// What a list returns: the rows, how many there were before the limit, and
// what is missing (a raylet that did not answer, task events dropped).
struct ListResult {
  nlohmann::json rows = nlohmann::json::array();
  int64_t total = 0;                          // rows that matched before the limit
  std::vector<std::string> warnings;          // truncation, dropped events
  std::vector<std::string> partial_failures;  // sources that did not answer
};

// What the raylet of node `n` reports about itself (GetNodeStats, one call of
// at most `timeout_ms`); nullopt with `*why` naming the node if it does not answer.
std::optional<rpc::GetNodeStatsReply> NodeStats(const rpc::NodeInfo& n, int64_t timeout_ms,
                                                std::string* why, bool include_ended = false);

// Which log to read (Ray's get_log): a file of a node's log folder by name,
// or the output of a task (its execution's byte range in its worker's file),
// an actor (its worker's file) or a worker by pid. The node is node_id or
// node_ip, else (for a filename or a pid) the head node; a task's and an
// actor's are where they ran.
struct LogQuery {
  std::string node_id;  // hex
  std::string node_ip;
  std::string filename;
  std::string actor_id;  // hex
  std::string task_id;   // hex
  int pid = 0;
  int attempt_number = 0;
  std::string suffix = "out";  // "out" or "err", for a task, actor or pid
  int64_t tail = -1;           // the last lines only (-1: all)
};
// A resolved query: which raylet to ask, and what (its GetLog request).
struct LogLocation {
  std::string node_id;  // hex
  std::string raylet_address;
  rpc::GetLogRequest request;
  bool empty = false;  // a finished task's range that holds nothing
};

class StateApi {
 public:
  StateApi(GcsClient* gcs, const SystemConfig& config) : gcs_(gcs), config_(config) {}

  // InvalidArgument for an unknown resource, a filter on an unknown or
  // unfilterable column, or a predicate other than = and !=.
  absl::StatusOr<ListResult> List(const std::string& resource, const ListOptions& options);
  // The rows of `resource` whose id column is `id` (every attempt of a task);
  // NotFound naming the id if there is none. An id that is not hex of the
  // right size is InvalidArgument.
  absl::StatusOr<nlohmann::json> Get(const std::string& resource, const std::string& id);
  // Ray's summaries: tasks and actors by function / class name and state;
  // objects by call site, with their sizes, reference types and task states.
  absl::StatusOr<nlohmann::json> Summarize(const std::string& resource);
  // A Chrome trace (the Trace Event Format that chrome://tracing and Perfetto
  // load) of the task attempts in the task table: one process per node, one
  // thread per worker (its pid), a complete event ("X", category
  // task:execute) per execution from RUNNING to its end (to now if it still
  // runs), and an async span (category task:scheduling) from submission to
  // RUNNING; metadata events name the nodes and workers.
  absl::StatusOr<nlohmann::json> Timeline();

  // What the dashboard's overview shows: every node with its address, state,
  // resources total and available, workers and object store (live nodes'
  // raylets asked in parallel, each once), and the cluster's totals.
  // {"nodes": [...], "total": {...}, "available": {...}, "partial_failures": [...]}
  absl::StatusOr<nlohmann::json> ClusterStatus();

  // Ray's list_logs: the node's log files by kind ("gcs_server", "raylet",
  // "worker_out", "worker_err", "core_worker", "driver", "misc"), names only.
  absl::StatusOr<nlohmann::json> ListLogs(const std::string& node_id, const std::string& node_ip,
                                          const std::string& glob);
  // Where the log of `q` is. NotFound naming what is missing (a task that has
  // not run, an actor that never started, an unknown node or pid);
  // InvalidArgument for a query that names nothing or too much.
  absl::StatusOr<LogLocation> ResolveLog(const LogQuery& q);
  // One chunk of it (at most a few MiB): its data and `next`, the offset to
  // ask from to go on (follow: ask again later with request.start = next).
  absl::StatusOr<rpc::GetLogReply> ReadLog(const LogLocation& where);

  // The reference table of every live worker and driver of every live node
  // (each asked in parallel, one retry on a transient failure) and each
  // node's store stats. Processes or nodes that do not answer are named in
  // notes->partial_failures.
  absl::StatusOr<std::vector<ProcessObjectRefs>> ObjectRefs(ListResult* notes,
                                                            std::vector<NodeStore>* stores);
  // Ray's `ray memory` text (RenderMemorySummary of ObjectRefs), with the
  // processes that did not answer named at its end.
  absl::StatusOr<std::string> MemorySummary(const MemoryOptions& options);

 private:
  // Every row of `resource` (tasks: of `task_ids` if given; at most `limit`
  // newest if > 0, with notes->total set to how many there are).
  absl::StatusOr<nlohmann::json> Rows(const std::string& resource, ListResult* notes,
                                      const std::vector<std::string>& task_ids = {},
                                      int64_t limit = 0);
  absl::StatusOr<nlohmann::json> SummarizeObjects();
  absl::StatusOr<rpc::GetTaskEventsReply> TaskEvents(const rpc::GetTaskEventsRequest& req,
                                                     ListResult* notes);
  // The live node of `node_id` or `node_ip`, else the head node.
  absl::StatusOr<rpc::NodeInfo> LogNode(const std::string& node_id, const std::string& node_ip);

  GcsClient* const gcs_;
  const SystemConfig config_;
};

}  // namespace photon::state
