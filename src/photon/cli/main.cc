// The `photon` command: start, inspect and stop clusters, like `ray`.
//   photon start --head [--port 6379] [--num-cpus N] [--resources '{"a": 1}']
//                [--labels '{"zone": "a"}'] [--block]
//   photon start --address HOST:PORT [...]
//   photon status [--address HOST:PORT]
//   photon list tasks|actors|objects|nodes|jobs|workers|placement-groups [--filter k=v]
//               [--limit N] [--detail] [--format table|json|yaml]
//   photon get RESOURCE ID / photon summary tasks|actors|objects
//   photon memory [--group-by node|stack_trace] [--sort-by object_size|pid|reference_type]
//                 [--units B|KB|MB|GB] [--stats-only] [--num-entries N]
//   photon stop [--force]
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "fmt/format.h"
#include "nlohmann/json.hpp"
#include "photon/cluster/local_cluster.h"
#include "photon/common/cluster_token.h"
#include "photon/common/config.h"
#include "photon/common/process.h"
#include "photon/gcs_client/gcs_client.h"
#include "photon/protocol/raylet.grpc.pb.h"
#include "photon/rpc/auth.h"
#include "photon/rpc/client.h"
#include "photon/state/state_api.h"

#ifndef PHOTON_VERSION_STRING
#define PHOTON_VERSION_STRING "unknown"
#endif

namespace {

using photon::SystemConfig;

std::string StateDir(const SystemConfig& c) { return c.session_dir_root(); }
std::string PidsFile(const SystemConfig& c) { return StateDir(c) + "/cli_processes"; }
std::string AddressFile(const SystemConfig& c) { return StateDir(c) + "/cluster_address"; }

// --resources: a JSON object of quantities ({"a": 1}), or name=qty,name=qty.
bool ParseResources(const std::string& text, std::map<std::string, double>* out,
                    std::string* error) {
  if (text.find_first_not_of(" \t") == std::string::npos) return true;
  if (text.find('{') != std::string::npos) {
    nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      *error = fmt::format("--resources is not a JSON object: {}", text);
      return false;
    }
    for (const auto& [name, qty] : j.items()) {
      if (!qty.is_number() || qty.get<double>() < 0) {
        *error = fmt::format("resource '{}' must be a number >= 0, got {}", name, qty.dump());
        return false;
      }
      (*out)[name] = qty.get<double>();
    }
    return true;
  }
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    double qty = 0;
    std::string name = item.substr(0, eq);
    name.erase(name.find_last_not_of(' ') + 1);
    if (eq == std::string::npos || name.empty() ||
        !absl::SimpleAtod(absl::string_view(item.data() + eq + 1, item.size() - eq - 1), &qty) ||
        qty < 0) {
      *error = fmt::format("bad resource '{}' (expected name=quantity, quantity >= 0)", item);
      return false;
    }
    (*out)[name] = qty;
  }
  return true;
}

// --labels: a JSON object of strings ({"zone": "a"}).
bool ParseLabels(const std::string& text, std::map<std::string, std::string>* out,
                 std::string* error) {
  if (text.find_first_not_of(" \t") == std::string::npos) return true;
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    *error = fmt::format("--labels is not a JSON object: {}", text);
    return false;
  }
  for (const auto& [key, value] : j.items()) {
    if (!value.is_string()) {
      *error = fmt::format("label '{}' must be a string, got {}", key, value.dump());
      return false;
    }
    std::string v = value.get<std::string>();
    if (key.empty() || key.find_first_of(",=") != std::string::npos ||
        v.find_first_of(",=") != std::string::npos) {
      *error = fmt::format(
          "label '{}'='{}': keys must be non-empty, and neither may contain "
          "',' or '='",
          key, v);
      return false;
    }
    if (key.rfind("ray.io/", 0) == 0) {
      *error = fmt::format("label '{}': the ray.io/ prefix is reserved", key);
      return false;
    }
    (*out)[key] = v;
  }
  return true;
}

void RecordPids(const SystemConfig& c, const std::vector<pid_t>& pids) {
  std::filesystem::create_directories(StateDir(c));
  std::ofstream f(PidsFile(c), std::ios::app);
  for (pid_t p : pids) f << p << "\n";
}

