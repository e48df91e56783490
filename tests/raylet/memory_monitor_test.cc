// Out-of-memory prevention's parts: reading memory use, and Ray's choice of
// the worker to kill.
#include "photon/raylet/memory_monitor.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace photon::raylet {
namespace {

TEST(MemoryMonitorTest, MeminfoGivesTotalAndUsedAsTotalMinusAvailable) {
  auto u = ParseMeminfo(
      "MemTotal:       16000000 kB\nMemFree:         1000000 kB\n"
      "MemAvailable:    4000000 kB\nBuffers:  100 kB\n");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->total_bytes, 16000000LL * 1024);
  EXPECT_EQ(u->used_bytes, 12000000LL * 1024);
  EXPECT_DOUBLE_EQ(u->fraction(), 0.75);
  EXPECT_FALSE(ParseMeminfo("MemTotal: 1 kB\n").ok());
}

TEST(MemoryMonitorTest, AnExplicitCapacityCountsTheWorkersResidentMemory) {
  int64_t mine = ResidentBytes(getpid());
  EXPECT_GT(mine, 0);
  EXPECT_EQ(ResidentBytes(999999999), 0);  // no such process
  auto u = ReadNodeMemory(mine * 4, {getpid()});
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->total_bytes, mine * 4);
  EXPECT_NEAR(u->fraction(), 0.25, 0.05);
  auto machine = ReadNodeMemory(0, {});
  ASSERT_TRUE(machine.ok()) << machine.status();
  EXPECT_GT(machine->total_bytes, 0);
  EXPECT_GT(machine->fraction(), 0);
  EXPECT_LT(machine->fraction(), 1);
}

TEST(MemoryMonitorTest, VictimIsRetriableFirstThenTheBusiestOwnersNewestLease) {
  absl::Time t0 = absl::FromUnixSeconds(1000);
  std::vector<OomCandidate> c = {
      {101, "a", false, t0 + absl::Seconds(9)},  // newest, but not retriable
      {102, "a", true, t0 + absl::Seconds(1)},  {103, "b", true, t0 + absl::Seconds(2)},
      {104, "b", true, t0 + absl::Seconds(3)},  {105, "c", true, t0 + absl::Seconds(8)},
  };
  auto v = PickOomVictim(c);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(c[*v].pid, 104);  // owner b has the most retriable leases; its newest
  std::vector<OomCandidate> none_retriable = {{201, "a", false, t0},
                                              {202, "b", false, t0 + absl::Seconds(1)}};
  EXPECT_EQ(none_retriable[*PickOomVictim(none_retriable)].pid, 202);
  EXPECT_FALSE(PickOomVictim({}).has_value());
}

}  // namespace
}  // namespace photon::raylet
