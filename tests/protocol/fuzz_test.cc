// A bounded fuzzer: randomized and mutated protobuf requests to every method of
// the GCS's and the raylet's services (with the cluster token, so they reach
// the handlers), and random frames on the object store's socket. No daemon may
// crash or stop answering; every call must end (with any status) within its
// deadline. FUZZ_CASES (default 12) sets the cases per method;
// `make fuzz CASES=N` runs more.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <random>

#include "photon/cluster/local_cluster.h"
#include "photon/object_store/unix_socket.h"
#include "photon/protocol/gcs.grpc.pb.h"
#include "photon/protocol/raylet.grpc.pb.h"
#include "photon/protocol/store.pb.h"

namespace photon {
namespace {

namespace pb = google::protobuf;

int CasesPerMethod() {
  const char* v = std::getenv("FUZZ_CASES");
  return v != nullptr ? std::max(1, std::atoi(v)) : 12;
}

// Fills `m` with random values (depth-limited), as a plausible but wrong request.
void Randomize(pb::Message* m, std::mt19937_64& rng, int depth = 0) {
  const pb::Descriptor* d = m->GetDescriptor();
  const pb::Reflection* r = m->GetReflection();
  std::uniform_int_distribution<int> coin(0, 3);
  auto random_bytes = [&](size_t max) {
    std::string s(std::uniform_int_distribution<size_t>(0, max)(rng), '\0');
    for (char& c : s) c = static_cast<char>(rng());
    return s;
  };
  for (int i = 0; i < d->field_count(); ++i) {
    const pb::FieldDescriptor* f = d->field(i);
    if (coin(rng) == 0) continue;  // leave some unset
    int n = f->is_repeated() ? std::uniform_int_distribution<int>(0, 3)(rng) : 1;
    for (int k = 0; k < n; ++k) {
      switch (f->cpp_type()) {
        case pb::FieldDescriptor::CPPTYPE_INT32: {
          int32_t v = static_cast<int32_t>(rng());
          f->is_repeated() ? r->AddInt32(m, f, v) : r->SetInt32(m, f, v);
          break;
        }
        case pb::FieldDescriptor::CPPTYPE_INT64: {
          int64_t v = coin(rng) ? static_cast<int64_t>(rng() % 1000) : static_cast<int64_t>(rng());
          f->is_repeated() ? r->AddInt64(m, f, v) : r->SetInt64(m, f, v);
          break;
        }
        case pb::FieldDescriptor::CPPTYPE_UINT32:
        case pb::FieldDescriptor::CPPTYPE_UINT64:
          break;
        case pb::FieldDescriptor::CPPTYPE_DOUBLE: {
          double choices[] = {-1, 0, 0.5, 1e300, std::nan(""), 3};
          double v = choices[rng() % 6];
          f->is_repeated() ? r->AddDouble(m, f, v) : r->SetDouble(m, f, v);
          break;
        }
        case pb::FieldDescriptor::CPPTYPE_FLOAT:
          break;
        case pb::FieldDescriptor::CPPTYPE_BOOL: {
          bool v = rng() & 1;
          f->is_repeated() ? r->AddBool(m, f, v) : r->SetBool(m, f, v);
          break;
        }
        case pb::FieldDescriptor::CPPTYPE_ENUM: {
          int v = static_cast<int>(rng() % 8) - 1;
          f->is_repeated() ? r->AddEnumValue(m, f, v) : r->SetEnumValue(m, f, v);
          break;
        }
        case pb::FieldDescriptor::CPPTYPE_STRING: {
          // Sometimes an id-sized value, so that more requests pass the first checks.
          std::string v =
              coin(rng) == 0 ? std::string(28, static_cast<char>(rng())) : random_bytes(40);
          if (f->type() == pb::FieldDescriptor::TYPE_STRING) {
            for (char& c : v) c = static_cast<char>('a' + static_cast<unsigned char>(c) % 26);
          }
          f->is_repeated() ? r->AddString(m, f, v) : r->SetString(m, f, v);
          break;
        }
        case pb::FieldDescriptor::CPPTYPE_MESSAGE: {
          if (depth > 3) break;
          pb::Message* sub = f->is_repeated() ? r->AddMessage(m, f) : r->MutableMessage(m, f);
          Randomize(sub, rng, depth + 1);
          break;
        }
      }
    }
  }
}

// A case's bytes: a randomized message, serialized, and sometimes mangled.
std::string CaseBytes(const pb::Descriptor* input, std::mt19937_64& rng) {
  std::unique_ptr<pb::Message> m(
      pb::MessageFactory::generated_factory()->GetPrototype(input)->New());
  Randomize(m.get(), rng);
  std::string bytes = m->SerializeAsString();
  switch (rng() % 4) {
    case 0:  // flip bytes
      for (int i = 0; i < 3 && !bytes.empty(); ++i) bytes[rng() % bytes.size()] ^= 0xff;
      break;
    case 1:  // truncate
      bytes.resize(bytes.size() / 2);
      break;
    default:
      break;
  }
  return bytes;
}

class FuzzTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto bin = FindBinDir("");
    ASSERT_TRUE(bin.ok()) << bin.status();
    NodeArgs head;
    head.num_cpus = 1;
    auto c = LocalCluster::Start(*bin, ::testing::TempDir() + "/photon-fuzz", &head);
    ASSERT_TRUE(c.ok()) << c.status();
    cluster_ = std::move(*c);
  }
  void TearDown() override {
    if (cluster_) cluster_->Shutdown();
  }

