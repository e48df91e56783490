// Fakes of the client seams (rpc/raylet_client.h, rpc/core_worker_client.h,
// gcs_client/gcs_client.h) for unit tests: every call is recorded with its
// request and its reply callback, and the test answers it when it wants
// (Reply...), so components are driven step by step without processes.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "photon/gcs_client/gcs_client.h"
#include "photon/rpc/client.h"
#include "photon/rpc/core_worker_client.h"
#include "photon/rpc/raylet_client.h"

namespace photon::testing {

// One recorded call: its request, and the callback that answers it.
template <typename Request, typename Reply>
struct Call {
  Request request;
  rpc::ReplyCallback<Reply> done;
};

// Calls of one kind, in arrival order. Thread-safe.
template <typename Request, typename ReplyT>
class CallLog {
 public:
  void Add(const Request& req, rpc::ReplyCallback<ReplyT> done) {
    absl::MutexLock lock(&mu_);
    calls_.push_back(Call<Request, ReplyT>{req, std::move(done)});
  }
  size_t size() const {
    absl::MutexLock lock(&mu_);
    return calls_.size();
  }
  // Removes and returns the oldest call (fails the test if none).
  Call<Request, ReplyT> Take() {
    absl::MutexLock lock(&mu_);
    if (calls_.empty()) {
      ADD_FAILURE() << "no call to take";
      return {};
    }
    auto c = std::move(calls_.front());
    calls_.pop_front();
    return c;
  }
  // Answers the oldest call.
  void Reply(const absl::Status& s, ReplyT reply = ReplyT()) {
    auto c = Take();
    if (c.done) c.done(s, std::move(reply));
  }
  const Request& Peek(size_t i = 0) const {
    absl::MutexLock lock(&mu_);
    return calls_.at(i).request;
  }

 private:
  mutable absl::Mutex mu_;
  std::deque<Call<Request, ReplyT>> calls_;
};

class FakeRayletClient : public rpc::RayletClient {
 public:
  explicit FakeRayletClient(std::string address) : address_(std::move(address)) {}
  const std::string& address() const override { return address_; }

  void RequestWorkerLease(const rpc::RequestWorkerLeaseRequest& r,
                          rpc::ReplyCallback<rpc::RequestWorkerLeaseReply> d) override {
    leases.Add(r, std::move(d));
  }
  void ReturnWorker(const rpc::ReturnWorkerRequest& r,
                    rpc::ReplyCallback<rpc::ReturnWorkerReply> d) override {
    returns.Add(r, std::move(d));
  }
  void CancelLease(const rpc::CancelLeaseRequest& r,
                   rpc::ReplyCallback<rpc::CancelLeaseReply> d) override {
    cancels.Add(r, std::move(d));
  }
  void NotifyBlocked(const rpc::NotifyBlockedRequest& r,
                     rpc::ReplyCallback<rpc::NotifyBlockedReply> d) override {
    blocked.Add(r, std::move(d));
  }
  void FreeObjects(const rpc::FreeObjectsRequest& r,
                   rpc::ReplyCallback<rpc::FreeObjectsReply> d) override {
    frees.Add(r, std::move(d));
  }
  void PullObject(const rpc::PullObjectRequest& r,
                  rpc::ReplyCallback<rpc::PullObjectReply> d) override {
    pulls.Add(r, std::move(d));
  }
  void GetWorkerState(const rpc::GetWorkerStateRequest& r,
                      rpc::ReplyCallback<rpc::GetWorkerStateReply> d) override {
    states.Add(r, std::move(d));
  }
  void RegisterWorker(const rpc::RegisterWorkerRequest& r,
                      rpc::ReplyCallback<rpc::RegisterWorkerReply> d) override {
    registers.Add(r, std::move(d));
  }
  void HealthCheck(int64_t, rpc::ReplyCallback<rpc::HealthCheckReply> d) override {
    health.Add(rpc::HealthCheckRequest(), std::move(d));
  }
  void GetNodeStats(const rpc::GetNodeStatsRequest& r,
                    rpc::ReplyCallback<rpc::GetNodeStatsReply> d) override {
    stats.Add(r, std::move(d));
  }
  void PrepareBundleResources(const rpc::PrepareBundleResourcesRequest& r,
                              rpc::ReplyCallback<rpc::PrepareBundleResourcesReply> d) override {
    prepares.Add(r, std::move(d));
  }
  void CommitBundleResources(const rpc::CommitBundleResourcesRequest& r,
                             rpc::ReplyCallback<rpc::CommitBundleResourcesReply> d) override {
    commits.Add(r, std::move(d));
  }
  void CancelResourceReserve(const rpc::CancelResourceReserveRequest& r,
                             rpc::ReplyCallback<rpc::CancelResourceReserveReply> d) override {
    bundle_cancels.Add(r, std::move(d));
  }

