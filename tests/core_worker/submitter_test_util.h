// The parts a submitter needs, wired to fakes: a fake timer, raylets, workers
// and GCS; a real reference counter, memory store, task manager and
// dependency resolver.
#pragma once

#include <gtest/gtest.h>

#include "photon/common/callback_guard.h"
#include "photon/common/config.h"
#include "photon/core_worker/memory_store.h"
#include "photon/core_worker/node_directory.h"
#include "photon/core_worker/reference_counter.h"
#include "photon/core_worker/submit/dependency_resolver.h"
#include "photon/core_worker/submit/task_manager.h"
#include "photon/core_worker/worker_liveness.h"
#include "tests/fakes/fake_clients.h"
#include "tests/fakes/fake_timer.h"

namespace photon::core::testing {

using photon::testing::FakeCoreWorkerPool;
using photon::testing::FakeGcsClient;
using photon::testing::FakeRayletClient;
using photon::testing::FakeRayletPool;
using photon::testing::FakeTimer;

class SubmitterFixture : public ::testing::Test {
 protected:
  static constexpr char kLocalRaylet[] = "127.0.0.1:7000";
  static constexpr char kRemoteRaylet[] = "127.0.0.1:7001";

  SubmitterFixture()
      : job_(JobID::FromParts(1, 1)),
        local_node_(NodeID::FromRandom()),
        remote_node_(NodeID::FromRandom()),
        refs_([this](const ReferenceCounter::Freed& f) { memory_store_.Erase(f.id); }),
        tasks_(
            &refs_, &memory_store_, Self(), [](const ObjectID&, const NodeID&) {},
            [](const ObjectID&, const std::vector<OwnedRef>&) {}),
        resolver_(
            &memory_store_, [](const ObjectID&, const rpc::Address&) {}, guard_, "self-worker",
            config_.max_direct_call_object_size(), config_.task_rpc_inlined_bytes_limit()),
        nodes_(&gcs_, guard_),
        liveness_(&nodes_, &raylets_, &gcs_, &timer_, rpc::ControlRetryPolicy(config_), guard_) {
    gcs_.SetNodes({Node(local_node_, 7000), Node(remote_node_, 7001)});
  }
  ~SubmitterFixture() override { guard_->Close(); }

  static rpc::NodeInfo Node(const NodeID& id, int port) {
    rpc::NodeInfo n;
    n.set_node_id(id.Binary());
    n.set_ip("127.0.0.1");
    n.set_raylet_port(port);
    n.set_state(rpc::NodeInfo::ALIVE);
    return n;
  }
  static rpc::Address Self() {
    rpc::Address a;
    a.set_ip("127.0.0.1");
    a.set_port(5000);
    a.set_worker_id("self-worker");
    return a;
  }
  rpc::Address NewWorker(const NodeID& node) {
    rpc::Address a;
    a.set_ip("127.0.0.1");
    a.set_port(next_port_++);
    a.set_node_id(node.Binary());
    a.set_worker_id(WorkerID::FromRandom(node).Binary());
    return a;
  }
  std::shared_ptr<FakeRayletClient> Local() { return raylets_.Raylet(kLocalRaylet); }
  std::shared_ptr<FakeRayletClient> Remote() { return raylets_.Raylet(kRemoteRaylet); }
  std::shared_ptr<photon::testing::FakeCoreWorkerClient> Worker(const rpc::Address& a) {
    return workers_.Worker(a.worker_id());
  }
  // The value of a return, or nullptr.
  std::shared_ptr<ObjectValue> Value(const TaskID& task, int index = 1) {
    return memory_store_.GetIfReady(ObjectID::FromIndex(task, index));
  }
  static rpc::PushTaskReply ReplyWith(const rpc::TaskSpec& spec, const std::string& data) {
    rpc::PushTaskReply reply;
    rpc::ReturnObject* r = reply.add_returns();
    r->set_object_id(ObjectID::FromIndex(TaskID::FromBinaryOrDie(spec.task_id()), 1).Binary());
    r->mutable_value()->set_metadata("m");
    r->mutable_value()->set_data(data);
    return reply;
  }
  static rpc::RequestWorkerLeaseReply Grant(const rpc::Address& worker) {
    rpc::RequestWorkerLeaseReply reply;
    *reply.mutable_worker() = worker;
    return reply;
  }

  SystemConfig config_;
  JobID job_;
  NodeID local_node_, remote_node_;
  int next_port_ = 9000;
  std::shared_ptr<CallbackGuard> guard_ = std::make_shared<CallbackGuard>();
  FakeTimer timer_;
  FakeRayletPool raylets_;
  FakeCoreWorkerPool workers_;
  FakeGcsClient gcs_;
  MemoryStore memory_store_;
  ReferenceCounter refs_;
  TaskManager tasks_;
  DependencyResolver resolver_;
  NodeDirectory nodes_;
  WorkerLiveness liveness_;
};

}  // namespace photon::core::testing
