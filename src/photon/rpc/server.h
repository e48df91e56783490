// A gRPC server hosting one or more callback services on one port.
//
// Threading: services run on gRPC's callback threads; each service guards its
// own state. Start/Shutdown are called from one owning thread.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace photon::rpc {

// Finishes a unary callback call at once with `status` and returns its
// reactor: `return FinishNow(ctx);` ends a handler that answers immediately.
inline grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* ctx,
                                           const grpc::Status& status = grpc::Status::OK) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

class GrpcServer {
 public:
  // `name` is for logs. `host` is the interface to bind ("127.0.0.1" or
  // "0.0.0.0"); `port` 0 picks a free one. With a non-empty `token`, every
  // call must present it (rpc/auth.h) or is refused before any service runs.
  GrpcServer(std::string name, std::string host, int port, std::string token = "");
  ~GrpcServer();

  // Adds a service (not owned; must outlive the server). Before Start only.
  void RegisterService(grpc::Service* service);

  // Binds and starts serving. Fails with Unavailable if the port cannot be bound.
  absl::Status Start();

  // The bound port; valid after a successful Start.
  int port() const { return port_; }
  std::string address() const;

  // Stops accepting calls and waits up to `deadline_ms` for running ones.
  void Shutdown(int64_t deadline_ms);

 private:
  std::string name_;
  std::string host_;
  int port_;
  std::string token_;
  std::vector<grpc::Service*> services_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace photon::rpc
