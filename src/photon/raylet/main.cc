// photon-raylet: one per node. Grants worker leases, runs the worker pool and
// hosts the node's object store.
#include <unistd.h>

#include <csignal>
#include <iostream>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "fmt/format.h"
#include "photon/common/config.h"
#include "photon/common/log_rotation.h"
#include "photon/common/logging.h"
#include "photon/common/process.h"
#include "photon/common/timer.h"
#include "photon/raylet/node_manager.h"
#include "photon/rpc/auth.h"

namespace {

// Parses "name=qty,name=qty" (also accepts a JSON-ish {"name": qty}).
// "key=value,key=value" (keys and values without commas or '=').
bool ParseLabels(const std::string& text, std::map<std::string, std::string>* out,
                 std::string* error) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t comma = text.find(',', pos);
    std::string item =
        text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? text.size() : comma + 1;
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      *error = fmt::format("bad label '{}' (expected key=value)", item);
      return false;
    }
    (*out)[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return true;
}

bool ParseResources(std::string text, std::map<std::string, double>* out, std::string* error) {
  for (char& c : text) {
    if (c == '{' || c == '}' || c == '"' || c == '\'' || c == ' ') c = ' ';
  }
  size_t pos = 0;
  while (pos < text.size()) {
    size_t comma = text.find(',', pos);
    std::string item =
        text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? text.size() : comma + 1;
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (item.empty()) continue;
    // name=quantity, or name: quantity from JSON; a name may hold ':'
    // (accelerator_type:V100), so the last separator splits.
    size_t eq = item.find_last_of("=:");
    std::string name = item.substr(0, eq);
    name.erase(name.find_last_not_of(' ') + 1);
    double qty = 0;
    if (eq == std::string::npos || name.empty() ||
        !absl::SimpleAtod(absl::string_view(item.data() + eq + 1, item.size() - eq - 1), &qty)) {
      *error = fmt::format("bad resource '{}' (expected name=quantity)", item);
      return false;
    }
    (*out)[name] = qty;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"photon-raylet: the per-node daemon of a Photon cluster"};
  photon::raylet::NodeManagerOptions opts;
  double num_cpus = static_cast<double>(std::thread::hardware_concurrency());
  double num_gpus = 0;
  std::string resources_text, port_file;
  int parent_pid = 0;
  app.add_option("--gcs-address", opts.gcs_address, "GCS address host:port")->required();
  app.add_option("--host", opts.host, "Interface to listen on and advertise");
  app.add_option("--port", opts.port, "Port (0: any free port)");
  app.add_option("--num-cpus", num_cpus, "CPUs of this node");
  app.add_option("--num-gpus", num_gpus, "GPUs of this node");
  app.add_option("--resources", resources_text, "Custom resources: name=qty,name=qty");
  app.add_option("--object-store-memory", opts.object_store_memory, "Object store bytes");
  app.add_option("--metrics-export-port", opts.metrics_export_port,
                 "Port of the node's Prometheus /metrics endpoint (0: any free port)");
  std::string labels_text;
  app.add_option("--labels", labels_text, "Node labels: key=value,key=value");
  app.add_option("--session-dir", opts.session_dir, "Session folder")->required();
  app.add_option("--port-file", port_file, "Write the bound port here once registered");
  bool head = false;
  app.add_flag("--head", head, "This is the cluster's head node (resource node:__internal_head__)");
  app.add_option("--parent-pid", parent_pid, "Exit when this parent process dies");
  CLI11_PARSE(app, argc, argv);

  photon::BlockTerminationSignals();
  if (parent_pid > 0) photon::DieWithParent(parent_pid, SIGTERM);
  auto config = photon::SystemConfig::FromProcessEnvironment();
  if (!config.ok()) {
    std::cerr << "photon-raylet: " << config.status().message() << "\n";
    return 2;
  }
  std::string error;
  if (!ParseResources(resources_text, &opts.resources, &error)) {
    std::cerr << "photon-raylet: " << error << "\n";
    return 2;
  }
  if (!ParseLabels(labels_text, &opts.labels, &error)) {
    std::cerr << "photon-raylet: " << error << "\n";
    return 2;
  }
  if (num_cpus < 0 || num_gpus < 0) {
    std::cerr << "photon-raylet: --num-cpus and --num-gpus must be >= 0\n";
    return 2;
  }
  if (opts.resources.count("CPU") || opts.resources.count("GPU")) {
    std::cerr << "photon-raylet: use --num-cpus/--num-gpus, not CPU/GPU in --resources\n";
    return 2;
  }
  opts.resources["CPU"] = num_cpus;
  // As in Ray: every node has node:<ip> = 1, the head node:__internal_head__ = 1,
  // so a task can ask for a node by address with a tiny amount of either.
  opts.resources[fmt::format("node:{}", opts.host == "0.0.0.0" ? "127.0.0.1" : opts.host)] = 1;
  if (head) opts.resources["node:__internal_head__"] = 1;
  if (num_gpus > 0) opts.resources["GPU"] = num_gpus;
  if (auto s = photon::rpc::AdoptClusterToken(&*config); !s.ok()) {
    std::cerr << "photon-raylet: " << s.message() << "\n";
    return 2;
  }
  photon::SetMutexDeadlockDetection(config->mutex_deadlock_detection());
  if (auto s = photon::InitLogging("raylet", opts.session_dir, config->log_level(), nullptr,
                                   photon::LogRotationOf(*config));
      !s.ok()) {
    std::cerr << "photon-raylet: " << s.message() << "\n";
    return 2;
  }
  // Declared dead by the GCS (a partition outlasted the health checks): stop
  // as if asked to, and say why.
  opts.on_declared_dead = [](const std::string& reason) {
    std::cerr << "photon-raylet: the GCS declared this node dead (" << reason << "); exiting\n";
    photon::SignalProcess(getpid(), SIGTERM);
  };
  opts.on_cluster_lost = [](const std::string& why) {
    std::cerr << "photon-raylet: " << why << "; exiting\n";
    photon::SignalProcess(getpid(), SIGTERM);
  };
  photon::raylet::NodeManager node(*config, opts);
  if (auto s = node.Start(); !s.ok()) {
    std::cerr << "photon-raylet: " << s.message() << "\n";
    PHOTON_LOG_ERROR("cannot start: {}", std::string(s.message()));
    node.Stop();
    return 1;
  }
  if (!port_file.empty()) {
    auto s = photon::WriteFileAtomically(port_file,
                                         fmt::format("{} {}", node.port(), node.node_id().Hex()));
    if (!s.ok()) {
      std::cerr << "photon-raylet: " << s.message() << "\n";
      node.Stop();
      return 1;
    }
  }
  photon::ThreadTimer rotation_timer("log rotation");
  photon::RotateStdioPeriodically(&rotation_timer, photon::LogRotationOf(*config));
  int sig = photon::WaitForTerminationSignal();
  PHOTON_LOG_INFO("photon-raylet stopping on signal {}", sig);
  node.Stop();
  photon::ShutdownLogging();
  return node.declared_dead() ? 1 : 0;
}
