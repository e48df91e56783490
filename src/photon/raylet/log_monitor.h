// Forwards what workers print to their drivers (Ray's log_to_driver): tails
// each worker's stdout/stderr files under <session>/logs and publishes new
// complete lines, tagged with the job, the worker's pid and the name of the
// task it was running, on the GCS log channel. The files stay as the worker's
// log. A worker marks the start of each task with a line
// kTaskNameMarker + name, which is consumed here, not forwarded. A file that
// rotated (log_rotation.h) is read to its end under its new name (<file>.1)
// before the new file is followed from its start.
//
// Threading: all methods are thread-safe; the raylet calls Poll from its
// timer every log_monitor_period_ms.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "photon/common/logging.h"
#include "photon/protocol/gcs.pb.h"

namespace photon::raylet {

using photon::kTaskNameMarker;  // common/logging.h

class LogMonitor {
 public:
  explicit LogMonitor(std::function<void(const rpc::LogBatch&)> publish);
  // Publishes the complete lines written since the last poll.
  void Poll();
  void AddWorker(pid_t pid, const std::string& job_id, const std::string& ip,
                 const std::string& stdout_path, const std::string& stderr_path);
  // Reads what is left of the worker's files, then stops tailing them.
  void RemoveWorker(pid_t pid);

 private:
  struct Stream {
    std::string path;
    ino_t inode = 0;  // of the file read so far: another one at `path` means it rotated
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
  void Drain(pid_t pid, Tail& tail, Stream& stream) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::function<void(const rpc::LogBatch&)> publish_;
  absl::Mutex mu_;
  absl::flat_hash_map<pid_t, Tail> tails_ ABSL_GUARDED_BY(mu_);
};

}  // namespace photon::raylet