  CallLog<rpc::RequestWorkerLeaseRequest, rpc::RequestWorkerLeaseReply> leases;
  CallLog<rpc::ReturnWorkerRequest, rpc::ReturnWorkerReply> returns;
  CallLog<rpc::CancelLeaseRequest, rpc::CancelLeaseReply> cancels;
  CallLog<rpc::NotifyBlockedRequest, rpc::NotifyBlockedReply> blocked;
  CallLog<rpc::FreeObjectsRequest, rpc::FreeObjectsReply> frees;
  CallLog<rpc::PullObjectRequest, rpc::PullObjectReply> pulls;
  CallLog<rpc::GetWorkerStateRequest, rpc::GetWorkerStateReply> states;
  CallLog<rpc::RegisterWorkerRequest, rpc::RegisterWorkerReply> registers;
  CallLog<rpc::HealthCheckRequest, rpc::HealthCheckReply> health;
  CallLog<rpc::GetNodeStatsRequest, rpc::GetNodeStatsReply> stats;
  CallLog<rpc::PrepareBundleResourcesRequest, rpc::PrepareBundleResourcesReply> prepares;
  CallLog<rpc::CommitBundleResourcesRequest, rpc::CommitBundleResourcesReply> commits;
  CallLog<rpc::CancelResourceReserveRequest, rpc::CancelResourceReserveReply> bundle_cancels;

 private:
  std::string address_;
};

class FakeRayletPool : public rpc::RayletClientPool {
 public:
  std::shared_ptr<rpc::RayletClient> Get(const std::string& address) override {
    return Raylet(address);
  }
  std::shared_ptr<FakeRayletClient> Raylet(const std::string& address) {
    absl::MutexLock lock(&mu_);
    auto& c = clients_[address];
    if (c == nullptr) c = std::make_shared<FakeRayletClient>(address);
    return c;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<FakeRayletClient>> clients_;
};

class FakeCoreWorkerClient : public rpc::CoreWorkerClient {
 public:
  explicit FakeCoreWorkerClient(rpc::Address address) : address_(std::move(address)) {}
  const rpc::Address& address() const override { return address_; }

  void PushTask(rpc::PushTaskRequest r, rpc::ReplyCallback<rpc::PushTaskReply> d) override {
    pushes.Add(r, std::move(d));
  }
  void GetObjectStatus(const rpc::GetObjectStatusRequest& r,
                       rpc::ReplyCallback<rpc::GetObjectStatusReply> d) override {
    statuses.Add(r, std::move(d));
  }
  void CancelTask(const rpc::CancelTaskRequest& r,
                  rpc::ReplyCallback<rpc::CancelTaskReply> d) override {
    cancels.Add(r, std::move(d));
  }
  void UpdateObjectBorrowers(const rpc::ObjectBorrowRequest& r,
                             rpc::ReplyCallback<rpc::ObjectBorrowReply> d) override {
    borrows.Add(r, std::move(d));
  }
  void ReportGeneratorItem(const rpc::ReportGeneratorItemRequest& r,
                           rpc::ReplyCallback<rpc::ReportGeneratorItemReply> d) override {
    items.Add(r, std::move(d));
  }
  void Exit(const rpc::ExitRequest& r, rpc::ReplyCallback<rpc::ExitReply> d) override {
    exits.Add(r, std::move(d));
  }

  CallLog<rpc::PushTaskRequest, rpc::PushTaskReply> pushes;
  CallLog<rpc::GetObjectStatusRequest, rpc::GetObjectStatusReply> statuses;
  CallLog<rpc::CancelTaskRequest, rpc::CancelTaskReply> cancels;
  CallLog<rpc::ObjectBorrowRequest, rpc::ObjectBorrowReply> borrows;
  CallLog<rpc::ReportGeneratorItemRequest, rpc::ReportGeneratorItemReply> items;
  CallLog<rpc::ExitRequest, rpc::ExitReply> exits;

