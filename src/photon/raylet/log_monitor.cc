#include "photon/raylet/log_monitor.h"

#include <fcntl.h>
#include <unistd.h>

namespace photon::raylet {

LogMonitor::LogMonitor(std::function<void(const rpc::LogBatch&)> publish)
    : publish_(std::move(publish)) {}

void LogMonitor::AddWorker(pid_t pid, const std::string& job_id, const std::string& ip,
                           const std::string& stdout_path, const std::string& stderr_path) {
  absl::MutexLock lock(&mu_);
  Tail& t = tails_[pid];
  t.job_id = job_id;
  t.ip = ip;
  t.out.path = stdout_path;
  t.err.path = stderr_path;
  t.err.is_error = true;
}

void LogMonitor::RemoveWorker(pid_t pid) {
  absl::MutexLock lock(&mu_);
  auto it = tails_.find(pid);
  if (it != tails_.end()) it->second.finishing = true;
}

void LogMonitor::Drain(pid_t pid, Tail& tail, Stream& stream) {
  int fd = open(stream.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  char buf[65536];
  std::string data;
  while (true) {
    ssize_t n = pread(fd, buf, sizeof(buf), stream.offset);
    if (n <= 0) break;
    stream.offset += n;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > (4 << 20)) break;  // forward in bounded batches
  }
  close(fd);
  if (data.empty()) return;
  stream.partial += data;
  rpc::LogBatch batch;
  auto flush = [&] {
    if (batch.lines_size() == 0) return;
    batch.set_job_id(tail.job_id);
    batch.set_pid(pid);
    batch.set_ip(tail.ip);
    batch.set_is_error(stream.is_error);
    publish_(batch);
    batch.Clear();
  };
  batch.set_task_name(tail.task_name);
  size_t start = 0;
  while (true) {
    size_t nl = stream.partial.find('\n', start);
    if (nl == std::string::npos) break;
    std::string line = stream.partial.substr(start, nl - start);
    start = nl + 1;
    if (line.rfind(kTaskNameMarker, 0) == 0) {
      flush();
      tail.task_name = line.substr(sizeof(kTaskNameMarker) - 1);
      batch.set_task_name(tail.task_name);
      continue;
    }
    batch.add_lines(std::move(line));
  }
  stream.partial.erase(0, start);
  flush();
}

void LogMonitor::Poll() {
  absl::MutexLock lock(&mu_);
  for (auto it = tails_.begin(); it != tails_.end();) {
    Drain(it->first, it->second, it->second.out);
    Drain(it->first, it->second, it->second.err);
    if (it->second.finishing) {
      tails_.erase(it++);
    } else {
      ++it;
    }
  }
}

}  // namespace photon::raylet
