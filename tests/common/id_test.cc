#include "photon/common/id.h"

#include <gtest/gtest.h>

#include <unordered_set>

#include "absl/container/flat_hash_set.h"

namespace photon {
namespace {

TEST(IdTest, SizesAreFixed) {
  EXPECT_EQ(JobID::kSize, 8u);
  EXPECT_EQ(ActorID::kSize, 20u);
  EXPECT_EQ(TaskID::kSize, 36u);
  EXPECT_EQ(ObjectID::kSize, 40u);
  EXPECT_EQ(PlacementGroupID::kSize, 20u);
  EXPECT_EQ(NodeID::kSize, 16u);
  EXPECT_EQ(WorkerID::kSize, 24u);
}

TEST(IdTest, DefaultIsNilAndNilIsAllOnes) {
  EXPECT_TRUE(ObjectID().IsNil());
  EXPECT_TRUE(TaskID::Nil().IsNil());
  EXPECT_EQ(JobID::Nil().Hex(), "ffffffffffffffff");
  EXPECT_FALSE(ObjectID::FromRandom().IsNil());
}

TEST(IdTest, JobLayout) {
  JobID job = JobID::FromParts(0x01020304, 0x0a0b0c0d);
  EXPECT_EQ(job.Hex(), "010203040a0b0c0d");
  EXPECT_EQ(job.Version(), 0x01020304u);
  EXPECT_EQ(job.Counter(), 0x0a0b0c0du);
}

TEST(IdTest, NestingExposesTheJob) {
  JobID job = JobID::FromParts(1, 7);
  TaskID driver = TaskID::ForDriverTask(job);
  TaskID task = TaskID::ForNormalTask(job, driver, 1);
  ActorID actor = ActorID::Of(job, driver, 2);
  TaskID creation = TaskID::ForActorCreationTask(actor);
  TaskID call = TaskID::ForActorTask(job, driver, 3, actor);
  ObjectID ret = ObjectID::FromIndex(task, 1);
  ObjectID put = ObjectID::ForPut(driver, 1);
  PlacementGroupID pg = PlacementGroupID::FromRandom(job);

  for (const JobID& j : {driver.JobId(), task.JobId(), actor.JobId(), creation.JobId(),
                         call.JobId(), ret.JobId(), put.JobId(), pg.JobId()}) {
    EXPECT_EQ(j, job);
  }
  EXPECT_TRUE(task.ActorId().IsNilActor());
  EXPECT_FALSE(actor.IsNilActor());
  EXPECT_EQ(creation.ActorId(), actor);
  EXPECT_EQ(call.ActorId(), actor);
  EXPECT_TRUE(creation.IsForActorCreationTask());
  EXPECT_FALSE(call.IsForActorCreationTask());
  EXPECT_FALSE(task.IsForActorCreationTask());
  EXPECT_EQ(ret.TaskId(), task);
  EXPECT_EQ(put.TaskId(), driver);
}

TEST(IdTest, TaskDerivationIsDeterministic) {
  JobID job = JobID::FromParts(1, 1);
  TaskID parent = TaskID::ForDriverTask(job);
  EXPECT_EQ(TaskID::ForDriverTask(job), parent);
  EXPECT_EQ(TaskID::ForNormalTask(job, parent, 5), TaskID::ForNormalTask(job, parent, 5));
  EXPECT_NE(TaskID::ForNormalTask(job, parent, 5), TaskID::ForNormalTask(job, parent, 6));
  EXPECT_NE(TaskID::ForDriverTask(JobID::FromParts(1, 2)), parent);
  ActorID actor = ActorID::Of(job, parent, 1);
  EXPECT_EQ(actor, ActorID::Of(job, parent, 1));
  EXPECT_NE(TaskID::ForActorTask(job, parent, 1, actor), TaskID::ForNormalTask(job, parent, 1));
  // Pinned value: a change to the derivation changes every stored lineage.
  EXPECT_EQ(TaskID::ForDriverTask(JobID::FromParts(0, 1)).Hex().size(), 72u);
}

TEST(IdTest, PutAndReturnIndicesAreDistinguishable) {
  TaskID task = TaskID::FromRandom(JobID::FromParts(0, 1));
  ObjectID ret = ObjectID::FromIndex(task, 3);
  ObjectID put = ObjectID::ForPut(task, 3);
  EXPECT_NE(ret, put);
  EXPECT_TRUE(ret.IsReturn());
  EXPECT_FALSE(ret.IsPut());
  EXPECT_TRUE(put.IsPut());
  EXPECT_EQ(ret.ObjectIndex(), 3u);
  EXPECT_EQ(put.ObjectIndex(), 3u);
  EXPECT_EQ(ObjectID::FromIndex(task, ObjectID::kMaxIndex).ObjectIndex(), ObjectID::kMaxIndex);
}

TEST(IdTest, WorkerEmbedsNode) {
  NodeID node = NodeID::FromRandom();
  WorkerID w1 = WorkerID::FromRandom(node);
  WorkerID w2 = WorkerID::FromRandom(node);
  EXPECT_EQ(w1.NodeId(), node);
  EXPECT_NE(w1, w2);
}

template <typename T>
void ExpectRoundTrips(const T& id) {
  auto from_bin = T::FromBinary(id.Binary());
  ASSERT_TRUE(from_bin.ok());
  EXPECT_EQ(*from_bin, id);
  auto from_hex = T::FromHex(id.Hex());
  ASSERT_TRUE(from_hex.ok());
  EXPECT_EQ(*from_hex, id);
  EXPECT_EQ(id.Hex().size(), 2 * T::kSize);
}

TEST(IdTest, BinaryAndHexRoundTrips) {
  JobID job = JobID::FromParts(3, 9);
  ExpectRoundTrips(job);
  ExpectRoundTrips(ActorID::Of(job, TaskID::ForDriverTask(job), 1));
  ExpectRoundTrips(TaskID::FromRandom(job));
  ExpectRoundTrips(ObjectID::FromRandom());
  ExpectRoundTrips(PlacementGroupID::FromRandom(job));
  ExpectRoundTrips(NodeID::FromRandom());
  ExpectRoundTrips(WorkerID::FromRandom(NodeID::FromRandom()));
  ExpectRoundTrips(ObjectID::Nil());
  // Upper-case hex parses too.
  auto upper = JobID::FromHex("0A0B0C0D01020304");
  ASSERT_TRUE(upper.ok());
  EXPECT_EQ(upper->Hex(), "0a0b0c0d01020304");
}

TEST(IdTest, BadInputIsRejectedWithAMessage) {
  auto short_bin = ObjectID::FromBinary("abc");
  ASSERT_FALSE(short_bin.ok());
  EXPECT_EQ(short_bin.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(short_bin.status().message().find("40 bytes"), std::string_view::npos);
  EXPECT_FALSE(JobID::FromHex("0011").ok());
  auto bad_digit = JobID::FromHex("00112233445566zz");
  ASSERT_FALSE(bad_digit.ok());
  EXPECT_NE(bad_digit.status().message().find("not a hex ID"), std::string_view::npos);
}

TEST(IdTest, HashingWorksWithStdAndAbsl) {
  ObjectID a = ObjectID::FromRandom();
  std::unordered_set<ObjectID> std_set{a};
  absl::flat_hash_set<ObjectID> absl_set{a};
  EXPECT_TRUE(std_set.contains(a));
  EXPECT_TRUE(absl_set.contains(a));
  EXPECT_EQ(a.Hash(), ObjectID::FromBinary(a.Binary())->Hash());
}

TEST(IdTest, NoCollisionsInALargeSample) {
  constexpr int kN = 1'000'000;
  JobID job = JobID::FromParts(0, 42);
  TaskID driver = TaskID::ForDriverTask(job);
  absl::flat_hash_set<TaskID> tasks;
  absl::flat_hash_set<size_t> hashes;
  tasks.reserve(kN);
  hashes.reserve(kN);
  for (int i = 0; i < kN; ++i) {
    TaskID t = TaskID::ForNormalTask(job, driver, i);
    ASSERT_TRUE(tasks.insert(t).second) << "collision at " << i;
    hashes.insert(t.Hash());
  }
  // 64-bit hashes of 10^6 ids: a collision here would mean a broken mixer.
  EXPECT_EQ(hashes.size(), static_cast<size_t>(kN));
  // Children of children: a deep chain stays unique too.
  absl::flat_hash_set<TaskID> chain;
  TaskID cur = driver;
  for (int i = 0; i < 100'000; ++i) {
    cur = TaskID::ForNormalTask(job, cur, 1);
    ASSERT_TRUE(chain.insert(cur).second);
  }
  absl::flat_hash_set<ObjectID> objects;
  for (int i = 0; i < kN; ++i) ASSERT_TRUE(objects.insert(ObjectID::FromRandom()).second);
}

}  // namespace
}  // namespace photon
