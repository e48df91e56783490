// The GCS's actor manager against fake raylets and workers: placement by the
// scheduling policies, creation, restarts on evidence, death, kills.
#include "photon/gcs/actor_manager.h"

#include <grpcpp/test/default_reactor_test_peer.h>
#include <gtest/gtest.h>

#include "tests/fakes/fake_clients.h"
#include "tests/fakes/fake_timer.h"
#include "tests/fakes/handle_call.h"

namespace photon::gcs {
namespace {

using photon::testing::FakeCoreWorkerPool;
using photon::testing::FakeRayletPool;
using photon::testing::FakeTimer;
using photon::testing::Handle;

// Tables that "outlive" the manager: what Redis is to a restarted GCS.
class DurableMemoryStorage : public InMemoryGcsStorage {
 public:
  bool durable() const override { return true; }
};

class ActorManagerTest : public ::testing::Test {
 protected:
  ActorManagerTest()
      : job_(JobID::FromParts(1, 1)),
        node_(NodeID::FromRandom()),
        actor_(ActorID::Of(job_, TaskID::ForDriverTask(job_), 1)),
        manager_(ActorManager::Deps{&config_, &publisher_, &raylets_, &workers_, &timer_,
                                    [this] { return nodes_; }, &storage_, nullptr}) {
    rpc::NodeInfo n;
    n.set_node_id(node_.Binary());
    n.set_ip("127.0.0.1");
    n.set_raylet_port(7000);
    n.set_state(rpc::NodeInfo::ALIVE);
    (*n.mutable_resources_total())["CPU"] = 2;
    (*n.mutable_resources_available())["CPU"] = 2;
    nodes_.push_back(n);
    // Every state change the manager publishes.
    poll_.set_after_seq(0);
    poll_.add_channels(rpc::ACTOR_CHANNEL);
    poll_.set_timeout_ms(1'000'000);
  }

  // Registers and creates the actor (the owner's two calls).
  void Create(int max_restarts = 0, std::string name = "") {
    rpc::RegisterActorRequest reg;
    reg.mutable_actor()->set_actor_id(actor_.Binary());
    reg.mutable_actor()->set_job_id(job_.Binary());
    reg.mutable_actor()->set_max_restarts(max_restarts);
    reg.mutable_actor()->set_name(name);
    reg.mutable_actor()->mutable_owner()->set_node_id(node_.Binary());
    rpc::RegisterActorReply reg_reply;
    EXPECT_TRUE(Handle([&](auto* ctx) { manager_.RegisterActor(ctx, &reg, &reg_reply); }).ok());
    rpc::CreateActorRequest create;
    create.mutable_creation_task()->set_actor_id(actor_.Binary());
    create.mutable_creation_task()->set_task_id(TaskID::ForActorCreationTask(actor_).Binary());
    create.mutable_creation_task()->set_job_id(job_.Binary());
    create.mutable_creation_task()->set_name("A");
    (*create.mutable_creation_task()->mutable_resources())["CPU"] = 1;
    create.add_worker_command("python");
    rpc::CreateActorReply create_reply;
    EXPECT_TRUE(Handle([&](auto* ctx) { manager_.CreateActor(ctx, &create, &create_reply); }).ok());
  }
  std::shared_ptr<photon::testing::FakeRayletClient> Raylet() {
    return raylets_.Raylet("127.0.0.1:7000");
  }
  rpc::Address GrantLease() {
    rpc::Address w;
    w.set_ip("127.0.0.1");
    w.set_port(next_port_++);
    w.set_node_id(node_.Binary());
    w.set_worker_id(WorkerID::FromRandom(node_).Binary());
    rpc::RequestWorkerLeaseReply reply;
    *reply.mutable_worker() = w;
    Raylet()->leases.Reply(absl::OkStatus(), reply);
    return w;
  }
  void AnswerCreation(const rpc::Address& w, const absl::Status& s = absl::OkStatus()) {
    rpc::PushTaskReply reply;
    reply.add_returns()->mutable_value()->set_metadata("pickle5");
    workers_.Worker(w.worker_id())->pushes.Reply(s, reply);
  }
  rpc::ActorTableData::State StateOf() { return manager_.Find(actor_)->state(); }
  void ReportWorkerFailure(const rpc::Address& w) {
    rpc::ReportWorkerFailureRequest req;
    req.set_worker_id(w.worker_id());
    req.set_reason("its worker process (pid 1) was killed by signal 9");
    rpc::ReportWorkerFailureReply reply;
    Handle([&](auto* ctx) { manager_.ReportWorkerFailure(ctx, &req, &reply); });
  }

