#include "photon/common/process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "fmt/format.h"

extern char** environ;

namespace photon {

absl::StatusOr<pid_t> SpawnProcess(const SpawnOptions& options) {
  if (options.argv.empty()) return absl::InvalidArgumentError("no program to start");
  if (access(options.argv[0].c_str(), X_OK) != 0) {
    return absl::NotFoundError(
        fmt::format("cannot execute {}: {}", options.argv[0], std::strerror(errno)));
  }
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv(*e);
    size_t eq = kv.find('=');
    if (eq == std::string::npos) continue;
    std::string key = kv.substr(0, eq);
    bool drop = false;
    for (const auto& p : options.unset_env_prefix) drop |= key.rfind(p, 0) == 0;
    if (!drop) env[key] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : options.env) env[k] = v;
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = options.argv;
  std::vector<char*> argv;
  for (auto& s : argv_copy) argv.push_back(s.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!options.stdout_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, options.stdout_path.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
  }
  if (!options.stderr_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, options.stderr_path.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  sigset_t empty, all;
  sigemptyset(&empty);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &all);
  if (options.new_process_group) {
    flags |= POSIX_SPAWN_SETPGROUP;
    posix_spawnattr_setpgroup(&attr, 0);
  }
  posix_spawnattr_setflags(&attr, flags);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return absl::InternalError(
        fmt::format("cannot start {}: {}", options.argv[0], std::strerror(rc)));
  }
  return pid;
}

void SignalProcess(pid_t pid, int sig) {
  if (pid > 0) kill(pid, sig);
}

bool ReapIfExited(pid_t pid, int* exit_status) {
  int status = 0;
  pid_t r = waitpid(pid, &status, WNOHANG);
  if (r == pid) {
    if (exit_status != nullptr) *exit_status = status;
    return true;
  }
  if (r < 0 && errno == ECHILD) return !ProcessAlive(pid);
  return false;
}

void StopProcess(pid_t pid, int64_t grace_ms) {
  if (pid <= 0) return;
  if (ReapIfExited(pid)) return;
  kill(pid, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (ReapIfExited(pid)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

bool ProcessAlive(pid_t pid) {
  if (pid <= 0) return false;
  if (kill(pid, 0) == 0) {
    // A zombie still "exists"; look at its state.
    std::ifstream stat(fmt::format("/proc/{}/stat", pid));
    std::string content;
    std::getline(stat, content);
    size_t close_paren = content.rfind(')');
    if (close_paren != std::string::npos && close_paren + 2 < content.size()) {
      return content[close_paren + 2] != 'Z';
    }
    return true;
  }
  return errno == EPERM;
}

void DieWithParent(pid_t expected_parent, int sig) {
  prctl(PR_SET_PDEATHSIG, sig);
  if (expected_parent > 0 && getppid() != expected_parent) _exit(1);
}

absl::Status WriteFileAtomically(const std::string& path, const std::string& content) {
  std::string tmp = fmt::format("{}.{}.tmp", path, getpid());
  {
    std::ofstream f(tmp, std::ios::trunc);
    if (!f) return absl::InternalError(fmt::format("cannot write {}", tmp));
    f << content;
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(
        fmt::format("cannot rename {} to {}: {}", tmp, path, std::strerror(errno)));
  }
  return absl::OkStatus();
}

namespace {
sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}
}  // namespace

void BlockTerminationSignals() {
  sigset_t set = TerminationSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

int WaitForTerminationSignal() {
  sigset_t set = TerminationSignals();
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

void SetMutexDeadlockDetection(bool on) {
  absl::SetMutexDeadlockDetectionMode(on ? absl::OnDeadlockCycle::kAbort
                                         : absl::OnDeadlockCycle::kIgnore);
}

std::string SelfExecutablePath() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : p.string();
}

}  // namespace photon
