#include "photon/common/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace photon {
namespace {

TEST(ConfigTest, Defaults) {
  SystemConfig c;
  EXPECT_EQ(c.max_direct_call_object_size(), 100 * 1024);
  EXPECT_EQ(c.task_max_retries(), 3);
  EXPECT_DOUBLE_EQ(c.object_spilling_threshold(), 0.8);
  EXPECT_EQ(c.log_level(), "info");
  EXPECT_TRUE(c.log_to_driver());
  EXPECT_TRUE(c.ToEnvironment().empty());
}

TEST(ConfigTest, EnvironmentOverrides) {
  const char* env[] = {"HOME=/root",
                       "PHOTON_TASK_MAX_RETRIES=7",
                       "PHOTON_LOG_TO_DRIVER=false",
                       "PHOTON_OBJECT_SPILLING_THRESHOLD=0.5",
                       "PHOTON_ADDRESS=10.0.0.1:6379",
                       nullptr};
  auto c = SystemConfig::FromEnvironment(env);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->task_max_retries(), 7);
  EXPECT_FALSE(c->log_to_driver());
  EXPECT_DOUBLE_EQ(c->object_spilling_threshold(), 0.5);
  EXPECT_EQ(c->address(), "10.0.0.1:6379");
  auto env_out = c->ToEnvironment();
  EXPECT_EQ(env_out["PHOTON_TASK_MAX_RETRIES"], "7");
  EXPECT_EQ(env_out.size(), 4u);
}

TEST(ConfigTest, BadValueNamesTheVariable) {
  const char* env[] = {"PHOTON_TASK_MAX_RETRIES=lots", nullptr};
  auto c = SystemConfig::FromEnvironment(env);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("PHOTON_TASK_MAX_RETRIES"), std::string_view::npos);
  EXPECT_NE(c.status().message().find("lots"), std::string_view::npos);

  const char* bad_bool[] = {"PHOTON_LOG_TO_DRIVER=maybe", nullptr};
  EXPECT_FALSE(SystemConfig::FromEnvironment(bad_bool).ok());
}

TEST(ConfigTest, UnknownVariableIsRejected) {
  const char* env[] = {"PHOTON_NO_SUCH_KNOB=1", nullptr};
  auto c = SystemConfig::FromEnvironment(env);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("PHOTON_NO_SUCH_KNOB"), std::string_view::npos);
  // Variables without the prefix are none of our business.
  const char* other[] = {"PHOTONIC=1", "RAY_ADDRESS=x", nullptr};
  EXPECT_TRUE(SystemConfig::FromEnvironment(other).ok());
}

TEST(ConfigTest, SetAndGetByName) {
  SystemConfig c;
  EXPECT_TRUE(c.Set("object_chunk_size", "1024").ok());
  EXPECT_EQ(c.object_chunk_size(), 1024);
  EXPECT_EQ(*c.Get("object_chunk_size"), "1024");
  EXPECT_EQ(c.Set("nope", "1").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(c.Set("object_chunk_size", "1.5").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(c.Get("nope").ok());
}

TEST(ConfigTest, TableIsCompleteAndDocumented) {
  const auto& table = SystemConfig::Table();
  ASSERT_GT(table.size(), 10u);
  std::ifstream f(std::string(PHOTON_DOCS_DIR) + "/config.md");
  ASSERT_TRUE(f.good()) << "docs/config.md is missing";
  std::stringstream ss;
  ss << f.rdbuf();
  std::string doc = ss.str();
  for (const auto& e : table) {
    EXPECT_FALSE(e.doc.empty()) << e.name;
    EXPECT_EQ(e.env_var, ConfigEnvVar(e.name));
    EXPECT_NE(doc.find("`" + e.env_var + "`"), std::string::npos)
        << e.env_var << " is not documented in docs/config.md";
  }
}

// Every row is read somewhere: in C++ through its accessor (or its variable's
// name, for the settings Photon hands to the processes it starts), in Python
// by name. A row nothing reads is a knob that does nothing.
TEST(ConfigTest, EveryRowIsReadByCode) {
  namespace fs = std::filesystem;
  std::string cpp, py;
  const fs::path root(PHOTON_SOURCE_DIR);
  for (const auto& dir : {root / "src", root / "python"}) {
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      if (!entry.is_regular_file()) continue;
      const fs::path& p = entry.path();
      if (p.filename() == "config_def.h") continue;
      std::string ext = p.extension().string();
      if (ext != ".cc" && ext != ".h" && ext != ".py") continue;
      std::ifstream f(p);
      std::stringstream ss;
      ss << f.rdbuf();
      (ext == ".py" ? py : cpp) += ss.str();
    }
  }
  for (const auto& e : SystemConfig::Table()) {
    std::regex accessor("\\b" + e.name + "\\(\\)|ConfigEnvVar\\(\"" + e.name + "\"\\)");
    bool read = std::regex_search(cpp, accessor) ||
                py.find("\"" + e.name + "\"") != std::string::npos ||
                py.find("'" + e.name + "'") != std::string::npos;
    EXPECT_TRUE(read) << "config row '" << e.name << "' is read by no code";
  }
}

}  // namespace
}  // namespace photon