  // One unary call of `method` ("/pkg.Service/Method") with raw `bytes`.
  grpc::Status Send(grpc::GenericStub* stub, const std::string& method, const std::string& bytes) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(300));
    ctx.AddMetadata("authorization", "Bearer " + cluster_->token());
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1), reply;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    grpc::Status status;
    stub->UnaryCall(&ctx, method, grpc::StubOptions(), &request, &reply, [&](grpc::Status s) {
      std::lock_guard<std::mutex> lock(mu);
      status = std::move(s);
      done = true;
      cv.notify_one();
    });
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done; });
    return status;
  }

  // Fuzzes every unary method of `service` at `address`.
  void FuzzService(const std::string& address, const pb::ServiceDescriptor* service,
                   std::mt19937_64& rng) {
    grpc::GenericStub stub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    for (int i = 0; i < service->method_count(); ++i) {
      const pb::MethodDescriptor* m = service->method(i);
      if (m->server_streaming() || m->client_streaming()) continue;
      const std::string path = "/" + service->full_name() + "/" + m->name();
      int reached = 0;  // calls that got past gRPC to the handler
      for (int c = 0; c < CasesPerMethod(); ++c) {
        grpc::Status st = Send(&stub, path, CaseBytes(m->input_type(), rng));
        ++calls_;
        ++codes_[st.error_code()];
        EXPECT_NE(st.error_code(), grpc::StatusCode::UNAUTHENTICATED) << path;
        // gRPC answers a request it cannot parse with UNIMPLEMENTED, before
        // the handler; the rest reached it.
        reached += st.error_code() != grpc::StatusCode::UNIMPLEMENTED;
      }
      EXPECT_GT(reached, 0) << path << ": no case reached the handler";
    }
  }

  void ExpectDaemonsAnswer() {
    EXPECT_EQ(kill(cluster_->gcs_pid(), 0), 0) << "photon-gcs died";
    EXPECT_EQ(kill(cluster_->nodes().front().pid, 0), 0) << "photon-raylet died";
    grpc::GenericStub gcs(
        grpc::CreateChannel(cluster_->gcs_address(), grpc::InsecureChannelCredentials()));
    EXPECT_TRUE(Send(&gcs, "/photon.rpc.NodeInfoGcsService/GetAllNodes", "").ok());
    grpc::GenericStub raylet(
        grpc::CreateChannel(cluster_->nodes().front().address, grpc::InsecureChannelCredentials()));
    EXPECT_TRUE(Send(&raylet, "/photon.rpc.NodeManagerService/HealthCheck", "").ok());
  }

  std::unique_ptr<LocalCluster> cluster_;
  int calls_ = 0;
  std::map<int, int> codes_;  // status code -> calls
};

