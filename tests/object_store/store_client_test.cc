// StoreServer and StoreClient over real Unix sockets, within one process and
// across forked processes.
#include "photon/object_store/store_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "photon/object_store/local_store.h"
#include "photon/object_store/store_server.h"
#include "photon/object_store/unix_socket.h"
#include "test_util.h"

namespace photon::object_store {
namespace {

using ostest::ChildProcess;
using ostest::ExitedWith;
using ostest::HashBytes;
using ostest::Pattern;
using ostest::Pipe;
using ostest::ReadAllFd;
using ostest::TempDir;
using ostest::UniqueSocketName;
using ostest::WaitFor;
using ostest::WriteAllFd;
using ::testing::HasSubstr;

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * 1024;

// A LocalStore served on an abstract socket; stops and cleans up when it goes.
struct ServedStore {
  TempDir dir;
  std::unique_ptr<LocalStore> store;
  std::unique_ptr<StoreServer> server;
  std::string name;

  ~ServedStore() {
    if (server) server->Stop();
  }
};

std::unique_ptr<ServedStore> Serve(uint64_t capacity, const std::string& name) {
  auto s = std::make_unique<ServedStore>();
  StoreOptions opts;
  opts.capacity = capacity;
  opts.spill_dir = s->dir.Sub("spill");
  auto store = LocalStore::Create(opts);
  EXPECT_TRUE(store.ok()) << store.status();
  if (!store.ok()) return nullptr;
  s->store = std::move(*store);
  s->name = name;
  s->server = std::make_unique<StoreServer>(s->store.get(), name);
  absl::Status started = s->server->Start();
  EXPECT_TRUE(started.ok()) << started;
  if (!started.ok()) return nullptr;
  return s;
}

// The mapping of this process that holds `p`: where it starts and at which
// file offset (from /proc/self/maps).
struct Mapping {
  uintptr_t start = 0;
  uintptr_t end = 0;
  uint64_t file_offset = 0;
  std::string path;
};
std::optional<Mapping> MappingOf(const void* p) {
  auto addr = reinterpret_cast<uintptr_t>(p);
  FILE* f = std::fopen("/proc/self/maps", "r");
  if (f == nullptr) return std::nullopt;
  char line[1024];
  std::optional<Mapping> found;
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    unsigned long long start = 0, end = 0, off = 0;
    char perms[8] = {0};
    int consumed = 0;
    if (std::sscanf(line, "%llx-%llx %7s %llx %*s %*s%n", &start, &end, perms, &off, &consumed) <
        4) {
      continue;
    }
    if (addr < start || addr >= end) continue;
    Mapping m;
    m.start = static_cast<uintptr_t>(start);
    m.end = static_cast<uintptr_t>(end);
    m.file_offset = off;
    std::string rest(line + consumed);
    size_t b = rest.find_first_not_of(" \t");
    size_t e = rest.find_last_not_of(" \t\n");
    if (b != std::string::npos) m.path = rest.substr(b, e - b + 1);
    found = m;
    break;
  }
  std::fclose(f);
  return found;
}

// The offset into the arena file of a pointer into one of its mappings.
int64_t ArenaOffsetOf(const void* p) {
  auto m = MappingOf(p);
  if (!m) return -1;
  return static_cast<int64_t>(reinterpret_cast<uintptr_t>(p) - m->start + m->file_offset);
}

// One raw request/reply on a socket, outside StoreClient.
absl::StatusOr<rpc::StoreReply> RawCall(int fd, const std::string& frame) {
  if (auto s = SendFrame(fd, frame); !s.ok()) return s;
  std::string payload;
  int received = -1;
  if (auto s = RecvFrame(fd, &payload, &received); !s.ok()) return s;
  if (received >= 0) close(received);
  rpc::StoreReply reply;
  if (!reply.ParseFromString(payload)) return absl::InternalError("malformed reply");
  return reply;
}

class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

TEST(StoreClientTest, ConnectWithoutServerIsUnavailable) {
  auto c = StoreClient::Connect(UniqueSocketName("nobody"));
  EXPECT_TRUE(absl::IsUnavailable(c.status())) << c.status();
}

TEST(StoreClientTest, PutGetIsZeroCopyAcrossClients) {
  auto srv = Serve(16 * kMiB, UniqueSocketName("zc"));
  ASSERT_NE(srv, nullptr);
  auto c1 = StoreClient::Connect(srv->name);
  ASSERT_TRUE(c1.ok()) << c1.status();
  EXPECT_EQ((*c1)->capacity(), 16 * kMiB);

  ObjectID id = ObjectID::FromRandom();
  const std::string meta = "meta-bytes";
  const std::string data = Pattern(300001, 11);
  ASSERT_TRUE((*c1)->Put(id, meta, data, 0).ok());
  EXPECT_TRUE(absl::IsAlreadyExists((*c1)->Put(id, "x", "y", 0)));
  EXPECT_TRUE((*c1)->Contains(id));
  EXPECT_TRUE(srv->store->Contains(id));

  auto v1 = (*c1)->Get(id);
  ASSERT_TRUE(v1.ok()) << v1.status();
  EXPECT_EQ(v1->metadata, meta);
  EXPECT_EQ(v1->data, data);

  // A second connection maps the arena again and sees the same bytes.
  auto c2 = StoreClient::Connect(srv->name);
  ASSERT_TRUE(c2.ok()) << c2.status();
  auto v2 = (*c2)->Get(id);
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_EQ(v2->metadata, meta);
  EXPECT_EQ(v2->data, data);
  EXPECT_NE(v1->data.data(), v2->data.data()) << "the clients should map the arena separately";

  rpc::StoreObject info = srv->store->Info(id);
  EXPECT_EQ(info.pins(), 2);
  const int64_t data_off = info.offset() + static_cast<int64_t>(AlignUp64(meta.size()));
  // Same offset into the arena file in every mapping: nothing was copied.
  EXPECT_EQ(ArenaOffsetOf(v1->data.data()), data_off);
  EXPECT_EQ(ArenaOffsetOf(v2->data.data()), data_off);
  EXPECT_EQ(ArenaOffsetOf(v1->metadata.data()), info.offset());
  EXPECT_EQ(ArenaOffsetOf(srv->store->arena().base() + data_off), data_off);
  auto m1 = MappingOf(v1->data.data());
  ASSERT_TRUE(m1.has_value());
  EXPECT_THAT(m1->path, HasSubstr("memfd:"));

  // A write through the store's mapping shows through both client views.
  char* w = srv->store->arena().base() + data_off;
  const char first = w[0], last = w[data.size() - 1];
  w[0] = static_cast<char>(first ^ 0x5a);
  w[data.size() - 1] = static_cast<char>(last ^ 0xa5);
  EXPECT_EQ(v1->data[0], static_cast<char>(first ^ 0x5a));
  EXPECT_EQ(v2->data[0], static_cast<char>(first ^ 0x5a));
  EXPECT_EQ(v1->data[data.size() - 1], static_cast<char>(last ^ 0xa5));
  EXPECT_EQ(v2->data[data.size() - 1], static_cast<char>(last ^ 0xa5));
  w[0] = first;
  w[data.size() - 1] = last;
  EXPECT_EQ(v2->data, data);

  // Each client knows the views it holds (the memory view's PINNED_IN_MEMORY).
  auto pinned = (*c1)->PinnedObjects();
  ASSERT_EQ(pinned.size(), 1u);
  EXPECT_EQ(pinned[0].first, id);
  EXPECT_EQ(pinned[0].second, static_cast<int64_t>(meta.size() + data.size()));

  // Dropping a view releases its pin (one-way; the next call orders after it).
  *v1 = StoredObject{};
  EXPECT_TRUE((*c1)->PinnedObjects().empty());
  EXPECT_EQ((*c2)->PinnedObjects().size(), 1u);
  auto i1 = (*c1)->Info(id);
  ASSERT_TRUE(i1.ok());
  EXPECT_EQ(i1->pins(), 1);
  *v2 = StoredObject{};
  auto i2 = (*c2)->Info(id);
  ASSERT_TRUE(i2.ok());
  EXPECT_EQ(i2->pins(), 0);

  auto stats = (*c2)->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->num_objects(), 1);
  EXPECT_EQ(stats->capacity(), static_cast<int64_t>(16 * kMiB));

