#include "photon/state/state_api.h"

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/time/clock.h"
#include "fmt/format.h"
#include "photon/common/id.h"
#include "photon/common/logging.h"
#include "photon/common/status.h"
#include "photon/gcs/task_event_store.h"
#include "photon/protocol/core_worker.grpc.pb.h"
#include "photon/protocol/raylet.grpc.pb.h"
#include "photon/rpc/client.h"

namespace photon::state {

namespace {

using nlohmann::json;

// Where photon.dashboard's job manager keeps submitted jobs
// (python/photon/dashboard/modules/job/common.py).
constexpr char kJobNamespace[] = "job";

// Hex of an id's bytes, or null when it is unset.
json Hex(const std::string& binary) {
  if (binary.empty()) return nullptr;
  std::string all_ff(binary.size(), '\xff');
  if (binary == all_ff) return nullptr;  // a nil id
  return absl::BytesToHexString(binary);
}

// Ray's task_log_info: the execution's files and byte ranges in them.
json LogInfo(const rpc::TaskEvents& e) {
  if (!e.has_task_log_info()) return nullptr;
  const rpc::TaskLogInfo& l = e.task_log_info();
  auto opt = [](bool has, int64_t v) { return has ? json(v) : json(nullptr); };
  return json{{"stdout_file", l.stdout_file()},
              {"stderr_file", l.stderr_file()},
              {"stdout_start", opt(l.has_stdout_start(), l.stdout_start())},
              {"stdout_end", opt(l.has_stdout_end(), l.stdout_end())},
              {"stderr_start", opt(l.has_stderr_start(), l.stderr_start())},
              {"stderr_end", opt(l.has_stderr_end(), l.stderr_end())}};
}

json Map(const google::protobuf::Map<std::string, double>& m) {
  json out = json::object();
  for (const auto& [k, v] : std::map<std::string, double>(m.begin(), m.end())) {
    if (k.find("_group_") == std::string::npos) out[k] = v;
  }
  return out;
}

// What a task or actor asked for, as Ray shows it: in a placement group its
// bundle resources (CPU_group_<pg>, CPU_group_<i>_<pg>) under the resource
// they reserve (CPU).
json Requested(const google::protobuf::Map<std::string, double>& m) {
  json out = Map(m);
  const std::map<std::string, double> sorted(m.begin(), m.end());
  for (bool indexed : {false, true}) {
    for (const auto& [k, v] : sorted) {
      const size_t at = k.find("_group_");
      if (at == std::string::npos) continue;
      const bool has_index = k.find('_', at + 7) != std::string::npos;
      const std::string base = k.substr(0, at);
      if (base == "bundle") continue;  // the group's own marker, not asked for
      if (has_index == indexed && !out.contains(base)) out[base] = v;
    }
  }
  return out;
}

const std::map<std::string, std::vector<Column>>& Schemas() {
  static const auto* schemas = new std::map<std::string, std::vector<Column>>{
      {"tasks",
       {{"task_id", false, true},
        {"attempt_number", false, true},
        {"name", false, true},
        {"state", false, true},
        {"job_id", false, true},
        {"actor_id", false, true},
        {"type", false, true},
        {"func_or_class_name", false, true},
        {"parent_task_id", false, true},
        {"node_id", false, true},
        {"worker_id", false, true},
        {"worker_pid", false, true},
        {"error_type", false, true},
        {"pending_reason", false, false},
        {"language", true, true},
        {"required_resources", true, false},
        {"runtime_env_info", true, false},
        {"placement_group_id", true, true},
        {"events", true, false},
        {"profiling_data", true, false},
        {"creation_time_ms", true, false},
        {"start_time_ms", true, false},
        {"end_time_ms", true, false},
        {"task_log_info", true, false},
        {"error_message", true, false},
        {"is_debugger_paused", true, true},
        {"call_site", true, false},
        {"label_selector", true, false}}},
      {"actors",
       {{"actor_id", false, true},
        {"class_name", false, true},
        {"state", false, true},
        {"job_id", false, true},
        {"name", false, true},
        {"node_id", false, true},
        {"pid", false, true},
        {"ray_namespace", false, true},
        {"serialized_runtime_env", true, false},
        {"required_resources", true, false},
        {"death_cause", true, false},
        {"is_detached", true, false},
        {"placement_group_id", true, true},
        {"repr_name", true, true},
        {"num_restarts", true, false},
        {"num_restarts_due_to_lineage_reconstruction", true, false},
        {"call_site", true, false},
        {"label_selector", true, false}}},
      {"nodes",
       {{"node_id", false, true},
        {"node_ip", false, true},
        {"is_head_node", false, true},
        {"state", false, true},
        {"state_message", false, false},
        {"node_name", false, true},
        {"resources_total", false, false},
        {"labels", false, false},
        {"start_time_ms", true, false},
        {"end_time_ms", true, false}}},
      {"jobs",
       {{"job_id", false, true},
        {"submission_id", false, true},
        {"type", false, true},
        {"status", false, true},
        {"entrypoint", false, false},
        {"message", false, false},
        {"error_type", false, false},
        {"start_time", false, false},
        {"end_time", false, false},
        {"metadata", false, false},
        {"runtime_env", false, false},
        {"driver_info", false, false},
        {"driver_node_id", false, true},
        {"driver_exit_code", false, false},
        {"namespace", false, true}}},
      {"workers",
       {{"worker_id", false, true},
        {"is_alive", false, true},
        {"worker_type", false, true},
        {"exit_type", false, true},
        {"node_id", false, true},
        {"ip", false, true},
        {"pid", false, true},
        {"state", false, true},
        {"job_id", false, true},
        {"resources", false, false},
        {"exit_detail", true, false},
        {"worker_launch_time_ms", true, false},
        {"worker_launched_time_ms", true, false},
        {"start_time_ms", true, false},
        {"end_time_ms", true, false}}},
      {"objects",
       {{"object_id", false, true},
        {"object_size", false, true},
        {"task_status", false, true},
        {"attempt_number", false, true},
        {"reference_type", false, true},
        {"call_site", false, true},
        {"type", false, true},
        {"pid", false, true},
        {"ip", false, true}}},
      {"placement_groups",
       {{"placement_group_id", false, true},
        {"name", false, true},
        {"creator_job_id", false, true},
        {"state", false, true},
        {"strategy", false, true},
        {"reason", false, false},
        {"bundles", true, false},
        {"is_detached", true, true},
        {"stats", true, false}}},
  };
  return *schemas;
}

std::string Canonical(const std::string& resource) {
  std::string r = absl::AsciiStrToLower(resource);
  std::replace(r.begin(), r.end(), '-', '_');
  return r;
}

// A cell as a filter compares it: text, lower case (Ray's filters ignore case).
std::string FilterText(const json& v) {
  if (v.is_null()) return "none";
  if (v.is_string()) return absl::AsciiStrToLower(v.get<std::string>());
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  return absl::AsciiStrToLower(v.dump());
}

const char* IdColumn(const std::string& resource) {
  if (resource == "tasks") return "task_id";
  if (resource == "actors") return "actor_id";
  if (resource == "nodes") return "node_id";
  if (resource == "jobs") return "job_id";
  if (resource == "workers") return "worker_id";
  if (resource == "objects") return "object_id";
  return "placement_group_id";
}

int64_t MsOf(int64_t ns) { return ns / 1000000; }

std::string RuntimeEnvText(const rpc::TaskInfoEntry& info) {
  return info.runtime_env().empty() ? "{}" : info.runtime_env();
}

// Ray's runtime_env_info: the serialized runtime_env and its config.
json RuntimeEnvInfo(const rpc::TaskInfoEntry& info) {
  return json{{"serialized_runtime_env", RuntimeEnvText(info)},
              {"runtime_env_config", {{"setup_timeout_seconds", 600}, {"eager_install", true}}}};
}

// Ray's profiling_data: the span of the execution (`run_ns` to `end_ns`, 0
// while it runs; nanoseconds since the epoch), on the worker that ran it.
json ProfilingData(const rpc::TaskEvents& e, int64_t run_ns, int64_t end_ns) {
  if (run_ns == 0 || e.worker_id().empty()) return nullptr;
  json span = {
      {"event_name", "task:execute"},
      {"start_time", run_ns},
      {"end_time", end_ns == 0 ? json(nullptr) : json(end_ns)},
      {"extra_data", json{{"name", e.info().name()}, {"task_id", Hex(e.task_id())}}.dump()}};
  return json{{"component_type", "worker"},
              {"component_id", Hex(e.worker_id())},
              {"events", json::array({span})}};
}

json TaskRow(const rpc::TaskEvents& e) {
  const rpc::TaskInfoEntry& info = e.info();
  json events = json::array();
  json creation = nullptr;
  int64_t run_ns = 0, end_ns = 0;  // the first RUNNING and end
  std::vector<rpc::TaskStateTransition> ts(e.transitions().begin(), e.transitions().end());
  std::sort(ts.begin(), ts.end(),
            [](const auto& a, const auto& b) { return a.time_ns() < b.time_ns(); });
  for (const auto& t : ts) {
    events.push_back(
        {{"state", rpc::TaskStatus_Name(t.state())}, {"created_ms", MsOf(t.time_ns())}});
    if (t.state() == rpc::PENDING_ARGS_AVAIL && creation.is_null()) creation = MsOf(t.time_ns());
    if (t.state() == rpc::RUNNING && run_ns == 0) run_ns = t.time_ns();
    if ((t.state() == rpc::FINISHED || t.state() == rpc::FAILED) && end_ns == 0) {
      end_ns = t.time_ns();
    }
  }
  if (creation.is_null() && !ts.empty()) creation = MsOf(ts.front().time_ns());
  rpc::TaskStatus state = gcs::TaskEventStore::StateOf(e);
  const bool pending = state != rpc::RUNNING && state != rpc::FINISHED && state != rpc::FAILED;
  json pg = Hex(info.placement_group_id());
  return json{
      {"task_id", Hex(e.task_id())},
      {"attempt_number", e.attempt_number()},
      {"name", info.name()},
      {"state", rpc::TaskStatus_Name(state)},
      {"job_id", Hex(e.job_id())},
      {"actor_id", Hex(info.actor_id())},
      {"type", rpc::TaskType_Name(info.type())},
      {"func_or_class_name", info.func_or_class_name()},
      {"parent_task_id", Hex(info.parent_task_id())},
      {"node_id", Hex(e.node_id())},
      {"worker_id", Hex(e.worker_id())},
      {"worker_pid", e.worker_pid() == 0 ? json(nullptr) : json(e.worker_pid())},
      {"error_type", e.error_type().empty() ? json(nullptr) : json(e.error_type())},
      {"pending_reason",
       pending && !e.pending_reason().empty() ? json(e.pending_reason()) : json(nullptr)},
      {"language", rpc::Language_Name(info.language())},
      {"required_resources", Requested(info.required_resources())},
      {"runtime_env_info", RuntimeEnvInfo(info)},
      {"placement_group_id", pg},
      {"events", events},
      {"profiling_data", ProfilingData(e, run_ns, end_ns)},
      {"creation_time_ms", creation},
      {"start_time_ms", run_ns == 0 ? json(nullptr) : json(MsOf(run_ns))},
      {"end_time_ms", end_ns == 0 ? json(nullptr) : json(MsOf(end_ns))},
      {"task_log_info", LogInfo(e)},
      {"error_message", e.error_message().empty() ? json(nullptr) : json(e.error_message())},
      {"is_debugger_paused", nullptr},
      {"call_site", info.call_site().empty() ? json(nullptr) : json(info.call_site())},
      {"label_selector", nullptr}};
}

}  // namespace

std::optional<rpc::GetNodeStatsReply> NodeStats(const rpc::NodeInfo& n, int64_t timeout_ms,
                                                std::string* why, bool include_ended) {
  auto stub = rpc::NodeManagerService::NewStub(
      rpc::GetChannel(fmt::format("{}:{}", n.ip(), n.raylet_port())));
  rpc::GetNodeStatsReply stats;
  rpc::GetNodeStatsRequest req;
  req.set_include_ended(include_ended);
  absl::Status s = rpc::CallSync(stub.get(), &rpc::NodeManagerService::Stub::GetNodeStats,
                                 "GetNodeStats", req, &stats, timeout_ms);
  if (!s.ok()) {
    *why = fmt::format("node {} ({}:{}) did not answer: {}",
                       NodeID::FromBinaryOrDie(n.node_id()).Hex(), n.ip(), n.raylet_port(),
                       std::string(s.message()));
    return std::nullopt;
  }
  return stats;
}

const std::vector<std::string>& Resources() {
  static const auto* names = new std::vector<std::string>{
      "tasks", "actors", "nodes", "jobs", "workers", "placement_groups", "objects"};
  return *names;
}

absl::StatusOr<std::vector<Column>> Schema(const std::string& resource) {
  auto it = Schemas().find(Canonical(resource));
  if (it == Schemas().end()) {
    return absl::InvalidArgumentError(fmt::format(
        "unknown resource '{}': the state API lists tasks, actors, nodes, jobs, workers, "
        "placement_groups and objects",
        resource));
  }
  return it->second;
}

absl::StatusOr<Filter> ParseFilter(const std::string& text) {
  size_t ne = text.find("!=");
  size_t eq = text.find('=');
  Filter f;
  if (ne != std::string::npos && ne < eq + 1) {
    f.key = text.substr(0, ne);
    f.op = "!=";
    f.value = text.substr(ne + 2);
  } else if (eq != std::string::npos) {
    f.key = text.substr(0, eq);
    f.op = "=";
    f.value = text.substr(eq + 1);
  } else {
    return absl::InvalidArgumentError(
        fmt::format("bad filter '{}': expected key=value or key!=value", text));
  }
  f.key = std::string(absl::StripAsciiWhitespace(f.key));
  f.value = std::string(absl::StripAsciiWhitespace(f.value));
  if (f.key.empty())
    return absl::InvalidArgumentError(fmt::format("bad filter '{}': no key", text));
  return f;
}

absl::StatusOr<rpc::GetTaskEventsReply> StateApi::TaskEvents(const rpc::GetTaskEventsRequest& req,
                                                             ListResult* notes) {
  PHOTON_ASSIGN_OR_RETURN(rpc::GetTaskEventsReply reply, gcs_->GetTaskEvents(req));
  if (reply.num_dropped_at_workers() > 0 || reply.num_evicted() > 0) {
    notes->warnings.push_back(fmt::format(
        "{} task attempts were dropped by the GCS (task_events_max_num_task_in_gcs) and {} "
        "task state changes by workers' buffers (task_events_max_buffer_size): some tasks "
        "are missing",
        reply.num_evicted(), reply.num_dropped_at_workers()));
  }
  return reply;
}

absl::StatusOr<json> StateApi::Rows(const std::string& resource, ListResult* notes,
                                    const std::vector<std::string>& task_ids, int64_t limit) {
  json rows = json::array();
  if (resource == "tasks") {
    rpc::GetTaskEventsRequest req;
    for (const auto& id : task_ids) req.add_task_ids(id);
    req.set_limit(limit);
    PHOTON_ASSIGN_OR_RETURN(rpc::GetTaskEventsReply reply, TaskEvents(req, notes));
    for (const auto& e : reply.events()) rows.push_back(TaskRow(e));
    notes->total = reply.num_total();
  } else if (resource == "actors") {
    PHOTON_ASSIGN_OR_RETURN(auto actors, gcs_->ListActors());
    // What each actor's creation task asked for (the task table has it: its
    // resources, placement group and call site).
    rpc::GetTaskEventsRequest creations;
    for (const auto& a : actors) {
      auto id = ActorID::FromBinary(a.actor_id());
      if (id.ok()) creations.add_task_ids(TaskID::ForActorCreationTask(*id).Binary());
    }
    absl::flat_hash_map<std::string, rpc::TaskInfoEntry> created_as;
    if (creations.task_ids_size() > 0) {
      creations.set_limit(creations.task_ids_size() * 4);  // every attempt of each
      auto got = TaskEvents(creations, notes);
      if (got.ok()) {
        for (const auto& e : got->events()) {
          if (!e.info().actor_id().empty()) created_as[e.info().actor_id()] = e.info();
        }
      }
    }
    for (const auto& a : actors) {
      auto created = created_as.find(a.actor_id());
      const rpc::TaskInfoEntry* c = created == created_as.end() ? nullptr : &created->second;
      json death = nullptr;
      if (a.state() == rpc::ActorTableData::DEAD && a.has_death_cause()) {
        death = json{{"error_type", rpc::ErrorType_Name(a.death_cause().type())},
                     {"error_message", a.death_cause().message()}};
      }
      const bool placed = !a.address().node_id().empty();
      rows.push_back(
          {{"actor_id", Hex(a.actor_id())},
           {"class_name", a.class_name()},
           {"state", rpc::ActorTableData::State_Name(a.state())},
           {"job_id", Hex(a.job_id())},
           {"name", a.name()},
           {"node_id", placed ? Hex(a.address().node_id()) : json(nullptr)},
           {"pid", a.pid() == 0 ? json(nullptr) : json(a.pid())},
           {"ray_namespace", a.ray_namespace()},
           {"serialized_runtime_env", c != nullptr ? json(RuntimeEnvText(*c)) : json("{}")},
           {"required_resources",
            c != nullptr ? Requested(c->required_resources()) : json(nullptr)},
           {"death_cause", death},
           {"is_detached", a.detached()},
           {"placement_group_id", c != nullptr && !c->placement_group_id().empty()
                                      ? Hex(c->placement_group_id())
                                      : json(nullptr)},
           {"repr_name", ""},
           {"num_restarts", a.num_restarts()},
           {"num_restarts_due_to_lineage_reconstruction", 0},
           {"call_site",
            c != nullptr && !c->call_site().empty() ? json(c->call_site()) : json(nullptr)},
           {"label_selector", nullptr}});
    }
  } else if (resource == "nodes" || resource == "workers") {
    PHOTON_ASSIGN_OR_RETURN(auto nodes, gcs_->GetAllNodes());
    // The head is the node that shares the GCS's host and joined first.
    std::string head;
    int64_t first = INT64_MAX;
    std::string gcs_host = gcs_->address().substr(0, gcs_->address().rfind(':'));
    for (const auto& n : nodes) {
      if (n.ip() == gcs_host && n.start_time_ms() < first) {
        first = n.start_time_ms();
        head = n.node_id();
      }
    }
    for (const auto& n : nodes) {
      const bool alive = n.state() == rpc::NodeInfo::ALIVE;
      if (resource == "nodes") {
        json labels = json::object();
        for (const auto& [k, v] :
             std::map<std::string, std::string>(n.labels().begin(), n.labels().end())) {
          labels[k] = v;
        }
        rows.push_back({{"node_id", Hex(n.node_id())},
                        {"node_ip", n.ip()},
                        {"is_head_node", n.node_id() == head},
                        {"state", alive ? "ALIVE" : "DEAD"},
                        {"state_message", alive ? json(nullptr) : json(n.death_reason())},
                        {"node_name", n.ip()},
                        {"resources_total", Map(n.resources_total())},
                        {"labels", labels},
                        {"start_time_ms", n.start_time_ms()},
                        {"end_time_ms", nullptr}});
        continue;
      }
      if (!alive) continue;
      std::string why;
      auto stats = NodeStats(n, config_.rpc_timeout_ms(), &why, /*include_ended=*/true);
      if (!stats) {
        notes->partial_failures.push_back(why);
        continue;
      }
      for (const auto& w : stats->workers()) {
        const bool ended = w.state() == "DEAD";
        auto text_or_null = [](const std::string& s) {
          return s.empty() ? json(nullptr) : json(s);
        };
        rows.push_back({{"worker_id", Hex(w.worker_id())},
                        {"is_alive", !ended},
                        {"worker_type", w.is_driver() ? "DRIVER" : "WORKER"},
                        {"exit_type", text_or_null(w.exit_type())},
                        {"node_id", Hex(n.node_id())},
                        {"ip", n.ip()},
                        {"pid", w.pid()},
                        {"state", w.state()},
                        {"job_id", Hex(w.job_id())},
                        {"resources", Map(w.resources())},
                        {"exit_detail", text_or_null(w.exit_detail())},
                        {"worker_launch_time_ms", w.start_time_ms()},
                        {"worker_launched_time_ms", w.start_time_ms()},
                        {"start_time_ms", w.start_time_ms()},
                        {"end_time_ms", ended ? json(w.end_time_ms()) : json(nullptr)}});
      }
    }
  } else if (resource == "objects") {
    std::vector<NodeStore> stores;
    PHOTON_ASSIGN_OR_RETURN(std::vector<ProcessObjectRefs> refs, ObjectRefs(notes, &stores));
    const absl::flat_hash_map<std::string, int64_t> sizes = KnownSizes(refs);
    for (const auto& p : refs) {
      for (const auto& r : p.stats.object_refs()) {
        if (!IsHeld(r)) continue;
        rows.push_back({{"object_id", absl::BytesToHexString(r.object_id())},
                        {"object_size", sizes.at(r.object_id())},
                        {"task_status", r.task_status()},
                        {"attempt_number", r.attempt_number()},
                        {"reference_type", ReferenceTypeOf(r)},
                        {"call_site", r.call_site().empty() ? "disabled" : r.call_site()},
                        {"type", p.stats.worker_type()},
                        {"pid", p.stats.pid()},
                        {"ip", p.stats.ip_address()}});
      }
    }
  } else if (resource == "jobs") {
    PHOTON_ASSIGN_OR_RETURN(auto jobs, gcs_->GetAllJobs());
    // Submitted jobs (photon.dashboard's job manager keeps one JSON record
    // per submission in the "job" namespace, and the driver of each records
    // its job id there): one SUBMISSION row each, carrying its driver's job id.
    absl::flat_hash_map<std::string, std::string> submission_of_job;
    PHOTON_ASSIGN_OR_RETURN(auto keys, gcs_->KvKeys(kJobNamespace, "info:"));
    for (const auto& key : keys) {
      PHOTON_ASSIGN_OR_RETURN(auto raw, gcs_->KvGet(kJobNamespace, key));
      if (!raw) continue;
      json record = json::parse(*raw, nullptr, /*allow_exceptions=*/false);
      if (!record.is_object()) continue;
      const std::string sid = key.substr(5);
      PHOTON_ASSIGN_OR_RETURN(auto driver, gcs_->KvGet(kJobNamespace, "driver:" + sid));
      json row = {{"job_id", driver ? json(*driver) : json(nullptr)},
                  {"submission_id", sid},
                  {"type", "SUBMISSION"}};
      for (const char* field :
           {"status", "entrypoint", "message", "error_type", "start_time", "end_time", "metadata",
            "runtime_env", "driver_info", "driver_node_id", "driver_exit_code"}) {
        row[field] = record.contains(field) ? record[field] : json(nullptr);
      }
      row["namespace"] = nullptr;
      if (driver) submission_of_job[*driver] = sid;
      rows.push_back(std::move(row));
    }
    for (const auto& j : jobs) {
      // A submission's driver is its SUBMISSION row; the dashboard's own
      // connection (an internal namespace, as Ray's) is no user's job.
      if (submission_of_job.contains(absl::BytesToHexString(j.job_id()))) continue;
      if (absl::StartsWith(j.ray_namespace(), "_photon_internal") ||
          absl::StartsWith(j.ray_namespace(), "_ray_internal")) {
        continue;
      }
      rows.push_back({{"job_id", Hex(j.job_id())},
                      {"submission_id", nullptr},
                      {"type", "DRIVER"},
                      {"status", j.is_dead() ? "SUCCEEDED" : "RUNNING"},
                      {"entrypoint", ""},
                      {"message", nullptr},
                      {"error_type", nullptr},
                      {"start_time", j.start_time_ms()},
                      {"end_time", j.end_time_ms() == 0 ? json(nullptr) : json(j.end_time_ms())},
                      {"metadata", json::object()},
                      {"runtime_env", json::object()},
                      {"driver_info",
                       {{"id", Hex(j.job_id())},
                        {"node_ip_address", j.driver().ip()},
                        {"pid", std::to_string(j.driver_pid())}}},
                      {"driver_node_id", Hex(j.driver().node_id())},
                      {"driver_exit_code", nullptr},
                      {"namespace", j.ray_namespace()}});
    }
  } else {
    PHOTON_ASSIGN_OR_RETURN(auto groups, gcs_->GetAllPlacementGroups());
    for (const auto& g : groups) {
      json bundles = json::array();
      for (int i = 0; i < g.spec().bundles_size(); ++i) {
        const auto& b = g.spec().bundles(i);
        bundles.push_back(
            {{"bundle_id",
              fmt::format("{}-{}", std::string(Hex(g.spec().placement_group_id())), i)},
             {"node_id", Hex(b.node_id())},
             {"unit_resources", Map(b.resources())}});
      }
      const std::string state = rpc::PlacementGroupTableData::State_Name(g.state());
      rows.push_back(
          {{"placement_group_id", Hex(g.spec().placement_group_id())},
           {"name", g.spec().name()},
           {"creator_job_id", Hex(g.spec().creator_job_id())},
           {"state", state},
           {"strategy", rpc::PlacementStrategy_Name(g.spec().strategy())},
           {"reason", g.pending_reason()},
           {"bundles", bundles},
           {"is_detached", g.spec().detached()},
           {"stats",
            {{"scheduling_attempt", g.scheduling_attempts()},
             {"end_to_end_creation_latency_ms",
              g.scheduled_time_ms() > 0 ? g.scheduled_time_ms() - g.creation_time_ms() : 0}}}});
    }
  }
  return rows;
}

absl::StatusOr<ListResult> StateApi::List(const std::string& resource_name,
                                          const ListOptions& options) {
  PHOTON_ASSIGN_OR_RETURN(std::vector<Column> columns, Schema(resource_name));
  const std::string resource = Canonical(resource_name);
  if (options.limit <= 0) {
    return absl::InvalidArgumentError(fmt::format("limit must be > 0, got {}", options.limit));
  }
  std::vector<Filter> filters;
  for (Filter f : options.filters) {
    f.key = absl::AsciiStrToLower(f.key);
    auto col = std::find_if(columns.begin(), columns.end(),
                            [&](const Column& c) { return c.name == f.key; });
    if (col == columns.end() || !col->filterable) {
      std::string names;
      for (const auto& c : columns) {
        if (c.filterable) names += (names.empty() ? "" : ", ") + c.name;
      }
      return absl::InvalidArgumentError(
          fmt::format("cannot filter {} on '{}': {} columns that can be filtered are {}", resource,
                      f.key, resource, names));
    }
    if (f.op != "=" && f.op != "!=") {
      return absl::InvalidArgumentError(fmt::format(
          "unsupported predicate '{}' in the filter on '{}': use '=' or '!='", f.op, f.key));
    }
    f.value = absl::AsciiStrToLower(f.value);
    filters.push_back(std::move(f));
  }
  ListResult result;
  // Without filters the GCS applies the limit (newest first) and counts the rest.
  const bool pushed_down = resource == "tasks" && filters.empty();
  PHOTON_ASSIGN_OR_RETURN(json rows, Rows(resource, &result, {}, pushed_down ? options.limit : 0));
  const int64_t matched_at_source = result.total;
  result.total = 0;
  json kept = json::array();
  for (auto& row : rows) {
    bool match = true;
    for (const auto& f : filters) {
      bool equal = FilterText(row[f.key]) == f.value;
      match &= f.op == "=" ? equal : !equal;
    }
    if (!match) continue;
    ++result.total;
    if (static_cast<int64_t>(kept.size()) >= options.limit) continue;
    if (!options.detail) {
      json slim = json::object();
      for (const auto& c : columns) {
        if (!c.detail) slim[c.name] = row[c.name];
      }
      kept.push_back(std::move(slim));
    } else {
      kept.push_back(std::move(row));
    }
  }
  if (pushed_down) result.total = matched_at_source;
  if (result.total > options.limit) {
    result.warnings.push_back(
        fmt::format("{} {} match, {} are returned (limit={}): raise the limit to see the rest",
                    result.total, resource, options.limit, options.limit));
  }
  result.rows = std::move(kept);
  return result;
}

absl::StatusOr<json> StateApi::ClusterStatus() {
  PHOTON_ASSIGN_OR_RETURN(std::vector<rpc::NodeInfo> nodes, gcs_->GetAllNodes());
  std::vector<std::optional<rpc::GetNodeStatsReply>> stats(nodes.size());
  std::vector<std::string> why(nodes.size());
  {
    std::vector<std::thread> askers;
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (nodes[i].state() != rpc::NodeInfo::ALIVE) continue;
      askers.emplace_back(
          [&, i] { stats[i] = NodeStats(nodes[i], config_.rpc_timeout_ms(), &why[i], false); });
    }
    for (auto& t : askers) t.join();
  }
  json out = {{"nodes", json::array()},
              {"total", json::object()},
              {"available", json::object()},
              {"partial_failures", json::array()}};
  for (size_t i = 0; i < nodes.size(); ++i) {
    const rpc::NodeInfo& n = nodes[i];
    const bool alive = n.state() == rpc::NodeInfo::ALIVE;
    json row = {{"node_id", Hex(n.node_id())},
                {"node_ip", n.ip()},
                {"raylet_port", n.raylet_port()},
                {"metrics_export_port", n.metrics_export_port()},
                {"state", alive ? "ALIVE" : "DEAD"},
                {"is_head_node", n.resources_total().contains("node:__internal_head__")},
                {"resources_total", Map(n.resources_total())},
                {"resources_available", Map(n.resources_available())}};
    if (stats[i]) {
      const auto& s = *stats[i];
      row["resources_available"] = Map(s.resources_available());
      row["num_workers"] = s.num_workers();
      row["num_idle_workers"] = s.num_idle_workers();
      row["pending_reasons"] = s.pending_reasons();
      row["object_store"] = {{"capacity", s.store().capacity()},
                             {"bytes_used", s.store().bytes_used()},
                             {"num_objects", s.store().num_objects()},
                             {"spilled_bytes_current", s.store().spilled_bytes_current()}};
    } else if (alive) {
      out["partial_failures"].push_back(why[i]);
    }
    if (alive) {
      for (const auto& [k, v] : row["resources_total"].items()) {
        out["total"][k] = out["total"].value(k, 0.0) + v.get<double>();
      }
      for (const auto& [k, v] : row["resources_available"].items()) {
        out["available"][k] = out["available"].value(k, 0.0) + v.get<double>();
      }
    }
    out["nodes"].push_back(std::move(row));
  }
  return out;
}

