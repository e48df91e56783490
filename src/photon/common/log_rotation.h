// Log rotation: a log file that grows past log_rotation_max_bytes becomes
// <file>.1 (the older ones move to .2, ... up to log_rotation_backup_count,
// the oldest dropped) and writing goes on in a new, empty <file>.
//
// spdlog logs (<component>-<pid>.log) rotate in their sink (logging.h). The
// stdout and stderr files of processes Photon starts (workers, daemons) are
// rotated by the process itself: RotateStdioIfLarge renames the file behind
// fd 1 or 2 and points the fd at a new one (dup2), so that every writer of the
// process, Python's print included, goes on in the new file and nothing is
// lost. A reader that follows such a file by name (the raylet's LogMonitor)
// notices the new inode and finishes the old file under its new name first.
//
// Threading: RotateStdioIfLarge may run on any thread, one at a time.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace photon {

class SystemConfig;

struct LogRotation {
  int64_t max_bytes = 0;  // <= 0: never rotate
  int backups = 0;        // files kept besides the current one (0: truncate in place)
};
// log_rotation_max_bytes and log_rotation_backup_count.
LogRotation LogRotationOf(const SystemConfig& config);

// "<path>.<n>": the name of a file's n-th backup (1 is the newest).
std::string RotatedName(const std::string& path, int n);

// Shifts the backups of `path` (.n-1 -> .n, ..., path -> .1) and creates an
// empty `path`; with no backups, truncates `path` instead.
absl::Status RotateFile(const std::string& path, int backups);

// For fd 1 and 2: when it writes to a regular file larger than
// rotation.max_bytes, rotates that file and points the fd at the new one.
// Returns how many were rotated. Not for drivers: their stdout is the user's.
absl::StatusOr<int> RotateStdioIfLarge(const LogRotation& rotation);
// How often workers and daemons check their stdout and stderr files.
inline constexpr int64_t kStdioRotationCheckMs = 1000;
class Timer;
// Runs RotateStdioIfLarge on `timer` every kStdioRotationCheckMs (a failure
// is logged once).
void RotateStdioPeriodically(Timer* timer, LogRotation rotation);

}  // namespace photon