  // Unknown ids: NotFound for one, nullopt in a batch.
  ObjectID missing = ObjectID::FromRandom();
  EXPECT_TRUE(absl::IsNotFound((*c2)->Get(missing).status()));
  auto batch = (*c2)->Get(std::vector<ObjectID>{missing, id});
  ASSERT_TRUE(batch.ok());
  EXPECT_FALSE((*batch)[0].has_value());
  ASSERT_TRUE((*batch)[1].has_value());
  EXPECT_EQ((*batch)[1]->data, data);
  batch->clear();

  // Delete is one-way and ordered before the client's next request.
  (*c1)->Delete({id});
  EXPECT_FALSE((*c1)->Contains(id));
  EXPECT_TRUE(WaitFor([&] { return srv->store->Stats().bytes_used() == 0; }, 5000));
}

TEST(StoreClientTest, PutWithWritesStraightIntoSharedMemory) {
  auto srv = Serve(4 * kMiB, UniqueSocketName("putwith"));
  ASSERT_NE(srv, nullptr);
  auto c = StoreClient::Connect(srv->name);
  ASSERT_TRUE(c.ok()) << c.status();
  ObjectID id = ObjectID::FromRandom();
  const std::string data = Pattern(777, 5);
  ASSERT_TRUE(
      (*c)->PutWith(
              id, "mm", data.size(), [&](char* dst) { std::memcpy(dst, data.data(), 777); }, 0)
          .ok());
  auto v = (*c)->Get(id);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->metadata, "mm");
  EXPECT_EQ(v->data, data);
}

