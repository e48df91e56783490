// The scheduling policies, each on simulated clusters, checked by node id.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "photon/raylet/scheduling/scheduler.h"

namespace photon::raylet {
namespace {

ResourceSet R(std::map<std::string, double> m) { return *ResourceSet::FromMap(m); }

class PolicyTest : public ::testing::Test {
 protected:
  // Adds a node with `total`, of which `used` is in use.
  NodeID AddNode(std::map<std::string, double> total, std::map<std::string, double> used = {},
                 bool alive = true) {
    NodeView n;
    n.id = NodeID::FromRandom();
    n.total = R(total);
    n.available = R(total);
    n.available.Subtract(R(used));
    n.alive = alive;
    n.address.set_port(static_cast<int>(view_.size()) + 1);
    view_.Upsert(n);
    return n.id;
  }
  SchedulingDecision Decide(std::map<std::string, double> request,
                            rpc::SchedulingStrategy strategy = {}, bool spilled = false) {
    return Schedule(view_, SchedulingRequest{R(request), strategy, spilled, "work"}, options_,
                    &state_);
  }
  // The node a decision sends the work to.
  NodeID Where(const SchedulingDecision& d) {
    EXPECT_TRUE(d.kind == SchedulingDecision::Kind::kLocal ||
                d.kind == SchedulingDecision::Kind::kRemote)
        << d.message;
    return d.kind == SchedulingDecision::Kind::kLocal ? view_.local() : d.node;
  }

