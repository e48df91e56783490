// The placement-group bundle policies on simulated clusters, checked by node
// id, and the raylet's ledger of reserved bundles.
#include "photon/raylet/scheduling/policy/bundle_policy.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "photon/raylet/scheduling/bundle_resources.h"

namespace photon::raylet {
namespace {

ResourceSet R(std::map<std::string, double> m) { return *ResourceSet::FromMap(m); }

class BundlePolicyTest : public ::testing::Test {
 protected:
  NodeID AddNode(std::map<std::string, double> available, bool alive = true,
                 std::map<std::string, std::string> labels = {}) {
    NodeView n;
    n.id = NodeID::FromRandom();
    n.total = R(available);
    n.available = R(available);
    n.alive = alive;
    n.labels = std::move(labels);
    view_.Upsert(n);
    return n.id;
  }
  BundlePlacement Place(std::vector<std::map<std::string, double>> bundles,
                        rpc::PlacementStrategy strategy) {
    std::vector<ResourceSet> b;
    for (auto& m : bundles) b.push_back(R(m));
    return PlaceBundles(view_, b, strategy);
  }
  ClusterView view_;
};

// One selector per bundle: {key: [values]} as IN expressions.
BundleSelectors In(std::vector<std::map<std::string, std::vector<std::string>>> per_bundle) {
  BundleSelectors out;
  for (const auto& sel : per_bundle) {
    google::protobuf::RepeatedPtrField<rpc::LabelExpression> exprs;
    for (const auto& [key, values] : sel) {
      rpc::LabelExpression* e = exprs.Add();
      e->set_key(key);
      e->set_op(rpc::LabelExpression::IN);
      for (const auto& v : values) e->add_values(v);
    }
    out.push_back(exprs);
  }
  return out;
}

TEST_F(BundlePolicyTest, BundleLabelSelectorsPickTheNodesEachBundleMayUse) {
  NodeID a = AddNode({{"CPU", 4}}, true, {{"zone", "a"}});
  NodeID b = AddNode({{"CPU", 4}}, true, {{"zone", "b"}});
  std::vector<ResourceSet> two = {R({{"CPU", 1}}), R({{"CPU", 1}})};
  for (auto strategy : {rpc::PACK, rpc::SPREAD, rpc::STRICT_SPREAD}) {
    auto p = PlaceBundles(view_, two, strategy, In({{{"zone", {"b"}}}, {{"zone", {"a"}}}}));
    ASSERT_TRUE(p.placed) << rpc::PlacementStrategy_Name(strategy) << ": " << p.message;
    EXPECT_EQ(p.nodes, (std::vector<NodeID>{b, a})) << rpc::PlacementStrategy_Name(strategy);
  }
  // STRICT_PACK needs one node that every bundle's selector admits.
  auto same = PlaceBundles(view_, two, rpc::STRICT_PACK, In({{{"zone", {"a"}}}, {}}));
  ASSERT_TRUE(same.placed) << same.message;
  EXPECT_EQ(same.nodes, (std::vector<NodeID>{a, a}));
  auto apart =
      PlaceBundles(view_, two, rpc::STRICT_PACK, In({{{"zone", {"a"}}}, {{"zone", {"b"}}}}));
  EXPECT_FALSE(apart.placed);
  EXPECT_NE(apart.message.find("labels admit"), std::string::npos);
  // A label no node has: nowhere to go.
  auto none = PlaceBundles(view_, two, rpc::PACK, In({{{"zone", {"c"}}}, {}}));
  EXPECT_FALSE(none.placed);
}

TEST_F(BundlePolicyTest, StrictPackPutsEveryBundleOnTheNodeThatFitsThemAll) {
  AddNode({{"CPU", 2}});
  NodeID big = AddNode({{"CPU", 4}});
  auto p = Place({{{"CPU", 2}}, {{"CPU", 1}}}, rpc::STRICT_PACK);
  ASSERT_TRUE(p.placed) << p.message;
  EXPECT_EQ(p.nodes, (std::vector<NodeID>{big, big}));
  auto no = Place({{{"CPU", 3}}, {{"CPU", 2}}}, rpc::STRICT_PACK);
  EXPECT_FALSE(no.placed);
  EXPECT_NE(no.message.find("STRICT_PACK"), std::string::npos);
}

TEST_F(BundlePolicyTest, PackUsesOneNodeWhenItCanAndFewNodesWhenItCannot) {
  NodeID a = AddNode({{"CPU", 2}});
  NodeID b = AddNode({{"CPU", 2}});
  AddNode({{"CPU", 2}});
  auto one = Place({{{"CPU", 1}}, {{"CPU", 1}}}, rpc::PACK);
  ASSERT_TRUE(one.placed);
  EXPECT_EQ(one.nodes[0], one.nodes[1]);
  auto two = Place({{{"CPU", 1}}, {{"CPU", 1}}, {{"CPU", 1}}}, rpc::PACK);
  ASSERT_TRUE(two.placed);
  EXPECT_EQ(std::set<NodeID>(two.nodes.begin(), two.nodes.end()).size(), 2u);
  (void)a;
  (void)b;
  EXPECT_FALSE(Place({{{"CPU", 3}}}, rpc::PACK).placed);
}

TEST_F(BundlePolicyTest, SpreadUsesDistinctNodesFirstThenShares) {
  NodeID a = AddNode({{"CPU", 4}});
  NodeID b = AddNode({{"CPU", 4}});
  auto p = Place({{{"CPU", 1}}, {{"CPU", 1}}}, rpc::SPREAD);
  ASSERT_TRUE(p.placed);
  EXPECT_EQ(std::set<NodeID>(p.nodes.begin(), p.nodes.end()), (std::set<NodeID>{a, b}));
  auto four = Place({{{"CPU", 1}}, {{"CPU", 1}}, {{"CPU", 1}}, {{"CPU", 1}}}, rpc::SPREAD);
  ASSERT_TRUE(four.placed);
  std::map<NodeID, int> per;
  for (const auto& n : four.nodes) ++per[n];
  EXPECT_EQ(per[a], 2);
  EXPECT_EQ(per[b], 2);
}

TEST_F(BundlePolicyTest, StrictSpreadNeedsADistinctLiveNodePerBundle) {
  NodeID a = AddNode({{"CPU", 1}});
  NodeID b = AddNode({{"CPU", 1}});
  AddNode({{"CPU", 8}}, /*alive=*/false);
  auto p = Place({{{"CPU", 1}}, {{"CPU", 1}}}, rpc::STRICT_SPREAD);
  ASSERT_TRUE(p.placed);
  EXPECT_EQ(std::set<NodeID>(p.nodes.begin(), p.nodes.end()), (std::set<NodeID>{a, b}));
  auto three = Place({{{"CPU", 1}}, {{"CPU", 1}}, {{"CPU", 1}}}, rpc::STRICT_SPREAD);
  EXPECT_FALSE(three.placed);
  EXPECT_NE(three.message.find("needs 3 nodes"), std::string::npos) << three.message;
}

TEST_F(BundlePolicyTest, LargeBundlesArePlacedFirst) {
  NodeID small = AddNode({{"CPU", 1}});
  NodeID big = AddNode({{"CPU", 2}});
  // In order, the 1-CPU bundle could take the 2-CPU node and strand the big one.
  auto p = Place({{{"CPU", 1}}, {{"CPU", 2}}}, rpc::STRICT_SPREAD);
  ASSERT_TRUE(p.placed) << p.message;
  EXPECT_EQ(p.nodes, (std::vector<NodeID>{small, big}));
}

TEST(BundleResourcesTest, NamesAreRays) {
  PlacementGroupID pg = PlacementGroupID::FromRandom(JobID::FromParts(1, 1));
  EXPECT_EQ(BundleResourceName("CPU", 0, pg), "CPU_group_0_" + pg.Hex());
  EXPECT_EQ(BundleResourceName("CPU", -1, pg), "CPU_group_" + pg.Hex());
  auto renamed = RenameIntoBundle({{"CPU", 2}, {"GPU", 0}}, 1, pg);
  EXPECT_EQ(renamed, (std::map<std::string, double>{{"CPU_group_1_" + pg.Hex(), 2},
                                                    {"bundle_group_1_" + pg.Hex(), 0.001}}));
  EXPECT_TRUE(IsBundleResourceOf("CPU_group_1_" + pg.Hex(), pg));
  EXPECT_FALSE(IsBundleResourceOf("CPU", pg));
  // Of any group: every name a committed bundle adds, and nothing else.
  for (const auto& [name, amount] :
       CommittedBundleResources(pg, 3, *ResourceSet::FromMap({{"CPU", 1}, {"my_group_x", 2}}))
           .ToMap()) {
    EXPECT_TRUE(IsBundleResource(name)) << name;
  }
  EXPECT_FALSE(IsBundleResource("CPU"));
  EXPECT_FALSE(IsBundleResource("my_group_x"));
  EXPECT_FALSE(IsBundleResource("CPU_group_" + pg.Hex().substr(1)));  // too short a hex
  EXPECT_FALSE(IsBundleResource("CPU_grou_1_" + pg.Hex()));
  EXPECT_FALSE(IsBundleResource("CPU_group_x_" + pg.Hex()));
  EXPECT_FALSE(IsBundleResource("CPU_" + pg.Hex()));
}

TEST(BundleLedgerTest, PrepareCommitCancelMoveTheResources) {
  PlacementGroupID pg = PlacementGroupID::FromRandom(JobID::FromParts(1, 1));
  ResourceSet total = R({{"CPU", 4}});
  ResourceSet available = total;
  BundleLedger ledger;
  ASSERT_TRUE(ledger.Prepare(pg, {{0, R({{"CPU", 1}})}, {1, R({{"CPU", 2}})}}, &available).ok());
  EXPECT_EQ(available.Get("CPU"), 1);
  // Prepared twice (a retried call): nothing more is taken.
  ASSERT_TRUE(ledger.Prepare(pg, {{0, R({{"CPU", 1}})}, {1, R({{"CPU", 2}})}}, &available).ok());
  EXPECT_EQ(available.Get("CPU"), 1);
  ASSERT_TRUE(ledger.Commit(pg, {0, 1}, &total, &available).ok());
  EXPECT_EQ(total.Get("CPU_group_0_" + pg.Hex()), 1);
  EXPECT_EQ(total.Get("CPU_group_" + pg.Hex()), 3);
  EXPECT_EQ(available.Get("bundle_group_" + pg.Hex()), 2000);
  // A lease takes part of a bundle; the group is cancelled under it.
  available.Subtract(R({{"CPU_group_0_" + pg.Hex(), 1}}));
  EXPECT_TRUE(ledger.Cancel(pg, {}, &total, &available));
  EXPECT_EQ(total.ToMap(), (std::map<std::string, double>{{"CPU", 4}}));
  EXPECT_EQ(available.ToMap(), (std::map<std::string, double>{{"CPU", 4}}));
  EXPECT_EQ(ledger.NumBundles(), 0u);
  EXPECT_FALSE(ledger.Cancel(pg, {}, &total, &available));
}

TEST(BundleLedgerTest, CancellingSomeBundlesKeepsTheOthers) {
  PlacementGroupID pg = PlacementGroupID::FromRandom(JobID::FromParts(1, 1));
  ResourceSet total = R({{"CPU", 4}});
  ResourceSet available = total;
  BundleLedger ledger;
  ASSERT_TRUE(ledger.Prepare(pg, {{0, R({{"CPU", 1}})}, {1, R({{"CPU", 2}})}}, &available).ok());
  ASSERT_TRUE(ledger.Commit(pg, {0, 1}, &total, &available).ok());
  EXPECT_TRUE(ledger.Cancel(pg, {1}, &total, &available));
  EXPECT_EQ(available.Get("CPU"), 3);
  EXPECT_EQ(total.Get("CPU_group_0_" + pg.Hex()), 1);
  EXPECT_EQ(total.Get("CPU_group_1_" + pg.Hex()), 0);
  EXPECT_EQ(total.Get("CPU_group_" + pg.Hex()), 1);
  EXPECT_EQ(ledger.NumBundles(), 1u);
  EXPECT_FALSE(ledger.Cancel(pg, {1}, &total, &available));  // already gone
  EXPECT_TRUE(ledger.Cancel(pg, {}, &total, &available));
  EXPECT_EQ(total.ToMap(), (std::map<std::string, double>{{"CPU", 4}}));
}

TEST(BundleLedgerTest, PrepareIsAllOrNothingAndRefusesARemovedGroup) {
  PlacementGroupID pg = PlacementGroupID::FromRandom(JobID::FromParts(1, 1));
  ResourceSet total = R({{"CPU", 2}});
  ResourceSet available = total;
  BundleLedger ledger;
  auto s = ledger.Prepare(pg, {{0, R({{"CPU", 1}})}, {1, R({{"CPU", 2}})}}, &available);
  EXPECT_TRUE(absl::IsResourceExhausted(s));
  EXPECT_EQ(available.Get("CPU"), 2);
  EXPECT_EQ(ledger.NumBundles(), 0u);
  EXPECT_TRUE(absl::IsNotFound(ledger.Commit(pg, {0}, &total, &available)));
  ledger.MarkRemoved(pg);
  EXPECT_FALSE(ledger.Prepare(pg, {{0, R({{"CPU", 1}})}}, &available).ok());
}

}  // namespace
}  // namespace photon::raylet
