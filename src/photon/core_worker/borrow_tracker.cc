#include "photon/core_worker/borrow_tracker.h"

#include "absl/synchronization/notification.h"
#include "fmt/format.h"
#include "photon/common/logging.h"

namespace photon::core {
namespace {

std::string OwnerKey(const rpc::Address& a) { return rpc::HostPort(a) + '/' + a.worker_id(); }

// One UpdateObjectBorrowers request: `borrower` (on `node`) starts or ends
// borrowing `ids` (with their epochs) under `tag`.
rpc::ObjectBorrowRequest BorrowRequest(const std::string& borrower, const std::string& node,
                                       const std::string& tag,
                                       const std::vector<std::pair<ObjectID, uint64_t>>& ids,
                                       bool borrowing) {
  rpc::ObjectBorrowRequest req;
  for (const auto& [id, epoch] : ids) {
    rpc::Borrow* b = req.add_borrows();
    b->set_object_id(id.Binary());
    b->set_epoch(epoch);
  }
  req.set_borrower_worker_id(borrower);
  req.set_borrower_node_id(node);
  req.set_borrowing(borrowing);
  req.set_tag(tag);
  return req;
}

}  // namespace

BorrowTracker::BorrowTracker(Deps deps) : d_(std::move(deps)) {}

absl::Status BorrowTracker::SendUpdate(const rpc::Address& owner, const std::string& borrower,
                                       const std::string& borrower_node, const std::string& tag,
                                       const std::vector<std::pair<ObjectID, uint64_t>>& ids,
                                       bool borrowing) {
  if (owner.worker_id() == d_.self.worker_id()) {
    // This process owns them: no call needed.
    d_.refs->UpdateBorrows(ids, borrower, borrower_node, tag, borrowing);
    if (borrowing) WatchBorrowers();
    return absl::OkStatus();
  }
  rpc::ObjectBorrowRequest req = BorrowRequest(borrower, borrower_node, tag, ids, borrowing);
  struct Result {
    absl::Notification done;
    absl::Status status;
  };
  auto result = std::make_shared<Result>();
  auto client = d_.workers->Get(owner);
  d_.liveness->CallWhileAlive<rpc::ObjectBorrowReply>(
      owner, "UpdateObjectBorrowers",
      [client, req](rpc::ReplyCallback<rpc::ObjectBorrowReply> cb) {
        client->UpdateObjectBorrowers(req, std::move(cb));
      },
      [result](const absl::Status& s, rpc::ObjectBorrowReply&&) {
        result->status = s;
        result->done.Notify();
      });
  // Bounded even if the timer stops (shutdown) while a retry waits.
  if (!result->done.WaitForNotificationWithTimeout(
          absl::Milliseconds(d_.config->rpc_retry_deadline_ms()))) {
    return absl::DeadlineExceededError("UpdateObjectBorrowers did not finish");
  }
  return result->status;
}

void BorrowTracker::RegisterBorrowedRefs(const std::vector<OwnedRef>& refs) {
  std::map<std::string, Batch> by_owner;
  const uint64_t epoch = next_epoch_++;
  for (const auto& ref : refs) {
    if (ref.owner.worker_id() == d_.self.worker_id() || d_.refs->IsOwned(ref.id)) continue;
    if (!d_.refs->AddBorrowed(ref.id, ref.owner, /*to_register=*/true)) {
      continue;  // registered already (or by another thread, which has finished)
    }
    Batch& b = by_owner[OwnerKey(ref.owner)];
    b.owner = ref.owner;
    b.ids.emplace_back(ref.id, epoch);
  }
  for (auto& [key, b] : by_owner) {
    absl::Status s = SendUpdate(b.owner, d_.self.worker_id(), d_.self.node_id(), "", b.ids,
                                /*borrowing=*/true);
    if (!s.ok()) {
      // The owner is gone: gets will report it; nothing to end later.
      PHOTON_LOG_DEBUG("cannot register {} borrowed refs with {}: {}", b.ids.size(),
                       rpc::HostPort(b.owner), std::string(s.message()));
    }
    for (const auto& [id, e] : b.ids) d_.refs->MarkRegistered(id, s.ok() ? e : 0);
  }
}

void BorrowTracker::RegisterOnBehalf(const rpc::Address& borrower, const ObjectID& tag,
                                     const std::vector<OwnedRef>& refs) {
  std::map<std::string, Batch> by_owner;
  for (const auto& ref : refs) {
    if (ref.owner.worker_id() == borrower.worker_id()) continue;  // the borrower owns it
    Batch& b = by_owner[OwnerKey(ref.owner)];
    b.owner = ref.owner;
    b.ids.emplace_back(ref.id, 1);  // one registration per (borrower, tag)
  }
  for (auto& [key, b] : by_owner) {
    absl::Status s = SendUpdate(b.owner, borrower.worker_id(), borrower.node_id(), tag.Binary(),
                                b.ids, /*borrowing=*/true);
    if (!s.ok()) {
      PHOTON_LOG_DEBUG("cannot register {} refs for {} with {}: {}", b.ids.size(),
                       rpc::HostPort(borrower), rpc::HostPort(b.owner), std::string(s.message()));
    }
  }
}

void BorrowTracker::EndBorrow(const rpc::Address& owner, const ObjectID& id, uint64_t epoch,
                              const std::string& tag) {
  if (owner.worker_id() == d_.self.worker_id()) {
    d_.refs->UpdateBorrows({{id, epoch}}, d_.self.worker_id(), d_.self.node_id(), tag, false);
    return;
  }
  bool schedule = false;
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    auto& [t, batch] = ends_[OwnerKey(owner) + '\0' + tag];
    t = tag;
    batch.owner = owner;
    batch.ids.emplace_back(id, epoch);
    schedule = !flush_scheduled_;
    flush_scheduled_ = true;
  }
  if (schedule) {
    d_.timer->RunAfter("flush ended borrows",
                       absl::Milliseconds(d_.config->borrow_flush_delay_ms()), [this] { Flush(); });
  }
}