TEST_F(FuzzTest, RandomRequestsToEveryServiceCrashNothing) {
  std::mt19937_64 rng(20261201);
  // Each service from its .proto file's descriptor (reached through one of its
  // messages, which also makes sure the file is registered).
  const pb::FileDescriptor* gcs = rpc::GetAllNodesRequest::descriptor()->file();
  for (const char* name :
       {"NodeInfoGcsService", "JobInfoGcsService", "InternalKvGcsService", "ActorInfoGcsService",
        "PlacementGroupInfoGcsService", "PubsubGcsService"}) {
    const pb::ServiceDescriptor* s = gcs->FindServiceByName(name);
    ASSERT_NE(s, nullptr) << name;
    FuzzService(cluster_->gcs_address(), s, rng);
  }
  const pb::ServiceDescriptor* raylet =
      rpc::HealthCheckRequest::descriptor()->file()->FindServiceByName("NodeManagerService");
  ASSERT_NE(raylet, nullptr);
  FuzzService(cluster_->nodes().front().address, raylet, rng);
  // ObjectManagerService's messages are not in libphoton (only the raylet has
  // them): its unary method gets raw bytes, as a field-1 blob or noise.
  grpc::GenericStub objects(
      grpc::CreateChannel(cluster_->nodes().front().address, grpc::InsecureChannelCredentials()));
  for (int c = 0; c < 4 * CasesPerMethod(); ++c) {
    std::string blob(std::uniform_int_distribution<size_t>(0, 40)(rng), '\0');
    for (char& ch : blob) ch = static_cast<char>(rng());
    std::string bytes =
        c % 2 == 0 ? std::string("\x0a") + static_cast<char>(blob.size()) + blob : blob;
    Send(&objects, "/photon.rpc.ObjectManagerService/GetObjectInfo", bytes);
    ++calls_;
  }
  EXPECT_GT(calls_, 0);
  std::string summary;
  for (const auto& [code, n] : codes_) {
    summary += " code " + std::to_string(code) + ": " + std::to_string(n) + ";";
  }
  std::printf("fuzzed %d calls:%s\n", calls_, summary.c_str());
  ExpectDaemonsAnswer();
}

TEST_F(FuzzTest, RandomStoreFramesCrashNothing) {
  std::mt19937_64 rng(7);
  std::string socket;
  {
    photon::rpc::GetAllNodesReply nodes;
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + cluster_->token());
    auto stub = photon::rpc::NodeInfoGcsService::NewStub(
        grpc::CreateChannel(cluster_->gcs_address(), grpc::InsecureChannelCredentials()));
    ASSERT_TRUE(stub->GetAllNodes(&ctx, photon::rpc::GetAllNodesRequest(), &nodes).ok());
    socket = nodes.nodes(0).store_socket();
  }
  const pb::Descriptor* request = photon::rpc::StoreRequest::descriptor();
  for (int c = 0; c < 8 * CasesPerMethod(); ++c) {
    auto fd = object_store::ConnectUnix(socket);
    ASSERT_TRUE(fd.ok()) << fd.status();
    if (c % 2 == 0) {  // authenticated first, then garbage
      photon::rpc::StoreRequest hello;
      hello.set_type(photon::rpc::StoreRequest::CONNECT);
      hello.set_token(cluster_->token());
      std::string reply;
      int arena = -1;
      ASSERT_TRUE(object_store::SendFrame(*fd, hello.SerializeAsString()).ok());
      ASSERT_TRUE(object_store::RecvFrame(*fd, &reply, &arena).ok());
      if (arena >= 0) close(arena);
    }
    for (int k = 0; k < 4; ++k) {
      std::string bytes = CaseBytes(request, rng);
      if (!object_store::SendFrame(*fd, bytes).ok()) break;
      // Answered requests are read back; one-way ones are not answered.
      photon::rpc::StoreRequest parsed;
      if (parsed.ParseFromString(bytes) && parsed.type() != photon::rpc::StoreRequest::RELEASE &&
          parsed.type() != photon::rpc::StoreRequest::DELETE) {
        std::string reply;
        int passed = -1;
        if (!object_store::RecvFrame(*fd, &reply, &passed).ok()) break;
        if (passed >= 0) close(passed);
      }
    }
    close(*fd);
  }
  ExpectDaemonsAnswer();
}

}  // namespace
}  // namespace photon