absl::StatusOr<json> StateApi::Get(const std::string& resource_name, const std::string& id) {
  PHOTON_ASSIGN_OR_RETURN(std::vector<Column> columns, Schema(resource_name));
  const std::string resource = Canonical(resource_name);
  const bool hex =
      !id.empty() && id.size() % 2 == 0 &&
      std::all_of(id.begin(), id.end(), [](char c) { return absl::ascii_isxdigit(c); });
  std::string binary = hex ? absl::HexStringToBytes(id) : std::string();
  if (binary.empty() && resource != "jobs") {  // a job is also found by its submission id
    const std::string noun = resource.substr(0, resource.size() - 1);
    const bool vowel = std::string("aeiou").find(noun[0]) != std::string::npos;
    return absl::InvalidArgumentError(
        fmt::format("'{}' is not {} {} id (expected hex)", id, vowel ? "an" : "a", noun));
  }
  ListResult notes;
  std::vector<std::string> task_ids;
  if (resource == "tasks") task_ids.push_back(binary);
  PHOTON_ASSIGN_OR_RETURN(json rows, Rows(resource, &notes, task_ids));
  const std::string key = IdColumn(resource);
  const std::string want = absl::AsciiStrToLower(id);
  json found = json::array();
  for (auto& row : rows) {
    const bool match =
        (row[key].is_string() && row[key].get<std::string>() == want) ||
        (resource == "jobs" && row["submission_id"].is_string() && row["submission_id"] == id);
    if (match) found.push_back(std::move(row));
  }
  if (found.empty()) {
    return absl::NotFoundError(fmt::format("Resource with id={} not found in {}", id, resource));
  }
  std::sort(found.begin(), found.end(), [](const json& a, const json& b) {
    return a.value("attempt_number", 0) < b.value("attempt_number", 0);
  });
  return found;
}

