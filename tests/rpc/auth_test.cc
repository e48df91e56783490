// The cluster token: its helpers (unit tests), and a real cluster (photon-gcs,
// photon-raylet, a driver's core worker, the store socket) that refuses every
// service's calls made without it or with a wrong one, and serves them with it.
#include "photon/rpc/auth.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "photon/cluster/local_cluster.h"
#include "photon/common/cluster_token.h"
#include "photon/driver/connect.h"
#include "photon/object_store/store_client.h"
#include "photon/protocol/core_worker.grpc.pb.h"
#include "photon/protocol/gcs.grpc.pb.h"
#include "photon/protocol/object_manager.grpc.pb.h"
#include "photon/protocol/raylet.grpc.pb.h"

namespace photon {
namespace {

namespace fs = std::filesystem;

std::string TempDir(const std::string& name) {
  std::string d = fmt::format("/tmp/photon-tests/auth_test-{}/{}", getpid(), name);
  fs::create_directories(d);
  return d;
}

TEST(ClusterTokenTest, GeneratedTokensAreLongRandomAndValid) {
  std::string a = GenerateClusterToken(), b = GenerateClusterToken();
  EXPECT_EQ(a.size(), 64u);
  EXPECT_NE(a, b);
  EXPECT_TRUE(ValidateClusterToken(a).ok());
}

TEST(ClusterTokenTest, ValidationNamesTheProblemWithoutEchoingTheToken) {
  auto short_one = ValidateClusterToken("abc");
  EXPECT_TRUE(absl::IsInvalidArgument(short_one));
  EXPECT_NE(short_one.message().find("16 to 256"), std::string::npos);
  auto bad_chars = ValidateClusterToken("0123456789abcdef 0123456789");
  EXPECT_TRUE(absl::IsInvalidArgument(bad_chars));
  EXPECT_EQ(bad_chars.message().find("0123456789abcdef"), std::string::npos);
  EXPECT_TRUE(ValidateClusterToken("my-cluster.token_0123").ok());
}

TEST(ClusterTokenTest, TokenFileIsOwnerOnlyAndReadsBack) {
  std::string path = TempDir("file") + "/cluster_token";
  std::string token = GenerateClusterToken();
  ASSERT_TRUE(WriteTokenFile(path, token).ok());
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto read = ReadTokenFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, token);
  EXPECT_TRUE(absl::IsNotFound(ReadTokenFile(path + ".missing").status()));
}

TEST(ClusterTokenTest, ComparisonsAreExact) {
  EXPECT_TRUE(TokensMatch("abcdefabcdefabcd", "abcdefabcdefabcd"));
  EXPECT_FALSE(TokensMatch("abcdefabcdefabce", "abcdefabcdefabcd"));
  EXPECT_FALSE(TokensMatch("abcdefabcdefabc", "abcdefabcdefabcd"));
  EXPECT_FALSE(TokensMatch("", "abcdefabcdefabcd"));
  EXPECT_TRUE(rpc::BearerMatches("Bearer abcdefabcdefabcd", "abcdefabcdefabcd"));
  EXPECT_FALSE(rpc::BearerMatches("abcdefabcdefabcd", "abcdefabcdefabcd"));
  EXPECT_FALSE(rpc::BearerMatches("Basic abcdefabcdefabcd", "abcdefabcdefabcd"));
}

TEST(ClusterTokenTest, TheProcessTokenIsWhatCallsPresent) {
  rpc::SetClusterToken("abcdefabcdefabcd");
  EXPECT_EQ(rpc::ClusterToken(), "abcdefabcdefabcd");
  grpc::ClientContext ctx;
  rpc::AttachClusterToken(&ctx);  // (its metadata is only readable by a server)
  rpc::SetClusterToken("");
  EXPECT_EQ(rpc::ClusterToken(), "");
}

TEST(ClusterTokenTest, SettingsGiveTheTokenOrSayWhatIsMissing) {
  EXPECT_EQ(*rpc::TokenFromSettings("disabled", ""), "");
  EXPECT_EQ(*rpc::TokenFromSettings("disabled", "abcdefabcdefabcd"), "");
  EXPECT_EQ(*rpc::TokenFromSettings("token", "abcdefabcdefabcd"), "abcdefabcdefabcd");
  auto missing = rpc::TokenFromSettings("token", "");
  EXPECT_TRUE(absl::IsInvalidArgument(missing.status()));
  EXPECT_NE(missing.status().message().find("PHOTON_CLUSTER_TOKEN"), std::string::npos);
  auto mode = rpc::TokenFromSettings("tls", "abcdefabcdefabcd");
  EXPECT_NE(mode.status().message().find("'tls'"), std::string::npos);
}

// How a hand-made client calls: a plain channel of its own, no interceptor,
// the token (if any) added by hand.
class AuthClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = TempDir("cluster");
    auto bin = FindBinDir("");
    ASSERT_TRUE(bin.ok()) << bin.status();
    NodeArgs head;
    head.num_cpus = 1;
    auto cluster = LocalCluster::Start(*bin, root_, &head);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = std::move(*cluster);
    token_ = cluster_->token();
    ASSERT_EQ(token_.size(), 64u);
    // A driver (its core worker serves CoreWorkerService).
    SystemConfig config;
    config.set_session_dir_root(root_);
    DriverOptions options;
    options.address = cluster_->gcs_address();
    auto conn = ConnectDriver(config, options);
    ASSERT_TRUE(conn.ok()) << conn.status();
    driver_ = std::move(*conn);
  }
  void TearDown() override {
    if (driver_.worker) driver_.worker->Shutdown();
    driver_.worker.reset();
    if (cluster_) cluster_->Shutdown();
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  // Calls `method` on a fresh stub over a plain channel to `address`,
  // presenting `token` ("": none) by hand.
  template <typename Service, typename Request, typename Reply>
  grpc::Status Call(const std::string& address,
                    grpc::Status (Service::Stub::*method)(grpc::ClientContext*, const Request&,
                                                          Reply*),
                    const std::string& token, const Request& request = Request()) {
    auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
    auto stub = Service::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
    Reply reply;
    return ((*stub).*method)(&ctx, request, &reply);
  }

  // Every service refuses `method` without the token and with a wrong one,
  // and serves it with the right one.
  template <typename Service, typename Request, typename Reply>
  void ExpectGuarded(const std::string& what, const std::string& address,
                     grpc::Status (Service::Stub::*method)(grpc::ClientContext*, const Request&,
                                                           Reply*),
                     const Request& request = Request()) {
    grpc::Status none = Call<Service>(address, method, "", request);
    EXPECT_EQ(none.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << what << ": " << none.error_message();
    EXPECT_NE(none.error_message().find("no cluster token"), std::string::npos) << what;
    grpc::Status wrong = Call<Service>(address, method, GenerateClusterToken(), request);
    EXPECT_EQ(wrong.error_code(), grpc::StatusCode::UNAUTHENTICATED) << what;
    EXPECT_NE(wrong.error_message().find("wrong cluster token"), std::string::npos) << what;
    grpc::Status right = Call<Service>(address, method, token_, request);
    EXPECT_NE(right.error_code(), grpc::StatusCode::UNAUTHENTICATED) << what;
    EXPECT_TRUE(right.ok()) << what << ": " << right.error_message();
  }

  std::string root_;
  std::unique_ptr<LocalCluster> cluster_;
  DriverConnection driver_;
  std::string token_;
};

TEST_F(AuthClusterTest, EveryServiceRefusesCallsWithoutTheTokenAndServesThemWithIt) {
  const std::string gcs = cluster_->gcs_address();
  const std::string raylet = cluster_->nodes().front().address;
  const std::string worker = rpc::HostPort(driver_.worker->address());
  ExpectGuarded<rpc::NodeInfoGcsService>("GetAllNodes", gcs,
                                         &rpc::NodeInfoGcsService::Stub::GetAllNodes);
  ExpectGuarded<rpc::JobInfoGcsService>("GetAllJobs", gcs,
                                        &rpc::JobInfoGcsService::Stub::GetAllJobs);
  ExpectGuarded<rpc::InternalKvGcsService>("Keys", gcs, &rpc::InternalKvGcsService::Stub::Keys);
  ExpectGuarded<rpc::ActorInfoGcsService>("ListActors", gcs,
                                          &rpc::ActorInfoGcsService::Stub::ListActors);
  ExpectGuarded<rpc::PlacementGroupInfoGcsService>(
      "GetAllPlacementGroups", gcs,
      &rpc::PlacementGroupInfoGcsService::Stub::GetAllPlacementGroups);
  rpc::PollRequest poll;
  poll.set_after_seq(-1);
  ExpectGuarded<rpc::PubsubGcsService>("Poll", gcs, &rpc::PubsubGcsService::Stub::Poll, poll);
  ExpectGuarded<rpc::NodeManagerService>("GetNodeStats", raylet,
                                         &rpc::NodeManagerService::Stub::GetNodeStats);
  ExpectGuarded<rpc::NodeManagerService>("HealthCheck", raylet,
                                         &rpc::NodeManagerService::Stub::HealthCheck);
  rpc::ObjectInfoRequest info;
  info.set_object_id(ObjectID::FromRandom().Binary());
  ExpectGuarded<rpc::ObjectManagerService>("GetObjectInfo", raylet,
                                           &rpc::ObjectManagerService::Stub::GetObjectInfo, info);
  rpc::GetObjectStatusRequest status;
  status.set_object_id(ObjectID::FromRandom().Binary());
  ExpectGuarded<rpc::CoreWorkerService>("GetObjectStatus", worker,
                                        &rpc::CoreWorkerService::Stub::GetObjectStatus, status);
}

TEST_F(AuthClusterTest, ARefusedCallRunsNothing) {
  const std::string gcs = cluster_->gcs_address();
  rpc::KvPutRequest put;
  put.set_key("intruder");
  put.set_value("was here");
  grpc::Status refused =
      Call<rpc::InternalKvGcsService>(gcs, &rpc::InternalKvGcsService::Stub::Put, "", put);
  ASSERT_EQ(refused.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // Read with the token: the key was never written.
  auto channel = grpc::CreateChannel(gcs, grpc::InsecureChannelCredentials());
  auto stub = rpc::InternalKvGcsService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + token_);
  rpc::KvGetRequest get;
  get.set_key("intruder");
  rpc::KvGetReply reply;
  ASSERT_TRUE(stub->Get(&ctx, get, &reply).ok());
  EXPECT_FALSE(reply.found());
}

TEST_F(AuthClusterTest, TheStoreSocketRefusesAConnectWithoutTheToken) {
  std::string socket;
  {
    auto channel = grpc::CreateChannel(cluster_->gcs_address(), grpc::InsecureChannelCredentials());
    auto stub = rpc::NodeInfoGcsService::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token_);
    rpc::GetAllNodesReply reply;
    ASSERT_TRUE(stub->GetAllNodes(&ctx, rpc::GetAllNodesRequest(), &reply).ok());
    ASSERT_EQ(reply.nodes_size(), 1);
    socket = reply.nodes(0).store_socket();
  }
  auto none = object_store::StoreClient::Connect(socket, "");
  EXPECT_TRUE(absl::IsUnauthenticated(none.status())) << none.status();
  auto wrong = object_store::StoreClient::Connect(socket, GenerateClusterToken());
  EXPECT_TRUE(absl::IsUnauthenticated(wrong.status())) << wrong.status();
  EXPECT_NE(wrong.status().message().find("wrong cluster token"), std::string::npos);
  auto right = object_store::StoreClient::Connect(socket, token_);
  ASSERT_TRUE(right.ok()) << right.status();
  EXPECT_GT((*right)->capacity(), 0u);
}

TEST_F(AuthClusterTest, TheTokenIsRecordedOwnerOnlyAndFoundByAddress) {
  std::string file = cluster_->session_dir() + "/cluster_token";
  struct stat st;
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto found = FindClusterToken(root_, cluster_->gcs_address());
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(*found, token_);
}

}  // namespace
}  // namespace photon