  SystemConfig config_;
  DurableMemoryStorage storage_;
  FakeTimer timer_;
  Publisher publisher_{&timer_};
  FakeRayletPool raylets_;
  FakeCoreWorkerPool workers_;
  std::vector<rpc::NodeInfo> nodes_;
  JobID job_;
  NodeID node_;
  ActorID actor_;
  int next_port_ = 9000;
  rpc::PollRequest poll_;
  ActorManager manager_;
};

TEST_F(ActorManagerTest, CreationLeasesAWorkerPushesTheConstructorAndPublishesAlive) {
  Create();
  EXPECT_EQ(StateOf(), rpc::ActorTableData::PENDING_CREATION);
  ASSERT_EQ(Raylet()->leases.size(), 1u);
  EXPECT_EQ(Raylet()->leases.Peek().actor_id(), actor_.Binary());
  rpc::Address w = GrantLease();
  ASSERT_EQ(workers_.Worker(w.worker_id())->pushes.size(), 1u);
  EXPECT_EQ(workers_.Worker(w.worker_id())->pushes.Peek().intended_worker_id(), w.worker_id());
  AnswerCreation(w);
  EXPECT_EQ(StateOf(), rpc::ActorTableData::ALIVE);
  EXPECT_EQ(manager_.Find(actor_)->address().worker_id(), w.worker_id());
  rpc::PollReply reply;
  publisher_.Poll(&poll_, &reply, [](bool) {});
  ASSERT_GE(reply.messages_size(), 3);  // DEPENDENCIES_UNREADY, PENDING_CREATION, ALIVE
  EXPECT_EQ(reply.messages(reply.messages_size() - 1).actor().state(), rpc::ActorTableData::ALIVE);
}

TEST_F(ActorManagerTest, ARestartedManagerRecoversActorsNamesAndWorkerDeaths) {
  Create(/*max_restarts=*/0, "keeper");
  rpc::Address w = GrantLease();
  AnswerCreation(w);
  ASSERT_EQ(StateOf(), rpc::ActorTableData::ALIVE);
  rpc::Address other;
  other.set_worker_id(WorkerID::FromRandom(node_).Binary());
  ReportWorkerFailure(other);  // a plain worker died: borrowers must hear it
  int64_t position = 0;
  {
    rpc::PollRequest now;
    now.set_after_seq(-1);
    rpc::PollReply reply;
    publisher_.Poll(&now, &reply, [](bool) {});
    position = reply.last_seq();
  }
  // A new manager on the same tables (the GCS after a restart).
  ActorManager again(ActorManager::Deps{&config_, &publisher_, &raylets_, &workers_, &timer_,
                                        [this] { return nodes_; }, &storage_, nullptr});
  ASSERT_TRUE(again.Recover().ok());
  auto found = again.Find(actor_);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->state(), rpc::ActorTableData::ALIVE);
  EXPECT_EQ(found->address().worker_id(), w.worker_id());
  rpc::GetNamedActorRequest by_name;
  by_name.set_name("keeper");
  rpc::GetNamedActorReply named;
  EXPECT_TRUE(Handle([&](auto* ctx) { again.GetNamedActor(ctx, &by_name, &named); }).ok());
  EXPECT_EQ(named.actor().actor_id(), actor_.Binary());
  // Its entry and the worker's death are published again.
  rpc::PollRequest since;
  since.set_after_seq(position);
  since.add_channels(rpc::ACTOR_CHANNEL);
  since.add_channels(rpc::WORKER_CHANNEL);
  rpc::PollReply republished;
  publisher_.Poll(&since, &republished, [](bool) {});
  bool actor_seen = false, death_seen = false;
  for (const auto& m : republished.messages()) {
    actor_seen |= m.channel() == rpc::ACTOR_CHANNEL && m.key() == actor_.Binary();
    death_seen |= m.channel() == rpc::WORKER_CHANNEL && m.key() == other.worker_id();
  }
  EXPECT_TRUE(actor_seen);
  EXPECT_TRUE(death_seen);
  // The old worker's death now reaches the new manager's actor.
  rpc::ReportWorkerFailureRequest req;
  req.set_worker_id(w.worker_id());
  rpc::ReportWorkerFailureReply reply;
  Handle([&](auto* ctx) { again.ReportWorkerFailure(ctx, &req, &reply); });
  EXPECT_EQ(again.Find(actor_)->state(), rpc::ActorTableData::DEAD);
  again.Stop();
}

// A busy machine: the creation push gets no answer, but the worker's raylet
// says it lives. The push is sent again; the actor is not declared dead.
TEST_F(ActorManagerTest, UnansweredCreationIsResentWhileTheWorkerLives) {
  Create();
  rpc::Address w = GrantLease();
  AnswerCreation(w, absl::UnavailableError("connection attempt timed out"));
  ASSERT_EQ(Raylet()->states.size(), 1u);
  rpc::GetWorkerStateReply alive;
  alive.set_state(rpc::GetWorkerStateReply::ALIVE);
  Raylet()->states.Reply(absl::OkStatus(), alive);
  EXPECT_EQ(StateOf(), rpc::ActorTableData::PENDING_CREATION);
  timer_.Advance(absl::Seconds(1));
  ASSERT_EQ(workers_.Worker(w.worker_id())->pushes.size(), 1u);
  AnswerCreation(w);
  EXPECT_EQ(StateOf(), rpc::ActorTableData::ALIVE);
}

TEST_F(ActorManagerTest, CreationOnAWorkerThatDiedRestartsWithinMaxRestarts) {
  Create(/*max_restarts=*/1);
  rpc::Address w = GrantLease();
  AnswerCreation(w, absl::UnavailableError("connection refused"));
  rpc::GetWorkerStateReply dead;
  dead.set_state(rpc::GetWorkerStateReply::DEAD);
  dead.set_reason("exited with code 1");
  Raylet()->states.Reply(absl::OkStatus(), dead);
  EXPECT_EQ(StateOf(), rpc::ActorTableData::RESTARTING);
  rpc::Address w2 = GrantLease();
  AnswerCreation(w2);
  EXPECT_EQ(StateOf(), rpc::ActorTableData::ALIVE);
  EXPECT_EQ(manager_.Find(actor_)->num_restarts(), 1);
}

TEST_F(ActorManagerTest, WorkerExitRestartsTheActorThenKillsItWhenRestartsRunOut) {
  Create(/*max_restarts=*/1);
  rpc::Address w = GrantLease();
  AnswerCreation(w);
  ReportWorkerFailure(w);
  EXPECT_EQ(StateOf(), rpc::ActorTableData::RESTARTING);
  rpc::Address w2 = GrantLease();
  AnswerCreation(w2);
  EXPECT_EQ(StateOf(), rpc::ActorTableData::ALIVE);
  ReportWorkerFailure(w2);
  EXPECT_EQ(StateOf(), rpc::ActorTableData::DEAD);
  EXPECT_NE(manager_.Find(actor_)->death_cause().message().find("max_restarts=1"),
            std::string::npos);
}

TEST_F(ActorManagerTest, FailingConstructorKillsTheActorWithTheCause) {
  Create(/*max_restarts=*/5);
  rpc::Address w = GrantLease();
  rpc::PushTaskReply reply;
  reply.set_is_application_error(true);
  rpc::ErrorInfo cause;
  cause.set_exception_type("ValueError");
  cause.set_message("bad argument");
  auto* r = reply.add_returns();
  r->mutable_value()->set_metadata("photon:error");
  r->mutable_value()->set_data(cause.SerializeAsString());
  workers_.Worker(w.worker_id())->pushes.Reply(absl::OkStatus(), reply);
  EXPECT_EQ(StateOf(), rpc::ActorTableData::DEAD);
  EXPECT_NE(manager_.Find(actor_)->death_cause().message().find("ValueError: bad argument"),
            std::string::npos);
  ASSERT_EQ(Raylet()->returns.size(), 1u);
  EXPECT_TRUE(Raylet()->returns.Peek().disconnect());
}

TEST_F(ActorManagerTest, NoNodeYetMeansTryingAgainLater) {
  nodes_.clear();
  Create();
  EXPECT_EQ(Raylet()->leases.size(), 0u);
  nodes_.push_back(rpc::NodeInfo());
  nodes_.back().set_node_id(node_.Binary());
  nodes_.back().set_ip("127.0.0.1");
  nodes_.back().set_raylet_port(7000);
  (*nodes_.back().mutable_resources_total())["CPU"] = 1;
  (*nodes_.back().mutable_resources_available())["CPU"] = 1;
  timer_.Advance(absl::Milliseconds(config_.lease_retry_delay_ms()));
  EXPECT_EQ(Raylet()->leases.size(), 1u);
}

TEST_F(ActorManagerTest, NamesAreUniqueAmongLiveActors) {
  Create(0, "counter");
  rpc::RegisterActorRequest dup;
  dup.mutable_actor()->set_actor_id(ActorID::Of(job_, TaskID::ForDriverTask(job_), 2).Binary());
  dup.mutable_actor()->set_name("counter");
  rpc::RegisterActorReply reply;
  grpc::Status s = Handle([&](auto* ctx) { manager_.RegisterActor(ctx, &dup, &reply); });
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_NE(s.error_message().find("counter"), std::string::npos);
  rpc::GetNamedActorRequest get;
  get.set_name("counter");
  rpc::GetNamedActorReply got;
  Handle([&](auto* ctx) { manager_.GetNamedActor(ctx, &get, &got); });
  ASSERT_TRUE(got.found());
  EXPECT_EQ(got.actor().actor_id(), actor_.Binary()) << "the first one keeps the name";
}

TEST_F(ActorManagerTest, KillEndsTheActorAndFreesItsWorker) {
  Create(/*max_restarts=*/3);
  rpc::Address w = GrantLease();
  AnswerCreation(w);
  rpc::KillActorRequest kill;
  kill.set_actor_id(actor_.Binary());
  kill.set_no_restart(true);
  rpc::KillActorReply reply;
  EXPECT_TRUE(Handle([&](auto* ctx) { manager_.KillActor(ctx, &kill, &reply); }).ok());
  EXPECT_EQ(reply.actor().state(), rpc::ActorTableData::DEAD);
  ASSERT_EQ(Raylet()->returns.size(), 1u);
  EXPECT_TRUE(Raylet()->returns.Peek().disconnect());
}

TEST_F(ActorManagerTest, JobEndEndsItsActors) {
  Create();
  rpc::Address w = GrantLease();
  AnswerCreation(w);
  manager_.OnJobFinished(job_.Binary());
  EXPECT_EQ(StateOf(), rpc::ActorTableData::DEAD);
}

TEST_F(ActorManagerTest, NodeDeathRestartsItsActors) {
  Create(/*max_restarts=*/1);
  rpc::Address w = GrantLease();
  AnswerCreation(w);
  manager_.OnNodeDead(node_.Binary());
  EXPECT_EQ(StateOf(), rpc::ActorTableData::RESTARTING);
}

}  // namespace
}  // namespace photon::gcs
