// Borrowing: a process that deserializes a reference to an object another
// process owns registers with the owner, and tells it when it drops the last
// reference. Registrations block (the object must not go while the value that
// carried the reference is dropped); releases are batched per owner. Owners
// follow worker and node deaths to drop the borrows of processes that died.
#include <thread>

#include "fmt/format.h"
#include "photon/common/logging.h"
#include "photon/core_worker/actor_submitter.h"
#include "photon/core_worker/core_worker.h"
#include "photon/rpc/client.h"

namespace photon::core {
namespace {

std::string AddressKey(const rpc::Address& a) { return fmt::format("{}:{}", a.ip(), a.port()); }

constexpr int64_t kRegisterTimeoutMs = 10000;

// Tells `owner` that process `worker` (on `node`) took (`borrowing`) or dropped
// borrows of `ids`; one blocking UpdateObjectBorrowers call.
absl::Status SendBorrowUpdate(const rpc::Address& owner, const std::vector<ObjectID>& ids,
                              const WorkerID& worker, const NodeID& node, bool borrowing,
                              int64_t timeout_ms) {
  rpc::ObjectBorrowRequest req;
  for (const auto& id : ids) req.add_object_ids(id.Binary());
  req.set_borrower_worker_id(worker.Binary());
  req.set_borrower_node_id(node.Binary());
  req.set_borrowing(borrowing);
  auto stub =
      rpc::CoreWorkerService::NewStub(rpc::GetChannel(AddressKey(owner), owner.worker_id()));
  rpc::ObjectBorrowReply reply;
  return rpc::CallSync(stub.get(), &rpc::CoreWorkerService::Stub::UpdateObjectBorrowers, req,
                       &reply, timeout_ms);
}

}  // namespace

void CoreWorker::RegisterBorrowedRefs(const std::vector<std::pair<ObjectID, rpc::Address>>& refs) {
  std::map<std::string, std::pair<rpc::Address, std::vector<ObjectID>>> by_owner;
  for (const auto& [id, owner] : refs) {
    if (refs_.IsOwned(id) || owner.worker_id() == worker_id_.Binary()) continue;
    if (!refs_.AddBorrowed(id, owner, /*to_register=*/true))
      continue;  // registered already (or being)
    auto& entry = by_owner[AddressKey(owner)];
    entry.first = owner;
    entry.second.push_back(id);
  }
  for (auto& [key, entry] : by_owner) {
    absl::Status s = SendBorrowUpdate(entry.first, entry.second, worker_id_, node_id_,
                                      /*borrowing=*/true, kRegisterTimeoutMs);
    if (!s.ok()) {
      // The owner is gone or unreachable: gets will report it; nothing to release.
      PHOTON_LOG_DEBUG("cannot register {} borrowed refs with {}: {}", entry.second.size(), key,
                       std::string(s.message()));
    }
    for (const auto& id : entry.second) refs_.MarkRegistered(id, s.ok());
  }
}

void CoreWorker::QueueUnborrow(const rpc::Address& owner, const ObjectID& id) {
  absl::MutexLock lock(&borrow_mu_);
  if (borrow_flusher_stop_) return;
  auto& entry = unborrows_[AddressKey(owner)];
  entry.first = owner;
  entry.second.push_back(id);
  if (!borrow_flusher_.joinable()) borrow_flusher_ = std::thread([this] { BorrowFlushLoop(); });
}

void CoreWorker::BorrowFlushLoop() {
  for (;;) {
    {
      absl::MutexLock lock(&borrow_mu_);
      borrow_mu_.Await(absl::Condition(
          +[](CoreWorker* w) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return w->borrow_flusher_stop_ || !w->unborrows_.empty();
          },
          this));
      if (borrow_flusher_stop_) return;
      // Let a burst of drops (a list of refs going away) gather into one call.
      borrow_mu_.AwaitWithTimeout(absl::Condition(&borrow_flusher_stop_), absl::Milliseconds(2));
    }
    FlushUnborrows(-1);
  }
}

void CoreWorker::FlushUnborrows(int64_t timeout_ms) {
  std::map<std::string, std::pair<rpc::Address, std::vector<ObjectID>>> batch;
  {
    absl::MutexLock lock(&borrow_mu_);
    batch.swap(unborrows_);
  }
  for (auto& [key, entry] : batch) {
    // Best effort: an owner that is gone has nothing left to free.
    SendBorrowUpdate(entry.first, entry.second, worker_id_, node_id_, /*borrowing=*/false,
                     timeout_ms < 0 ? kRegisterTimeoutMs : timeout_ms)
        .IgnoreError();
  }
}

void CoreWorker::WatchBorrowers() {
  if (watching_borrowers_.exchange(true) || shut_down_) return;
  gcs_->Subscribe({rpc::WORKER_CHANNEL, rpc::NODE_CHANNEL}, "", [this](const rpc::PubMessage& m) {
    if (m.has_worker_failure()) {
      refs_.DropBorrower(m.worker_failure().worker_id());
      actor_submitter_->DropBorrower(m.worker_failure().worker_id());
    } else if (m.has_node() && m.node().state() == rpc::NodeInfo::DEAD) {
      refs_.DropBorrowersOnNode(m.node().node_id());
      actor_submitter_->DropBorrowersOnNode(m.node().node_id());
    }
  });
}

void CoreWorker::StopBorrowFlusher() {
  {
    absl::MutexLock lock(&borrow_mu_);
    borrow_flusher_stop_ = true;
  }
  if (borrow_flusher_.joinable()) borrow_flusher_.join();
  FlushUnborrows(1000);
}

}  // namespace photon::core
