#include "photon/cluster/local_cluster.h"

#include <dlfcn.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "fmt/format.h"
#include "photon/common/cluster_token.h"
#include "photon/common/config.h"
#include "photon/common/process.h"
#include "photon/common/status.h"
#include "photon/rpc/auth.h"

namespace photon {
namespace {

std::string NewSessionName() {
  return fmt::format("session_{}_{}_{}",
                     absl::FormatTime("%Y-%m-%d_%H-%M-%S", absl::Now(), absl::LocalTimeZone()),
                     getpid(), absl::ToUnixMicros(absl::Now()) % 1000000);
}

// Waits for a daemon's port file; fails if the daemon exits or time runs out.
absl::StatusOr<std::string> WaitForPortFile(const std::string& path, pid_t pid,
                                            const std::string& what, const std::string& log_hint,
                                            int64_t timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream f(path);
    std::string content;
    if (f && std::getline(f, content) && !content.empty()) return content;
    int status = 0;
    if (ReapIfExited(pid, &status)) {
      // The daemon's last words (its stderr) say why, e.g. an unreachable Redis.
      std::ifstream err(log_hint);
      std::string line, last;
      while (std::getline(err, line)) {
        if (!line.empty()) last = line;
      }
      return absl::InternalError(fmt::format("{} exited during startup (status {}){}{}; see {}",
                                             what, WEXITSTATUS(status), last.empty() ? "" : ": ",
                                             last, log_hint));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return absl::DeadlineExceededError(
      fmt::format("{} did not start within {} ms; see {}", what, timeout_ms, log_hint));
}

// The port part of "host:port" ("" if there is none).
std::string PortOf(const std::string& address) {
  size_t colon = address.rfind(':');
  return colon == std::string::npos ? "" : address.substr(colon + 1);
}

// Tokens of the clusters this process started or attached to, by GCS address.
struct StartedClusters {
  absl::Mutex mu;
  std::map<std::string, std::string> tokens ABSL_GUARDED_BY(mu);
};

StartedClusters& Started() {
  static auto* started = new StartedClusters();
  return *started;
}

// Whether the daemons of a cluster started with `options` require a token.
absl::StatusOr<bool> Authenticates(const ClusterOptions& options) {
  if (options.authenticate.has_value()) return *options.authenticate;
  auto config = SystemConfig::FromProcessEnvironment();
  if (!config.ok()) return config.status();
  auto o = ClusterOptionsFromConfig(*config);
  if (!o.ok()) return o.status();
  return *o->authenticate;
}

}  // namespace

absl::StatusOr<ClusterOptions> ClusterOptionsFromConfig(const SystemConfig& config) {
  if (config.auth_mode() != "token" && config.auth_mode() != "disabled") {
    return absl::InvalidArgumentError(
        fmt::format("auth_mode (PHOTON_AUTH_MODE) must be 'token' or 'disabled', not '{}'",
                    config.auth_mode()));
  }
  ClusterOptions o;
  o.authenticate = config.auth_mode() == "token";
  if (o.authenticate) o.token = config.cluster_token();
  o.redis_address = config.redis_address();
  o.redis_password = config.redis_password();
  return o;
}

absl::StatusOr<std::string> FindClusterToken(const std::string& session_root,
                                             const std::string& gcs_address) {
  {
    StartedClusters& started = Started();
    absl::MutexLock lock(&started.mu);
    auto it = started.tokens.find(gcs_address);
    if (it != started.tokens.end()) return it->second;
  }
  namespace fs = std::filesystem;
  struct Candidate {
    fs::file_time_type time;
    std::string token_file;
    bool exact;
  };
  std::vector<Candidate> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(session_root, ec)) {
    const fs::path dir = entry.path();
    if (dir.filename().string().rfind("session_", 0) != 0) continue;
    std::ifstream f(dir / "gcs_address");
    std::string recorded;
    if (!f || !std::getline(f, recorded)) continue;
    bool exact = recorded == gcs_address;
    if (!exact && PortOf(recorded) != PortOf(gcs_address)) continue;
    std::error_code tec;
    auto time = fs::last_write_time(dir / "cluster_token", tec);
    if (tec) continue;
    found.push_back(Candidate{time, (dir / "cluster_token").string(), exact});
  }
  std::sort(found.begin(), found.end(), [](const Candidate& a, const Candidate& b) {
    if (a.exact != b.exact) return a.exact;
    return a.time > b.time;
  });
  for (const Candidate& c : found) {
    auto token = ReadTokenFile(c.token_file);
    if (token.ok()) return token;
  }
  return absl::NotFoundError(
      fmt::format("no session folder under {} holds the token of the cluster at {}", session_root,
                  gcs_address));
}

absl::StatusOr<std::string> FindBinDir(const std::string& configured) {
  auto has_daemons = [](const std::filesystem::path& d) {
    return std::filesystem::exists(d / "photon-gcs") &&
           std::filesystem::exists(d / "photon-raylet");
  };
  if (!configured.empty()) {
    if (has_daemons(configured)) return configured;
    return absl::NotFoundError(
        fmt::format("PHOTON_BIN_DIR={} does not hold photon-gcs and photon-raylet", configured));
  }
  std::vector<std::filesystem::path> bases;
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&FindBinDir), &info) != 0 && info.dli_fname != nullptr) {
    bases.push_back(std::filesystem::absolute(info.dli_fname).parent_path());
  }
  std::string self = SelfExecutablePath();
  if (!self.empty()) bases.push_back(std::filesystem::path(self).parent_path());
  for (const auto& b : bases) {
    for (const auto& c : {b, b / ".." / "bin", b / "_bin", b / "bin", b / "photon" / "_bin"}) {
      if (has_daemons(c)) return std::filesystem::weakly_canonical(c).string();
    }
  }
  return absl::NotFoundError(
      "cannot find photon-gcs and photon-raylet next to the Photon library; set PHOTON_BIN_DIR");
}

