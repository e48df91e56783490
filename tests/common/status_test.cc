#include "photon/common/status.h"

#include <gtest/gtest.h>

#include "photon/rpc/grpc_status.h"

namespace photon {
namespace {

absl::Status FailIfNegative(int x) {
  if (x < 0) return absl::InvalidArgumentError("negative");
  return absl::OkStatus();
}

absl::StatusOr<int> Double(int x) {
  PHOTON_RETURN_IF_ERROR(FailIfNegative(x));
  return 2 * x;
}

absl::StatusOr<int> Quadruple(int x) {
  PHOTON_ASSIGN_OR_RETURN(int twice, Double(x));
  PHOTON_ASSIGN_OR_RETURN(auto again, Double(twice));
  return again;
}

TEST(StatusTest, MacrosPropagate) {
  EXPECT_EQ(*Quadruple(3), 12);
  auto bad = Quadruple(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "negative");
}

TEST(StatusTest, AnnotateKeepsCode) {
  absl::Status s = Annotate(absl::NotFoundError("no such object"), "get abc");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "get abc: no such object");
  EXPECT_TRUE(Annotate(absl::OkStatus(), "x").ok());
}

TEST(StatusTest, GrpcRoundTripKeepsCodeAndMessage) {
  for (auto code : {absl::StatusCode::kCancelled, absl::StatusCode::kDeadlineExceeded,
                    absl::StatusCode::kUnavailable, absl::StatusCode::kResourceExhausted,
                    absl::StatusCode::kFailedPrecondition}) {
    absl::Status s(code, "detail");
    grpc::Status g = rpc::ToGrpcStatus(s);
    EXPECT_EQ(static_cast<int>(g.error_code()), static_cast<int>(code));
    EXPECT_EQ(rpc::FromGrpcStatus(g), s);
  }
  EXPECT_TRUE(rpc::FromGrpcStatus(grpc::Status::OK).ok());
  EXPECT_TRUE(rpc::ToGrpcStatus(absl::OkStatus()).ok());
}

}  // namespace
}  // namespace photon
