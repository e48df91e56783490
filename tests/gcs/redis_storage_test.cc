// RedisGcsStorage against a real redis-server that the test starts on a free
// port and stops: the GcsStorage contract (as InMemoryGcsStorage keeps it),
// binary keys, reconnection after Redis restarts, and clear errors for an
// unreachable Redis and a refused password.
#include "photon/gcs/redis_storage.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

#include "absl/time/clock.h"
#include "photon/common/process.h"

namespace photon::gcs {
namespace {

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

class RedisStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = FreePort();
    address_ = "127.0.0.1:" + std::to_string(port_);
    StartRedis({});
  }
  void TearDown() override { StopRedis(); }

  void StartRedis(std::vector<std::string> extra) {
    SpawnOptions o;
    o.argv = {"/usr/bin/redis-server",
              "--port",
              std::to_string(port_),
              "--bind",
              "127.0.0.1",
              "--save",
              "",
              "--appendonly",
              "no",
              "--dir",
              ::testing::TempDir()};
    o.argv.insert(o.argv.end(), extra.begin(), extra.end());
    o.stdout_path = "/dev/null";
    auto pid = SpawnProcess(o);
    ASSERT_TRUE(pid.ok()) << pid.status();
    pid_ = *pid;
    // Up when it accepts a connection.
    for (int i = 0; i < 200; ++i) {
      auto s = RedisGcsStorage::Connect({.address = address_, .password = Password(extra)});
      if (s.ok() || absl::IsUnauthenticated(s.status())) return;
      absl::SleepFor(absl::Milliseconds(25));
    }
    FAIL() << "redis-server did not come up on " << address_;
  }
  static std::string Password(const std::vector<std::string>& extra) {
    for (size_t i = 0; i + 1 < extra.size(); ++i) {
      if (extra[i] == "--requirepass") return extra[i + 1];
    }
    return "";
  }
  void StopRedis() {
    if (pid_ > 0) {
      SignalProcess(pid_, SIGKILL);
      StopProcess(pid_, 0);
    }
    pid_ = 0;
  }
  std::unique_ptr<RedisGcsStorage> Connect(std::string ns = "test") {
    auto s = RedisGcsStorage::Connect({.address = address_, .storage_namespace = std::move(ns)});
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? std::move(*s) : nullptr;
  }

  int port_ = 0;
  std::string address_;
  pid_t pid_ = 0;
};

TEST_F(RedisStorageTest, KeepsTheGcsStorageContract) {
  auto s = Connect();
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->durable());
  EXPECT_EQ(*s->Put("kv", "a", "1", true), true);
  EXPECT_EQ(*s->Put("kv", "a", "2", false), false);  // kept
  EXPECT_EQ(**s->Get("kv", "a"), "1");
  EXPECT_EQ(*s->Put("kv", "a", "3", true), true);  // overwritten
  EXPECT_EQ(**s->Get("kv", "a"), "3");
  EXPECT_FALSE(s->Get("kv", "missing")->has_value());
  EXPECT_FALSE(s->Get("no_such_table", "a")->has_value());
  ASSERT_TRUE(s->Put("kv", "ab", "x", true).ok());
  ASSERT_TRUE(s->Put("kv", "b", "y", true).ok());
  EXPECT_EQ(*s->Keys("kv", "a"), (std::vector<std::string>{"a", "ab"}));
  EXPECT_EQ(s->GetAll("kv")->size(), 3u);
  EXPECT_EQ(*s->Delete("kv", "a", /*by_prefix=*/true), 2);
  EXPECT_EQ(*s->Delete("kv", "b", false), 1);
  EXPECT_EQ(*s->Delete("kv", "b", false), 0);
  EXPECT_TRUE(s->Keys("kv", "")->empty());
}

TEST_F(RedisStorageTest, KeysAndValuesAreBinaryAndNamespacesKeepApart) {
  auto s = Connect("one");
  auto other = Connect("two");
  const std::string key("ns\0*?[x]", 8), value("\0\1\2 bytes", 9);
  ASSERT_TRUE(s->Put("kv", key, value, true).ok());
  EXPECT_EQ(**s->Get("kv", key), value);
  EXPECT_EQ(*s->Keys("kv", std::string("ns\0", 3)), std::vector<std::string>{key});
  EXPECT_FALSE(other->Get("kv", key)->has_value());
  // A second connection to the same namespace sees it: what a restarted GCS relies on.
  EXPECT_EQ(**Connect("one")->Get("kv", key), value);
}

TEST_F(RedisStorageTest, ReconnectsAfterRedisRestarts) {
  auto s = Connect();
  ASSERT_TRUE(s->Put("t", "k", "v", true).ok());
  StopRedis();
  auto down = s->Get("t", "k");
  EXPECT_TRUE(absl::IsUnavailable(down.status())) << down.status();
  EXPECT_NE(down.status().message().find(address_), std::string::npos);
  StartRedis({});
  // No persistence: the data went with it, but the connection comes back.
  auto up = s->Get("t", "k");
  ASSERT_TRUE(up.ok()) << up.status();
  EXPECT_FALSE(up->has_value());
  EXPECT_TRUE(s->Put("t", "k", "again", true).ok());
}

TEST_F(RedisStorageTest, ClearErrorsForBadAddressesAndPasswords) {
  auto bad = RedisGcsStorage::Connect({.address = "no-port"});
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status())) << bad.status();
  auto nowhere = RedisGcsStorage::Connect(
      {.address = "127.0.0.1:" + std::to_string(FreePort()), .connect_timeout_ms = 500});
  EXPECT_TRUE(absl::IsUnavailable(nowhere.status())) << nowhere.status();
  EXPECT_NE(nowhere.status().message().find("cannot reach Redis"), std::string::npos);

  StopRedis();
  StartRedis({"--requirepass", "sesame"});
  auto no_password = RedisGcsStorage::Connect({.address = address_});
  // Without AUTH, a PING is refused with NOAUTH.
  EXPECT_TRUE(absl::IsUnauthenticated(no_password.status())) << no_password.status();
  auto wrong = RedisGcsStorage::Connect({.address = address_, .password = "wrong"});
  EXPECT_TRUE(absl::IsUnauthenticated(wrong.status())) << wrong.status();
  auto right = RedisGcsStorage::Connect({.address = address_, .password = "sesame"});
  ASSERT_TRUE(right.ok()) << right.status();
  EXPECT_TRUE((*right)->Put("t", "k", "v", true).ok());
}

}  // namespace
}  // namespace photon::gcs