// A forked child connects on its own, gets the object and reports a hash.
TEST(StoreClientTest, SecondProcessSeesTheSameBytes) {
  signal(SIGPIPE, SIG_IGN);
  const std::string name = UniqueSocketName("fork");
  Pipe go, result;
  ASSERT_TRUE(go.ok() && result.ok());
  // Fork before the store starts its threads.
  ChildProcess child = ChildProcess::Fork([&]() -> int {
    go.CloseWrite();
    result.CloseRead();
    char idbuf[ObjectID::kSize];
    if (!ReadAllFd(go.read_fd(), idbuf, sizeof(idbuf), 30000)) return 2;
    auto id = ObjectID::FromBinary(std::string_view(idbuf, sizeof(idbuf)));
    if (!id.ok()) return 3;
    auto client = StoreClient::Connect(name);
    if (!client.ok()) return 4;
    auto obj = (*client)->Get(*id);
    if (!obj.ok()) return 5;
    uint64_t out[3] = {HashBytes(obj->metadata), HashBytes(obj->data), obj->data.size()};
    if (!WriteAllFd(result.write_fd(), out, sizeof(out))) return 6;
    return 0;
  });
  ASSERT_TRUE(child.ok());
  go.CloseRead();
  result.CloseWrite();

  auto srv = Serve(16 * kMiB, name);
  ASSERT_NE(srv, nullptr);
  auto c = StoreClient::Connect(name);
  ASSERT_TRUE(c.ok()) << c.status();
  ObjectID id = ObjectID::FromRandom();
  const std::string meta = "child-meta";
  const std::string data = Pattern(2 * kMiB + 3, 77);
  ASSERT_TRUE((*c)->Put(id, meta, data, 0).ok());
  std::string idbin = id.Binary();
  ASSERT_TRUE(WriteAllFd(go.write_fd(), idbin.data(), idbin.size()));

  uint64_t got[3] = {0, 0, 0};
  ASSERT_TRUE(ReadAllFd(result.read_fd(), got, sizeof(got), 30000))
      << "the child reported nothing; exit status " << child.Wait(1000);
  EXPECT_EQ(got[0], HashBytes(meta));
  EXPECT_EQ(got[1], HashBytes(data));
  EXPECT_EQ(got[2], data.size());
  int status = child.Wait(10000);
  EXPECT_TRUE(ExitedWith(status, 0)) << "child status " << status;
  // The child's pin went with its connection.
  EXPECT_TRUE(WaitFor([&] { return srv->store->Info(id).pins() == 0; }, 5000));
}