absl::StatusOr<json> StateApi::Summarize(const std::string& resource_name) {
  const std::string resource = Canonical(resource_name);
  if (resource == "objects") return SummarizeObjects();
  if (resource != "tasks" && resource != "actors") {
    return absl::InvalidArgumentError(fmt::format(
        "cannot summarize '{}': summaries are of tasks, actors and objects", resource_name));
  }
  ListResult notes;
  const char* key = resource == "tasks" ? "func_or_class_name" : "class_name";
  json summary = json::object();
  int64_t total = 0;
  if (resource == "tasks") {
    // Straight from the table: no row is built for a count.
    PHOTON_ASSIGN_OR_RETURN(rpc::GetTaskEventsReply reply, TaskEvents({}, &notes));
    std::map<std::string, std::pair<std::string, std::map<std::string, int64_t>>> by_name;
    for (const auto& e : reply.events()) {
      auto& [type, counts] = by_name[e.info().func_or_class_name()];
      type = rpc::TaskType_Name(e.info().type());
      ++counts[rpc::TaskStatus_Name(gcs::TaskEventStore::StateOf(e))];
      ++total;
    }
    for (const auto& [name, entry] : by_name) {
      summary[name] = {{key, name}, {"type", entry.first}, {"state_counts", entry.second}};
    }
    return json{{"summary", summary}, {"total_tasks", total}, {"warnings", notes.warnings}};
  }
  PHOTON_ASSIGN_OR_RETURN(json rows, Rows(resource, &notes));
  for (const auto& row : rows) {
    std::string name = row[key].is_string() ? row[key].get<std::string>() : "";
    json& s = summary[name];
    if (s.is_null()) {
      s = {{key, name}, {"state_counts", json::object()}};
      if (resource == "tasks") s["type"] = row["type"];
    }
    std::string state = row["state"].get<std::string>();
    s["state_counts"][state] = s["state_counts"].value(state, 0) + 1;
    ++total;
  }
  return json{{"summary", summary}, {"total_" + resource, total}, {"warnings", notes.warnings}};
}

