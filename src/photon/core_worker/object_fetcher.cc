#include "photon/core_worker/object_fetcher.h"

#include <algorithm>

#include "absl/synchronization/notification.h"
#include "fmt/format.h"
#include "photon/common/logging.h"
#include "photon/object_store/copy.h"

namespace photon::core {

ObjectFetcher::ObjectFetcher(Deps deps) : d_(std::move(deps)) {}

// ---- from owners -------------------------------------------------------------

void ObjectFetcher::FetchFromOwner(const ObjectID& id, const rpc::Address& owner,
                                   const std::optional<NodeID>& lost_on) {
  if (d_.memory_store->Contains(id)) return;
  rpc::GetObjectStatusRequest req;
  req.set_object_id(id.Binary());
  if (lost_on) req.set_lost_on_node(lost_on->Binary());
  auto client = d_.workers->Get(owner);
  // An owner that does not answer is asked again while it lives; only its
  // death (on its raylet's word) makes the object's owner dead.
  d_.liveness->CallWhileAlive<rpc::GetObjectStatusReply>(
      owner, "GetObjectStatus",
      [client, req](rpc::ReplyCallback<rpc::GetObjectStatusReply> cb) {
        client->GetObjectStatus(req, std::move(cb));
      },
      [this, id, owner, g = d_.guard](const absl::Status& s, rpc::GetObjectStatusReply&& reply) {
        auto token = g->Enter();
        if (!token) return;
        std::shared_ptr<ObjectValue> v;
        if (!s.ok()) {
          v = ObjectValue::FromError(MakeError(
              rpc::OWNER_DIED,
              fmt::format("object {} is lost: its owner (worker {} at {}:{}) died: {}", id.Hex(),
                          WorkerID::FromBinary(owner.worker_id()).value_or(WorkerID::Nil()).Hex(),
                          owner.ip(), owner.port(), std::string(s.message()))));
        } else if (reply.status() != rpc::GetObjectStatusReply::CREATED) {
          v = ObjectValue::FromError(
              MakeError(rpc::OBJECT_LOST,
                        fmt::format("object {} is gone: its owner no longer has it", id.Hex())));
        } else if (reply.node_ids_size() > 0) {
          v = ObjectValue::InPlasma(NodeID::FromBinaryOrDie(reply.node_ids(0)),
                                    reply.size() > 0 ? reply.size() : -1);
        } else {
          v = ObjectValue::FromBytes(reply.value().metadata(), reply.value().data());
        }
        d_.memory_store->Put(id, v);
      });
}

// ---- the local raylet ---------------------------------------------------------

void ObjectFetcher::NotifyBlocked(bool blocked) {
  if (d_.is_driver) return;
  rpc::NotifyBlockedRequest req;
  req.set_worker_id(d_.worker_id);
  req.set_blocked(blocked);
  req.set_seq(++blocked_seq_);  // the raylet ignores an older state that arrives late
  d_.raylets->Get(d_.local_raylet)
      ->NotifyBlocked(req, rpc::LogIfFailed<rpc::NotifyBlockedReply>(
                               "NotifyBlocked (the raylet keeps the worker's CPU meanwhile)",
                               spdlog::level::warn));
}

void ObjectFetcher::PullAsync(const ObjectID& id, const NodeID& from,
                              rpc::PullObjectRequest::Priority priority,
                              std::function<void(const absl::Status&)> done) {
  d_.nodes->LookupAsync(
      from, [this, id, priority, done = std::move(done)](absl::StatusOr<rpc::Address> addr) {
        if (!addr.ok()) return done(addr.status());
        rpc::PullObjectRequest req;
        req.set_object_id(id.Binary());
        *req.mutable_from() = *addr;
        req.set_priority(priority);
        d_.raylets->Get(d_.local_raylet)
            ->PullObject(req, [done](const absl::Status& s, rpc::PullObjectReply&&) { done(s); });
      });
}

absl::Status ObjectFetcher::PullToLocal(const ObjectID& id, const NodeID& from,
                                        rpc::PullObjectRequest::Priority priority) {
  struct Result {
    absl::Notification done;
    absl::Status status;
  };
  auto result = std::make_shared<Result>();
  PullAsync(id, from, priority, [result](const absl::Status& s) {
    result->status = s;
    result->done.Notify();
  });
  result->done.WaitForNotification();
  return result->status;
}

std::shared_ptr<ObjectValue> ObjectFetcher::Materialize(const ObjectID& id,
                                                        const ObjectValue& marker,
                                                        rpc::PullObjectRequest::Priority priority) {
  const int64_t grace = d_.config->object_store_full_grace_ms();
  absl::StatusOr<object_store::StoredObject> obj = absl::NotFoundError("not fetched yet");
  // Errors name the object's owner: this process, or the one it borrows from.
  const auto owner_text = [&] {
    std::string worker = d_.worker_id;
    if (!d_.refs->IsOwned(id)) {
      if (auto o = d_.refs->OwnerOf(id)) worker = o->worker_id();
    }
    return WorkerID::FromBinary(worker).value_or(WorkerID::Nil()).Hex();
  };
  // A pulled copy is a secondary: under memory pressure it may be evicted
  // before we map it, so pull again if it is gone.
  for (int attempt = 0; attempt < 3 && absl::IsNotFound(obj.status()); ++attempt) {
    if (marker.plasma_node != d_.node_id || attempt > 0) {
      if (!d_.store->Contains(id)) {
        absl::Status s = PullToLocal(id, marker.plasma_node, priority);
        if (absl::IsDeadlineExceeded(s) && !d_.nodes->IsDead(marker.plasma_node)) {
          // Its node lives, but the copy did not come in time: not a loss.
          return ObjectValue::FromError(MakeError(
              rpc::OBJECT_FETCH_TIMED_OUT,
              fmt::format("fetching object {} (owner {}) from node {} timed out after {} ms "
                          "(object_pull_timeout_ms): the node is alive but did not send it: {}",
                          id.Hex(), owner_text(), marker.plasma_node.Hex(),
                          d_.config->object_pull_timeout_ms(), std::string(s.message()))));
        }
        if (!s.ok()) {
          return ObjectValue::FromError(MakeError(
              rpc::OBJECT_LOST,
              fmt::format("object {} (owner {}) is lost: its only copy was on node {}, which no "
                          "longer has it: {}",
                          id.Hex(), owner_text(), marker.plasma_node.Hex(),
                          std::string(s.message()))));
        }
      }
    }
    obj = d_.store->Get(id, grace);
  }
  if (!obj.ok()) {
    return ObjectValue::FromError(MakeError(
        absl::IsResourceExhausted(obj.status()) ? rpc::OBJECT_STORE_FULL : rpc::OBJECT_LOST,
        fmt::format("object {} (owner {}) is not in the store of node {}: {}", id.Hex(),
                    owner_text(), marker.plasma_node.Hex(), std::string(obj.status().message()))));
  }
  auto v = std::make_shared<ObjectValue>();
  v->metadata = std::string(obj->metadata);
  v->data = obj->data;
  v->holder = obj->holder;
  return v;
}

// ---- get and wait ---------------------------------------------------------------

absl::StatusOr<std::vector<std::shared_ptr<ObjectValue>>> ObjectFetcher::Get(
    const std::vector<ObjectID>& ids, int64_t timeout_ms, rpc::PullObjectRequest::Priority priority,
    const std::function<bool()>& interrupted) {
  const std::function<bool()>* stop = interrupted ? &interrupted : nullptr;
  bool stopped = false;
  const absl::Status cancelled = absl::CancelledError("get interrupted");
  for (const ObjectID& id : ids) {
    if (!d_.memory_store->Contains(id) && !d_.refs->IsOwned(id)) {
      auto owner = d_.refs->OwnerOf(id);
      if (!owner) {
        return absl::NotFoundError(fmt::format("object {} is unknown to this process", id.Hex()));
      }
      FetchFromOwner(id, *owner);
    }
  }
  absl::Time deadline =
      timeout_ms < 0 ? absl::InfiniteFuture() : absl::Now() + absl::Milliseconds(timeout_ms);
  auto values = d_.memory_store->Wait(ids, ids.size(), absl::Now());
  bool all = std::all_of(values.begin(), values.end(), [](const auto& v) { return v != nullptr; });
  if (!all) {
    NotifyBlocked(true);
    values = d_.memory_store->Wait(ids, ids.size(), deadline, stop, &stopped);
    NotifyBlocked(false);
    if (stopped) return cancelled;
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    if (values[i] == nullptr) {
      return absl::DeadlineExceededError(
          fmt::format("get timed out after {} ms waiting for object {}", timeout_ms, ids[i].Hex()));
    }
    if (!values[i]->in_plasma) continue;
    std::shared_ptr<ObjectValue> v = Materialize(ids[i], *values[i], priority);
    // Every copy lost: an object this process owns is rebuilt from its
    // lineage (each rebuild counts against the task's max_retries).
    // A borrowed one is rebuilt by its owner, asked once per get.
    if (v->IsError() && v->Error().type() == rpc::OBJECT_LOST && !d_.refs->IsOwned(ids[i])) {
      if (auto owner = d_.refs->OwnerOf(ids[i])) {
        d_.memory_store->Erase(ids[i]);
        FetchFromOwner(ids[i], *owner, values[i]->plasma_node);
        auto again = d_.memory_store->Wait({ids[i]}, 1, deadline, stop, &stopped);
        if (stopped) return cancelled;
        if (again[0] == nullptr) {
          return absl::DeadlineExceededError(
              fmt::format("get timed out after {} ms waiting for object {} (being rebuilt by "
                          "its owner)",
                          timeout_ms, ids[i].Hex()));
        }
        v = again[0]->in_plasma ? Materialize(ids[i], *again[0], priority) : again[0];
      }
    }
    while (v->IsError() && v->Error().type() == rpc::OBJECT_LOST && d_.reconstruct &&
           d_.refs->IsOwned(ids[i])) {
      rpc::ErrorInfo why;
      if (!d_.reconstruct(ids[i], &why)) {
        if (why.type() != rpc::OBJECT_LOST) v = ObjectValue::FromError(why);
        break;
      }
      auto again = d_.memory_store->Wait({ids[i]}, 1, deadline, stop, &stopped);
      if (stopped) return cancelled;
      if (again[0] == nullptr) {
        return absl::DeadlineExceededError(
            fmt::format("get timed out after {} ms waiting for object {} (being rebuilt)",
                        timeout_ms, ids[i].Hex()));
      }
      v = again[0]->in_plasma ? Materialize(ids[i], *again[0], priority) : again[0];
    }
    values[i] = v;
  }
  return values;
}

absl::StatusOr<std::vector<bool>> ObjectFetcher::Wait(const std::vector<ObjectID>& ids,
                                                      int num_objects, int64_t timeout_ms,
                                                      bool fetch_local) {
  if (num_objects < 0 || static_cast<size_t>(num_objects) > ids.size()) {
    return absl::InvalidArgumentError(
        fmt::format("num_objects must be between 0 and the number of refs ({}), got {}", ids.size(),
                    num_objects));
  }
  if (fetch_local) {
    // The common case of a wait loop over finished work: enough values are
    // here already, so nothing is fetched and no callback registered.
    std::vector<bool> ready;
    if (ReadyHere(ids, static_cast<size_t>(num_objects), &ready)) return ready;
  }
  for (const ObjectID& id : ids) {
    if (!d_.memory_store->Contains(id) && !d_.refs->IsOwned(id)) {
      if (auto owner = d_.refs->OwnerOf(id)) FetchFromOwner(id, *owner);
    }
  }
  absl::Time deadline =
      timeout_ms < 0 ? absl::InfiniteFuture() : absl::Now() + absl::Milliseconds(timeout_ms);
  if (!fetch_local) {
    auto values = d_.memory_store->Wait(ids, static_cast<size_t>(num_objects), deadline);
    std::vector<bool> ready(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) ready[i] = values[i] != nullptr;
    return ready;
  }
  return WaitFetchLocal(ids, static_cast<size_t>(num_objects), deadline);
}

bool ObjectFetcher::ReadyHere(const std::vector<ObjectID>& ids, size_t num_objects,
                              std::vector<bool>* ready) const {
  // Scanning stops at the `num_objects`-th ready one (the caller takes the
  // first ready ones in order); with num_objects == 0 every one is looked at.
  ready->assign(ids.size(), false);
  size_t count = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    auto v = d_.memory_store->GetIfReady(ids[i]);
    if (v == nullptr) continue;
    if (v->in_plasma && v->plasma_node != d_.node_id && !d_.store->Contains(ids[i])) continue;
    (*ready)[i] = true;
    if (++count >= num_objects && num_objects > 0) return true;
  }
  return count >= num_objects;
}