 private:
  rpc::Address address_;
};

class FakeCoreWorkerPool : public rpc::CoreWorkerClientPool {
 public:
  std::shared_ptr<rpc::CoreWorkerClient> Get(const rpc::Address& worker) override {
    return Worker(worker.worker_id());
  }
  // By WorkerID (binary).
  std::shared_ptr<FakeCoreWorkerClient> Worker(const std::string& worker_id) {
    absl::MutexLock lock(&mu_);
    auto& c = clients_[worker_id];
    if (c == nullptr) {
      rpc::Address a;
      a.set_worker_id(worker_id);
      c = std::make_shared<FakeCoreWorkerClient>(a);
    }
    return c;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<FakeCoreWorkerClient>> clients_;
};

// A GCS client with a node table and an actor table the test fills, and a
// record of the calls that change things. Subscriptions are kept and fed by
// Publish.
class FakeGcsClient : public GcsClient {
 public:
  const std::string& address() const override { return address_; }

  absl::Status RegisterNode(const rpc::NodeInfo& node) override {
    absl::MutexLock lock(&mu_);
    nodes_.push_back(node);
    return absl::OkStatus();
  }
  absl::Status UnregisterNode(const NodeID&, const std::string&) override {
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<rpc::NodeInfo>> GetAllNodes() override {
    absl::MutexLock lock(&mu_);
    return nodes_;
  }
  void GetAllNodesAsync(
      std::function<void(absl::StatusOr<std::vector<rpc::NodeInfo>>)> done) override {
    done(GetAllNodes());
  }
  void ReportResourcesAsync(const rpc::ReportResourcesRequest&) override {}
  absl::StatusOr<JobID> AddJob(const rpc::JobInfo&) override { return JobID::FromParts(1, 1); }
  absl::Status MarkJobFinished(const JobID&) override { return absl::OkStatus(); }
  absl::StatusOr<std::vector<rpc::JobInfo>> GetAllJobs() override {
    return std::vector<rpc::JobInfo>();
  }
  absl::StatusOr<bool> KvPut(const std::string& ns, const std::string& key,
                             const std::string& value, bool overwrite) override {
    absl::MutexLock lock(&mu_);
    auto [it, added] = kv_.try_emplace(ns + '\0' + key, value);
    if (!added && overwrite) it->second = value;
    return added;
  }
  absl::StatusOr<std::optional<std::string>> KvGet(const std::string& ns,
                                                   const std::string& key) override {
    absl::MutexLock lock(&mu_);
    auto it = kv_.find(ns + '\0' + key);
    if (it == kv_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  absl::StatusOr<int64_t> KvDel(const std::string&, const std::string&, bool) override { return 0; }
  absl::StatusOr<std::vector<std::string>> KvKeys(const std::string&, const std::string&) override {
    return std::vector<std::string>();
  }
  absl::Status RegisterActor(const rpc::ActorTableData& actor) override {
    SetActor(actor);
    return absl::OkStatus();
  }
  void CreateActorAsync(const rpc::CreateActorRequest& req,
                        std::function<void(const absl::Status&)> done) override {
    {
      absl::MutexLock lock(&mu_);
      creates.push_back(req);
    }
    done(absl::OkStatus());
  }
  absl::StatusOr<std::optional<rpc::ActorTableData>> GetActorInfo(const ActorID& id) override {
    absl::MutexLock lock(&mu_);
    auto it = actors_.find(id.Binary());
    if (it == actors_.end()) return std::optional<rpc::ActorTableData>();
    return std::optional<rpc::ActorTableData>(it->second);
  }
  void GetActorInfoAsync(
      const ActorID& id,
      std::function<void(absl::StatusOr<std::optional<rpc::ActorTableData>>)> done) override {
    done(GetActorInfo(id));
  }
  absl::StatusOr<std::optional<rpc::ActorTableData>> GetNamedActor(const std::string&,
                                                                   const std::string&) override {
    return std::optional<rpc::ActorTableData>();
  }
  absl::StatusOr<rpc::ActorTableData> KillActor(const ActorID& id, bool no_restart,
                                                const std::string& reason) override {
    {
      absl::MutexLock lock(&mu_);
      kills.push_back(id);
    }
    auto info = GetActorInfo(id);
    return info.ok() && info->has_value() ? **info : rpc::ActorTableData();
  }
  void KillActorAsync(const ActorID& id, bool no_restart, const std::string& reason,
                      std::function<void(const absl::Status&)> done) override {
    KillActor(id, no_restart, reason).IgnoreError();  // (a fake: nothing can fail)
    done(absl::OkStatus());
  }
  absl::Status CreatePlacementGroup(const rpc::PlacementGroupSpec&) override {
    return absl::UnimplementedError("fake");
  }
  absl::Status RemovePlacementGroup(const PlacementGroupID&) override {
    return absl::UnimplementedError("fake");
  }
  absl::StatusOr<std::optional<rpc::PlacementGroupTableData>> GetPlacementGroup(
      const PlacementGroupID&) override {
    return std::optional<rpc::PlacementGroupTableData>();
  }
  absl::StatusOr<std::optional<rpc::PlacementGroupTableData>> GetNamedPlacementGroup(
      const std::string&, const std::string&) override {
    return std::optional<rpc::PlacementGroupTableData>();
  }
  absl::StatusOr<std::vector<rpc::PlacementGroupTableData>> GetAllPlacementGroups() override {
    return std::vector<rpc::PlacementGroupTableData>();
  }
  absl::StatusOr<bool> WaitPlacementGroupReady(const PlacementGroupID&, int64_t) override {
    return absl::UnimplementedError("fake");
  }
  absl::StatusOr<std::vector<rpc::ActorTableData>> ListActors() override {
    absl::MutexLock lock(&mu_);
    std::vector<rpc::ActorTableData> out;
    for (const auto& [id, a] : actors_) out.push_back(a);
    return out;
  }
  void ReportWorkerFailureAsync(const std::string& worker_id, const std::string&,
                                const std::string&) override {
    absl::MutexLock lock(&mu_);
    failures.push_back(worker_id);
  }
  void PublishLogAsync(const rpc::LogBatch&) override {}
  void AddTaskEventDataAsync(const rpc::AddTaskEventDataRequest& request,
                             std::function<void(const absl::Status&)> done) override {
    {
      absl::MutexLock lock(&mu_);
      task_event_batches.push_back(request);
    }
    if (done) done(absl::OkStatus());
  }
  absl::StatusOr<rpc::GetTaskEventsReply> GetTaskEvents(const rpc::GetTaskEventsRequest&) override {
    return rpc::GetTaskEventsReply();
  }
  void OnClusterLost(std::function<void(const std::string&)>) override {}
  void Subscribe(std::vector<rpc::Channel> channels, std::string,
                 std::function<void(const rpc::PubMessage&)> callback) override {
    absl::MutexLock lock(&mu_);
    for (auto c : channels) subscribers_[c].push_back(callback);
  }

  // --- for the test ---
  void SetActor(const rpc::ActorTableData& a) {
    absl::MutexLock lock(&mu_);
    actors_[a.actor_id()] = a;
  }
  void SetNodes(std::vector<rpc::NodeInfo> nodes) {
    absl::MutexLock lock(&mu_);
    nodes_ = std::move(nodes);
  }
  // Delivers `m` to the subscribers of its channel (on this thread).
  void Publish(const rpc::PubMessage& m) {
    std::vector<std::function<void(const rpc::PubMessage&)>> subs;
    {
      absl::MutexLock lock(&mu_);
      subs = subscribers_[m.channel()];
    }
    for (auto& s : subs) s(m);
  }
  std::vector<ActorID> Kills() {
    absl::MutexLock lock(&mu_);
    return kills;
  }

  std::vector<rpc::CreateActorRequest> creates;
  std::vector<ActorID> kills;
  std::vector<std::string> failures;
  std::vector<rpc::AddTaskEventDataRequest> task_event_batches;  // what AddTaskEventDataAsync got

 private:
  std::string address_ = "fake-gcs:1";
  absl::Mutex mu_;
  std::vector<rpc::NodeInfo> nodes_;
  std::map<std::string, rpc::ActorTableData> actors_;
  std::map<std::string, std::string> kv_;
  std::map<int, std::vector<std::function<void(const rpc::PubMessage&)>>> subscribers_;
};

}  // namespace photon::testing
