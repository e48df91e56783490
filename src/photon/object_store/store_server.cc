#include "photon/object_store/store_server.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fmt/format.h"
#include "photon/common/cluster_token.h"
#include "photon/common/logging.h"
#include "photon/object_store/unix_socket.h"

namespace photon::object_store {
namespace {

void SetStatus(rpc::StoreReply* reply, const absl::Status& s) {
  reply->set_code(static_cast<int32_t>(s.code()));
  reply->set_message(std::string(s.message()));
}

void FillFound(rpc::StoreObject* o, const ObjectSpan& span) {
  o->set_status(rpc::StoreObject::FOUND);
  o->set_offset(static_cast<int64_t>(span.offset));
  o->set_metadata_size(static_cast<int64_t>(span.metadata_size));
  o->set_data_size(static_cast<int64_t>(span.data_size));
}

}  // namespace

absl::Status StoreServer::Start() {
  auto fd = ListenUnix(socket_name_);
  if (!fd.ok()) return fd.status();
  listen_fd_ = *fd;
  wake_fd_ = eventfd(0, EFD_CLOEXEC);
  accept_thread_ = std::thread([this] { AcceptLoop(); });
  return absl::OkStatus();
}

void StoreServer::Stop() {
  std::map<ClientId, std::unique_ptr<Conn>> conns;
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
    for (auto& [id, c] : conns_) shutdown(c->fd, SHUT_RDWR);  // unblocks their reads
    conns = std::move(conns_);
  }
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
  }
  if (accept_thread_.joinable()) accept_thread_.join();
  for (auto& [id, c] : conns) {
    if (c->thread.joinable()) c->thread.join();
    close(c->fd);
  }
  if (listen_fd_ >= 0) close(listen_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
  listen_fd_ = wake_fd_ = -1;
}

void StoreServer::ReapFinished() {
  for (auto it = conns_.begin(); it != conns_.end();) {
    if (it->second->done) {
      it->second->thread.join();
      close(it->second->fd);
      it = conns_.erase(it);
    } else {
      ++it;
    }
  }
}

void StoreServer::AcceptLoop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    absl::MutexLock lock(&mu_);
    if (stopped_) {
      close(fd);
      return;
    }
    ReapFinished();
    ClientId id = next_client_++;
    auto conn = std::make_unique<Conn>();
    conn->fd = fd;
    Conn* raw = conn.get();
    conns_[id] = std::move(conn);
    raw->thread = std::thread([this, id, raw] { Serve(id, raw); });
  }
}

bool StoreServer::Authenticate(const rpc::StoreRequest& req, rpc::StoreReply* reply) {
  if (req.type() == rpc::StoreRequest::CONNECT && TokensMatch(req.token(), token_)) {
    return true;
  }
  const char* why = req.type() != rpc::StoreRequest::CONNECT ? "a request before CONNECT"
                    : req.token().empty()                    ? "no cluster token"
                                                             : "a wrong cluster token";
  int64_t n = refused_.fetch_add(1) + 1;
  if (n <= 10 || n % 1000 == 0) {
    PHOTON_LOG_WARN("object store {}: refused a connection (pid {}) with {} ({} refused so far)",
                    socket_name_, req.pid(), why, n);
  }
  SetStatus(reply, absl::UnauthenticatedError(fmt::format(
                       "the object store refused the connection: {} (a client must present the "
                       "cluster token in CONNECT; see docs/security.md)",
                       why)));
  return false;
}