// A client killed while it holds a pin and an unsealed object.
TEST(StoreClientTest, CrashedClientPinsAreDroppedAndCreationsAborted) {
  signal(SIGPIPE, SIG_IGN);
  const std::string name = UniqueSocketName("crash");
  constexpr uint64_t kUnsealed = 8 * kKiB;
  Pipe go, report;
  ASSERT_TRUE(go.ok() && report.ok());
  ChildProcess child = ChildProcess::Fork([&]() -> int {
    go.CloseWrite();
    report.CloseRead();
    char idbuf[2 * ObjectID::kSize];
    if (!ReadAllFd(go.read_fd(), idbuf, sizeof(idbuf), 30000)) return 2;
    ObjectID x = ObjectID::FromBinaryOrDie(std::string_view(idbuf, ObjectID::kSize));
    ObjectID y =
        ObjectID::FromBinaryOrDie(std::string_view(idbuf + ObjectID::kSize, ObjectID::kSize));
    auto client = StoreClient::Connect(name);
    if (!client.ok()) return 3;
    auto pinned = (*client)->Get(x);
    if (!pinned.ok()) return 4;
    // Create Y and block inside the fill: created, never sealed.
    (void)(*client)->PutWith(
        y, "", kUnsealed,
        [&](char* dst) {
          std::memset(dst, 7, kUnsealed);
          if (!WriteAllFd(report.write_fd(), "p", 1)) _exit(5);
          for (;;) pause();
        },
        0);
    return 6;
  });
  ASSERT_TRUE(child.ok());
  go.CloseRead();
  report.CloseWrite();

  auto srv = Serve(4 * kMiB, name);
  ASSERT_NE(srv, nullptr);
  LocalStore& store = *srv->store;
  auto c = StoreClient::Connect(name);
  ASSERT_TRUE(c.ok()) << c.status();
  ObjectID x = ObjectID::FromRandom(), y = ObjectID::FromRandom();
  ASSERT_TRUE((*c)->Put(x, "", Pattern(100 * kKiB, 1), 0).ok());
  const int64_t baseline = store.Stats().bytes_used();
  std::string ids = x.Binary() + y.Binary();
  ASSERT_TRUE(WriteAllFd(go.write_fd(), ids.data(), ids.size()));

  char p = 0;
  ASSERT_TRUE(ReadAllFd(report.read_fd(), &p, 1, 30000))
      << "the child never pinned; exit status " << child.Wait(1000);
  EXPECT_EQ(p, 'p');
  EXPECT_EQ(store.Info(x).pins(), 1);
  auto info = (*c)->Info(x);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->pins(), 1);
  EXPECT_FALSE(store.Contains(y));  // created, not sealed
  EXPECT_EQ(store.Stats().bytes_used(),
            baseline + static_cast<int64_t>(ArenaAllocator::RoundUp(kUnsealed)));
  EXPECT_TRUE(absl::IsAlreadyExists(store.CreateObject(99, y, 0, 10, true).status()));

  int status = child.Kill();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;

  EXPECT_TRUE(WaitFor([&] { return store.Info(x).pins() == 0; }, 5000))
      << "pins still " << store.Info(x).pins();
  EXPECT_TRUE(WaitFor([&] { return store.Stats().bytes_used() == baseline; }, 5000))
      << "bytes_used " << store.Stats().bytes_used() << ", baseline " << baseline;
  EXPECT_FALSE(store.Contains(y));
  EXPECT_TRUE(store.Contains(x));
  // Y was aborted: its id is free again.
  EXPECT_TRUE((*c)->Put(y, "", "again", 0).ok());
}

