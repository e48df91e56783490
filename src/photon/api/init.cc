// photon::Init / Shutdown / IsInitialized: start or join a cluster as a
// driver, or (in a process the raylet started) serve tasks as a worker.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "fmt/format.h"
#include "photon/api.h"
#include "photon/api/local_cluster.h"
#include "photon/api/runtime_impl.h"
#include "photon/common/config.h"
#include "photon/common/logging.h"
#include "photon/common/process.h"
#include "photon/internal/function_registry.h"

namespace photon {
namespace {

struct State {
  std::unique_ptr<LocalCluster> cluster;
  std::unique_ptr<core::CoreWorker> worker;
  std::unique_ptr<internal::CoreWorkerRuntime> runtime;
};

std::mutex g_mu;
State* g_state = nullptr;  // guarded by g_mu

std::vector<std::string> SplitPath(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t colon = s.find(':', pos);
    std::string part = s.substr(pos, colon == std::string::npos ? std::string::npos : colon - pos);
    if (!part.empty()) out.push_back(part);
    if (colon == std::string::npos) break;
    pos = colon + 1;
  }
  return out;
}

std::vector<std::string> OwnCommandLine() {
  std::vector<std::string> args;
  std::ifstream f("/proc/self/cmdline", std::ios::binary);
  std::string arg;
  while (std::getline(f, arg, '\0')) args.push_back(arg);
  return args;
}

std::string RandomNamespace() {
  uint8_t b[8];
  FillRandom(b, sizeof(b));
  std::string s;
  for (uint8_t c : b) s += fmt::format("{:02x}", c);
  return s;
}

core::TaskResult ExecuteCpp(const rpc::TaskSpec& spec,
                            const std::vector<const core::ObjectValue*>& args) {
  std::vector<std::string_view> views;
  views.reserve(args.size());
  for (const auto* a : args) views.push_back(a->data);
  internal::ExecutionResult r = internal::ExecuteFunction(spec.function_name(), views);
  core::TaskResult out;
  switch (r.kind) {
    case internal::ExecutionResult::Kind::kOk:
      out.kind = core::TaskResult::Kind::kOk;
      out.metadata = "msgpack";
      out.value = std::move(r.value);
      break;
    case internal::ExecutionResult::Kind::kException:
      out.kind = core::TaskResult::Kind::kApplicationError;
      out.error_type = r.exception_type;
      out.error_message = r.message;
      break;
    case internal::ExecutionResult::Kind::kFunctionNotFound:
      out.kind = core::TaskResult::Kind::kFunctionNotFound;
      out.error_message = r.message;
      break;
  }
  return out;
}

// A process the raylet started: serve tasks until told to stop, then exit.
[[noreturn]] void RunWorker(const SystemConfig& config) {
  if (config.raylet_pid() > 0) DieWithParent(static_cast<pid_t>(config.raylet_pid()), SIGKILL);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  signal(SIGPIPE, SIG_IGN);
  InitLogging("worker", config.session_dir(), config.log_level()).IgnoreError();
  for (const auto& err : internal::LoadFunctionLibraries(SplitPath(config.code_search_path()))) {
    std::fprintf(stderr, "photon worker: %s\n", err.c_str());
  }
  auto job = JobID::FromHex(config.job_id());
  auto wid = WorkerID::FromHex(config.worker_id());
  if (!job.ok() || !wid.ok()) {
    std::fprintf(stderr, "photon worker: bad PHOTON_JOB_ID or PHOTON_WORKER_ID\n");
    std::_Exit(2);
  }
  core::CoreWorkerOptions o;
  o.is_driver = false;
  o.gcs_address = config.address();
  o.raylet_address = config.raylet_address();
  o.job_id = *job;
  o.worker_id = *wid;
  o.worker_command = OwnCommandLine();
  o.executor = ExecuteCpp;
  auto worker = core::CoreWorker::Create(config, o);
  if (!worker.ok()) {
    std::fprintf(stderr, "photon worker: %s\n", std::string(worker.status().message()).c_str());
    std::_Exit(1);
  }
  auto runtime = std::make_unique<internal::CoreWorkerRuntime>(worker->get());
  internal::SetRuntime(runtime.get());
  int code = (*worker)->RunTaskLoop();
  std::fflush(stdout);
  std::fflush(stderr);
  ShutdownLogging();
  std::_Exit(code);
}

// Applies --photon_<name>=value flags to `config`.
void ApplyFlags(int argc, char** argv, Config* config) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--photon_", 0) != 0) continue;
    size_t eq = a.find('=');
    if (eq == std::string::npos) throw std::invalid_argument("flag " + a + " needs =value");
    std::string name = a.substr(9, eq - 9), value = a.substr(eq + 1);
    if (name == "address") {
      config->address = value;
    } else if (name == "code_search_path") {
      config->code_search_path = SplitPath(value);
    } else if (name == "namespace") {
      config->ray_namespace = value;
    } else if (name == "log_level") {
      config->log_level = value;
    } else {
      throw std::invalid_argument("unknown flag " + a.substr(0, eq) +
                                  " (known: --photon_address, --photon_code_search_path, "
                                  "--photon_namespace, --photon_log_level)");
    }
  }
}

