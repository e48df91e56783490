// The GCS's placement group manager against fake raylets: two-phase
// reservation, rollback and retry, pending groups, removal, job ends, waits.
#include "photon/gcs/placement_group_manager.h"

#include <grpcpp/test/default_reactor_test_peer.h>
#include <gtest/gtest.h>

#include "tests/fakes/fake_clients.h"
#include "tests/fakes/fake_timer.h"
#include "tests/fakes/handle_call.h"

namespace photon::gcs {
namespace {

using photon::testing::FakeRayletPool;
using photon::testing::FakeTimer;
using photon::testing::Handle;

class PlacementGroupManagerTest : public ::testing::Test {
 protected:
  PlacementGroupManagerTest()
      : job_(JobID::FromParts(1, 1)),
        manager_(PlacementGroupManager::Deps{
            &config_, &raylets_, &timer_, [this](bool) { return nodes_; },
            [this](const std::string& pg) { removed_.push_back(pg); },
            [this](const std::string& node, const raylet::ResourceSet& named) {
              committed_[node].Add(named);
            },
            [this](const std::string& node, const raylet::ResourceSet& named,
                   const raylet::ResourceSet&) { committed_[node].Subtract(named); }}) {
    AddNode(7000, 2);
    AddNode(7001, 2);
  }
  void AddNode(int port, double cpus) {
    rpc::NodeInfo n;
    n.set_node_id(NodeID::FromRandom().Binary());
    n.set_ip("127.0.0.1");
    n.set_raylet_port(port);
    n.set_state(rpc::NodeInfo::ALIVE);
    (*n.mutable_resources_total())["CPU"] = cpus;
    (*n.mutable_resources_available())["CPU"] = cpus;
    nodes_.push_back(n);
  }
  std::shared_ptr<photon::testing::FakeRayletClient> Raylet(int port) {
    return raylets_.Raylet("127.0.0.1:" + std::to_string(port));
  }
  grpc::Status Create(const PlacementGroupID& id, int bundles, rpc::PlacementStrategy strategy,
                      std::string name = "", bool detached = false) {
    rpc::CreatePlacementGroupRequest req;
    auto* spec = req.mutable_spec();
    spec->set_placement_group_id(id.Binary());
    spec->set_name(name);
    spec->set_strategy(strategy);
    spec->set_detached(detached);
    spec->set_creator_job_id(job_.Binary());
    for (int i = 0; i < bundles; ++i) (*spec->add_bundles()->mutable_resources())["CPU"] = 1;
    rpc::CreatePlacementGroupReply reply;
    return Handle([&](auto* ctx) { manager_.CreatePlacementGroup(ctx, &req, &reply); });
  }
  rpc::PlacementGroupTableData::State StateOf(const PlacementGroupID& id) {
    rpc::GetPlacementGroupRequest req;
    req.set_placement_group_id(id.Binary());
    rpc::GetPlacementGroupReply reply;
    Handle([&](auto* ctx) { manager_.GetPlacementGroup(ctx, &req, &reply); });
    EXPECT_TRUE(reply.found());
    return reply.placement_group().state();
  }
  PlacementGroupID NewId() { return PlacementGroupID::FromRandom(job_); }
  rpc::PlacementGroupTableData Get(const PlacementGroupID& id) {
    rpc::GetPlacementGroupRequest req;
    req.set_placement_group_id(id.Binary());
    rpc::GetPlacementGroupReply reply;
    Handle([&](auto* ctx) { manager_.GetPlacementGroup(ctx, &req, &reply); });
    return reply.placement_group();
  }
  // Takes the node at `port` out of the live nodes and tells the manager.
  std::string KillNode(int port) {
    std::string id;
    std::erase_if(nodes_, [&](const rpc::NodeInfo& n) {
      if (n.raylet_port() != port) return false;
      id = n.node_id();
      return true;
    });
    manager_.OnNodeDead(id);
    return id;
  }
  std::string NodeAt(int port) {
    for (const auto& n : nodes_) {
      if (n.raylet_port() == port) return n.node_id();
    }
    return "";
  }
  // Answers every pending prepare, then every commit, with success.
  void ReserveAll() {
    for (int port : {7000, 7001, 7002}) {
      while (Raylet(port)->prepares.size() > 0) {
        rpc::PrepareBundleResourcesReply ok;
        ok.set_success(true);
        Raylet(port)->prepares.Reply(absl::OkStatus(), ok);
      }
    }
    for (int port : {7000, 7001, 7002}) {
      while (Raylet(port)->commits.size() > 0) Raylet(port)->commits.Reply(absl::OkStatus());
    }
  }