TEST(StoreClientTest, PutIntoStoreFullOfPinnedObjectsFailsAfterGrace) {
  auto srv = Serve(1 * kMiB, UniqueSocketName("full"));
  ASSERT_NE(srv, nullptr);
  auto c = StoreClient::Connect(srv->name);
  ASSERT_TRUE(c.ok()) << c.status();
  constexpr uint64_t kObj = 256 * kKiB;
  std::vector<ObjectID> ids;
  for (int i = 0; i < 4; ++i) {
    ids.push_back(ObjectID::FromRandom());
    ASSERT_TRUE((*c)->Put(ids.back(), "", Pattern(kObj, i), 0).ok());
  }
  auto held = (*c)->Get(ids);
  ASSERT_TRUE(held.ok());
  for (const auto& h : *held) ASSERT_TRUE(h.has_value());
  EXPECT_EQ(srv->store->Stats().pinned_bytes(), static_cast<int64_t>(1 * kMiB));

  ObjectID extra = ObjectID::FromRandom();
  const std::string data = Pattern(kObj, 9);
  auto t0 = std::chrono::steady_clock::now();
  absl::Status s = (*c)->Put(extra, "", data, 300);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  EXPECT_GE(ms, 290);
  EXPECT_LT(ms, 5000);
  EXPECT_THAT(std::string(s.message()), HasSubstr("bytes"));
  EXPECT_THAT(std::string(s.message()), HasSubstr(std::to_string(kObj)));
  EXPECT_FALSE((*c)->Contains(extra));
  std::printf("[ full ] after %lld ms: %s\n", static_cast<long long>(ms),
              std::string(s.message()).c_str());

  // The readers let go: the same put now succeeds.
  held->clear();
  absl::Status later = (*c)->Put(extra, "", data, 10000);
  EXPECT_TRUE(later.ok()) << later;
  auto v = (*c)->Get(extra);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(HashBytes(v->data), HashBytes(data));
}

