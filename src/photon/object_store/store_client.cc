#include "photon/object_store/store_client.h"

#include <unistd.h>

#include <cstring>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "fmt/format.h"
#include "photon/object_store/arena.h"
#include "photon/object_store/copy.h"
#include "photon/object_store/local_store.h"
#include "photon/object_store/unix_socket.h"

namespace photon::object_store {

struct StoreClient::Conn {
  int fd = -1;
  std::unique_ptr<Arena> arena;
  absl::Mutex mu;
  // The pins this process holds (views alive), for the memory view.
  absl::Mutex pins_mu;
  struct Pin {
    int count = 0;
    int64_t size = 0;
  };
  absl::flat_hash_map<ObjectID, Pin> pins ABSL_GUARDED_BY(pins_mu);

  void Pinned(const ObjectID& id, int64_t size) {
    absl::MutexLock lock(&pins_mu);
    Pin& p = pins[id];
    ++p.count;
    p.size = size;
  }
  void Unpinned(const ObjectID& id) {
    absl::MutexLock lock(&pins_mu);
    auto it = pins.find(id);
    if (it != pins.end() && --it->second.count <= 0) pins.erase(it);
  }

  ~Conn() {
    arena.reset();
    if (fd >= 0) close(fd);
  }

  // One round trip; the store's own error stays in the reply.
  absl::StatusOr<rpc::StoreReply> RawCall(const rpc::StoreRequest& req, int* received_fd) {
    std::string frame = req.SerializeAsString();
    rpc::StoreReply reply;
    {
      absl::MutexLock lock(&mu);
      if (auto s = SendFrame(fd, frame); !s.ok()) return s;
      if (auto s = RecvFrame(fd, &frame, received_fd); !s.ok()) return s;
    }
    if (!reply.ParseFromString(frame)) return absl::InternalError("malformed store reply");
    return reply;
  }

  // As RawCall, with the store's own error folded into the status.
  absl::StatusOr<rpc::StoreReply> Call(const rpc::StoreRequest& req, int* received_fd = nullptr) {
    auto reply = RawCall(req, received_fd);
    if (reply.ok() && reply->code() != 0) {
      return absl::Status(static_cast<absl::StatusCode>(reply->code()), reply->message());
    }
    return reply;
  }

  void Send(const rpc::StoreRequest& req) {
    std::string frame = req.SerializeAsString();
    absl::MutexLock lock(&mu);
    SendFrame(fd, frame).IgnoreError();  // a closed store has nothing left to release
  }
};

namespace {

rpc::StoreRequest Request(rpc::StoreRequest::Type type, const std::vector<ObjectID>& ids) {
  rpc::StoreRequest req;
  req.set_type(type);
  for (const auto& id : ids) req.add_object_ids(id.Binary());
  return req;
}

// Sleeps a little longer each time while a full store makes room.
class Backoff {
 public:
  explicit Backoff(int64_t grace_ms) : deadline_(absl::Now() + absl::Milliseconds(grace_ms)) {}
  bool Wait() {
    if (absl::Now() >= deadline_) return false;
    absl::SleepFor(delay_);
    delay_ = std::min(delay_ * 2, absl::Milliseconds(20));
    return true;
  }