absl::Status LocalCluster::MakeSessionDir(const std::string& session_root) {
  session_dir_ = (std::filesystem::path(session_root) / NewSessionName()).string();
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(session_dir_) / "logs", ec);
  if (ec) {
    return absl::InternalError(
        fmt::format("cannot create session folder {}: {}", session_dir_, ec.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<LocalCluster>> LocalCluster::Start(const std::string& bin_dir,
                                                                  const std::string& session_root,
                                                                  const NodeArgs* head,
                                                                  const ClusterOptions& options) {
  std::unique_ptr<LocalCluster> c(new LocalCluster());
  c->options_ = options;
  c->bin_dir_ = bin_dir;
  auto authenticate = Authenticates(options);
  if (!authenticate.ok()) return authenticate.status();
  c->options_.authenticate = *authenticate;
  if (*authenticate) {
    c->token_ = options.token.empty() ? GenerateClusterToken() : options.token;
    if (auto s = ValidateClusterToken(c->token_); !s.ok()) return s;
  }
  if (auto s = c->MakeSessionDir(session_root); !s.ok()) return s;
  if (auto s = c->SpawnGcs(options.gcs_port); !s.ok()) {
    c->Shutdown();
    return s;
  }
  if (auto s = c->RecordToken(); !s.ok()) {
    c->Shutdown();
    return s;
  }
  if (head != nullptr) {
    NodeArgs head_args = *head;
    head_args.head = true;
    auto node = c->AddNode(head_args);
    if (!node.ok()) {
      c->Shutdown();
      return node.status();
    }
  }
  return c;
}

absl::StatusOr<std::unique_ptr<LocalCluster>> LocalCluster::Attach(const std::string& bin_dir,
                                                                   const std::string& session_root,
                                                                   const std::string& gcs_address,
                                                                   const ClusterOptions& options) {
  std::unique_ptr<LocalCluster> c(new LocalCluster());
  c->options_ = options;
  c->bin_dir_ = bin_dir;
  c->gcs_address_ = gcs_address;
  auto authenticate = Authenticates(options);
  if (!authenticate.ok()) return authenticate.status();
  c->options_.authenticate = *authenticate;
  if (*authenticate) {
    c->token_ = options.token;
    if (c->token_.empty()) {
      auto found = FindClusterToken(session_root, gcs_address);
      if (!found.ok()) {
        return absl::InvalidArgumentError(
            fmt::format("joining the cluster at {} needs its token: pass --token (or set "
                        "PHOTON_CLUSTER_TOKEN) to the one `photon start --head` printed (it is in "
                        "cluster_token in the head's session folder)",
                        gcs_address));
      }
      c->token_ = *found;
    }
    if (auto s = ValidateClusterToken(c->token_); !s.ok()) return s;
  }
  if (auto s = c->MakeSessionDir(session_root); !s.ok()) return s;
  if (auto s = c->RecordToken(); !s.ok()) return s;
  return c;
}

absl::Status LocalCluster::SpawnGcs(int port) {
  std::string port_file = session_dir_ + "/gcs_port";
  std::error_code ec;
  std::filesystem::remove(port_file, ec);
  SpawnOptions opts;
  opts.argv = {bin_dir_ + "/photon-gcs",
               "--port-file",
               port_file,
               "--session-dir",
               session_dir_,
               "--host",
               options_.host,
               "--port",
               std::to_string(port)};
  if (options_.die_with_parent) {
    opts.argv.push_back("--parent-pid");
    opts.argv.push_back(std::to_string(getpid()));
  } else {
    opts.new_process_group = true;
  }
  opts.stdout_path = session_dir_ + "/logs/gcs.out";
  opts.stderr_path = session_dir_ + "/logs/gcs.err";
  opts.env = DaemonEnv();
  if (!options_.redis_address.empty()) {
    opts.env[ConfigEnvVar("redis_address")] = options_.redis_address;
    opts.env[ConfigEnvVar("redis_password")] = options_.redis_password;
  }
  auto pid = SpawnProcess(opts);
  if (!pid.ok()) return pid.status();
  gcs_pid_ = *pid;
  auto bound = WaitForPortFile(port_file, *pid, "photon-gcs", opts.stderr_path, 10000);
  if (!bound.ok()) return bound.status();
  std::string advertised = options_.host == "0.0.0.0" ? "127.0.0.1" : options_.host;
  gcs_address_ = advertised + ":" + *bound;
  return absl::OkStatus();
}

void LocalCluster::KillGcs() {
  if (gcs_pid_ <= 0) return;
  SignalProcess(gcs_pid_, SIGKILL);
  StopProcess(gcs_pid_, 0);  // reaps it
  gcs_pid_ = 0;
}

absl::Status LocalCluster::StartGcs() {
  if (gcs_pid_ > 0) return absl::FailedPreconditionError("the GCS is running");
  if (gcs_address_.empty()) return absl::FailedPreconditionError("this cluster never had a GCS");
  int port = 0;
  if (!absl::SimpleAtoi(gcs_address_.substr(gcs_address_.rfind(':') + 1), &port)) {
    return absl::InternalError("bad GCS address " + gcs_address_);
  }
  std::string before = gcs_address_;
  PHOTON_RETURN_IF_ERROR(SpawnGcs(port));
  if (gcs_address_ != before) {
    return absl::InternalError(
        fmt::format("the GCS came back at {}, not {}", gcs_address_, before));
  }
  return absl::OkStatus();
}

absl::Status LocalCluster::RecordToken() {
  rpc::SetClusterToken(token_);
  if (token_.empty()) return absl::OkStatus();
  {
    StartedClusters& started = Started();
    absl::MutexLock lock(&started.mu);
    started.tokens[gcs_address_] = token_;
  }
  PHOTON_RETURN_IF_ERROR(WriteTokenFile(session_dir_ + "/cluster_token", token_));
  return WriteFileAtomically(session_dir_ + "/gcs_address", gcs_address_);
}

std::map<std::string, std::string> LocalCluster::DaemonEnv() const {
  // By environment, not argv: the command line of a process is visible to
  // every user of the machine, its environment only to its owner.
  return {{ConfigEnvVar("cluster_token"), token_},
          {ConfigEnvVar("auth_mode"), token_.empty() ? "disabled" : "token"}};
}

void LocalCluster::Detach() {
  nodes_.clear();
  gcs_pid_ = 0;
}

LocalCluster::~LocalCluster() { Shutdown(); }

absl::StatusOr<NodeProcess> LocalCluster::AddNode(const NodeArgs& args) {
  int index = next_node_++;
  std::string port_file = fmt::format("{}/raylet_port_{}", session_dir_, index);
  SpawnOptions opts;
  opts.argv = {bin_dir_ + "/photon-raylet",
               "--gcs-address",
               gcs_address_,
               "--session-dir",
               session_dir_,
               "--port-file",
               port_file,
               "--host",
               options_.host};
  if (options_.die_with_parent) {
    opts.argv.push_back("--parent-pid");
    opts.argv.push_back(std::to_string(getpid()));
  } else {
    opts.new_process_group = true;
  }
  if (args.num_cpus >= 0) {
    opts.argv.push_back("--num-cpus");
    opts.argv.push_back(fmt::format("{}", args.num_cpus));
  }
  if (args.num_gpus > 0) {
    opts.argv.push_back("--num-gpus");
    opts.argv.push_back(fmt::format("{}", args.num_gpus));
  }
  if (!args.resources.empty()) {
    std::string r;
    for (const auto& [k, v] : args.resources)
      r += fmt::format("{}{}={}", r.empty() ? "" : ",", k, v);
    opts.argv.push_back("--resources");
    opts.argv.push_back(r);
  }
  if (!args.labels.empty()) {
    std::string l;
    for (const auto& [k, v] : args.labels) l += fmt::format("{}{}={}", l.empty() ? "" : ",", k, v);
    opts.argv.push_back("--labels");
    opts.argv.push_back(l);
  }
  if (args.head) opts.argv.push_back("--head");
  if (args.metrics_export_port > 0) {
    opts.argv.push_back("--metrics-export-port");
    opts.argv.push_back(std::to_string(args.metrics_export_port));
  }
  if (args.object_store_memory > 0) {
    opts.argv.push_back("--object-store-memory");
    opts.argv.push_back(std::to_string(args.object_store_memory));
  }
  opts.stdout_path = fmt::format("{}/logs/raylet-{}.out", session_dir_, index);
  opts.stderr_path = fmt::format("{}/logs/raylet-{}.err", session_dir_, index);
  opts.env = DaemonEnv();
  auto pid = SpawnProcess(opts);
  if (!pid.ok()) return pid.status();
  auto content = WaitForPortFile(port_file, *pid, "photon-raylet", opts.stderr_path, 15000);
  if (!content.ok()) {
    StopProcess(*pid, 1000);
    return content.status();
  }
  NodeProcess n;
  n.pid = *pid;
  size_t space = content->find(' ');
  n.port = std::stoi(content->substr(0, space));
  n.node_id_hex = space == std::string::npos ? "" : content->substr(space + 1);
  n.address =
      fmt::format("{}:{}", options_.host == "0.0.0.0" ? "127.0.0.1" : options_.host, n.port);
  nodes_.push_back(n);
  return n;
}

void LocalCluster::RemoveNode(const NodeProcess& node, bool kill) {
  if (kill) {
    SignalProcess(node.pid, SIGKILL);
    StopProcess(node.pid, 0);  // its arena (a memfd) goes with its last user
  } else {
    StopProcess(node.pid, 5000);
  }
  std::erase_if(nodes_, [&](const NodeProcess& n) { return n.pid == node.pid; });
}

void LocalCluster::Shutdown() {
  for (const auto& n : nodes_) SignalProcess(n.pid, SIGTERM);
  for (const auto& n : nodes_) StopProcess(n.pid, 5000);
  nodes_.clear();
  if (gcs_pid_ > 0) StopProcess(gcs_pid_, 3000);
  gcs_pid_ = 0;
}

}  // namespace photon