void BorrowTracker::Flush() {
  std::map<std::string, std::pair<std::string, Batch>> batch;
  {
    absl::MutexLock lock(&mu_);
    batch.swap(ends_);
    flush_scheduled_ = false;
  }
  for (auto& [key, entry] : batch) {
    auto& [tag, b] = entry;
    rpc::ObjectBorrowRequest req =
        BorrowRequest(d_.self.worker_id(), d_.self.node_id(), tag, b.ids, /*borrowing=*/false);
    auto client = d_.workers->Get(b.owner);
    // Not waited for: an owner that is gone has nothing left to free.
    d_.liveness->CallWhileAlive<rpc::ObjectBorrowReply>(
        b.owner, "UpdateObjectBorrowers",
        [client, req](rpc::ReplyCallback<rpc::ObjectBorrowReply> cb) {
          client->UpdateObjectBorrowers(req, std::move(cb));
        },
        rpc::LogIfFailed<rpc::ObjectBorrowReply>(
            fmt::format("ending {} borrows at {}", b.ids.size(), rpc::HostPort(b.owner))));
  }
}

void BorrowTracker::Stop() {
  std::map<std::string, std::pair<std::string, Batch>> batch;
  {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
    batch.swap(ends_);
  }
  // The owners are told directly, with a short deadline: this process is
  // going away and will not retry.
  std::vector<std::shared_ptr<absl::Notification>> pending;
  for (auto& [key, entry] : batch) {
    auto& [tag, b] = entry;
    rpc::ObjectBorrowRequest req =
        BorrowRequest(d_.self.worker_id(), d_.self.node_id(), tag, b.ids, /*borrowing=*/false);
    auto done = std::make_shared<absl::Notification>();
    pending.push_back(done);
    d_.workers->Get(b.owner)->UpdateObjectBorrowers(
        req, [done](const absl::Status&, rpc::ObjectBorrowReply&&) {
          // Best effort at exit: an owner that does not answer in time finds
          // this process gone and drops its borrows when its death is published.
          done->Notify();
        });
  }
  absl::Time deadline = absl::Now() + absl::Milliseconds(d_.config->shutdown_rpc_timeout_ms());
  for (auto& p : pending) p->WaitForNotificationWithDeadline(deadline);
}

void BorrowTracker::HandleUpdate(const rpc::ObjectBorrowRequest& req) {
  std::vector<std::pair<ObjectID, uint64_t>> ids;
  for (const auto& b : req.borrows()) {
    auto id = ObjectID::FromBinary(b.object_id());
    if (id.ok()) ids.emplace_back(*id, b.epoch());
  }
  if (req.borrowing()) WatchBorrowers();
  d_.refs->UpdateBorrows(ids, req.borrower_worker_id(), req.borrower_node_id(), req.tag(),
                         req.borrowing());
}

void BorrowTracker::WatchBorrowers() {
  if (watching_.exchange(true)) return;
  // Subscribing blocks on a GCS call: not on the RPC thread that got the
  // first borrower.
  d_.timer->RunAfter("watch borrowers", absl::ZeroDuration(), [this] { Subscribe(); });
}

void BorrowTracker::Subscribe() {
  d_.gcs->Subscribe({rpc::WORKER_CHANNEL, rpc::NODE_CHANNEL}, "", [this](const rpc::PubMessage& m) {
    if (m.has_worker_failure()) {
      d_.refs->DropBorrower(m.worker_failure().worker_id());
    } else if (m.has_node() && m.node().state() == rpc::NodeInfo::DEAD) {
      d_.refs->DropBorrowersOnNode(m.node().node_id());
    }
  });
}

}  // namespace photon::core