void InitDriver(const Config& user, const std::vector<std::string>& argv) {
  auto sys = SystemConfig::FromProcessEnvironment();
  if (!sys.ok()) throw std::invalid_argument(std::string(sys.status().message()));
  if (!sys->raylet_address().empty()) RunWorker(*sys);
  if (!user.log_level.empty()) {
    spdlog::level::level_enum lvl;
    if (!ParseLogLevel(user.log_level, &lvl).ok()) {
      throw std::invalid_argument("Config.log_level: unknown level '" + user.log_level + "'");
    }
    sys->set_log_level(user.log_level);
  }
  if (user.num_cpus && *user.num_cpus < 0)
    throw std::invalid_argument("Config.num_cpus must be >= 0");
  for (const auto& [k, v] : user.resources) {
    if (k == "CPU" || k == "GPU") {
      throw std::invalid_argument("Config.resources: use num_cpus for CPU, not resources[\"" + k +
                                  "\"]");
    }
    if (v < 0) throw std::invalid_argument("Config.resources[\"" + k + "\"] must be >= 0");
  }
  auto state = std::make_unique<State>();
  std::string address = user.address.empty() ? sys->address() : user.address;
  std::string raylet_address;
  if (address.empty()) {
    auto bin = FindBinDir(sys->bin_dir());
    if (!bin.ok()) throw Error(std::string(bin.status().message()));
    NodeArgs head;
    if (user.num_cpus) head.num_cpus = *user.num_cpus;
    head.resources.insert(user.resources.begin(), user.resources.end());
    head.object_store_memory = user.object_store_memory;
    auto cluster = LocalCluster::Start(*bin, sys->session_dir_root(), &head);
    if (!cluster.ok()) {
      throw Error("cannot start a local cluster: " + std::string(cluster.status().message()));
    }
    state->cluster = std::move(*cluster);
    address = state->cluster->gcs_address();
    raylet_address = state->cluster->nodes().front().address;
  } else if (user.num_cpus || !user.resources.empty() || user.object_store_memory > 0) {
    throw std::invalid_argument(
        "num_cpus, resources and object_store_memory only apply when Init starts a local "
        "cluster, not when joining the cluster at " +
        address);
  }
  auto gcs = GcsClient::Connect(address, sys->gcs_connect_timeout_ms());
  if (!gcs.ok()) throw Error(std::string(gcs.status().message()));
  std::string session_dir = state->cluster ? state->cluster->session_dir() : "";
  if (raylet_address.empty()) {
    auto nodes = (*gcs)->GetAllNodes();
    if (!nodes.ok()) throw Error(std::string(nodes.status().message()));
    for (const auto& n : *nodes) {
      if (n.state() != rpc::NodeInfo::ALIVE) continue;
      if (raylet_address.empty() || n.ip() == "127.0.0.1") {
        raylet_address = fmt::format("{}:{}", n.ip(), n.raylet_port());
        session_dir = n.session_dir();
      }
    }
    if (raylet_address.empty()) throw Error("the cluster at " + address + " has no live node");
  }
  InitLogging("driver", session_dir.empty() ? sys->session_dir_root() : session_dir,
              sys->log_level())
      .IgnoreError();
  rpc::JobInfo job_info;
  job_info.set_driver_pid(getpid());
  job_info.set_ray_namespace(user.ray_namespace.empty() ? RandomNamespace() : user.ray_namespace);
  for (const auto& p : user.code_search_path) job_info.add_code_search_path(p);
  auto job = (*gcs)->AddJob(job_info);
  if (!job.ok()) throw Error("cannot register the job: " + std::string(job.status().message()));

  core::CoreWorkerOptions o;
  o.is_driver = true;
  o.gcs_address = address;
  o.raylet_address = raylet_address;
  o.job_id = *job;
  o.ray_namespace = job_info.ray_namespace();
  if (user.code_search_path.empty()) {
    o.worker_command = argv;
    std::string self = SelfExecutablePath();
    if (!self.empty() && !o.worker_command.empty()) o.worker_command[0] = self;
  } else {
    auto bin = FindBinDir(sys->bin_dir());
    if (!bin.ok()) throw Error(std::string(bin.status().message()));
    std::string paths;
    for (const auto& p : user.code_search_path) {
      paths += (paths.empty() ? "" : ":") + std::filesystem::absolute(p).string();
    }
    o.worker_command = {*bin + "/photon-default-worker"};
    o.worker_env[ConfigEnvVar("code_search_path")] = paths;
  }
  for (const auto& [k, v] : sys->ToEnvironment()) {
    if (k != ConfigEnvVar("address") && k != ConfigEnvVar("code_search_path")) o.worker_env[k] = v;
  }
  auto worker = core::CoreWorker::Create(*sys, o);
  if (!worker.ok()) throw Error(std::string(worker.status().message()));
  state->worker = std::move(*worker);
  state->runtime = std::make_unique<internal::CoreWorkerRuntime>(state->worker.get());
  internal::SetRuntime(state->runtime.get());
  g_state = state.release();
}

void InitImpl(const Config& config, const std::vector<std::string>& argv) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_state != nullptr) throw Error("photon::Init was already called in this process");
  InitDriver(config, argv);
}

}  // namespace

void Init() { InitImpl(Config{}, OwnCommandLine()); }

void Init(const Config& config) { InitImpl(config, OwnCommandLine()); }

void Init(const Config& config, int argc, char** argv) {
  Config c = config;
  ApplyFlags(argc, argv, &c);
  InitImpl(c, OwnCommandLine());
}

void Shutdown() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_state == nullptr) return;
  internal::SetRuntime(nullptr);
  std::unique_ptr<State> state(g_state);
  g_state = nullptr;
  state->worker->Shutdown();
  if (state->cluster) state->cluster->Shutdown();
  state->runtime.reset();
  state->worker.reset();
  spdlog::default_logger()->flush();
}

bool IsInitialized() {
  std::lock_guard<std::mutex> lock(g_mu);
  return g_state != nullptr;
}

}  // namespace photon
