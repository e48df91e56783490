// Starting, watching and stopping child processes, and the chores every
// Photon daemon shares (port files, dying with the parent, waiting for
// SIGTERM). gRPC processes never fork without exec: children start with
// posix_spawn.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace photon {

struct SpawnOptions {
  std::vector<std::string> argv;              // argv[0] is the program path
  std::map<std::string, std::string> env;     // added to (and overriding) our environment
  std::vector<std::string> unset_env_prefix;  // drop inherited variables with these prefixes
  std::string stdout_path;                    // empty: inherit
  std::string stderr_path;                    // empty: inherit
  bool new_process_group = false;
};

// Starts a child. Fails with NotFound if the program does not exist, Internal
// otherwise. Thread-safe.
absl::StatusOr<pid_t> SpawnProcess(const SpawnOptions& options);

// Sends `sig` to `pid` (no-op for pid <= 0).
void SignalProcess(pid_t pid, int sig);

// Reaps `pid` if it has exited; returns true if it is gone (or not our child).
bool ReapIfExited(pid_t pid, int* exit_status = nullptr);

// SIGTERM, wait up to `grace_ms`, then SIGKILL; always reaps. Blocks.
void StopProcess(pid_t pid, int64_t grace_ms);

// True if a process with this pid exists.
bool ProcessAlive(pid_t pid);

// Asks the kernel to send `sig` to this process when its parent dies; if the
// parent (expected_parent > 0) is already gone, exits at once.
void DieWithParent(pid_t expected_parent, int sig);

// Writes `content` to `path` atomically (temp file + rename).
absl::Status WriteFileAtomically(const std::string& path, const std::string& content);

// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread (call in main before
// starting threads so every thread inherits it), then WaitForTerminationSignal
// returns the first of them to arrive.
void BlockTerminationSignals();
int WaitForTerminationSignal();

// Turns abseil's mutex deadlock detector on or off for this process. It is on
// by default in the abseil Photon builds against, and checks every lock taken
// against a process-wide graph under a global lock; each process sets it from
// the mutex_deadlock_detection config once, before it starts threads.
void SetMutexDeadlockDetection(bool on);

// The path of the running executable.
std::string SelfExecutablePath();

}  // namespace photon
