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

rpc::LabelExpression Label(std::string key, rpc::LabelExpression::Operator op,
                           std::vector<std::string> values = {}) {
  rpc::LabelExpression e;
  e.set_key(std::move(key));
  e.set_op(op);
  for (auto& v : values) e.add_values(v);
  return e;
}

TEST(LabelMatchTest, OperatorsAsInRay) {
  std::map<std::string, std::string> labels{{"zone", "a"}, {"gpu", "t4"}};
  auto matches = [&](rpc::LabelExpression e) {
    google::protobuf::RepeatedPtrField<rpc::LabelExpression> es;
    *es.Add() = std::move(e);
    return LabelsMatch(labels, es);
  };
  EXPECT_TRUE(matches(Label("zone", rpc::LabelExpression::IN, {"a", "b"})));
  EXPECT_FALSE(matches(Label("zone", rpc::LabelExpression::IN, {"b"})));
  EXPECT_FALSE(matches(Label("disk", rpc::LabelExpression::IN, {"ssd"})));
  EXPECT_TRUE(matches(Label("zone", rpc::LabelExpression::NOT_IN, {"b"})));
  EXPECT_TRUE(matches(Label("disk", rpc::LabelExpression::NOT_IN, {"ssd"})));  // absent
  EXPECT_FALSE(matches(Label("zone", rpc::LabelExpression::NOT_IN, {"a"})));
  EXPECT_TRUE(matches(Label("gpu", rpc::LabelExpression::EXISTS)));
  EXPECT_FALSE(matches(Label("disk", rpc::LabelExpression::EXISTS)));
  EXPECT_TRUE(matches(Label("disk", rpc::LabelExpression::DOES_NOT_EXIST)));
  EXPECT_FALSE(matches(Label("gpu", rpc::LabelExpression::DOES_NOT_EXIST)));
}

TEST_F(PolicyTest, NodeLabelsPickOnlyMatchingNodesAndPreferSoftMatches) {
  NodeID local = AddNode({{"CPU", 4}});
  view_.set_local(local);
  NodeView* l = view_.Find(local);
  l->labels = {{"zone", "a"}};
  NodeID b = AddNode({{"CPU", 4}});
  view_.Find(b)->labels = {{"zone", "b"}, {"disk", "ssd"}};
  NodeID c = AddNode({{"CPU", 4}});
  view_.Find(c)->labels = {{"zone", "b"}};
  rpc::SchedulingStrategy st;
  st.set_by_labels(true);
  *st.add_label_hard() = Label("zone", rpc::LabelExpression::IN, {"b"});
  std::set<NodeID> hard;
  for (int i = 0; i < 20; ++i) hard.insert(Where(Decide({{"CPU", 1}}, st)));
  for (const NodeID& n : hard) EXPECT_TRUE(n == b || n == c);
  *st.add_label_soft() = Label("disk", rpc::LabelExpression::EXISTS);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Where(Decide({{"CPU", 1}}, st)), b);
  // The local node matches: it is preferred as by the default policy.
  rpc::SchedulingStrategy mine;
  mine.set_by_labels(true);
  *mine.add_label_hard() = Label("zone", rpc::LabelExpression::IN, {"a"});
  EXPECT_EQ(Where(Decide({{"CPU", 1}}, mine)), local);
  rpc::SchedulingStrategy none;
  none.set_by_labels(true);
  *none.add_label_hard() = Label("zone", rpc::LabelExpression::IN, {"z"});
  EXPECT_EQ(Decide({{"CPU", 1}}, none).kind, SchedulingDecision::Kind::kInfeasible);
}

}  // namespace
}  // namespace photon::raylet