absl::StatusOr<std::vector<ProcessObjectRefs>> StateApi::ObjectRefs(
    ListResult* notes, std::vector<NodeStore>* stores) {
  PHOTON_ASSIGN_OR_RETURN(auto nodes, gcs_->GetAllNodes());
  struct Target {
    std::string node_id;
    std::string address;
    int pid = 0;
  };
  std::vector<Target> targets;
  for (const auto& n : nodes) {
    if (n.state() != rpc::NodeInfo::ALIVE) continue;
    std::string why;
    auto stats = NodeStats(n, config_.rpc_timeout_ms(), &why);
    if (!stats) {
      notes->partial_failures.push_back(why);
      continue;
    }
    const std::string node_hex = absl::BytesToHexString(n.node_id());
    stores->push_back({node_hex, n.ip(), stats->store()});
    for (const auto& w : stats->workers()) {
      // A worker still starting has no references yet (nor a server to ask).
      if (w.state() == "STARTING" || w.address().port() <= 0) continue;
      targets.push_back({node_hex, rpc::HostPort(w.address()), w.pid()});
    }
  }
  rpc::GetCoreWorkerStatsRequest req;
  req.set_include_memory_info(true);
  std::vector<ProcessObjectRefs> out(targets.size());
  std::vector<absl::Status> status(targets.size());
  std::vector<std::unique_ptr<rpc::CoreWorkerService::Stub>> stubs;
  for (const auto& t : targets) {
    stubs.push_back(rpc::CoreWorkerService::NewStub(rpc::GetChannel(t.address)));
  }
  {
    absl::BlockingCounter pending(static_cast<int>(targets.size()));
    for (size_t i = 0; i < targets.size(); ++i) {
      rpc::CallAsync(stubs[i]->async(), &rpc::CoreWorkerService::Stub::async::GetCoreWorkerStats,
                     "CoreWorkerService.GetCoreWorkerStats", req, config_.rpc_timeout_ms(),
                     [&out, &status, &pending, i](const absl::Status& s,
                                                  rpc::GetCoreWorkerStatsReply&& reply) {
                       status[i] = s;
                       if (s.ok()) out[i].stats = std::move(reply);
                       pending.DecrementCount();
                     });
    }
    pending.Wait();
  }
  std::vector<ProcessObjectRefs> answered;
  for (size_t i = 0; i < targets.size(); ++i) {
    if (rpc::IsTransient(status[i])) {  // once more: a busy process may be slow to answer
      status[i] = rpc::CallSync(stubs[i].get(), &rpc::CoreWorkerService::Stub::GetCoreWorkerStats,
                                "CoreWorkerService.GetCoreWorkerStats", req, &out[i].stats,
                                config_.rpc_timeout_ms());
    }
    if (!status[i].ok()) {
      notes->partial_failures.push_back(
          fmt::format("process {} at {} (node {}) did not report its objects: {}", targets[i].pid,
                      targets[i].address, targets[i].node_id, std::string(status[i].message())));
      continue;
    }
    out[i].node_id = targets[i].node_id;
    answered.push_back(std::move(out[i]));
  }
  return answered;
}

