#include "photon/common/log_rotation.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "fmt/format.h"
#include "photon/common/config.h"
#include "photon/common/logging.h"
#include "photon/common/timer.h"

namespace photon {

LogRotation LogRotationOf(const SystemConfig& config) {
  return {config.log_rotation_max_bytes(), static_cast<int>(config.log_rotation_backup_count())};
}

std::string RotatedName(const std::string& path, int n) { return fmt::format("{}.{}", path, n); }

absl::Status RotateFile(const std::string& path, int backups) {
  if (backups <= 0) {
    if (truncate(path.c_str(), 0) != 0) {
      return absl::InternalError(
          fmt::format("cannot truncate log file {}: {}", path, std::strerror(errno)));
    }
    return absl::OkStatus();
  }
  std::remove(RotatedName(path, backups).c_str());
  for (int n = backups - 1; n >= 1; --n) {
    std::rename(RotatedName(path, n).c_str(), RotatedName(path, n + 1).c_str());
  }
  if (std::rename(path.c_str(), RotatedName(path, 1).c_str()) != 0) {
    return absl::InternalError(
        fmt::format("cannot rotate log file {}: {}", path, std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> RotateStdioIfLarge(const LogRotation& rotation) {
  if (rotation.max_bytes <= 0) return 0;
  int rotated = 0;
  for (int fd : {1, 2}) {
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= rotation.max_bytes) continue;
    char link[4096];
    ssize_t n = readlink(fmt::format("/proc/self/fd/{}", fd).c_str(), link, sizeof(link) - 1);
    if (n <= 0) continue;
    std::string path(link, static_cast<size_t>(n));
    if (fd == 1) std::fflush(stdout);
    if (fd == 2) std::fflush(stderr);
    if (rotation.backups <= 0) {
      // No backups kept: start the same file over.
      if (ftruncate(fd, 0) != 0) {
        return absl::InternalError(
            fmt::format("cannot truncate {}: {}", path, std::strerror(errno)));
      }
      ++rotated;
      continue;
    }
    if (auto s = RotateFile(path, rotation.backups); !s.ok()) return s;
    int fresh = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fresh < 0) {
      return absl::InternalError(
          fmt::format("cannot reopen log file {}: {}", path, std::strerror(errno)));
    }
    dup2(fresh, fd);  // the fd keeps its number and loses O_CLOEXEC, as a stdio fd should
    close(fresh);
    ++rotated;
  }
  return rotated;
}

void RotateStdioPeriodically(Timer* timer, LogRotation rotation) {
  if (rotation.max_bytes <= 0) return;
  auto warned = std::make_shared<bool>(false);
  timer->RunEvery("rotate stdout and stderr", absl::Milliseconds(kStdioRotationCheckMs),
                  [rotation, warned] {
                    auto r = RotateStdioIfLarge(rotation);
                    if (!r.ok() && !*warned) {
                      *warned = true;
                      PHOTON_LOG_WARN("{}", std::string(r.status().message()));
                    }
                  });
}

}  // namespace photon