int Start(const SystemConfig& config, bool head, const std::string& address, int port,
          double num_cpus, double num_gpus, const std::string& resources, const std::string& labels,
          int64_t store_memory, const std::string& host, bool block, int metrics_port) {
  if (head == !address.empty()) {
    std::fprintf(stderr, "photon start: give exactly one of --head or --address\n");
    return 2;
  }
  photon::NodeArgs node;
  node.num_cpus = num_cpus;
  node.num_gpus = num_gpus;
  node.object_store_memory = store_memory;
  if (metrics_port < 0 || metrics_port > 65535) {
    std::fprintf(stderr, "photon start: --metrics-export-port must be a port number, got %d\n",
                 metrics_port);
    return 2;
  }
  node.metrics_export_port = metrics_port;
  std::string error;
  if (!ParseResources(resources, &node.resources, &error) ||
      !ParseLabels(labels, &node.labels, &error)) {
    std::fprintf(stderr, "photon start: %s\n", error.c_str());
    return 2;
  }
  auto bin = photon::FindBinDir(config.bin_dir());
  if (!bin.ok()) {
    std::fprintf(stderr, "photon start: %s\n", std::string(bin.status().message()).c_str());
    return 1;
  }
  auto cluster_options = photon::ClusterOptionsFromConfig(config);
  if (!cluster_options.ok()) {
    std::fprintf(stderr, "photon start: %s\n",
                 std::string(cluster_options.status().message()).c_str());
    return 2;
  }
  photon::ClusterOptions opts = *cluster_options;
  opts.die_with_parent = block;
  opts.gcs_port = port;
  opts.host = host;
  absl::StatusOr<std::unique_ptr<photon::LocalCluster>> cluster =
      head ? photon::LocalCluster::Start(*bin, config.session_dir_root(), &node, opts)
           : photon::LocalCluster::Attach(*bin, config.session_dir_root(), address, opts);
  if (!cluster.ok()) {
    std::fprintf(stderr, "photon start: %s\n", std::string(cluster.status().message()).c_str());
    return 1;
  }
  if (!head) {
    auto added = (*cluster)->AddNode(node);
    if (!added.ok()) {
      std::fprintf(stderr, "photon start: cannot join %s: %s\n", address.c_str(),
                   std::string(added.status().message()).c_str());
      return 1;
    }
  }
  std::vector<pid_t> pids;
  if ((*cluster)->gcs_pid() > 0) pids.push_back((*cluster)->gcs_pid());
  for (const auto& n : (*cluster)->nodes()) pids.push_back(n.pid);
  std::string gcs = (*cluster)->gcs_address();
  if (!block) RecordPids(config, pids);
  if (head) {
    if (auto s = photon::WriteFileAtomically(AddressFile(config), gcs); !s.ok()) {
      // Drivers then need the address given to them (it is printed below).
      std::fprintf(stderr, "photon start: cannot record the address: %s\n",
                   std::string(s.message()).c_str());
    }
  }
  std::printf("Photon %s started (session %s).\n", head ? "head node" : "node",
              (*cluster)->session_dir().c_str());
  if (head) {
    std::string token = (*cluster)->token();
    std::printf("  GCS address: %s\n", gcs.c_str());
    std::printf(
        "  Metrics:     %s/prom_metrics_service_discovery.json lists every node's "
        "/metrics (Prometheus file_sd)\n",
        (*cluster)->session_dir().c_str());
    if (!opts.redis_address.empty()) {
      std::printf("  GCS tables:  in Redis at %s (a restarted GCS recovers the cluster)\n",
                  opts.redis_address.c_str());
    }
    if (token.empty()) {
      std::printf("  Add a node:  photon start --address=%s\n", gcs.c_str());
      std::printf("  (no cluster token: anyone who can reach these ports can use the cluster)\n");
    } else {
      std::printf("  Token:       %s/cluster_token (drivers on this host find it)\n",
                  (*cluster)->session_dir().c_str());
      std::printf("  Add a node:  photon start --address=%s --token=%s\n", gcs.c_str(),
                  token.c_str());
    }
    std::printf(
        "  Connect:     PHOTON_ADDRESS=%s ./your_driver   (or photon.init(address=\"%s\"))\n",
        gcs.c_str(), gcs.c_str());
  }
  std::printf("  Stop:        photon stop\n");
  std::fflush(stdout);
  if (block) {
    photon::BlockTerminationSignals();
    photon::WaitForTerminationSignal();
    (*cluster)->Shutdown();
    return 0;
  }
  (*cluster)->Detach();
  return 0;
}