absl::StatusOr<std::string> StateApi::MemorySummary(const MemoryOptions& options) {
  // A bad option is named before the cluster is asked.
  PHOTON_RETURN_IF_ERROR(RenderMemorySummary({}, {}, options).status());
  ListResult notes;
  std::vector<NodeStore> stores;
  PHOTON_ASSIGN_OR_RETURN(std::vector<ProcessObjectRefs> refs, ObjectRefs(&notes, &stores));
  MemoryOptions with = options;
  with.call_sites_recorded = config_.record_ref_creation_sites();
  for (const auto& p : refs) {
    for (const auto& r : p.stats.object_refs()) with.call_sites_recorded |= !r.call_site().empty();
  }
  PHOTON_ASSIGN_OR_RETURN(std::string text, RenderMemorySummary(refs, stores, with));
  for (const auto& f : notes.partial_failures) text += "\nWARNING: " + f;
  if (!notes.partial_failures.empty()) text += "\n";
  return text;
}

absl::StatusOr<json> StateApi::SummarizeObjects() {
  ListResult notes;
  std::vector<NodeStore> stores;
  PHOTON_ASSIGN_OR_RETURN(std::vector<ProcessObjectRefs> refs, ObjectRefs(&notes, &stores));
  const absl::flat_hash_map<std::string, int64_t> sizes = KnownSizes(refs);
  struct Group {
    int64_t objects = 0;
    int64_t bytes = 0;
    std::set<std::string> workers, nodes;
    std::map<std::string, int64_t> task_states, ref_types;
  };
  std::map<std::string, Group> groups;
  int64_t total = 0, total_bytes = 0;
  bool call_sites = false;
  for (const auto& p : refs) {
    for (const auto& r : p.stats.object_refs()) {
      if (!IsHeld(r)) continue;
      const std::string site = r.call_site().empty() ? "disabled" : r.call_site();
      call_sites |= !r.call_site().empty();
      Group& g = groups[site];
      ++g.objects;
      ++total;
      if (const int64_t size = sizes.at(r.object_id()); size > 0) {
        g.bytes += size;
        total_bytes += size;
      }
      g.workers.insert(p.stats.worker_id());
      g.nodes.insert(p.node_id);
      ++g.task_states[r.task_status()];
      ++g.ref_types[ReferenceTypeOf(r)];
    }
  }
  constexpr double kMiB = 1024.0 * 1024.0;
  json summary = json::object();
  for (const auto& [site, g] : groups) {
    summary[site] = {{"total_objects", g.objects},
                     {"total_size_mb", static_cast<double>(g.bytes) / kMiB},
                     {"total_num_workers", g.workers.size()},
                     {"total_num_nodes", g.nodes.size()},
                     {"task_state_counts", g.task_states},
                     {"ref_type_counts", g.ref_types}};
  }
  std::vector<std::string> warnings = notes.warnings;
  for (const auto& f : notes.partial_failures) warnings.push_back(f);
  return json{{"summary", summary},
              {"total_objects", total},
              {"total_size_mb", static_cast<double>(total_bytes) / kMiB},
              {"callsite_enabled", call_sites},
              {"warnings", warnings}};
}

