// LogMonitor: lines are published once each, tagged by task, across a rotation.
#include "photon/raylet/log_monitor.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "photon/common/log_rotation.h"

namespace photon::raylet {
namespace {

TEST(LogMonitorTest, ARotatedFileIsReadToItsEndBeforeTheNewOne) {
  auto dir = std::filesystem::temp_directory_path() / ("photon-logmon-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string out = (dir / "w.out").string(), err = (dir / "w.err").string();
  std::ofstream(out) << "";
  std::ofstream(err) << "";
  std::vector<std::string> lines;
  std::vector<std::string> tasks;
  LogMonitor monitor([&](const rpc::LogBatch& b) {
    for (const auto& l : b.lines()) {
      lines.push_back(l);
      tasks.push_back(b.task_name());
    }
  });
  monitor.AddWorker(42, "job", "127.0.0.1", out, err);
  std::ofstream(out, std::ios::app) << kTaskNameMarker << "f\na\nb\n";
  monitor.Poll();
  std::ofstream(out, std::ios::app) << "c\npart";  // then the file rotates
  ASSERT_TRUE(RotateFile(out, 2).ok());
  std::ofstream(out) << "d\n";
  monitor.Poll();
  EXPECT_EQ(lines, (std::vector<std::string>{"a", "b", "c", "partd"}));
  EXPECT_EQ(tasks.front(), "f");
  monitor.Poll();  // nothing new: nothing published again
  EXPECT_EQ(lines.size(), 4u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace photon::raylet