  SystemConfig config_;
  JobID job_;
  FakeRayletPool raylets_;
  FakeTimer timer_;
  std::vector<rpc::NodeInfo> nodes_;
  std::vector<std::string> removed_;
  std::map<std::string, raylet::ResourceSet> committed_;
  PlacementGroupManager manager_;
};

TEST_F(PlacementGroupManagerTest, PreparesOnEveryChosenRayletThenCommits) {
  PlacementGroupID id = NewId();
  ASSERT_TRUE(Create(id, 2, rpc::STRICT_SPREAD).ok());
  EXPECT_EQ(StateOf(id), rpc::PlacementGroupTableData::PENDING);
  ASSERT_EQ(Raylet(7000)->prepares.size(), 1u);
  ASSERT_EQ(Raylet(7001)->prepares.size(), 1u);
  EXPECT_EQ(Raylet(7000)->commits.size(), 0u);  // not before every prepare answered
  ReserveAll();
  EXPECT_EQ(StateOf(id), rpc::PlacementGroupTableData::CREATED);
  EXPECT_EQ(committed_.size(), 2u);  // both nodes' tables gained the bundles
}

TEST_F(PlacementGroupManagerTest, AFailedPrepareUndoesTheOthersAndTriesAgain) {
  PlacementGroupID id = NewId();
  ASSERT_TRUE(Create(id, 2, rpc::STRICT_SPREAD).ok());
  rpc::PrepareBundleResourcesReply ok, no;
  ok.set_success(true);
  no.set_message("no room");
  Raylet(7000)->prepares.Reply(absl::OkStatus(), ok);
  Raylet(7001)->prepares.Reply(absl::OkStatus(), no);
  ASSERT_EQ(Raylet(7000)->bundle_cancels.size(), 1u);  // its reservation is undone
  EXPECT_FALSE(Raylet(7000)->bundle_cancels.Peek().removed());
  EXPECT_EQ(Raylet(7001)->bundle_cancels.size(), 0u);
  EXPECT_EQ(StateOf(id), rpc::PlacementGroupTableData::PENDING);
  timer_.Advance(absl::Milliseconds(config_.placement_group_retry_delay_ms()));
  ASSERT_EQ(Raylet(7000)->prepares.size(), 1u);
  ReserveAll();
  EXPECT_EQ(StateOf(id), rpc::PlacementGroupTableData::CREATED);
}

TEST_F(PlacementGroupManagerTest, AGroupThatFitsNowhereWaitsForANode) {
  PlacementGroupID id = NewId();
  ASSERT_TRUE(Create(id, 3, rpc::STRICT_SPREAD).ok());
  EXPECT_EQ(Raylet(7000)->prepares.size(), 0u);
  EXPECT_EQ(StateOf(id), rpc::PlacementGroupTableData::PENDING);
  AddNode(7002, 1);
  manager_.OnNodeAdded();
  EXPECT_EQ(Raylet(7002)->prepares.size(), 1u);
}

TEST_F(PlacementGroupManagerTest, ADeadNodesBundlesArePlacedAgainKeepingTheStrategy) {
  PlacementGroupID id = NewId();
  ASSERT_TRUE(Create(id, 2, rpc::STRICT_SPREAD).ok());
  ReserveAll();
  ASSERT_EQ(StateOf(id), rpc::PlacementGroupTableData::CREATED);
  const std::string kept = NodeAt(7000);
  int lost_index = Get(id).spec().bundles(0).node_id() == kept ? 1 : 0;
  AddNode(7002, 2);
  KillNode(7001);
  EXPECT_EQ(StateOf(id), rpc::PlacementGroupTableData::RESCHEDULING);
  EXPECT_NE(Get(id).pending_reason().find("lost with node"), std::string::npos);
  // Only the lost bundle, and not on the node of the other (STRICT_SPREAD).
  EXPECT_EQ(Raylet(7000)->prepares.size(), 0u);
  ASSERT_EQ(Raylet(7002)->prepares.size(), 1u);
  ASSERT_EQ(Raylet(7002)->prepares.Peek().bundles_size(), 1);
  EXPECT_EQ(Raylet(7002)->prepares.Peek().bundles(0).index(), lost_index);
  ReserveAll();
  auto data = Get(id);
  EXPECT_EQ(data.state(), rpc::PlacementGroupTableData::CREATED);
  EXPECT_EQ(data.spec().bundles(lost_index).node_id(), NodeAt(7002));
  EXPECT_EQ(data.spec().bundles(1 - lost_index).node_id(), kept);
}

TEST_F(PlacementGroupManagerTest, AFailedReschedulingUndoesOnlyItsOwnBundles) {
  PlacementGroupID id = NewId();
  ASSERT_TRUE(Create(id, 2, rpc::SPREAD).ok());
  ReserveAll();
  std::string kept = NodeAt(7000);
  KillNode(7001);
  // SPREAD is soft: the lost bundle goes to the surviving node; its commit
  // fails, and only that bundle is cancelled there.
  rpc::PrepareBundleResourcesReply ok;
  ok.set_success(true);
  ASSERT_EQ(Raylet(7000)->prepares.size(), 1u);
  Raylet(7000)->prepares.Reply(absl::OkStatus(), ok);
  ASSERT_EQ(Raylet(7000)->commits.size(), 1u);
  Raylet(7000)->commits.Reply(absl::UnavailableError("gone"));
  ASSERT_EQ(Raylet(7000)->bundle_cancels.size(), 1u);
  EXPECT_EQ(Raylet(7000)->bundle_cancels.Peek().bundle_indexes_size(), 1);
  EXPECT_EQ(StateOf(id), rpc::PlacementGroupTableData::RESCHEDULING);
  timer_.Advance(absl::Milliseconds(config_.placement_group_retry_delay_ms()));
  ReserveAll();
  EXPECT_EQ(StateOf(id), rpc::PlacementGroupTableData::CREATED);
  const auto data = Get(id);
  for (const auto& b : data.spec().bundles()) EXPECT_EQ(b.node_id(), kept);
}

TEST_F(PlacementGroupManagerTest, BadSpecsAndTakenNamesAreRefused) {
  rpc::PlacementGroupSpec spec;
  spec.set_placement_group_id(NewId().Binary());
  EXPECT_NE(PlacementGroupManager::Validate(spec).message().find("at least one bundle"),
            std::string::npos);
  (*spec.add_bundles()->mutable_resources())["CPU"] = 0;
  EXPECT_NE(PlacementGroupManager::Validate(spec).message().find("reserves nothing"),
            std::string::npos);
  ASSERT_TRUE(Create(NewId(), 1, rpc::PACK, "g").ok());
  EXPECT_EQ(Create(NewId(), 1, rpc::PACK, "g").error_code(), grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(PlacementGroupManagerTest, RemovalReleasesEverywhereAndKillsItsActors) {
  PlacementGroupID id = NewId();
  ASSERT_TRUE(Create(id, 1, rpc::PACK, "g").ok());
  ReserveAll();
  rpc::RemovePlacementGroupRequest req;
  req.set_placement_group_id(id.Binary());
  rpc::RemovePlacementGroupReply reply;
  ASSERT_TRUE(Handle([&](auto* ctx) { manager_.RemovePlacementGroup(ctx, &req, &reply); }).ok());
  EXPECT_EQ(StateOf(id), rpc::PlacementGroupTableData::REMOVED);
  for (int port : {7000, 7001}) {
    ASSERT_EQ(Raylet(port)->bundle_cancels.size(), 1u);
    EXPECT_TRUE(Raylet(port)->bundle_cancels.Peek().removed());
  }
  EXPECT_EQ(removed_, std::vector<std::string>{id.Binary()});
  for (const auto& [node, named] : committed_) {  // the node table gave the bundle back
    for (const auto& [name, amount] : named.ToMap()) EXPECT_EQ(amount, 0) << name;
  }
  // The name is free again.
  EXPECT_TRUE(Create(NewId(), 1, rpc::PACK, "g").ok());
}

TEST_F(PlacementGroupManagerTest, RemovedWhilePreparingIsUndoneForGood) {
  PlacementGroupID id = NewId();
  ASSERT_TRUE(Create(id, 1, rpc::PACK).ok());
  rpc::RemovePlacementGroupRequest req;
  req.set_placement_group_id(id.Binary());
  rpc::RemovePlacementGroupReply reply;
  Handle([&](auto* ctx) { manager_.RemovePlacementGroup(ctx, &req, &reply); });
  ReserveAll();  // the prepare lands after the removal
  int commits = 0;
  for (int port : {7000, 7001}) commits += static_cast<int>(Raylet(port)->commits.size());
  EXPECT_EQ(commits, 0);
  EXPECT_EQ(StateOf(id), rpc::PlacementGroupTableData::REMOVED);
}

TEST_F(PlacementGroupManagerTest, AJobsGroupsEndWithItUnlessDetached) {
  PlacementGroupID bound = NewId(), detached = NewId();
  ASSERT_TRUE(Create(bound, 1, rpc::PACK).ok());
  ReserveAll();
  ASSERT_TRUE(Create(detached, 1, rpc::PACK, "", /*detached=*/true).ok());
  ReserveAll();
  manager_.OnJobFinished(job_.Binary());
  EXPECT_EQ(StateOf(bound), rpc::PlacementGroupTableData::REMOVED);
  EXPECT_EQ(StateOf(detached), rpc::PlacementGroupTableData::CREATED);
}

TEST_F(PlacementGroupManagerTest, WaitAnswersAtCreationOrTimeout) {
  PlacementGroupID id = NewId();
  ASSERT_TRUE(Create(id, 1, rpc::PACK).ok());
  rpc::WaitPlacementGroupReadyRequest req;
  req.set_placement_group_id(id.Binary());
  req.set_timeout_ms(1000);
  rpc::WaitPlacementGroupReadyReply reply;
  grpc::CallbackServerContext ctx;
  grpc::testing::DefaultReactorTestPeer peer(&ctx);
  manager_.WaitPlacementGroupReady(&ctx, &req, &reply);
  EXPECT_FALSE(peer.test_status_set());
  ReserveAll();
  ASSERT_TRUE(peer.test_status_set());
  EXPECT_TRUE(reply.ready());

  PlacementGroupID never = NewId();
  ASSERT_TRUE(Create(never, 5, rpc::STRICT_SPREAD).ok());
  req.set_placement_group_id(never.Binary());
  rpc::WaitPlacementGroupReadyReply late;
  grpc::CallbackServerContext ctx2;
  grpc::testing::DefaultReactorTestPeer peer2(&ctx2);
  manager_.WaitPlacementGroupReady(&ctx2, &req, &late);
  timer_.Advance(absl::Milliseconds(1000));
  ASSERT_TRUE(peer2.test_status_set());
  EXPECT_FALSE(late.ready());
}

}  // namespace
}  // namespace photon::gcs