absl::StatusOr<std::vector<bool>> ObjectFetcher::WaitFetchLocal(const std::vector<ObjectID>& ids,
                                                                size_t num_objects,
                                                                absl::Time deadline) {
  // An object counts as ready once its value is known and, when it lives in a
  // store, a copy is on this node. Each value's arrival is an event: a local
  // one is ready at once, a remote one starts a pull at WAIT priority that
  // makes it ready when it ends (a failed pull too: get reports the loss).
  struct Flags {
    absl::Mutex mu;
    std::vector<char> ready ABSL_GUARDED_BY(mu);
    size_t count ABSL_GUARDED_BY(mu) = 0;
    void Set(size_t i) {
      absl::MutexLock lock(&mu);
      if (ready[i]) return;
      ready[i] = 1;
      ++count;
    }
  };
  auto flags = std::make_shared<Flags>();
  {
    absl::MutexLock lock(&flags->mu);
    flags->ready.assign(ids.size(), 0);
  }
  std::vector<uint64_t> tokens(ids.size(), 0);
  for (size_t i = 0; i < ids.size(); ++i) {
    const ObjectID id = ids[i];
    tokens[i] = d_.memory_store->OnReady(
        id, [this, flags, i, id, g = d_.guard](std::shared_ptr<ObjectValue> v) {
          if (!v->in_plasma || v->plasma_node == d_.node_id || d_.store->Contains(id)) {
            flags->Set(i);
            return;
          }
          auto token = g->Enter();
          if (!token) return;
          PullAsync(id, v->plasma_node, rpc::PullObjectRequest::WAIT,
                    [flags, i](const absl::Status&) { flags->Set(i); });
        });
  }
  {
    absl::MutexLock lock(&flags->mu);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(flags->mu) {
      return flags->count >= num_objects;
    };
    flags->mu.AwaitWithDeadline(absl::Condition(&enough), deadline);
  }
  for (size_t i = 0; i < ids.size(); ++i) d_.memory_store->CancelOnReady(ids[i], tokens[i]);
  absl::MutexLock lock(&flags->mu);
  std::vector<bool> ready(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) ready[i] = flags->ready[i] != 0;
  return ready;
}

