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

}  // namespace
}  // namespace photon::raylet
