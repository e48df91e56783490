#include "photon/raylet/scheduling/resource_set.h"

#include <gtest/gtest.h>

namespace photon::raylet {
namespace {

TEST(ResourceSetTest, ArithmeticIsExactToTheTenThousandth) {
  auto a = *ResourceSet::FromMap({{"CPU", 1.0}});
  auto tenth = *ResourceSet::FromMap({{"CPU", 0.1}});
  for (int i = 0; i < 10; ++i) a.Subtract(tenth);
  EXPECT_EQ(a.Get("CPU"), 0.0);
  for (int i = 0; i < 10; ++i) a.Add(tenth);
  EXPECT_EQ(a.Get("CPU"), 1.0);
}

TEST(ResourceSetTest, BadAmountsAreRefusedWithTheirName) {
  auto neg = ResourceSet::FromMap({{"GPU", -1}});
  ASSERT_FALSE(neg.ok());
  EXPECT_NE(std::string(neg.status().message()).find("GPU"), std::string::npos);
  EXPECT_FALSE(ResourceSet::FromMap({{"CPU", 0.00001}}).ok());
  EXPECT_FALSE(ResourceSet::FromMap({{"CPU", std::nan("")}}).ok());
}

TEST(ResourceSetTest, ContainsAndUtilization) {
  auto total = *ResourceSet::FromMap({{"CPU", 4}, {"GPU", 2}});
  auto avail = *ResourceSet::FromMap({{"CPU", 1}, {"GPU", 2}});
  auto cpu2 = *ResourceSet::FromMap({{"CPU", 2}});
  auto gpu1 = *ResourceSet::FromMap({{"GPU", 1}});
  EXPECT_FALSE(avail.Contains(cpu2));
  EXPECT_TRUE(avail.Contains(gpu1));
  EXPECT_TRUE(total.Contains(cpu2));
  EXPECT_DOUBLE_EQ(avail.Utilization(total, cpu2), 0.75);  // 3 of 4 CPUs in use
  EXPECT_DOUBLE_EQ(avail.Utilization(total, gpu1), 0.0);
  EXPECT_DOUBLE_EQ(avail.Utilization(total, ResourceSet()), 0.0);
}

TEST(ResourceSetTest, MissingResourceIsZero) {
  auto s = *ResourceSet::FromMap({{"CPU", 2}});
  EXPECT_EQ(s.Get("custom"), 0.0);
  EXPECT_FALSE(s.Contains(*ResourceSet::FromMap({{"custom", 1}})));
  EXPECT_TRUE(s.Contains(ResourceSet()));
}

TEST(ResourceSetTest, FromProtoReadsEveryEntryAndRefusesBadOnes) {
  google::protobuf::Map<std::string, double> m;
  m["z"] = 1;
  m["CPU"] = 2.5;
  m["a"] = 0;  // zero: not kept
  auto s = ResourceSet::FromProto(m);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->ToMap(), (std::map<std::string, double>{{"CPU", 2.5}, {"z", 1}}));
  m["GPU"] = -1;
  auto bad = ResourceSet::FromProto(m);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("GPU"), std::string::npos);
}

TEST(ResourceSetTest, ApplyToProtoTouchesOnlyItsNamesInFixedPoint) {
  google::protobuf::Map<std::string, double> m;
  m["CPU"] = 1;
  m["other"] = 7;
  auto tenth = *ResourceSet::FromMap({{"CPU", 0.1}, {"new", 0.5}});
  for (int i = 0; i < 10; ++i) tenth.ApplyToProto(&m, /*subtract=*/false);
  EXPECT_EQ(m.at("CPU"), 2.0);
  EXPECT_EQ(m.at("new"), 5.0);
  EXPECT_EQ(m.at("other"), 7.0);
  for (int i = 0; i < 10; ++i) tenth.ApplyToProto(&m, /*subtract=*/true);
  EXPECT_EQ(m.at("CPU"), 1.0);
  EXPECT_FALSE(m.contains("new"));  // down to zero: erased
  EXPECT_EQ(m.at("other"), 7.0);
}

TEST(ResourceSetTest, KeepOnlyNamesOfAndDropNonPositiveAmongTheGivenNames) {
  auto avail = *ResourceSet::FromMap({{"CPU", 1}, {"gone", 1}, {"stale", 1}});
  auto total = *ResourceSet::FromMap({{"CPU", 4}});
  // Only "gone" is looked at: "stale" stays although the total lacks it.
  avail.KeepOnlyNamesOf(total, *ResourceSet::FromMap({{"gone", 1}}));
  EXPECT_EQ(avail.ToMap(), (std::map<std::string, double>{{"CPU", 1}, {"stale", 1}}));
  auto two = *ResourceSet::FromMap({{"CPU", 2}, {"stale", 2}});
  avail.Subtract(two);  // CPU -1, stale -1
  avail.DropNonPositive(*ResourceSet::FromMap({{"stale", 1}}));
  EXPECT_EQ(avail.Get("CPU"), -1.0);
  EXPECT_EQ(avail.Get("stale"), 0.0);
  EXPECT_EQ(avail.ToMap().size(), 1u);
}

}  // namespace
}  // namespace photon::raylet
