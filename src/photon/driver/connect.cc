#include "photon/driver/connect.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <set>

#include "absl/strings/str_split.h"
#include "fmt/format.h"
#include "photon/common/logging.h"
#include "photon/common/process.h"
#include "photon/rpc/auth.h"

namespace photon {
namespace {

// The host part of "host:port" (127.0.0.1 if there is none).
std::string HostOf(const std::string& address) {
  size_t colon = address.rfind(':');
  std::string host = colon == std::string::npos ? "" : address.substr(0, colon);
  return host.empty() ? "127.0.0.1" : host;
}

// This host's IPv4 addresses (and 127.0.0.1).
std::set<std::string> HostAddresses() {
  std::set<std::string> out{"127.0.0.1"};
  struct ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (struct ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
    char buf[INET_ADDRSTRLEN];
    auto* in = reinterpret_cast<struct sockaddr_in*>(a->ifa_addr);
    if (inet_ntop(AF_INET, &in->sin_addr, buf, sizeof(buf)) != nullptr) out.insert(buf);
  }
  freeifaddrs(list);
  return out;
}

std::string RandomNamespace() {
  uint8_t b[8];
  FillRandom(b, sizeof(b));
  std::string s;
  for (uint8_t c : b) s += fmt::format("{:02x}", c);
  return s;
}

}  // namespace

std::vector<std::string> OwnCommandLine() {
  std::vector<std::string> args;
  std::ifstream f("/proc/self/cmdline", std::ios::binary);
  std::string arg;
  while (std::getline(f, arg, '\0')) args.push_back(arg);
  std::string self = SelfExecutablePath();
  if (!self.empty() && !args.empty()) args[0] = self;
  return args;
}

absl::StatusOr<DriverConnection> ConnectDriver(const SystemConfig& given_config,
                                               DriverOptions options) {
  SystemConfig config = given_config;  // gets the cluster token below
  auto cluster_options = ClusterOptionsFromConfig(config);
  if (!cluster_options.ok()) return cluster_options.status();
  for (const auto& [k, v] : options.resources) {
    if (k == "CPU" || k == "GPU") {
      return absl::InvalidArgumentError(
          fmt::format("use num_cpus/num_gpus for {}, not resources['{}']", k, k));
    }
    if (!(v >= 0)) {
      return absl::InvalidArgumentError(fmt::format("resource '{}' must be >= 0, got {}", k, v));
    }
  }
  if (options.num_cpus && !(*options.num_cpus >= 0)) {
    return absl::InvalidArgumentError("num_cpus must be >= 0");
  }
  DriverConnection conn;
  std::string address = options.address.empty() ? config.address() : options.address;
  if (address.empty()) {
    auto bin = FindBinDir(config.bin_dir());
    if (!bin.ok()) return bin.status();
    NodeArgs head;
    if (options.num_cpus) head.num_cpus = *options.num_cpus;
    head.num_gpus = options.num_gpus;
    head.resources = options.resources;
    head.object_store_memory = options.object_store_memory;
    head.metrics_export_port = options.metrics_export_port;
    auto cluster = LocalCluster::Start(*bin, config.session_dir_root(), &head, *cluster_options);
    if (!cluster.ok()) {
      return absl::InternalError(
          fmt::format("cannot start a local cluster: {}", std::string(cluster.status().message())));
    }
    conn.cluster = std::move(*cluster);
    address = conn.cluster->gcs_address();
    conn.raylet_address = conn.cluster->nodes().front().address;
    conn.session_dir = conn.cluster->session_dir();
    config.set_cluster_token(conn.cluster->token());
  } else if (options.num_cpus || options.num_gpus > 0 || !options.resources.empty() ||
             options.object_store_memory > 0) {
    return absl::InvalidArgumentError(fmt::format(
        "num_cpus, num_gpus, resources and object_store_memory only apply when starting a "
        "local cluster, not when joining the cluster at {}",
        address));
  }
  if (conn.cluster == nullptr && *cluster_options->authenticate && config.cluster_token().empty()) {
    // A cluster this process started (a test harness's), or one on this host
    // that left its token in its session folder.
    auto found = FindClusterToken(config.session_dir_root(), address);
    if (found.ok()) config.set_cluster_token(*found);
  }
  if (!*cluster_options->authenticate) config.set_cluster_token("");
  rpc::SetClusterToken(config.cluster_token());
  auto gcs = GcsClient::Connect(address, config);
  if (absl::IsUnauthenticated(gcs.status())) {
    return absl::UnauthenticatedError(fmt::format(
        "the cluster at {} refused this driver: {}. Set PHOTON_CLUSTER_TOKEN to the token that "
        "`photon start --head` printed (the file cluster_token in the head's session folder)",
        address, config.cluster_token().empty() ? "it requires a cluster token" : "wrong token"));
  }
  if (!gcs.ok()) return gcs.status();
  if (conn.raylet_address.empty()) {
    auto nodes = (*gcs)->GetAllNodes();
    if (!nodes.ok()) return nodes.status();
    // The local node: the oldest live node on this host (the head, when
    // several nodes share the machine), else the oldest live node. A node is
    // on this host when it advertises one of this host's addresses (the
    // store's socket is only reachable there).
    const rpc::NodeInfo* pick = nullptr;
    const std::set<std::string> here = HostAddresses();
    auto better = [&here](const rpc::NodeInfo& a, const rpc::NodeInfo* b) {
      if (b == nullptr) return true;
      bool a_local = here.contains(a.ip()), b_local = here.contains(b->ip());
      if (a_local != b_local) return a_local;
      return a.start_time_ms() < b->start_time_ms();
    };
    for (const auto& n : *nodes) {
      if (n.state() == rpc::NodeInfo::ALIVE && better(n, pick)) pick = &n;
    }
    if (pick != nullptr) {
      conn.raylet_address = fmt::format("{}:{}", pick->ip(), pick->raylet_port());
      conn.session_dir = pick->session_dir();
    }
    if (conn.raylet_address.empty()) {
      return absl::UnavailableError(fmt::format("the cluster at {} has no live node", address));
    }
  }
  SetMutexDeadlockDetection(config.mutex_deadlock_detection());
  if (auto s = InitLogging("driver",
                           conn.session_dir.empty() ? config.session_dir_root() : conn.session_dir,
                           config.log_level(), nullptr, LogRotationOf(config));
      !s.ok()) {
    // The driver still runs; its log lines go to stderr (spdlog's default).
    PHOTON_LOG_WARN("no log file for this driver: {}", std::string(s.message()));
  }
  rpc::JobInfo job_info;
  job_info.set_driver_pid(getpid());
  job_info.set_ray_namespace(options.ray_namespace.empty() ? RandomNamespace()
                                                           : options.ray_namespace);
  for (const auto& p : options.code_search_path) job_info.add_code_search_path(p);
  auto job = (*gcs)->AddJob(job_info);
  if (!job.ok()) return job.status();

  core::CoreWorkerOptions o;
  o.is_driver = true;
  o.language = options.language;
  o.gcs_address = address;
  o.raylet_address = conn.raylet_address;
  o.host = HostOf(conn.raylet_address);  // reachable where its raylet is
  o.job_id = *job;
  o.ray_namespace = job_info.ray_namespace();
  o.worker_command = options.worker_command;
  o.worker_env = options.worker_env;
  for (const auto& [k, v] : config.ToEnvironment()) {
    // Not the token: each raylet gives its workers its own.
    if (k == ConfigEnvVar("address") || k == ConfigEnvVar("cluster_token")) continue;
    if (!o.worker_env.contains(k)) o.worker_env[k] = v;
  }
  o.worker_env[ConfigEnvVar("job_namespace")] = o.ray_namespace;
  // Workers learn how the job's workers are started, so that the tasks they
  // submit run in the same kind of worker (and the same worker pool).
  std::string command, env;
  for (const auto& a : o.worker_command) command += (command.empty() ? "" : "\x1f") + a;
  for (const auto& [k, v] : o.worker_env) env += (env.empty() ? "" : "\x1f") + k + "=" + v;
  o.worker_env[ConfigEnvVar("job_worker_command")] = command;
  o.worker_env[ConfigEnvVar("job_worker_env")] = env;
  auto worker = core::CoreWorker::Create(config, o);
  if (!worker.ok()) return worker.status();
  conn.worker = std::move(*worker);
  conn.gcs_address = address;
  conn.ray_namespace = job_info.ray_namespace();
  return conn;
}

absl::StatusOr<std::unique_ptr<core::CoreWorker>> ConnectWorker(
    const SystemConfig& config, rpc::Language language, core::TaskExecutor executor,
    std::function<void(const TaskID&)> interrupt) {
  if (config.raylet_pid() > 0) DieWithParent(static_cast<pid_t>(config.raylet_pid()), SIGKILL);
  auto token = rpc::TokenFromSettings(config.auth_mode(), config.cluster_token());
  if (!token.ok()) return token.status();
  rpc::SetClusterToken(*token);
  SetMutexDeadlockDetection(config.mutex_deadlock_detection());
  if (auto s = InitLogging("worker", config.session_dir(), config.log_level(), nullptr,
                           LogRotationOf(config));
      !s.ok()) {
    // The worker still runs; its log lines go to stderr, which the raylet keeps.
    PHOTON_LOG_WARN("no log file for this worker: {}", std::string(s.message()));
  }
  auto job = JobID::FromHex(config.job_id());
  auto wid = WorkerID::FromHex(config.worker_id());
  if (!job.ok() || !wid.ok()) {
    return absl::InvalidArgumentError("bad PHOTON_JOB_ID or PHOTON_WORKER_ID");
  }
  core::CoreWorkerOptions o;
  o.is_driver = false;
  o.language = language;
  o.gcs_address = config.address();
  o.raylet_address = config.raylet_address();
  o.host = HostOf(config.raylet_address());
  o.job_id = *job;
  o.worker_id = *wid;
  o.ray_namespace = config.job_namespace();
  o.worker_command = OwnCommandLine();
  if (!config.job_worker_command().empty()) {
    o.worker_command = absl::StrSplit(config.job_worker_command(), '\x1f');
  }
  for (absl::string_view kv : absl::StrSplit(config.job_worker_env(), '\x1f', absl::SkipEmpty())) {
    size_t eq = kv.find('=');
    if (eq == absl::string_view::npos) continue;
    o.worker_env[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
  }
  if (!config.job_worker_command().empty()) {
    o.worker_env[ConfigEnvVar("job_worker_command")] = config.job_worker_command();
    o.worker_env[ConfigEnvVar("job_worker_env")] = config.job_worker_env();
  }
  o.executor = std::move(executor);
  o.interrupt = std::move(interrupt);
  return core::CoreWorker::Create(config, o);
}

}  // namespace photon