// ---- the store -----------------------------------------------------------------

absl::Status ObjectFetcher::PutToStore(const ObjectID& id, const std::string& metadata,
                                       const std::vector<std::string_view>& parts, size_t total) {
  return d_.store->PutWith(
      id, metadata, total,
      [&](char* dst) {
        for (auto p : parts) {
          object_store::CopyToStore(dst, p.data(), p.size());
          dst += p.size();
        }
      },
      d_.config->object_store_full_grace_ms());
}

void ObjectFetcher::FreeCopy(const ObjectID& id, const NodeID& node) {
  if (node == d_.node_id) {
    // Over the store socket: ordered before this process's next create, so a
    // put right after a drop reuses the same (already faulted) memory.
    d_.store->Delete({id});
    return;
  }
  d_.nodes->LookupAsync(node, [this, id, node, g = d_.guard](absl::StatusOr<rpc::Address> addr) {
    auto token = g->Enter();
    if (!token) return;
    if (!addr.ok()) {
      // A node that left the cluster took its copies with it.
      PHOTON_LOG_DEBUG("not freeing {} on node {}: {}", id.Hex(), node.Hex(),
                       std::string(addr.status().message()));
      return;
    }
    rpc::FreeObjectsRequest req;
    req.add_object_ids(id.Binary());
    d_.raylets->Get(rpc::HostPort(*addr))
        ->FreeObjects(req, rpc::LogIfFailed<rpc::FreeObjectsReply>(
                               fmt::format("FreeObjects of {} on node {}", id.Hex(), node.Hex())));
  });
}

}  // namespace photon::core