absl::StatusOr<json> StateApi::Timeline() {
  PHOTON_ASSIGN_OR_RETURN(rpc::GetTaskEventsReply reply, gcs_->GetTaskEvents({}));
  json trace = json::array();
  std::map<std::string, int> node_index;               // node id -> trace pid
  std::map<std::pair<int, int>, std::string> workers;  // (pid, tid) -> worker id
  const int64_t now_us = absl::GetCurrentTimeNanos() / 1000;
  for (const auto& e : reply.events()) {
    if (e.node_id().empty() || e.worker_pid() == 0) continue;  // never ran
    int64_t submitted = 0, running = 0, ended = 0;
    for (const auto& t : e.transitions()) {
      const int64_t us = t.time_ns() / 1000;
      if (t.state() == rpc::PENDING_ARGS_AVAIL && (submitted == 0 || us < submitted)) {
        submitted = us;
      }
      if (t.state() == rpc::RUNNING && (running == 0 || us < running)) running = us;
      if ((t.state() == rpc::FINISHED || t.state() == rpc::FAILED) && (ended == 0 || us < ended)) {
        ended = us;
      }
    }
    if (running == 0) continue;
    auto [it, added] = node_index.try_emplace(e.node_id(), static_cast<int>(node_index.size()) + 1);
    const int pid = it->second;
    const int tid = e.worker_pid();
    workers[{pid, tid}] = e.worker_id();
    const std::string name = e.info().name().empty() ? "task" : e.info().name();
    const std::string task_hex = std::string(Hex(e.task_id()));
    json args = {{"task_id", task_hex},
                 {"attempt_number", e.attempt_number()},
                 {"func_or_class_name", e.info().func_or_class_name()},
                 {"type", rpc::TaskType_Name(e.info().type())},
                 {"state", rpc::TaskStatus_Name(gcs::TaskEventStore::StateOf(e))},
                 {"job_id", Hex(e.job_id())}};
    if (!e.error_type().empty()) args["error_type"] = e.error_type();
    const int64_t end = ended >= running ? ended : now_us;
    trace.push_back({{"name", name},
                     {"cat", "task:execute"},
                     {"ph", "X"},
                     {"ts", running},
                     {"dur", std::max<int64_t>(end - running, 1)},
                     {"pid", pid},
                     {"tid", tid},
                     {"args", args}});
    if (submitted > 0 && submitted <= running) {
      const std::string id = fmt::format("{}:{}", task_hex, e.attempt_number());
      json span = {{"name", name + " (scheduling)"},
                   {"cat", "task:scheduling"},
                   {"id", id},
                   {"pid", pid},
                   {"tid", tid},
                   {"args", {{"task_id", task_hex}}}};
      span["ph"] = "b";
      span["ts"] = submitted;
      trace.push_back(span);
      span["ph"] = "e";
      span["ts"] = running;
      trace.push_back(span);
    }
  }
  for (const auto& [node, pid] : node_index) {
    trace.push_back({{"name", "process_name"},
                     {"ph", "M"},
                     {"pid", pid},
                     {"args", {{"name", "Node " + std::string(Hex(node))}}}});
  }
  for (const auto& [key, worker] : workers) {
    trace.push_back(
        {{"name", "thread_name"},
         {"ph", "M"},
         {"pid", key.first},
         {"tid", key.second},
         {"args",
          {{"name", fmt::format("Worker {} (pid {})", std::string(Hex(worker)), key.second)}}}});
  }
  return trace;
}

