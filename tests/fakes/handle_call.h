// Calling a gRPC callback-API handler directly in a unit test.
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/test/default_reactor_test_peer.h>

namespace photon::testing {

// Runs one call of a handler (`handler(ctx)`) with a test reactor; returns the
// status the handler finished it with (the call must finish before returning).
template <typename F>
grpc::Status Handle(F handler) {
  grpc::CallbackServerContext ctx;
  grpc::testing::DefaultReactorTestPeer peer(&ctx);
  handler(&ctx);
  return peer.test_status();
}

}  // namespace photon::testing