TEST(StoreClientTest, MalformedRequestsAreRejectedAndServerKeepsServing) {
  auto srv = Serve(4 * kMiB, UniqueSocketName("bad"));
  ASSERT_NE(srv, nullptr);
  auto good = StoreClient::Connect(srv->name);
  ASSERT_TRUE(good.ok()) << good.status();
  ObjectID id = ObjectID::FromRandom();
  ASSERT_TRUE((*good)->Put(id, "m", "before", 0).ok());

  auto fd = ConnectUnix(srv->name);
  ASSERT_TRUE(fd.ok()) << fd.status();
  FdCloser raw(*fd);

  // Garbage that is not a StoreRequest (an over-long varint tag).
  const std::string garbage(12, '\xff');
  rpc::StoreRequest probe;
  ASSERT_FALSE(probe.ParseFromString(garbage));
  auto reply = RawCall(raw.get(), garbage);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(reply->message(), HasSubstr("malformed"));

  // The same connection still works.
  rpc::StoreRequest stats;
  stats.set_type(rpc::StoreRequest::STATS);
  reply = RawCall(raw.get(), stats.SerializeAsString());
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->code(), 0);
  EXPECT_EQ(reply->stats().num_objects(), 1);

  // An object id of the wrong length.
  for (auto type : {rpc::StoreRequest::GET, rpc::StoreRequest::CREATE, rpc::StoreRequest::CONTAINS,
                    rpc::StoreRequest::INFO, rpc::StoreRequest::SEAL}) {
    rpc::StoreRequest req;
    req.set_type(type);
    req.add_object_ids("short-id");
    req.set_data_size(10);
    reply = RawCall(raw.get(), req.SerializeAsString());
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(reply->code(), static_cast<int>(absl::StatusCode::kInvalidArgument))
        << "type " << rpc::StoreRequest::Type_Name(type);
    EXPECT_THAT(reply->message(), HasSubstr("bad object id"));
  }

  // One-way requests with a bad id get no reply: the next reply is the next request's.
  for (auto type : {rpc::StoreRequest::RELEASE, rpc::StoreRequest::DELETE}) {
    rpc::StoreRequest req;
    req.set_type(type);
    req.add_object_ids(std::string(ObjectID::kSize + 1, 'x'));
    ASSERT_TRUE(SendFrame(raw.get(), req.SerializeAsString()).ok());
  }
  rpc::StoreRequest contains;
  contains.set_type(rpc::StoreRequest::CONTAINS);
  contains.add_object_ids(id.Binary());
  reply = RawCall(raw.get(), contains.SerializeAsString());
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->code(), 0);
  ASSERT_EQ(reply->objects_size(), 1);
  EXPECT_EQ(reply->objects(0).status(), rpc::StoreObject::FOUND);

  // Bad create arguments and an unknown request type.
  {
    rpc::StoreRequest req;
    req.set_type(rpc::StoreRequest::CREATE);
    req.add_object_ids(ObjectID::FromRandom().Binary());
    req.set_data_size(-5);
    reply = RawCall(raw.get(), req.SerializeAsString());
    ASSERT_TRUE(reply.ok());
    EXPECT_EQ(reply->code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
    req.set_data_size(5);
    req.add_object_ids(ObjectID::FromRandom().Binary());  // two ids
    reply = RawCall(raw.get(), req.SerializeAsString());
    ASSERT_TRUE(reply.ok());
    EXPECT_EQ(reply->code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
    rpc::StoreRequest unknown;
    unknown.set_type(static_cast<rpc::StoreRequest::Type>(42));
    reply = RawCall(raw.get(), unknown.SerializeAsString());
    ASSERT_TRUE(reply.ok());
    EXPECT_EQ(reply->code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  }

  // A frame header announcing 4 GiB on another connection (the server gives up on it) ...
  {
    auto fd2 = ConnectUnix(srv->name);
    ASSERT_TRUE(fd2.ok());
    FdCloser huge(*fd2);
    const uint32_t n = 0xffffffffu;
    ASSERT_EQ(send(huge.get(), &n, sizeof(n), MSG_NOSIGNAL), static_cast<ssize_t>(sizeof(n)));
  }

  // ... and everyone else is still served: the raw connection, the old client, a new one.
  reply = RawCall(raw.get(), stats.SerializeAsString());
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->code(), 0);
  ObjectID after = ObjectID::FromRandom();
  ASSERT_TRUE((*good)->Put(after, "m", "after", 0).ok());
  auto other = StoreClient::Connect(srv->name);
  ASSERT_TRUE(other.ok()) << other.status();
  auto v = (*other)->Get(after);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->data, "after");
  auto v0 = (*other)->Get(id);
  ASSERT_TRUE(v0.ok()) << v0.status();
  EXPECT_EQ(v0->data, "before");
}

// A connection whose frame header announces more than the 64 MiB limit is
// given up by the server; the peer should then see the connection close rather
// than wait for a reply that never comes.

TEST(StoreClientTest, ConnectionWithOversizedFrameIsClosed) {
  auto srv = Serve(1 * kMiB, UniqueSocketName("huge"));
  ASSERT_NE(srv, nullptr);
  auto fd = ConnectUnix(srv->name);
  ASSERT_TRUE(fd.ok()) << fd.status();
  FdCloser raw(*fd);
  timeval tv{3, 0};
  ASSERT_EQ(setsockopt(raw.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
  const uint32_t n = 0xffffffffu;
  ASSERT_EQ(send(raw.get(), &n, sizeof(n), MSG_NOSIGNAL), static_cast<ssize_t>(sizeof(n)));
  std::string payload;
  absl::Status s = RecvFrame(raw.get(), &payload);
  EXPECT_TRUE(absl::IsUnavailable(s)) << "expected the connection to close, got: " << s;
}

}  // namespace
}  // namespace photon::object_store
