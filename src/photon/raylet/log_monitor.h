// Forwards what workers print to their drivers (Ray's log_to_driver): tails
// each worker's stdout/stderr files under <session>/logs and publishes new
// complete lines, tagged with the job, the worker's pid and the name of the
// task it was running, on the GCS log channel. The files stay as the worker's
// log. A worker marks the start of each task with a line
// kTaskNameMarker + name, which is consumed here, not forwarded.
//
// Threading: Add/Remove from any thread; the tailing runs on its own thread.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "photon/protocol/gcs.pb.h"

namespace photon::raylet {

inline constexpr char kTaskNameMarker[] = ":photon:task_name:";

class LogMonitor {
 public:
  explicit LogMonitor(std::function<void(const rpc::LogBatch&)> publish);
  ~LogMonitor();
  void Start();
  void Stop();
  void AddWorker(pid_t pid, const std::string& job_id, const std::string& ip,
                 const std::string& stdout_path, const std::string& stderr_path);
  // Reads what is left of the worker's files, then stops tailing them.
  void RemoveWorker(pid_t pid);

 private:
  struct Stream {
    std::string path;
    int64_t offset = 0;
    std::string partial;
    bool is_error = false;
  };
  struct Tail {
    std::string job_id;
    std::string ip;
    std::string task_name;
    Stream out, err;
    bool finishing = false;
  };
  void Loop();
  void Drain(pid_t pid, Tail& tail, Stream& stream);

  std::function<void(const rpc::LogBatch&)> publish_;
  absl::Mutex mu_;
  absl::flat_hash_map<pid_t, Tail> tails_ ABSL_GUARDED_BY(mu_);
  absl::Notification stopping_;
  std::thread thread_;
};

}  // namespace photon::raylet
