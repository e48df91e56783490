// Process logging on spdlog.
//
// Each Photon process logs to one file, <session_dir>/logs/<component>-<pid>.log,
// and copies warnings and worse to stderr. Before InitLogging, spdlog's default
// logger (stderr) is used. The log functions are thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "photon/common/log_rotation.h"
#include "spdlog/spdlog.h"

namespace photon {

// Parses a level name (trace, debug, info, warn, error, critical, off).
// InvalidArgument names the bad value.
absl::Status ParseLogLevel(std::string_view name, spdlog::level::level_enum* level);

// Makes the log file <session_dir>/logs/<component>-<pid>.log the default
// logger at `level`, creating the folder if needed. Call once, early, from the
// main thread. Fails with InvalidArgument for a bad level or Internal if the
// file cannot be created. Returns the path of the log file in `*path` if set.
// The file rotates as `rotation` says (log_rotation.h; max_bytes 0: never).
absl::Status InitLogging(std::string_view component, const std::string& session_dir,
                         std::string_view level, std::string* path = nullptr,
                         LogRotation rotation = {});

// A worker writes kTaskNameMarker + the task's name on a line of its stdout
// and stderr when it starts a task of another name: the raylet's log monitor
// tags the lines that follow with it, readers of the files leave it out.
inline constexpr char kTaskNameMarker[] = ":photon:task_name:";

// Flushes and drops every logger (call before exiting).
void ShutdownLogging();

// Aborts the process after logging `message` with its location: for broken
// invariants only, never for bad input.
[[noreturn]] void FatalCheckFailure(const char* condition, const char* file, int line,
                                    std::string_view message);

}  // namespace photon

// Trace and debug lines evaluate their arguments only when their level is on,
// so they may sit on hot paths.
#define PHOTON_LOG_TRACE(...)                                                       \
  do {                                                                              \
    if (::spdlog::should_log(::spdlog::level::trace)) ::spdlog::trace(__VA_ARGS__); \
  } while (0)
#define PHOTON_LOG_DEBUG(...)                                                       \
  do {                                                                              \
    if (::spdlog::should_log(::spdlog::level::debug)) ::spdlog::debug(__VA_ARGS__); \
  } while (0)
#define PHOTON_LOG_INFO(...) ::spdlog::info(__VA_ARGS__)
#define PHOTON_LOG_WARN(...) ::spdlog::warn(__VA_ARGS__)
#define PHOTON_LOG_ERROR(...) ::spdlog::error(__VA_ARGS__)
// At a level chosen at run time (an spdlog::level::level_enum).
#define PHOTON_LOG(level, ...) ::spdlog::log(level, __VA_ARGS__)

// PHOTON_CHECK(cond) / PHOTON_CHECK(cond, "fmt {}", args...): abort on a broken invariant.
#define PHOTON_CHECK(cond, ...)                                                              \
  do {                                                                                       \
    if (!(cond)) [[unlikely]] {                                                              \
      ::photon::FatalCheckFailure(#cond, __FILE__, __LINE__, ::fmt::format("" __VA_ARGS__)); \
    }                                                                                        \
  } while (0)

#define PHOTON_CHECK_OK(expr)                                                                  \
  do {                                                                                         \
    const ::absl::Status photon_check_status_ = (expr);                                        \
    if (!photon_check_status_.ok()) [[unlikely]] {                                             \
      ::photon::FatalCheckFailure(#expr, __FILE__, __LINE__, photon_check_status_.ToString()); \
    }                                                                                          \
  } while (0)
