// Client-side gRPC helpers: channels and asynchronous unary calls.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "photon/rpc/grpc_status.h"

namespace photon::rpc {

// A channel to `address` ("host:port") with Photon's settings (no message size
// limit). Cached per address in this process; thread-safe. A cached channel
// in TRANSIENT_FAILURE is replaced by a fresh one: ports are reused, and a new
// process at the address of a dead one must not inherit its backoff.
std::shared_ptr<grpc::Channel> GetChannel(const std::string& address);
// The same for a known peer (`peer_id`: a WorkerID or NodeID in binary): a
// cached channel that was made for another peer at that address is replaced.
std::shared_ptr<grpc::Channel> GetChannel(const std::string& address, const std::string& peer_id);

// Sets a deadline `timeout_ms` from now on `ctx` (no deadline if < 0).
inline void SetTimeout(grpc::ClientContext* ctx, int64_t timeout_ms) {
  if (timeout_ms >= 0) {
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
  }
}

// Calls `method` on `async` (a stub's async() interface) without blocking;
// `done` runs on a gRPC thread with the status and the reply. `done` must not
// block for long.
template <typename AsyncStub, typename Request, typename Reply>
void CallAsync(AsyncStub* async,
               void (AsyncStub::*method)(grpc::ClientContext*, const Request*, Reply*,
                                         std::function<void(grpc::Status)>),
               const Request& request, int64_t timeout_ms,
               std::type_identity_t<std::function<void(const absl::Status&, Reply&&)>> done) {
  struct Call {
    grpc::ClientContext ctx;
    Request request;
    Reply reply;
  };
  auto call = std::make_shared<Call>();
  call->request = request;
  SetTimeout(&call->ctx, timeout_ms);
  (async->*method)(&call->ctx, &call->request, &call->reply,
                   [call, done = std::move(done)](grpc::Status status) mutable {
                     done(FromGrpcStatus(status), std::move(call->reply));
                   });
}

// Blocking unary call; returns the reply or the call's error.
template <typename Stub, typename Request, typename Reply>
absl::Status CallSync(Stub* stub,
                      grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Reply*),
                      const Request& request, Reply* reply, int64_t timeout_ms) {
  grpc::ClientContext ctx;
  SetTimeout(&ctx, timeout_ms);
  return FromGrpcStatus((stub->*method)(&ctx, request, reply));
}

}  // namespace photon::rpc