 private:
  absl::Time deadline_;
  absl::Duration delay_ = absl::Microseconds(500);
};

}  // namespace

absl::StatusOr<std::unique_ptr<StoreClient>> StoreClient::Connect(const std::string& socket_name,
                                                                  const std::string& token) {
  auto fd = ConnectUnix(socket_name);
  if (!fd.ok()) return fd.status();
  auto conn = std::make_shared<Conn>();
  conn->fd = *fd;
  rpc::StoreRequest req;
  req.set_type(rpc::StoreRequest::CONNECT);
  req.set_pid(getpid());
  req.set_token(token);
  int arena_fd = -1;
  auto reply = conn->Call(req, &arena_fd);
  if (!reply.ok()) return reply.status();
  if (arena_fd < 0) return absl::InternalError("the object store did not pass its arena");
  auto arena = Arena::Map(arena_fd, static_cast<uint64_t>(reply->capacity()));
  if (!arena.ok()) return arena.status();
  conn->arena = std::move(*arena);
  return std::unique_ptr<StoreClient>(new StoreClient(std::move(conn)));
}

StoreClient::~StoreClient() = default;

std::vector<std::pair<ObjectID, int64_t>> StoreClient::PinnedObjects() const {
  absl::MutexLock lock(&conn_->pins_mu);
  std::vector<std::pair<ObjectID, int64_t>> out;
  out.reserve(conn_->pins.size());
  for (const auto& [id, p] : conn_->pins) out.emplace_back(id, p.size);
  return out;
}

uint64_t StoreClient::capacity() const { return conn_->arena->capacity(); }

absl::StatusOr<char*> StoreClient::Create(const ObjectID& id, uint64_t metadata_size,
                                          uint64_t data_size, int64_t grace_ms) {
  rpc::StoreRequest req = Request(rpc::StoreRequest::CREATE, {id});
  req.set_metadata_size(static_cast<int64_t>(metadata_size));
  req.set_data_size(static_cast<int64_t>(data_size));
  Backoff backoff(grace_ms);
  for (;;) {
    auto reply = conn_->RawCall(req, nullptr);
    if (!reply.ok()) return reply.status();
    if (reply->code() == 0) return conn_->arena->base() + reply->objects(0).offset();
    absl::Status s(static_cast<absl::StatusCode>(reply->code()), reply->message());
    if (!reply->retry()) return s;  // full for now (spilling asked for) is the one retry
    if (!backoff.Wait()) {
      return absl::ResourceExhaustedError(
          fmt::format("{} (after waiting {} ms for room)", std::string(s.message()), grace_ms));
    }
  }
}

absl::Status StoreClient::PutWith(const ObjectID& id, std::string_view metadata, size_t data_size,
                                  const std::function<void(char* dst)>& fill, int64_t grace_ms) {
  auto base = Create(id, metadata.size(), data_size, grace_ms);
  if (!base.ok()) return base.status();
  std::memcpy(*base, metadata.data(), metadata.size());
  fill(*base + AlignUp64(metadata.size()));
  auto reply = conn_->Call(Request(rpc::StoreRequest::SEAL, {id}));
  return reply.status();
}

absl::Status StoreClient::Put(const ObjectID& id, std::string_view metadata, std::string_view data,
                              int64_t grace_ms) {
  return PutWith(
      id, metadata, data.size(), [&](char* dst) { CopyToStore(dst, data.data(), data.size()); },
      grace_ms);
}

absl::StatusOr<std::vector<std::optional<StoredObject>>> StoreClient::Get(
    const std::vector<ObjectID>& ids, int64_t grace_ms) {
  std::vector<std::optional<StoredObject>> out(ids.size());
  std::vector<size_t> todo(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) todo[i] = i;
  Backoff backoff(grace_ms);
  for (;;) {
    std::vector<ObjectID> ask;
    for (size_t i : todo) ask.push_back(ids[i]);
    auto reply = conn_->Call(Request(rpc::StoreRequest::GET, ask));
    if (!reply.ok()) return reply.status();
    std::vector<size_t> retry;
    const char* base = conn_->arena->base();
    for (size_t k = 0; k < todo.size(); ++k) {
      const rpc::StoreObject& o = reply->objects(static_cast<int>(k));
      if (o.status() == rpc::StoreObject::RETRY) {
        retry.push_back(todo[k]);
        continue;
      }
      if (o.status() != rpc::StoreObject::FOUND) continue;
      StoredObject obj;
      uint64_t off = static_cast<uint64_t>(o.offset());
      uint64_t meta = static_cast<uint64_t>(o.metadata_size());
      obj.metadata = std::string_view(base + off, meta);
      obj.data = std::string_view(base + off + AlignUp64(meta), static_cast<size_t>(o.data_size()));
      // The holder releases the pin; it keeps the connection (and with it
      // the mapping) alive for as long as the view is used.
      conn_->Pinned(ids[todo[k]], static_cast<int64_t>(meta) + o.data_size());
      obj.holder =
          std::shared_ptr<const void>(base + off, [conn = conn_, id = ids[todo[k]]](const void*) {
            conn->Unpinned(id);
            conn->Send(Request(rpc::StoreRequest::RELEASE, {id}));
          });
      out[todo[k]] = std::move(obj);
    }
    if (retry.empty()) return out;
    if (!backoff.Wait()) {
      return absl::ResourceExhaustedError(fmt::format(
          "the object store is full: no room to restore object {} from disk after {} ms",
          ids[retry[0]].Hex(), grace_ms));
    }
    todo = std::move(retry);
  }
}

absl::StatusOr<StoredObject> StoreClient::Get(const ObjectID& id, int64_t grace_ms) {
  auto got = Get(std::vector<ObjectID>{id}, grace_ms);
  if (!got.ok()) return got.status();
  if (!(*got)[0]) {
    return absl::NotFoundError(fmt::format("object {} is not in this node's store", id.Hex()));
  }
  return std::move(*(*got)[0]);
}

bool StoreClient::Contains(const ObjectID& id) {
  auto reply = conn_->Call(Request(rpc::StoreRequest::CONTAINS, {id}));
  return reply.ok() && reply->objects(0).status() == rpc::StoreObject::FOUND;
}

void StoreClient::Delete(const std::vector<ObjectID>& ids) {
  conn_->Send(Request(rpc::StoreRequest::DELETE, ids));
}

absl::StatusOr<rpc::StoreObject> StoreClient::Info(const ObjectID& id) {
  auto reply = conn_->Call(Request(rpc::StoreRequest::INFO, {id}));
  if (!reply.ok()) return reply.status();
  return reply->objects(0);
}

absl::StatusOr<rpc::StoreStats> StoreClient::Stats() {
  auto reply = conn_->Call(Request(rpc::StoreRequest::STATS, {}));
  if (!reply.ok()) return reply.status();
  return reply->stats();
}

}  // namespace photon::object_store
