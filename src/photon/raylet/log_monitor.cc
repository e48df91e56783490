#include "photon/raylet/log_monitor.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "photon/common/log_rotation.h"

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

namespace {

// Appends what `fd` holds from *offset on (at most a bounded batch).
void ReadFrom(int fd, int64_t* offset, std::string* data) {
  char buf[65536];
  while (data->size() <= (4 << 20)) {  // forward in bounded batches
    ssize_t n = pread(fd, buf, sizeof(buf), *offset);
    if (n <= 0) break;
    *offset += n;
    data->append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

void LogMonitor::Drain(pid_t pid, Tail& tail, Stream& stream) {
  int fd = open(stream.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st {};
  fstat(fd, &st);
  std::string data;
  if (stream.inode != 0 && st.st_ino != stream.inode) {
    // Rotated: the rest of the file read so far is in its first backup.
    int old = open(RotatedName(stream.path, 1).c_str(), O_RDONLY | O_CLOEXEC);
    struct stat old_st {};
    if (old >= 0 && fstat(old, &old_st) == 0 && old_st.st_ino == stream.inode) {
      ReadFrom(old, &stream.offset, &data);
    }
    if (old >= 0) close(old);
    stream.offset = 0;
  }
  stream.inode = st.st_ino;
  ReadFrom(fd, &stream.offset, &data);
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