  ClusterView view_;
  SchedulingOptions options_;
  SchedulingState state_;
};

// ---- hybrid (DEFAULT) ----

TEST_F(PolicyTest, HybridKeepsWorkLocalWhileTheLocalNodeIsLightlyUsed) {
  NodeID local = AddNode({{"CPU", 4}}, {{"CPU", 1}});  // 25% used
  view_.set_local(local);
  AddNode({{"CPU", 4}});
  EXPECT_EQ(Where(Decide({{"CPU", 1}})), local);
}

TEST_F(PolicyTest, HybridSpreadsOnceTheLocalNodeIsHalfUsed) {
  NodeID local = AddNode({{"CPU", 4}}, {{"CPU", 2}});  // 50%: at the threshold
  view_.set_local(local);
  NodeID idle = AddNode({{"CPU", 4}});
  EXPECT_EQ(Where(Decide({{"CPU", 1}})), idle);
}

TEST_F(PolicyTest, HybridPrefersTheLocalNodeAmongEquallyIdleNodes) {
  NodeID local = AddNode({{"CPU", 2}, {"GPU", 0}}, {{"CPU", 1}});  // 50%: not "lightly used"
  view_.set_local(local);
  AddNode({{"CPU", 2}}, {{"CPU", 1}});  // just as loaded
  options_.top_k_fraction = 0;          // pick the best only
  EXPECT_EQ(Where(Decide({{"CPU", 1}})), local);
}

TEST_F(PolicyTest, HybridPicksAmongTheLeastLoadedTopFraction) {
  NodeID local = AddNode({{"CPU", 1}}, {{"CPU", 1}});  // full
  view_.set_local(local);
  std::set<NodeID> idle;
  for (int i = 0; i < 10; ++i) idle.insert(AddNode({{"CPU", 4}}));
  for (int i = 0; i < 10; ++i) AddNode({{"CPU", 4}}, {{"CPU", 3}});  // busy
  options_.top_k_fraction = 0.5;
  std::set<NodeID> picked;
  for (int i = 0; i < 200; ++i) picked.insert(Where(Decide({{"CPU", 1}})));
  for (const NodeID& n : picked) EXPECT_TRUE(idle.contains(n)) << "a busy node was picked";
  EXPECT_GT(picked.size(), 1u) << "the pick is random among the best";
}

TEST_F(PolicyTest, HybridKeepsCpuWorkOffGpuNodesWhileOthersFit) {
  NodeID gpu = AddNode({{"CPU", 8}, {"GPU", 1}});
  view_.set_local(gpu);
  NodeID cpu = AddNode({{"CPU", 2}});
  EXPECT_EQ(Where(Decide({{"CPU", 1}})), cpu);
  EXPECT_EQ(Where(Decide({{"CPU", 1}, {"GPU", 1}})), gpu);
  // With no other node, CPU work does run on the GPU node.
  view_.Find(cpu)->alive = false;
  EXPECT_EQ(Where(Decide({{"CPU", 1}})), gpu);
}

TEST_F(PolicyTest, HybridWaitsLocallyWhenNoNodeHasRoomButTheLocalOneFits) {
  NodeID local = AddNode({{"CPU", 2}}, {{"CPU", 2}});
  view_.set_local(local);
  AddNode({{"CPU", 2}}, {{"CPU", 2}});
  EXPECT_EQ(Decide({{"CPU", 1}}).kind, SchedulingDecision::Kind::kLocal);
}

TEST_F(PolicyTest, HybridSendsWorkTheLocalNodeCanNeverRunToANodeThatCan) {
  NodeID local = AddNode({{"CPU", 2}});
  view_.set_local(local);
  NodeID big = AddNode({{"CPU", 2}, {"custom", 1}}, {{"custom", 1}});  // busy, but fits
  EXPECT_EQ(Where(Decide({{"custom", 1}})), big);
}

TEST_F(PolicyTest, HybridReportsWorkNoNodeCanRunAsInfeasible) {
  view_.set_local(AddNode({{"CPU", 2}}));
  AddNode({{"CPU", 4}}, {}, /*alive=*/false);
  auto d = Decide({{"CPU", 3}});
  EXPECT_EQ(d.kind, SchedulingDecision::Kind::kInfeasible);
  EXPECT_NE(d.message.find("CPU"), std::string::npos) << d.message;
}

TEST_F(PolicyTest, SpilledWorkStaysOrIsInfeasibleNeverMovesAgain) {
  NodeID local = AddNode({{"CPU", 1}}, {{"CPU", 1}});
  view_.set_local(local);
  AddNode({{"CPU", 8}});
  EXPECT_EQ(Decide({{"CPU", 1}}, {}, /*spilled=*/true).kind, SchedulingDecision::Kind::kLocal);
  EXPECT_EQ(Decide({{"CPU", 2}}, {}, true).kind, SchedulingDecision::Kind::kInfeasible);
}

// ---- SPREAD ----

TEST_F(PolicyTest, SpreadRoundRobinsOverTheNodesWithRoom) {
  NodeID local = AddNode({{"CPU", 4}});
  view_.set_local(local);
  AddNode({{"CPU", 4}});
  AddNode({{"CPU", 4}});
  AddNode({{"CPU", 4}}, {{"CPU", 4}});  // full: skipped
  rpc::SchedulingStrategy spread;
  spread.set_spread(true);
  std::map<NodeID, int> counts;
  for (int i = 0; i < 9; ++i) ++counts[Where(Decide({{"CPU", 1}}, spread))];
  ASSERT_EQ(counts.size(), 3u);
  for (const auto& [node, n] : counts) EXPECT_EQ(n, 3);
}

TEST_F(PolicyTest, SpreadFallsBackToTheDefaultWhenNoNodeHasRoom) {
  NodeID local = AddNode({{"CPU", 1}}, {{"CPU", 1}});
  view_.set_local(local);
  rpc::SchedulingStrategy spread;
  spread.set_spread(true);
  EXPECT_EQ(Decide({{"CPU", 1}}, spread).kind, SchedulingDecision::Kind::kLocal);
}

// ---- NodeAffinity ----

TEST_F(PolicyTest, NodeAffinitySendsWorkToItsNodeHoweverBusy) {
  NodeID local = AddNode({{"CPU", 4}});
  view_.set_local(local);
  NodeID target = AddNode({{"CPU", 1}}, {{"CPU", 1}});
  rpc::SchedulingStrategy st;
  st.set_node_id(target.Binary());
  EXPECT_EQ(Where(Decide({{"CPU", 1}}, st)), target);
}

TEST_F(PolicyTest, HardNodeAffinityToADeadNodeIsUnschedulable) {
  view_.set_local(AddNode({{"CPU", 4}}));
  NodeID dead = AddNode({{"CPU", 4}}, {}, /*alive=*/false);
  rpc::SchedulingStrategy st;
  st.set_node_id(dead.Binary());
  auto d = Decide({{"CPU", 1}}, st);
  EXPECT_EQ(d.kind, SchedulingDecision::Kind::kUnschedulable);
  EXPECT_NE(d.message.find("soft=False"), std::string::npos);
}

TEST_F(PolicyTest, SoftNodeAffinityFallsBackToTheDefault) {
  NodeID local = AddNode({{"CPU", 4}});
  view_.set_local(local);
  NodeID small = AddNode({{"CPU", 1}});
  rpc::SchedulingStrategy st;
  st.set_node_id(small.Binary());
  st.set_soft(true);
  EXPECT_EQ(Where(Decide({{"CPU", 2}}, st)), local);  // the target can never fit 2 CPUs
}

}  // namespace
}  // namespace photon::raylet
