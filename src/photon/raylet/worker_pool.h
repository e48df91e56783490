// Process mechanics of the raylet's workers: starting them (posix_spawn, from
// one long-lived thread so that PR_SET_PDEATHSIG in the children refers to a
// thread that lives as long as the raylet), reaping them, killing them.
// Which worker serves which lease is the NodeManager's business.
//
// Threading: StartWorker/Kill may be called from any thread; the callbacks run
// on the pool's own thread.
#pragma once

#include <sys/types.h>

#include <deque>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "photon/common/id.h"

namespace photon::raylet {

class WorkerPool {
 public:
  struct StartRequest {
    WorkerID worker_id;
    std::vector<std::string> argv;
    std::map<std::string, std::string> env;
    std::string stdout_path;
    std::string stderr_path;
  };
  // on_started(worker, pid) after a successful spawn; on_start_failed(worker,
  // message) if the spawn failed; on_exit(pid, wait status) when a child dies
  // (children are reaped every `reap_period`).
  WorkerPool(std::function<void(const WorkerID&, pid_t)> on_started,
             std::function<void(const WorkerID&, const std::string&)> on_start_failed,
             std::function<void(pid_t, int)> on_exit, absl::Duration reap_period);
  ~WorkerPool();

  void Start();
  void StartWorker(StartRequest request);
  // Sends SIGKILL (force) or SIGTERM to a child.
  void Kill(pid_t pid, bool force);
  // Kills every child still running (SIGKILL) and stops the thread.
  void Stop();

 private:
  void Loop();

  std::function<void(const WorkerID&, pid_t)> on_started_;
  std::function<void(const WorkerID&, const std::string&)> on_start_failed_;
  std::function<void(pid_t, int)> on_exit_;
  const absl::Duration reap_period_;
  absl::Mutex mu_;
  std::deque<StartRequest> queue_ ABSL_GUARDED_BY(mu_);
  std::vector<pid_t> children_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace photon::raylet
