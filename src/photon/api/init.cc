// photon::Init / Shutdown / IsInitialized: start or join a cluster as a
// driver, or (in a process the raylet started) serve tasks as a worker.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "fmt/format.h"
#include "photon/api.h"
#include "photon/api/runtime_impl.h"
#include "photon/common/config.h"
#include "photon/common/logging.h"
#include "photon/common/process.h"
#include "photon/driver/connect.h"
#include "photon/internal/function_registry.h"

namespace photon {
namespace {

struct State {
  std::unique_ptr<LocalCluster> cluster;
  std::unique_ptr<core::CoreWorker> worker;
  std::unique_ptr<internal::CoreWorkerRuntime> runtime;
};

absl::Mutex g_mu;
State* g_state ABSL_GUARDED_BY(g_mu) = nullptr;

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

// The state of the actor this worker hosts (made by its creation task).
std::shared_ptr<void> g_actor_instance;
// This worker's core worker: set before the first task runs, never changed after.
core::CoreWorker* g_worker = nullptr;

// The actor handles packed in a return value (each with one handle reference
// held, see ExecutionResult), handed to the caller with it: the references
// pass to the receiver, which releases them once the reply is sent.
std::vector<core::OwnedRef> LendNestedHandles(const std::vector<std::string>& actor_ids) {
  std::vector<core::OwnedRef> out;
  for (const auto& actor : actor_ids) {
    auto id = ActorID::FromBinary(actor);
    auto owner = id.ok() && g_worker != nullptr ? g_worker->OwnerOf(ObjectID::ForActorHandle(*id))
                                                : std::nullopt;
    if (!owner) {
      internal::ReleaseActor(actor);  // not a handle this process knows: nothing to hand over
      continue;
    }
    out.push_back(core::OwnedRef{ObjectID::ForActorHandle(*id), *owner});
  }
  return out;
}

core::TaskResult ExecuteCpp(const rpc::TaskSpec& spec,
                            const std::vector<const core::ObjectValue*>& args) {
  std::vector<std::string_view> views;
  views.reserve(args.size());
  for (const auto* a : args) views.push_back(a->data);
  internal::ExecutionResult r;
  if (spec.type() == rpc::ACTOR_CREATION_TASK) {
    r = internal::CreateActorInstance(spec.function_name(), views, &g_actor_instance);
  } else if (spec.type() == rpc::ACTOR_TASK) {
    if (g_actor_instance == nullptr) {
      r.kind = internal::ExecutionResult::Kind::kException;
      r.exception_type = "photon::ActorDiedError";
      r.message = "this worker hosts no actor";
    } else {
      r = internal::ExecuteActorMethod(spec.function_name(), g_actor_instance.get(), views);
    }
  } else {
    r = internal::ExecuteFunction(spec.function_name(), views);
  }
  core::TaskResult out;
  switch (r.kind) {
    case internal::ExecutionResult::Kind::kOk:
      out.kind = core::TaskResult::Kind::kOk;
      out.returns.push_back(
          core::ReturnValue{"msgpack", std::move(r.value), LendNestedHandles(r.nested_actor_ids)});
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
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  signal(SIGPIPE, SIG_IGN);
  for (const auto& err : internal::LoadFunctionLibraries(SplitPath(config.code_search_path()))) {
    std::fprintf(stderr, "photon worker: %s\n", err.c_str());
  }
  auto worker = ConnectWorker(config, rpc::CPP, ExecuteCpp);
  if (!worker.ok()) {
    std::fprintf(stderr, "photon worker: %s\n", std::string(worker.status().message()).c_str());
    std::_Exit(1);
  }
  auto runtime = std::make_unique<internal::CoreWorkerRuntime>(worker->get());
  internal::SetRuntime(runtime.get());
  g_worker = worker->get();
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

void InitDriver(const Config& user, const std::vector<std::string>& argv)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_mu) {
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
  DriverOptions o;
  o.address = user.address;
  o.num_cpus = user.num_cpus;
  o.resources.insert(user.resources.begin(), user.resources.end());
  o.object_store_memory = user.object_store_memory;
  o.ray_namespace = user.ray_namespace;
  o.language = rpc::CPP;
  o.code_search_path = user.code_search_path;
  if (user.code_search_path.empty()) {
    o.worker_command = argv;
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
  auto conn = ConnectDriver(*sys, std::move(o));
  if (!conn.ok()) {
    if (absl::IsInvalidArgument(conn.status())) {
      throw std::invalid_argument(std::string(conn.status().message()));
    }
    throw Error(std::string(conn.status().message()));
  }
  auto state = std::make_unique<State>();
  state->cluster = std::move(conn->cluster);
  state->worker = std::move(conn->worker);
  state->runtime = std::make_unique<internal::CoreWorkerRuntime>(state->worker.get());
  internal::SetRuntime(state->runtime.get());
  g_state = state.release();
}

void InitImpl(const Config& config, const std::vector<std::string>& argv) {
  absl::MutexLock lock(&g_mu);
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
  absl::MutexLock lock(&g_mu);
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
  absl::MutexLock lock(&g_mu);
  return g_state != nullptr;
}

}  // namespace photon
