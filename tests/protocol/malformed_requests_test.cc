// Daemons refuse malformed requests with an error and keep running.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>

#include "photon/cluster/local_cluster.h"
#include "photon/protocol/gcs.grpc.pb.h"
#include "photon/protocol/raylet.grpc.pb.h"

namespace photon {
namespace {

class MalformedRequestsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto bin = FindBinDir("");
    ASSERT_TRUE(bin.ok()) << bin.status();
    NodeArgs head;
    head.num_cpus = 1;
    auto c = LocalCluster::Start(*bin, ::testing::TempDir() + "/photon-malformed", &head);
    ASSERT_TRUE(c.ok()) << c.status();
    cluster_ = std::move(*c);
    gcs_channel_ = grpc::CreateChannel(cluster_->gcs_address(), grpc::InsecureChannelCredentials());
    raylet_channel_ =
        grpc::CreateChannel(cluster_->nodes().front().address, grpc::InsecureChannelCredentials());
  }
  void TearDown() override {
    if (cluster_) cluster_->Shutdown();
  }

  template <typename Stub, typename Req, typename Reply>
  grpc::Status Call(Stub* stub, grpc::Status (Stub::*m)(grpc::ClientContext*, const Req&, Reply*),
                    const Req& req) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    ctx.AddMetadata("authorization", "Bearer " + cluster_->token());  // docs/security.md
    Reply reply;
    return (stub->*m)(&ctx, req, &reply);
  }

  void ExpectDaemonsAlive() {
    auto nodes = rpc::NodeInfoGcsService::NewStub(gcs_channel_);
    EXPECT_TRUE(
        Call(nodes.get(), &rpc::NodeInfoGcsService::Stub::GetAllNodes, rpc::GetAllNodesRequest())
            .ok());
    auto raylet = rpc::NodeManagerService::NewStub(raylet_channel_);
    EXPECT_TRUE(
        Call(raylet.get(), &rpc::NodeManagerService::Stub::HealthCheck, rpc::HealthCheckRequest())
            .ok());
  }

  std::unique_ptr<LocalCluster> cluster_;
  std::shared_ptr<grpc::Channel> gcs_channel_, raylet_channel_;
};

TEST_F(MalformedRequestsTest, GcsRefusesBadInput) {
  auto nodes = rpc::NodeInfoGcsService::NewStub(gcs_channel_);
  rpc::RegisterNodeRequest reg;
  reg.mutable_node()->set_node_id("short");
  EXPECT_EQ(Call(nodes.get(), &rpc::NodeInfoGcsService::Stub::RegisterNode, reg).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  rpc::UnregisterNodeRequest unreg;
  unreg.set_node_id("garbage");
  EXPECT_TRUE(Call(nodes.get(), &rpc::NodeInfoGcsService::Stub::UnregisterNode, unreg).ok());
  rpc::ReportResourcesRequest rep;
  rep.set_node_id("x");
  EXPECT_FALSE(Call(nodes.get(), &rpc::NodeInfoGcsService::Stub::ReportResources, rep).ok());

  auto jobs = rpc::JobInfoGcsService::NewStub(gcs_channel_);
  rpc::MarkJobFinishedRequest fin;
  fin.set_job_id("nope");
  EXPECT_FALSE(Call(jobs.get(), &rpc::JobInfoGcsService::Stub::MarkJobFinished, fin).ok());

  auto actors = rpc::ActorInfoGcsService::NewStub(gcs_channel_);
  rpc::RegisterActorRequest ra;
  ra.mutable_actor()->set_actor_id("bad");
  EXPECT_EQ(Call(actors.get(), &rpc::ActorInfoGcsService::Stub::RegisterActor, ra).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  rpc::CreateActorRequest ca;
  ca.mutable_creation_task()->set_actor_id(std::string(20, 'a'));
  EXPECT_EQ(Call(actors.get(), &rpc::ActorInfoGcsService::Stub::CreateActor, ca).error_code(),
            grpc::StatusCode::NOT_FOUND);
  rpc::KillActorRequest ka;
  ka.set_actor_id("zz");
  EXPECT_FALSE(Call(actors.get(), &rpc::ActorInfoGcsService::Stub::KillActor, ka).ok());
  rpc::GetActorInfoRequest gi;
  gi.set_actor_id("");
  EXPECT_FALSE(Call(actors.get(), &rpc::ActorInfoGcsService::Stub::GetActorInfo, gi).ok());

  auto pubsub = rpc::PubsubGcsService::NewStub(gcs_channel_);
  rpc::PublishRequest pub;
  pub.mutable_message()->set_channel(rpc::NODE_CHANNEL);
  EXPECT_FALSE(Call(pubsub.get(), &rpc::PubsubGcsService::Stub::Publish, pub).ok());
  ExpectDaemonsAlive();
}

TEST_F(MalformedRequestsTest, RayletRefusesBadInput) {
  auto raylet = rpc::NodeManagerService::NewStub(raylet_channel_);
  rpc::RequestWorkerLeaseRequest lease;
  (*lease.mutable_resources())["CPU"] = -1;
  lease.add_worker_command("/bin/true");
  lease.set_job_id(std::string(8, '\1'));
  EXPECT_EQ(
      Call(raylet.get(), &rpc::NodeManagerService::Stub::RequestWorkerLease, lease).error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
  (*lease.mutable_resources())["CPU"] = 1;
  lease.clear_worker_command();
  EXPECT_FALSE(Call(raylet.get(), &rpc::NodeManagerService::Stub::RequestWorkerLease, lease).ok());
  lease.add_worker_command("/bin/true");
  lease.set_job_id("short");
  EXPECT_FALSE(Call(raylet.get(), &rpc::NodeManagerService::Stub::RequestWorkerLease, lease).ok());

  rpc::ReturnWorkerRequest ret;
  ret.set_worker_id("x");
  EXPECT_FALSE(Call(raylet.get(), &rpc::NodeManagerService::Stub::ReturnWorker, ret).ok());
  rpc::RegisterWorkerRequest regw;
  regw.set_worker_id(std::string(24, 'w'));
  EXPECT_EQ(Call(raylet.get(), &rpc::NodeManagerService::Stub::RegisterWorker, regw).error_code(),
            grpc::StatusCode::NOT_FOUND);
  rpc::NotifyBlockedRequest nb;
  nb.set_worker_id("");
  EXPECT_FALSE(Call(raylet.get(), &rpc::NodeManagerService::Stub::NotifyBlocked, nb).ok());
  rpc::FreeObjectsRequest free_req;
  free_req.add_object_ids("bad");
  free_req.add_object_ids(std::string(40, '\0'));
  EXPECT_TRUE(Call(raylet.get(), &rpc::NodeManagerService::Stub::FreeObjects, free_req).ok());
  rpc::PullObjectRequest pull;
  pull.set_object_id("bad");
  EXPECT_FALSE(Call(raylet.get(), &rpc::NodeManagerService::Stub::PullObject, pull).ok());
  rpc::JobFinishedRequest jf;
  jf.set_job_id("?");
  EXPECT_FALSE(Call(raylet.get(), &rpc::NodeManagerService::Stub::JobFinished, jf).ok());

  ExpectDaemonsAlive();
}

}  // namespace
}  // namespace photon
