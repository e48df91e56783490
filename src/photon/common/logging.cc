#include "photon/common/logging.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "fmt/format.h"
#include "spdlog/sinks/basic_file_sink.h"
#include "spdlog/sinks/rotating_file_sink.h"
#include "spdlog/sinks/stdout_color_sinks.h"

namespace photon {

absl::Status ParseLogLevel(std::string_view name, spdlog::level::level_enum* level) {
  static constexpr std::pair<std::string_view, spdlog::level::level_enum> kLevels[] = {
      {"trace", spdlog::level::trace},       {"debug", spdlog::level::debug},
      {"info", spdlog::level::info},         {"warn", spdlog::level::warn},
      {"warning", spdlog::level::warn},      {"error", spdlog::level::err},
      {"critical", spdlog::level::critical}, {"off", spdlog::level::off}};
  for (const auto& [n, l] : kLevels) {
    if (n == name) {
      *level = l;
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(fmt::format(
      "unknown log level '{}' (expected trace, debug, info, warn, error, critical or off)", name));
}

absl::Status InitLogging(std::string_view component, const std::string& session_dir,
                         std::string_view level, std::string* path, LogRotation rotation) {
  spdlog::level::level_enum lvl;
  if (auto s = ParseLogLevel(level, &lvl); !s.ok()) return s;
  std::filesystem::path dir = std::filesystem::path(session_dir) / "logs";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::InternalError(
        fmt::format("cannot create log folder {}: {}", dir.string(), ec.message()));
  }
  std::string file = (dir / fmt::format("{}-{}.log", component, getpid())).string();
  try {
    spdlog::sink_ptr file_sink;
    if (rotation.max_bytes > 0 && rotation.backups > 0) {
      file_sink = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
          file, static_cast<size_t>(rotation.max_bytes), static_cast<size_t>(rotation.backups));
    } else {
      file_sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file);
    }
    file_sink->set_level(lvl);
    auto err_sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    err_sink->set_level(std::max(lvl, spdlog::level::warn));
    auto logger = std::make_shared<spdlog::logger>(std::string(component),
                                                   spdlog::sinks_init_list{file_sink, err_sink});
    logger->set_level(lvl);
    logger->set_pattern(fmt::format("[%Y-%m-%d %H:%M:%S.%e] [{} %P/%t] [%l] %v", component));
    logger->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(logger);
    spdlog::flush_every(std::chrono::seconds(1));
  } catch (const spdlog::spdlog_ex& e) {
    return absl::InternalError(fmt::format("cannot open log file {}: {}", file, e.what()));
  }
  if (path != nullptr) *path = file;
  return absl::OkStatus();
}

void ShutdownLogging() { spdlog::shutdown(); }

void FatalCheckFailure(const char* condition, const char* file, int line,
                       std::string_view message) {
  std::string text = fmt::format("Check failed: {} at {}:{} {}", condition, file, line, message);
  spdlog::critical("{}", text);
  spdlog::default_logger()->flush();
  std::fprintf(stderr, "%s\n", text.c_str());
  std::abort();
}

}  // namespace photon
