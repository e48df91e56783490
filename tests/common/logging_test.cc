#include "photon/common/logging.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace photon {
namespace {

TEST(LoggingTest, OneFilePerProcessUnderTheSession) {
  std::string session = ::testing::TempDir() + "/photon_logging_test_" + std::to_string(getpid());
  std::string path;
  ASSERT_TRUE(InitLogging("unit", session, "debug", &path).ok());
  EXPECT_EQ(path, session + "/logs/unit-" + std::to_string(getpid()) + ".log");
  PHOTON_LOG_INFO("hello {}", 42);
  spdlog::default_logger()->flush();
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_NE(ss.str().find("hello 42"), std::string::npos);
  ShutdownLogging();
  std::filesystem::remove_all(session);
}

TEST(LoggingTest, BadLevelIsRejected) {
  absl::Status s = InitLogging("unit", ::testing::TempDir(), "loud");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("loud"), std::string_view::npos);
}

TEST(LoggingDeathTest, CheckAborts) {
  EXPECT_DEATH(PHOTON_CHECK(1 + 1 == 3, "math is {}", "broken"), "math is broken");
}

}  // namespace
}  // namespace photon