// SIGTERM and a grace period for every process `photon start` recorded
// (SIGKILL after it, or at once with `force`).
int Stop(const SystemConfig& config, bool force) {
  std::ifstream f(PidsFile(config));
  std::vector<pid_t> pids;
  pid_t p;
  while (f >> p) pids.push_back(p);
  int stopped = 0;
  for (pid_t pid : pids) {
    std::ifstream cmd(fmt::format("/proc/{}/cmdline", pid));
    std::string line;
    std::getline(cmd, line);
    if (line.find("photon-") == std::string::npos) continue;  // gone, or pid reused
    photon::SignalProcess(pid, force ? SIGKILL : SIGTERM);
    ++stopped;
  }
  for (int i = 0; i < (force ? 20 : 100); ++i) {
    bool any = false;
    for (pid_t pid : pids) any |= photon::ProcessAlive(pid);
    if (!any) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (pid_t pid : pids) {
    if (photon::ProcessAlive(pid)) photon::SignalProcess(pid, SIGKILL);
  }
  std::filesystem::remove(PidsFile(config));
  std::filesystem::remove(AddressFile(config));
  std::printf("Stopped %d Photon processes.\n", stopped);
  return 0;
}

// Connects `command` (for messages) to the GCS at `*address` (default: the
// configured address, else the cluster `photon start` started), presenting
// the configured token or the one a cluster on this host recorded. Prints
// why on failure and returns null.
std::unique_ptr<photon::GcsClient> ConnectToCluster(const SystemConfig& config,
                                                    std::string* address, const char* command) {
  if (address->empty()) *address = config.address();
  if (address->empty()) {
    std::ifstream f(AddressFile(config));
    std::getline(f, *address);
  }
  if (address->empty()) {
    std::fprintf(stderr,
                 "photon %s: no cluster address (give --address or PHOTON_ADDRESS, or start one "
                 "with photon start --head)\n",
                 command);
    return nullptr;
  }
  std::string token = config.auth_mode() == "disabled" ? "" : config.cluster_token();
  if (token.empty() && config.auth_mode() != "disabled") {
    auto found = photon::FindClusterToken(config.session_dir_root(), *address);
    if (found.ok()) token = *found;
  }
  photon::rpc::SetClusterToken(token);
  auto gcs = photon::GcsClient::Connect(*address, config);
  if (!gcs.ok()) {
    std::fprintf(stderr, "photon %s: %s\n", command, std::string(gcs.status().message()).c_str());
    if (absl::IsUnauthenticated(gcs.status())) {
      std::fprintf(stderr,
                   "  give the cluster's token with --token or PHOTON_CLUSTER_TOKEN (it is in "
                   "cluster_token in the head's session folder)\n");
    }
    return nullptr;
  }
  return std::move(*gcs);
}

// What the raylet of node `n` reports about itself; nullopt (and a line on
// stderr) if it does not answer.
std::optional<photon::rpc::GetNodeStatsReply> NodeStats(const SystemConfig& config,
                                                        const photon::rpc::NodeInfo& n) {
  std::string why;
  auto stats = photon::state::NodeStats(n, config.rpc_timeout_ms(), &why);
  if (!stats) std::fprintf(stderr, "%s\n", why.c_str());
  return stats;
}

// "{CPU: 2, GPU: 1}" of a resource map, keys in order.
template <typename Map>
std::string ShapeText(const Map& m) {
  std::map<std::string, double> sorted(m.begin(), m.end());
  std::string out;
  for (const auto& [k, v] : sorted) out += fmt::format("{}{}: {:g}", out.empty() ? "" : ", ", k, v);
  return "{" + out + "}";
}

int Status(const SystemConfig& config, std::string address) {
  auto gcs = ConnectToCluster(config, &address, "status");
  if (gcs == nullptr) return 1;
  auto nodes = gcs->GetAllNodes();
  if (!nodes.ok()) {
    std::fprintf(stderr, "photon status: %s\n", std::string(nodes.status().message()).c_str());
    return 1;
  }
  std::printf("Cluster at %s: %zu nodes\n", address.c_str(), nodes->size());
  std::map<std::string, double> total, avail;
  struct Demand {
    int requests = 0;
    std::set<std::string> functions;
  };
  std::map<std::string, Demand> infeasible;  // by shape, over all nodes
  for (const auto& n : *nodes) {
    bool alive = n.state() == photon::rpc::NodeInfo::ALIVE;
    std::printf("  node %s  %s:%d  %s\n",
                photon::NodeID::FromBinaryOrDie(n.node_id()).Hex().c_str(), n.ip().c_str(),
                n.raylet_port(), alive ? "ALIVE" : ("DEAD (" + n.death_reason() + ")").c_str());
    if (!alive) continue;
    std::string labels;
    for (const auto& [k, v] :
         std::map<std::string, std::string>(n.labels().begin(), n.labels().end())) {
      if (k.rfind("ray.io/", 0) == 0) continue;
      labels += fmt::format("{}{}={}", labels.empty() ? "" : ", ", k, v);
    }
    if (!labels.empty()) std::printf("    labels: %s\n", labels.c_str());
    for (const auto& [k, v] : n.resources_total()) total[k] += v;
    for (const auto& [k, v] : n.resources_available()) avail[k] += v;
    if (auto got = NodeStats(config, n)) {
      const photon::rpc::GetNodeStatsReply& stats = *got;
      for (const auto& d : stats.infeasible()) {
        Demand& e = infeasible[ShapeText(d.shape())];
        e.requests += d.requests();
        for (const auto& f : d.functions()) e.functions.insert(f);
      }
      std::printf("    workers: %d (%d idle)\n", stats.num_workers(), stats.num_idle_workers());
      const auto& st = stats.store();
      constexpr double kMiB = 1 << 20;
      std::printf(
          "    object store: %.1f / %.1f MiB used, %lld objects (%lld in memory); spilled %.1f MiB "
          "(%lld objects), restored %.1f MiB, evicted %lld objects\n",
          st.bytes_used() / kMiB, st.capacity() / kMiB, static_cast<long long>(st.num_objects()),
          static_cast<long long>(st.num_objects_in_memory()), st.spilled_bytes_total() / kMiB,
          static_cast<long long>(st.spilled_objects_total()), st.restored_bytes_total() / kMiB,
          static_cast<long long>(st.evicted_objects_total()));
      for (const auto& r : stats.pending_reasons()) std::printf("    pending: %s\n", r.c_str());
    }
  }
  auto groups = gcs->GetAllPlacementGroups();
  if (groups.ok() && !groups->empty()) {
    std::map<std::string, int> by_state;
    for (const auto& g : *groups) {
      by_state[photon::rpc::PlacementGroupTableData::State_Name(g.state())]++;
    }
    std::string counts;
    for (const auto& [state, n] : by_state) {
      counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", n, state);
    }
    std::printf("Placement groups: %s\n", counts.c_str());
    for (const auto& g : *groups) {
      if (g.state() != photon::rpc::PlacementGroupTableData::PENDING) continue;
      std::printf(
          "  pending %s%s: %s\n",
          photon::PlacementGroupID::FromBinaryOrDie(g.spec().placement_group_id()).Hex().c_str(),
          g.spec().name().empty() ? "" : (" (" + g.spec().name() + ")").c_str(),
          g.pending_reason().c_str());
    }
  }
  // Tasks that wait, by name, state and why (the state API's task table).
  photon::state::ListOptions all;
  all.limit = 1000000;
  if (auto tasks = photon::state::StateApi(gcs.get(), config).List("tasks", all); tasks.ok()) {
    std::map<std::tuple<std::string, std::string, std::string>, int> waiting;
    for (const auto& t : tasks->rows) {
      const std::string state = t["state"].get<std::string>();
      if (state != "PENDING_ARGS_AVAIL" && state != "PENDING_NODE_ASSIGNMENT") continue;
      std::string why = t["pending_reason"].is_string() ? t["pending_reason"].get<std::string>()
                        : state == "PENDING_ARGS_AVAIL" ? "waiting for its arguments"
                                                        : "waiting to be scheduled";
      ++waiting[{t["name"].get<std::string>(), state, why}];
    }
    if (!waiting.empty()) std::printf("Pending tasks (name, state: why):\n");
    for (const auto& [key, n] : waiting) {
      const auto& [name, state, why] = key;
      std::printf("  %d x %s, %s: %s\n", n, name.c_str(), state.c_str(), why.c_str());
    }
  }
  if (!infeasible.empty()) {
    std::printf("Demands no node can ever serve (infeasible):\n");
    for (const auto& [shape, d] : infeasible) {
      std::string fns;
      for (const auto& f : d.functions) fns += fmt::format("{}'{}'", fns.empty() ? "" : ", ", f);
      std::printf("  %s: 1+ pending tasks/actors (%s)\n", shape.c_str(), fns.c_str());
    }
  }
  std::printf("Resources (used / total; placement-group bundles count as used):\n");
  for (const auto& [k, v] : total) {
    if (k.find("_group_") != std::string::npos) continue;  // a bundle's own resources
    if (k == "memory" || k == "object_store_memory") {     // bytes, shown in GiB as Ray does
      constexpr double kGiB = 1 << 30;
      std::printf("  %s: %.2f / %.2f GiB\n", k.c_str(), (v - avail[k]) / kGiB, v / kGiB);
    } else {
      std::printf("  %s: %g / %g\n", k.c_str(), v - avail[k], v);
    }
  }
  return 0;
}

// Prints rows as a table (each column as wide as its widest cell), JSON or YAML.
void PrintRows(const nlohmann::ordered_json& rows, const std::string& format) {
  if (format == "json") {
    std::printf("%s\n", rows.dump(2).c_str());
    return;
  }
  auto cell = [](const nlohmann::ordered_json& v) {
    return v.is_string() ? v.get<std::string>() : (v.is_null() ? std::string() : v.dump());
  };
  if (format == "yaml") {
    // JSON values are YAML flow values; one mapping per row.
    for (const auto& r : rows) {
      bool first = true;
      for (const auto& [k, v] : r.items()) {
        std::printf("%s%s: %s\n", first ? "- " : "  ", k.c_str(),
                    v.is_null() ? "null" : v.dump().c_str());
        first = false;
      }
    }
    return;
  }
  std::vector<std::string> columns;
  if (!rows.empty()) {
    for (const auto& [k, v] : rows[0].items()) columns.push_back(k);
  }
  std::vector<size_t> width;
  for (const auto& c : columns) width.push_back(c.size());
  for (const auto& r : rows) {
    for (size_t i = 0; i < columns.size(); ++i) {
      width[i] = std::max(width[i], cell(r[columns[i]]).size());
    }
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t i = 0; i < cells.size(); ++i) {
      out += fmt::format("{:<{}}", cells[i], width[i] + (i + 1 < cells.size() ? 2 : 0));
    }
    std::printf("%s\n", out.c_str());
  };
  std::vector<std::string> header;
  for (const auto& c : columns) {
    std::string u = c;
    for (auto& ch : u) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    header.push_back(u);
  }
  line(header);
  for (const auto& r : rows) {
    std::vector<std::string> cells;
    for (const auto& c : columns) cells.push_back(cell(r[c]));
    line(cells);
  }
}

