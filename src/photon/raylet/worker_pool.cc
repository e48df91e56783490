#include "photon/raylet/worker_pool.h"

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>

#include "photon/common/logging.h"
#include "photon/common/process.h"

namespace photon::raylet {

WorkerPool::WorkerPool(std::function<void(const WorkerID&, pid_t)> on_started,
                       std::function<void(const WorkerID&, const std::string&)> on_start_failed,
                       std::function<void(pid_t, int)> on_exit, absl::Duration reap_period)
    : on_started_(std::move(on_started)),
      on_start_failed_(std::move(on_start_failed)),
      on_exit_(std::move(on_exit)),
      reap_period_(reap_period) {}

WorkerPool::~WorkerPool() { Stop(); }

void WorkerPool::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void WorkerPool::StartWorker(StartRequest request) {
  absl::MutexLock lock(&mu_);
  queue_.push_back(std::move(request));
}

void WorkerPool::Kill(pid_t pid, bool force) { SignalProcess(pid, force ? SIGKILL : SIGTERM); }

void WorkerPool::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  // Join first: the pool thread may be spawning a batch right now, and those
  // children must be stopped too.
  if (thread_.joinable()) thread_.join();
  std::vector<pid_t> children;
  {
    absl::MutexLock lock(&mu_);
    children = children_;
  }
  for (pid_t pid : children) SignalProcess(pid, SIGKILL);
  for (pid_t pid : children) waitpid(pid, nullptr, 0);
}

void WorkerPool::Loop() {
  while (true) {
    std::deque<StartRequest> batch;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !queue_.empty(); };
      mu_.AwaitWithTimeout(absl::Condition(&ready), reap_period_);
      if (stopping_) return;
      batch.swap(queue_);
    }
    for (StartRequest& r : batch) {
      SpawnOptions opts;
      opts.argv = std::move(r.argv);
      opts.env = std::move(r.env);
      opts.stdout_path = r.stdout_path;
      opts.stderr_path = r.stderr_path;
      // A worker inherits no PHOTON_* setting by accident: it gets exactly
      // what the raylet passes (the driver's settings travel in r.env).
      opts.unset_env_prefix = {"PHOTON_"};
      auto pid = SpawnProcess(opts);
      if (!pid.ok()) {
        on_start_failed_(r.worker_id, std::string(pid.status().message()));
        continue;
      }
      {
        absl::MutexLock lock(&mu_);
        children_.push_back(*pid);
      }
      on_started_(r.worker_id, *pid);
    }
    // Reap every child that exited.
    while (true) {
      int status = 0;
      pid_t pid = waitpid(-1, &status, WNOHANG);
      if (pid <= 0) break;
      {
        absl::MutexLock lock(&mu_);
        std::erase(children_, pid);
      }
      on_exit_(pid, status);
    }
  }
}

}  // namespace photon::raylet
