// Bootstrapping a core worker: a driver joining (or starting) a cluster, and
// a worker the raylet started. Shared by the C++ API (photon::Init) and the
// Python extension (photon.init), so both behave the same.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "photon/cluster/local_cluster.h"
#include "photon/common/config.h"
#include "photon/core_worker/core_worker.h"

namespace photon {

struct DriverOptions {
  std::string address;                      // empty: config.address(), else a local cluster
  std::optional<double> num_cpus;           // local cluster only
  double num_gpus = 0;                      // local cluster only
  std::map<std::string, double> resources;  // local cluster only
  int64_t object_store_memory = 0;          // local cluster only
  int metrics_export_port = 0;              // local cluster only (0: any free port)
  std::string ray_namespace;                // empty: random
  rpc::Language language = rpc::CPP;
  std::vector<std::string> worker_command;  // how the raylet starts this job's workers
  std::map<std::string, std::string> worker_env;
  std::vector<std::string> code_search_path;
};

struct DriverConnection {
  std::unique_ptr<LocalCluster> cluster;  // set if this driver started it
  std::unique_ptr<core::CoreWorker> worker;
  std::string gcs_address;
  std::string raylet_address;
  std::string session_dir;
  std::string ray_namespace;
};

// Starts a private local cluster (no address anywhere) or joins the one at the
// address, registers a job and creates the driver's core worker. Fails with
// InvalidArgument for options that do not apply (local-cluster options when
// joining) and Unavailable/Internal naming what could not be reached/started.
absl::StatusOr<DriverConnection> ConnectDriver(const SystemConfig& config, DriverOptions options);

// In a process the raylet started (config.raylet_address() is set): creates
// the worker's core worker. The caller then runs RunTaskLoop().
// `interrupt` (optional) stops a running task when it is cancelled.
absl::StatusOr<std::unique_ptr<core::CoreWorker>> ConnectWorker(
    const SystemConfig& config, rpc::Language language, core::TaskExecutor executor,
    std::function<void(const TaskID&)> interrupt = nullptr);

// The command line of this process (from /proc/self/cmdline), argv[0] made absolute.
std::vector<std::string> OwnCommandLine();

}  // namespace photon