// ---- logs -------------------------------------------------------------------

namespace {

std::string RayletAddress(const rpc::NodeInfo& n) {
  return fmt::format("{}:{}", n.ip(), n.raylet_port());
}

bool IsHex(const std::string& s) {
  return !s.empty() && s.size() % 2 == 0 &&
         std::all_of(s.begin(), s.end(), [](char c) { return absl::ascii_isxdigit(c); });
}

std::string LogKind(const std::string& name) {
  auto starts = [&](const char* p) { return name.rfind(p, 0) == 0; };
  auto ends = [&](const char* x) {
    std::string_view v(x);
    return name.size() >= v.size() && name.compare(name.size() - v.size(), v.size(), v) == 0;
  };
  if (starts("gcs")) return "gcs_server";
  if (starts("raylet")) return "raylet";
  if (starts("driver")) return "driver";
  if (starts("worker-")) {
    // worker-<id>.out / .err (and their rotated .out.N), worker-<pid>.log
    if (ends(".out") || name.find(".out.") != std::string::npos) return "worker_out";
    if (ends(".err") || name.find(".err.") != std::string::npos) return "worker_err";
    return "core_worker";
  }
  return "misc";
}

}  // namespace

absl::StatusOr<rpc::NodeInfo> StateApi::LogNode(const std::string& node_id,
                                                const std::string& node_ip) {
  PHOTON_ASSIGN_OR_RETURN(std::vector<rpc::NodeInfo> nodes, gcs_->GetAllNodes());
  if (!node_id.empty() && !IsHex(node_id)) {
    return absl::InvalidArgumentError(fmt::format("'{}' is not a node id (expected hex)", node_id));
  }
  const std::string want_id = absl::AsciiStrToLower(node_id);
  const rpc::NodeInfo* found = nullptr;
  for (const auto& n : nodes) {
    const std::string hex = NodeID::FromBinaryOrDie(n.node_id()).Hex();
    bool match = !want_id.empty()   ? hex == want_id
                 : !node_ip.empty() ? n.ip() == node_ip
                                    : n.resources_total().count("node:__internal_head__") > 0;
    if (!match) continue;
    if (n.state() != rpc::NodeInfo::ALIVE && found != nullptr) continue;
    found = &n;
    if (n.state() == rpc::NodeInfo::ALIVE) break;
  }
  if (found == nullptr) {
    if (!want_id.empty()) return absl::NotFoundError(fmt::format("no node {}", node_id));
    if (!node_ip.empty()) return absl::NotFoundError(fmt::format("no node at {}", node_ip));
    return absl::NotFoundError("the cluster has no head node");
  }
  if (found->state() != rpc::NodeInfo::ALIVE) {
    return absl::FailedPreconditionError(
        fmt::format("node {} is dead ({}): its logs cannot be read from here",
                    NodeID::FromBinaryOrDie(found->node_id()).Hex(), found->death_reason()));
  }
  return *found;
}

