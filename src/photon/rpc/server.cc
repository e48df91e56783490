#include "photon/rpc/server.h"

#include <chrono>

#include "fmt/format.h"
#include "photon/common/logging.h"
#include "photon/rpc/auth.h"

namespace photon::rpc {

GrpcServer::GrpcServer(std::string name, std::string host, int port, std::string token)
    : name_(std::move(name)), host_(std::move(host)), port_(port), token_(std::move(token)) {}

GrpcServer::~GrpcServer() { Shutdown(0); }

void GrpcServer::RegisterService(grpc::Service* service) { services_.push_back(service); }

absl::Status GrpcServer::Start() {
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(fmt::format("{}:{}", host_, port_),
                           ServerCredentialsWithToken(name_, token_), &bound_port);
  builder.SetMaxReceiveMessageSize(-1);
  builder.SetMaxSendMessageSize(-1);
  // Small RPCs dominate; avoid the default of holding calls for batching.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  for (grpc::Service* s : services_) builder.RegisterService(s);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || bound_port == 0) {
    return absl::UnavailableError(fmt::format("{}: cannot listen on {}:{}", name_, host_, port_));
  }
  port_ = bound_port;
  PHOTON_LOG_INFO("{} listening on {}:{}{}", name_, host_, port_,
                  token_.empty() ? " (no cluster token required)" : "");
  return absl::OkStatus();
}

std::string GrpcServer::address() const { return fmt::format("{}:{}", host_, port_); }

void GrpcServer::Shutdown(int64_t deadline_ms) {
  if (server_ == nullptr) return;
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(deadline_ms));
  server_.reset();
}

}  // namespace photon::rpc
