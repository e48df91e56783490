// Serves a LocalStore to the processes of its node over a Unix socket
// (protocol: photon/protocol/store.proto).
//
// Threading: one thread accepts; each connection gets its own thread, so a get
// that restores from disk only delays its own client. A connection that closes
// (the client exited or crashed) has its pins dropped and its unsealed objects
// aborted.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "photon/object_store/local_store.h"

namespace photon::object_store {

class StoreServer {
 public:
  // `store` must outlive the server. With a non-empty `token` (the cluster
  // token, rpc/auth.h) a connection is served only after a CONNECT that
  // presents it; any other first request, or a wrong token, is answered
  // UNAUTHENTICATED, logged, and the connection closed.
  StoreServer(LocalStore* store, std::string socket_name, std::string token = "")
      : store_(store), socket_name_(std::move(socket_name)), token_(std::move(token)) {}
  ~StoreServer() { Stop(); }

  absl::Status Start();
  // Closes the socket and every connection, and joins their threads.
  void Stop();
  const std::string& socket_name() const { return socket_name_; }

 private:
  struct Conn {
    int fd = -1;
    std::thread thread;
    std::atomic<bool> done{false};
  };
  void AcceptLoop();
  void Serve(ClientId client, Conn* conn);
  // Handles one request; false means no reply is due (one-way requests).
  bool Handle(ClientId client, const rpc::StoreRequest& req, rpc::StoreReply* reply);
  // False (with `reply` set to UNAUTHENTICATED) unless `req` is a CONNECT
  // that presents the token.
  bool Authenticate(const rpc::StoreRequest& req, rpc::StoreReply* reply);
  void ReapFinished() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  LocalStore* store_;
  std::string socket_name_;
  const std::string token_;
  std::atomic<int64_t> refused_{0};
  int listen_fd_ = -1;
  int wake_fd_ = -1;  // eventfd that stops the accept loop
  std::thread accept_thread_;
  absl::Mutex mu_;
  ClientId next_client_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<ClientId, std::unique_ptr<Conn>> conns_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace photon::object_store