absl::StatusOr<json> StateApi::ListLogs(const std::string& node_id, const std::string& node_ip,
                                        const std::string& glob) {
  PHOTON_ASSIGN_OR_RETURN(rpc::NodeInfo node, LogNode(node_id, node_ip));
  auto stub = rpc::NodeManagerService::NewStub(rpc::GetChannel(RayletAddress(node)));
  rpc::ListLogsRequest req;
  req.set_glob(glob);
  rpc::ListLogsReply reply;
  PHOTON_RETURN_IF_ERROR(rpc::CallSync(stub.get(), &rpc::NodeManagerService::Stub::ListLogs,
                                       "ListLogs", req, &reply, config_.gcs_rpc_timeout_ms()));
  json out = json::object();
  for (const auto& f : reply.files()) out[LogKind(f.name())].push_back(f.name());
  return out;
}

absl::StatusOr<LogLocation> StateApi::ResolveLog(const LogQuery& q) {
  const int given = !q.filename.empty() + !q.actor_id.empty() + !q.task_id.empty() + (q.pid > 0);
  if (given != 1) {
    return absl::InvalidArgumentError(
        given == 0 ? "say which log: a filename, an actor id, a task id or a pid"
                   : "give only one of filename, actor_id, task_id and pid");
  }
  if (q.suffix != "out" && q.suffix != "err") {
    return absl::InvalidArgumentError(
        fmt::format("suffix must be 'out' or 'err', got '{}'", q.suffix));
  }
  LogLocation where;
  where.request.set_suffix(q.suffix);
  if (q.tail > 0)
    where.request.set_tail_lines(static_cast<int32_t>(std::min<int64_t>(q.tail, 1 << 30)));
  std::string node_id = q.node_id;
  if (!q.task_id.empty()) {
    if (!IsHex(q.task_id)) {
      return absl::InvalidArgumentError(
          fmt::format("'{}' is not a task id (expected hex)", q.task_id));
    }
    rpc::GetTaskEventsRequest req;
    req.add_task_ids(absl::HexStringToBytes(q.task_id));
    ListResult notes;
    PHOTON_ASSIGN_OR_RETURN(rpc::GetTaskEventsReply reply, TaskEvents(req, &notes));
    const rpc::TaskEvents* attempt = nullptr;
    for (const auto& e : reply.events()) {
      if (e.attempt_number() == q.attempt_number) attempt = &e;
    }
    if (attempt == nullptr) {
      return absl::NotFoundError(
          reply.events_size() == 0
              ? fmt::format("no task {} in the task table", q.task_id)
              : fmt::format("task {} has no attempt {}", q.task_id, q.attempt_number));
    }
    if (attempt->node_id().empty() || attempt->worker_id().empty()) {
      return absl::NotFoundError(fmt::format(
          "task {} (attempt {}) has not run yet: it has no output", q.task_id, q.attempt_number));
    }
    node_id = NodeID::FromBinaryOrDie(attempt->node_id()).Hex();
    const rpc::TaskLogInfo& l = attempt->task_log_info();
    const bool out = q.suffix == "out";
    where.request.set_filename(out ? l.stdout_file() : l.stderr_file());
    if (where.request.filename().empty()) {
      return absl::NotFoundError(fmt::format(
          "task {} ran in a process whose output is not in log files (a driver)", q.task_id));
    }
    if (out ? l.has_stdout_start() : l.has_stderr_start()) {
      where.request.set_start(out ? l.stdout_start() : l.stderr_start());
    }
    if (out ? l.has_stdout_end() : l.has_stderr_end()) {
      int64_t end = out ? l.stdout_end() : l.stderr_end();
      where.request.set_end(end);
      // An empty range stays empty: an end of 0 would mean "to the end of the file".
      where.empty = end <= where.request.start();
    }
  } else if (!q.actor_id.empty()) {
    if (!IsHex(q.actor_id)) {
      return absl::InvalidArgumentError(
          fmt::format("'{}' is not an actor id (expected hex)", q.actor_id));
    }
    auto id = ActorID::FromBinary(absl::HexStringToBytes(q.actor_id));
    if (!id.ok()) {
      return absl::InvalidArgumentError(fmt::format("'{}' is not an actor id", q.actor_id));
    }
    PHOTON_ASSIGN_OR_RETURN(std::optional<rpc::ActorTableData> actor, gcs_->GetActorInfo(*id));
    if (!actor) return absl::NotFoundError(fmt::format("no actor {}", q.actor_id));
    if (actor->address().worker_id().empty() || actor->address().node_id().empty()) {
      return absl::NotFoundError(fmt::format("actor {} ({}) has not started in a worker yet",
                                             q.actor_id,
                                             rpc::ActorTableData::State_Name(actor->state())));
    }
    node_id = NodeID::FromBinaryOrDie(actor->address().node_id()).Hex();
    where.request.set_worker_id(actor->address().worker_id());
  } else if (q.pid > 0) {
    where.request.set_pid(q.pid);
  } else {
    if (q.filename.find('/') != std::string::npos) {
      return absl::InvalidArgumentError(fmt::format(
          "'{}' is not a file name of the log folder (photon logs lists them)", q.filename));
    }
    where.request.set_filename(q.filename);
  }
  PHOTON_ASSIGN_OR_RETURN(rpc::NodeInfo node, LogNode(node_id, node_id.empty() ? q.node_ip : ""));
  where.node_id = NodeID::FromBinaryOrDie(node.node_id()).Hex();
  where.raylet_address = RayletAddress(node);
  return where;
}

absl::StatusOr<rpc::GetLogReply> StateApi::ReadLog(const LogLocation& where) {
  rpc::GetLogReply reply;
  const rpc::GetLogRequest& req = where.request;
  if (where.empty) {
    reply.set_filename(req.filename());
    reply.set_next(req.start());
    return reply;
  }
  auto stub = rpc::NodeManagerService::NewStub(rpc::GetChannel(where.raylet_address));
  PHOTON_RETURN_IF_ERROR(rpc::CallSync(stub.get(), &rpc::NodeManagerService::Stub::GetLog, "GetLog",
                                       req, &reply, config_.gcs_rpc_timeout_ms()));
  // The workers' task markers are for the log monitor, not for readers.
  const std::string& data = reply.data();
  if (data.find(kTaskNameMarker) != std::string::npos) {
    std::string kept;
    size_t pos = 0;
    while (pos < data.size()) {
      size_t nl = data.find('\n', pos);
      size_t end = nl == std::string::npos ? data.size() : nl + 1;
      if (data.compare(pos, sizeof(kTaskNameMarker) - 1, kTaskNameMarker) != 0) {
        kept.append(data, pos, end - pos);
      }
      pos = end;
    }
    reply.set_data(std::move(kept));
  }
  return reply;
}

}  // namespace photon::state
