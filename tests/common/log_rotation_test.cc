// Log rotation: backups shift and the oldest goes.
#include "photon/common/log_rotation.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace photon {
namespace {

std::string Read(const std::string& path) {
  std::ifstream f(path);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(LogRotationTest, BackupsShiftAndTheOldestIsDropped) {
  auto dir = std::filesystem::temp_directory_path() / ("photon-rotate-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string log = (dir / "w.out").string();
  for (const char* text : {"one", "two", "three"}) {
    Write(log, text);
    ASSERT_TRUE(RotateFile(log, 2).ok());
  }
  EXPECT_FALSE(std::filesystem::exists(log));
  EXPECT_EQ(Read(RotatedName(log, 1)), "three");
  EXPECT_EQ(Read(RotatedName(log, 2)), "two");
  EXPECT_FALSE(std::filesystem::exists(RotatedName(log, 3)));
  Write(log, "four");
  ASSERT_TRUE(RotateFile(log, 0).ok());  // no backups: truncated in place
  EXPECT_EQ(Read(log), "");
  EXPECT_FALSE(RotateFile((dir / "missing").string(), 1).ok());
  std::filesystem::remove_all(dir);
}

TEST(LogRotationTest, NothingRotatesWithoutALimit) {
  auto r = RotateStdioIfLarge({0, 5});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 0);
}

}  // namespace
}  // namespace photon
