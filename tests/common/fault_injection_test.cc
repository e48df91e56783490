#include "photon/rpc/fault_injection.h"

#include <gtest/gtest.h>

namespace photon::rpc {
namespace {

class FaultInjectionTest : public ::testing::Test {
 protected:
  ~FaultInjectionTest() override { EXPECT_TRUE(InstallFaultInjection("").ok()); }
};

TEST_F(FaultInjectionTest, NothingIsInjectedByDefault) {
  ASSERT_TRUE(InstallFaultInjection("").ok());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(NextInjectedFailure("PushTask"), InjectedFailure::kNone);
}

TEST_F(FaultInjectionTest, CertainFailuresHitOnlyTheirMethod) {
  ASSERT_TRUE(InstallFaultInjection("PushTask=1:0, GetObjectStatus=0:1").ok());
  EXPECT_EQ(NextInjectedFailure("PushTask"), InjectedFailure::kRequest);
  EXPECT_EQ(NextInjectedFailure("GetObjectStatus"), InjectedFailure::kReply);
  EXPECT_EQ(NextInjectedFailure("RequestWorkerLease"), InjectedFailure::kNone);
  absl::Status s = InjectedFailureStatus("PushTask", InjectedFailure::kRequest);
  EXPECT_TRUE(absl::IsUnavailable(s));
  EXPECT_NE(std::string(s.message()).find("PushTask"), std::string::npos);
}

TEST_F(FaultInjectionTest, ProbabilitiesAreHonoredRoughly) {
  ASSERT_TRUE(InstallFaultInjection("Pull=0.5:0").ok());
  int failures = 0;
  for (int i = 0; i < 2000; ++i) failures += NextInjectedFailure("Pull") != InjectedFailure::kNone;
  EXPECT_GT(failures, 800);
  EXPECT_LT(failures, 1200);
}

TEST_F(FaultInjectionTest, MalformedSpecsAreRefusedWithTheEntry) {
  for (const char* bad : {"PushTask", "PushTask=0.5", "PushTask=2:0", "=0:0", "PushTask=a:b"}) {
    absl::Status s = InstallFaultInjection(bad);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << bad;
    EXPECT_NE(std::string(s.message()).find("testing_rpc_failure"), std::string::npos) << bad;
  }
}

}  // namespace
}  // namespace photon::rpc