// Keeps the columns in the schema's order (nlohmann sorts object keys).
nlohmann::ordered_json InSchemaOrder(const std::string& what, const nlohmann::json& rows) {
  auto schema = photon::state::Schema(what);
  if (!schema.ok()) return nlohmann::ordered_json::parse(rows.dump());
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& r : rows) {
    nlohmann::ordered_json o = nlohmann::ordered_json::object();
    for (const auto& c : *schema) {
      if (r.contains(c.name)) o[c.name] = r[c.name];
    }
    out.push_back(o);
  }
  return out;
}

// `photon list|get|summary RESOURCE`: the state API (src/photon/state).
int State(const SystemConfig& config, std::string address, const std::string& verb,
          const std::string& what, const std::string& id, const std::vector<std::string>& filters,
          int64_t limit, bool detail, const std::string& format) {
  auto gcs = ConnectToCluster(config, &address, verb.c_str());
  if (gcs == nullptr) return 1;
  photon::state::StateApi api(gcs.get(), config);
  auto fail = [&](const absl::Status& s) {
    std::fprintf(stderr, "photon %s: %s\n", verb.c_str(), std::string(s.message()).c_str());
    return 1;
  };
  if (verb == "summary") {
    auto got = api.Summarize(what);
    if (!got.ok()) return fail(got.status());
    if (format == "json") {
      std::printf("%s\n", got->dump(2).c_str());
      return 0;
    }
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    if (what == "objects") {
      for (const auto& [site, s] : (*got)["summary"].items()) {
        auto counts = [](const nlohmann::json& m) {
          std::string text;
          for (const auto& [k, n] : m.items()) {
            text += fmt::format("{}{}: {}", text.empty() ? "" : ", ", k, n.get<int64_t>());
          }
          return text;
        };
        rows.push_back({{"call_site", site},
                        {"objects", s["total_objects"]},
                        {"size_mb", fmt::format("{:.3f}", s["total_size_mb"].get<double>())},
                        {"workers", s["total_num_workers"]},
                        {"nodes", s["total_num_nodes"]},
                        {"reference_types", counts(s["ref_type_counts"])},
                        {"task_states", counts(s["task_state_counts"])}});
      }
      PrintRows(rows, "table");
      std::printf("\n%lld objects, %.3f MiB in all%s\n",
                  static_cast<long long>((*got)["total_objects"].get<int64_t>()),
                  (*got)["total_size_mb"].get<double>(),
                  (*got)["callsite_enabled"].get<bool>()
                      ? ""
                      : " (call sites: set PHOTON_RECORD_REF_CREATION_SITES=1)");
      return 0;
    }
    for (const auto& [name, s] : (*got)["summary"].items()) {
      std::string counts;
      for (const auto& [state, n] : s["state_counts"].items()) {
        counts += fmt::format("{}{}: {}", counts.empty() ? "" : ", ", state, n.get<int64_t>());
      }
      rows.push_back({{"name", name}, {"state_counts", counts}});
    }
    PrintRows(rows, "table");
    return 0;
  }
  if (verb == "get") {
    auto got = api.Get(what, id);
    if (!got.ok()) return fail(got.status());
    PrintRows(InSchemaOrder(what, *got), format == "table" ? "yaml" : format);
    return 0;
  }
  photon::state::ListOptions options;
  options.limit = limit;
  options.detail = detail;
  for (const auto& text : filters) {
    auto f = photon::state::ParseFilter(text);
    if (!f.ok()) return fail(f.status());
    options.filters.push_back(*f);
  }
  auto listed = api.List(what, options);
  if (!listed.ok()) return fail(listed.status());
  for (const auto& w : listed->partial_failures) std::fprintf(stderr, "warning: %s\n", w.c_str());
  for (const auto& w : listed->warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  PrintRows(InSchemaOrder(what, listed->rows), format);
  return 0;
}

// `photon memory`: Ray's `ray memory` (every process's references, the stores' usage).
int Memory(const SystemConfig& config, std::string address,
           const photon::state::MemoryOptions& options) {
  auto gcs = ConnectToCluster(config, &address, "memory");
  if (gcs == nullptr) return 1;
  auto text = photon::state::StateApi(gcs.get(), config).MemorySummary(options);
  if (!text.ok()) {
    std::fprintf(stderr, "photon memory: %s\n", std::string(text.status().message()).c_str());
    return 1;
  }
  std::fputs(text->c_str(), stdout);
  return 0;
}

// `photon timeline [--output F]`: the state API's Chrome trace, to a file.
int Timeline(const SystemConfig& config, std::string address, std::string output) {
  auto gcs = ConnectToCluster(config, &address, "timeline");
  if (gcs == nullptr) return 1;
  auto trace = photon::state::StateApi(gcs.get(), config).Timeline();
  if (!trace.ok()) {
    std::fprintf(stderr, "photon timeline: %s\n", std::string(trace.status().message()).c_str());
    return 1;
  }
  if (output.empty()) {
    std::time_t now = std::time(nullptr);
    char stamp[32];
    std::strftime(stamp, sizeof(stamp), "%Y-%m-%d_%H-%M-%S", std::localtime(&now));
    output = fmt::format("/tmp/photon-timeline-{}.json", stamp);
  }
  std::ofstream f(output);
  f << trace->dump();
  if (!f) {
    std::fprintf(stderr, "photon timeline: cannot write %s\n", output.c_str());
    return 1;
  }
  std::printf(
      "Trace file written to %s (%zu events). Open it in chrome://tracing or "
      "https://ui.perfetto.dev.\n",
      output.c_str(), trace->size());
  return 0;
}

struct LogsArgs {
  std::vector<std::string> args;  // [actor|task|worker|cluster] [glob]
  std::string id, node_id, node_ip;
  int pid = 0;
  int attempt = 0;
  int64_t tail = -1;
  bool follow = false;
  bool err = false;
  double interval = 0.5;
};

// `photon logs ...` (Ray's `ray logs`): lists a node's log files, prints one,
// or the output of an actor, a task or a worker, optionally following it.
int Logs(const SystemConfig& config, std::string address, const LogsArgs& a) {
  auto gcs = ConnectToCluster(config, &address, "logs");
  if (gcs == nullptr) return 1;
  photon::state::StateApi api(gcs.get(), config);
  std::string kind = a.args.empty() ? "cluster" : a.args[0];
  std::string glob;
  if (kind == "actor" || kind == "task" || kind == "worker" || kind == "cluster") {
    if (a.args.size() > 1) glob = a.args[1];
  } else {
    glob = kind;
    kind = "cluster";
  }
  photon::state::LogQuery q;
  q.node_id = a.node_id;
  q.node_ip = a.node_ip;
  q.suffix = a.err ? "err" : "out";
  q.tail = a.tail;
  q.attempt_number = a.attempt;
  if (kind == "actor" || kind == "task") {
    if (a.id.empty()) {
      std::fprintf(stderr, "photon logs %s: give --id\n", kind.c_str());
      return 2;
    }
    (kind == "actor" ? q.actor_id : q.task_id) = a.id;
  } else if (kind == "worker") {
    if (a.pid <= 0) {
      std::fprintf(stderr, "photon logs worker: give --pid\n");
      return 2;
    }
    q.pid = a.pid;
  } else {
    auto listed = api.ListLogs(a.node_id, a.node_ip, glob.empty() ? "" : glob);
    if (!listed.ok()) {
      std::fprintf(stderr, "photon logs: %s\n", std::string(listed.status().message()).c_str());
      return 1;
    }
    std::vector<std::string> names;
    for (const auto& [group, files] : listed->items()) {
      for (const auto& f : files) names.push_back(f.get<std::string>());
    }
    if (glob.empty() || names.size() != 1) {
      if (!glob.empty() && names.empty()) {
        std::fprintf(stderr, "photon logs: no log file matches '%s' (photon logs lists them)\n",
                     glob.c_str());
        return 1;
      }
      std::printf("Node: %s\n", !a.node_id.empty()   ? a.node_id.c_str()
                                : !a.node_ip.empty() ? a.node_ip.c_str()
                                                     : "the head node");
      for (const auto& [group, files] : listed->items()) {
        std::printf("%s:\n", group.c_str());
        for (const auto& f : files) std::printf("  %s\n", f.get<std::string>().c_str());
      }
      return 0;
    }
    q.filename = names[0];
  }
  auto where = api.ResolveLog(q);
  if (!where.ok()) {
    std::fprintf(stderr, "photon logs: %s\n", std::string(where.status().message()).c_str());
    return 1;
  }
  while (true) {
    auto chunk = api.ReadLog(*where);
    if (!chunk.ok()) {
      std::fprintf(stderr, "photon logs: %s\n", std::string(chunk.status().message()).c_str());
      return 1;
    }
    std::fwrite(chunk->data().data(), 1, chunk->data().size(), stdout);
    std::fflush(stdout);
    where->request.set_start(chunk->next());
    where->request.set_tail_lines(0);
    if (!chunk->data().empty()) continue;
    if (!a.follow || where->empty) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int64_t>(a.interval * 1000)));
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"photon: start, inspect and stop Photon clusters"};
  app.set_version_flag("--version", std::string(PHOTON_VERSION_STRING));
  app.require_subcommand(1);

  auto* start = app.add_subcommand("start", "Start Photon's daemons on this machine");
  bool head = false, block = false;
  std::string address, resources, host = "127.0.0.1";
  int port = 6379;
  double num_cpus = -1, num_gpus = 0;
  int64_t store_memory = 0;
  start->add_flag("--head", head, "Start the head node (GCS and a raylet)");
  start->add_option("--address", address, "Join the cluster whose GCS is at HOST:PORT");
  start->add_option("--port", port, "GCS port of a head node (0: any free port)");
  start->add_option("--num-cpus", num_cpus, "CPUs of this node (default: all cores)");
  start->add_option("--num-gpus", num_gpus, "GPUs of this node");
  start->add_option("--resources", resources, "Custom resources: {\"name\": qty} or name=qty,...");
  std::string labels;
  start->add_option("--labels", labels, "Node labels: {\"key\": \"value\"}");
  start->add_option("--object-store-memory", store_memory, "Object store bytes");
  int metrics_port = 0;
  start->add_option("--metrics-export-port", metrics_port,
                    "Port of this node's Prometheus /metrics endpoint (default: any free port)");
  start->add_option("--node-ip-address", host, "Address the daemons listen on and advertise");
  start->add_flag("--block", block, "Stay in the foreground; stop the daemons on Ctrl-C");
  std::string redis_address, redis_password;
  start->add_option("--redis-address", redis_address,
                    "Head node: keep the GCS's tables in this Redis (HOST:PORT), so that a "
                    "restarted GCS recovers the cluster (default: PHOTON_REDIS_ADDRESS, else in "
                    "memory)");
  start->add_option("--redis-password", redis_password,
                    "Password for --redis-address (default: PHOTON_REDIS_PASSWORD)");

  auto* stop = app.add_subcommand("stop", "Stop the daemons `photon start` started");
  bool force = false;
  stop->add_flag("--force", force, "Kill them at once (SIGKILL) instead of a graceful stop");
  auto* status = app.add_subcommand("status", "Show the nodes, resources and pending work");
  std::string status_address;
  status->add_option("--address", status_address, "GCS address (default: the started cluster)");

  // The state API: photon list|get|summary.
  std::string state_what, state_id, state_format = "table", state_address;
  std::vector<std::string> state_filters;
  int64_t state_limit = 100;
  bool state_detail = false;
  const std::vector<std::string> state_resources = {
      "tasks", "actors",  "objects",          "nodes",
      "jobs",  "workers", "placement-groups", "placement_groups"};
  auto* list = app.add_subcommand("list",
                                  "List tasks, actors, objects, nodes, jobs, workers or placement "
                                  "groups (the state API)");
  list->add_option("what", state_what,
                   "tasks, actors, objects, nodes, jobs, workers or placement-groups")
      ->required()
      ->check(CLI::IsMember(state_resources));
  list->add_option("--filter,-f", state_filters,
                   "key=value or key!=value (repeatable; case-insensitive)");
  list->add_option("--limit", state_limit, "At most this many rows (default 100)");
  list->add_flag("--detail", state_detail, "Every column, not only the main ones");
  auto* get = app.add_subcommand("get",
                                 "Show one task (every attempt), actor, node, job, worker "
                                 "or placement group by id");
  get->add_option("what", state_what,
                  "tasks, actors, objects, nodes, jobs, workers or placement-groups")
      ->required()
      ->check(CLI::IsMember(state_resources));
  get->add_option("id", state_id, "Its id (hex)")->required();
  auto* summary = app.add_subcommand(
      "summary", "Count tasks or actors by name and state, or objects by call site");
  summary->add_option("what", state_what, "tasks, actors or objects")
      ->required()
      ->check(CLI::IsMember({"tasks", "actors", "objects"}));
  auto* memory = app.add_subcommand(
      "memory", "Show every object reference of the cluster's processes and the stores' usage");
  photon::state::MemoryOptions memory_options;
  memory->add_option("--group-by", memory_options.group_by,
                     "node (NODE_ADDRESS, default) or stack_trace (STACK_TRACE)");
  memory->add_option("--sort-by", memory_options.sort_by,
                     "object_size (default, largest first), pid or reference_type");
  memory->add_option("--units", memory_options.units, "B (default), KB, MB or GB");
  memory->add_flag("--stats-only", memory_options.stats_only, "Only the object stores' totals");
  memory->add_option("--num-entries", memory_options.num_entries,
                     "At most this many rows per group");
  bool memory_no_wrap = false;
  memory->add_flag("--no-format", memory_no_wrap, "Columns separated by '|', one line per row");
  memory->add_option("--address", state_address, "GCS address (default: the started cluster)");
  auto* timeline =
      app.add_subcommand("timeline",
                         "Write a Chrome trace of the cluster's task executions (chrome://tracing, "
                         "Perfetto)");
  std::string timeline_output;
  timeline->add_option("--output", timeline_output,
                       "File to write (default: /tmp/photon-timeline-<time>.json)");
  timeline->add_option("--address", state_address, "GCS address (default: the started cluster)");
  for (CLI::App* sub : {list, get, summary}) {
    sub->add_option("--format", state_format, "table (default), json or yaml")
        ->check(CLI::IsMember({"table", "json", "yaml"}));
    sub->add_option("--address", state_address, "GCS address (default: the started cluster)");
  }

  auto* logs = app.add_subcommand(
      "logs",
      "List a node's log files, print one (photon logs GLOB), or the output of an actor, a task "
      "or a worker: photon logs actor --id X | task --id X | worker --pid N");
  LogsArgs logs_args;
  logs->add_option("what", logs_args.args,
                   "cluster [GLOB] (default), actor, task, worker, or a file name / glob");
  logs->add_option("--id", logs_args.id, "Actor or task id (hex)");
  logs->add_option("--pid", logs_args.pid, "Worker process id");
  logs->add_option("--node-id", logs_args.node_id, "Node (default: the head node)");
  logs->add_option("--node-ip", logs_args.node_ip, "Node by address");
  logs->add_option("--attempt-number", logs_args.attempt, "Task attempt (default 0)");
  logs->add_option("--tail", logs_args.tail, "Only the last N lines");
  logs->add_flag("--follow,-f", logs_args.follow, "Keep printing what is written");
  logs->add_flag("--err", logs_args.err, "The stderr file instead of stdout");
  logs->add_option("--interval", logs_args.interval, "Seconds between reads when following");
  logs->add_option("--address", state_address, "GCS address (default: the started cluster)");

  std::string token;
  for (CLI::App* sub : {start, status, list, get, summary, memory, timeline, logs}) {
    sub->add_option("--token", token,
                    "The cluster token (default: PHOTON_CLUSTER_TOKEN, else the one a cluster on "
                    "this host recorded; a new one for --head)");
  }

  CLI11_PARSE(app, argc, argv);
  auto config = SystemConfig::FromProcessEnvironment();
  if (!config.ok()) {
    std::fprintf(stderr, "photon: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  if (!token.empty()) {
    if (auto s = photon::ValidateClusterToken(token); !s.ok()) {
      std::fprintf(stderr, "photon: --token: %s\n", std::string(s.message()).c_str());
      return 2;
    }
    config->set_cluster_token(token);
  }
  if (!redis_address.empty()) config->set_redis_address(redis_address);
  if (!redis_password.empty()) config->set_redis_password(redis_password);
  if (start->parsed()) {
    if (!head && !config->redis_address().empty() && !redis_address.empty()) {
      std::fprintf(stderr,
                   "photon start: --redis-address is for the head node (its GCS keeps the "
                   "tables); other nodes only need --address\n");
      return 2;
    }
    return Start(*config, head, address, port, num_cpus, num_gpus, resources, labels, store_memory,
                 host, block, metrics_port);
  }
  if (stop->parsed()) return Stop(*config, force);
  if (status->parsed()) return Status(*config, status_address);
  if (timeline->parsed()) return Timeline(*config, state_address, timeline_output);
  if (logs->parsed()) return Logs(*config, state_address, logs_args);
  if (memory->parsed()) {
    memory_options.line_wrap = !memory_no_wrap;
    return Memory(*config, state_address, memory_options);
  }
  for (CLI::App* sub : {list, get, summary}) {
    if (sub->parsed()) {
      return State(*config, state_address, sub->get_name(), state_what, state_id, state_filters,
                   state_limit, state_detail, state_format);
    }
  }
  return 0;
}
