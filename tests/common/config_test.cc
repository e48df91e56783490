#include "photon/common/config.h"

#include <gtest/gtest.h>

#include <fstream>
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

}  // namespace
}  // namespace photon