void StoreServer::Serve(ClientId client, Conn* conn) {
  std::string frame;
  rpc::StoreReply reply;
  bool authenticated = token_.empty();
  for (;;) {
    if (!RecvFrame(conn->fd, &frame).ok()) break;
    reply.Clear();
    rpc::StoreRequest req;
    if (!req.ParseFromString(frame)) {
      SetStatus(&reply, absl::InvalidArgumentError("malformed store request"));
      if (!authenticated) {
        (void)SendFrame(conn->fd, reply.SerializeAsString(), -1);
        break;
      }
    } else if (!authenticated && !(authenticated = Authenticate(req, &reply))) {
      // Answered, then closed: nothing of the store is reachable without it.
      (void)SendFrame(conn->fd, reply.SerializeAsString(), -1);
      break;
    } else if (!Handle(client, req, &reply)) {
      continue;  // one-way
    }
    bool connect = req.type() == rpc::StoreRequest::CONNECT && reply.code() == 0;
    int pass_fd = connect ? store_->arena().fd() : -1;
    if (!SendFrame(conn->fd, reply.SerializeAsString(), pass_fd).ok()) break;
  }
  // Tell the peer at once (the descriptor itself is closed when reaped).
  shutdown(conn->fd, SHUT_RDWR);
  store_->DisconnectClient(client);
  conn->done = true;
}

bool StoreServer::Handle(ClientId client, const rpc::StoreRequest& req, rpc::StoreReply* reply) {
  std::vector<ObjectID> ids;
  ids.reserve(static_cast<size_t>(req.object_ids_size()));
  for (const auto& b : req.object_ids()) {
    auto id = ObjectID::FromBinary(b);
    if (!id.ok()) {
      SetStatus(reply,
                absl::InvalidArgumentError(fmt::format("store request names a bad object id: {}",
                                                       std::string(id.status().message()))));
      return req.type() != rpc::StoreRequest::RELEASE && req.type() != rpc::StoreRequest::DELETE;
    }
    ids.push_back(*id);
  }
  switch (req.type()) {
    case rpc::StoreRequest::CONNECT:
      reply->set_capacity(static_cast<int64_t>(store_->arena().capacity()));
      return true;
    case rpc::StoreRequest::CREATE: {
      if (ids.size() != 1 || req.metadata_size() < 0 || req.data_size() < 0) {
        SetStatus(reply,
                  absl::InvalidArgumentError("create takes one object id and non-negative sizes"));
        return true;
      }
      auto span = store_->CreateObject(client, ids[0], static_cast<uint64_t>(req.metadata_size()),
                                       static_cast<uint64_t>(req.data_size()), /*primary=*/true);
      if (!span.ok()) {
        SetStatus(reply, span.status());
        reply->set_retry(absl::IsUnavailable(span.status()));
      } else {
        FillFound(reply->add_objects(), *span);
      }
      return true;
    }
    case rpc::StoreRequest::SEAL:
      for (const auto& id : ids) {
        if (auto s = store_->Seal(client, id); !s.ok()) SetStatus(reply, s);
      }
      return true;
    case rpc::StoreRequest::ABORT:
      for (const auto& id : ids) store_->Abort(client, id);
      return true;
    case rpc::StoreRequest::GET: {
      auto results = store_->Get(client, ids);
      for (const auto& r : results) {
        rpc::StoreObject* o = reply->add_objects();
        if (r.status == LocalStore::GetStatus::kFound) {
          FillFound(o, r.span);
        } else {
          o->set_status(r.status == LocalStore::GetStatus::kRetry ? rpc::StoreObject::RETRY
                                                                  : rpc::StoreObject::NOT_FOUND);
        }
      }
      return true;
    }
    case rpc::StoreRequest::RELEASE:
      for (const auto& id : ids) store_->Release(client, id);
      return false;
    case rpc::StoreRequest::DELETE:
      for (const auto& id : ids) store_->Delete(id);
      return false;
    case rpc::StoreRequest::CONTAINS:
      for (const auto& id : ids) {
        reply->add_objects()->set_status(store_->Contains(id) ? rpc::StoreObject::FOUND
                                                              : rpc::StoreObject::NOT_FOUND);
      }
      return true;
    case rpc::StoreRequest::INFO:
      for (const auto& id : ids) *reply->add_objects() = store_->Info(id);
      return true;
    case rpc::StoreRequest::STATS:
      *reply->mutable_stats() = store_->Stats();
      return true;
    default:
      SetStatus(reply, absl::InvalidArgumentError(fmt::format("unknown store request type {}",
                                                              static_cast<int>(req.type()))));
      return true;
  }
}

}  // namespace photon::object_store
