#include "photon/raylet/object_manager.h"

#include <algorithm>

#include "fmt/format.h"
#include "photon/common/logging.h"
#include "photon/object_store/copy.h"
#include "photon/rpc/client.h"
#include "photon/rpc/grpc_status.h"

namespace photon::raylet {
namespace {

using object_store::kRayletClient;
using object_store::ObjectSpan;

// Pulls that fail for good (the source lost the object, a transfer broke)
// before a pull gives up, each from another copy.
constexpr int kMaxAttempts = 3;
// Transient failures (a source that did not answer, or an injected failure)
// are tried again from the same source, up to this many times, without
// counting as attempts.
constexpr int kMaxTransientRetries = 10;

std::string AddressText(const rpc::Address& a) { return fmt::format("{}:{}", a.ip(), a.port()); }

bool SameAddress(const rpc::Address& a, const rpc::Address& b) {
  return a.ip() == b.ip() && a.port() == b.port();
}

}  // namespace

absl::Status ObjectManager::Start(uint64_t capacity, const std::string& socket_name,
                                  const std::string& spill_dir) {
  object_store::StoreOptions opts;
  opts.capacity = capacity;
  opts.spill_threshold = config_.object_spilling_threshold();
  opts.spill_dir = spill_dir;
  opts.spill_retry = absl::Milliseconds(config_.object_spilling_retry_ms());
  opts.spill_error_retry = absl::Milliseconds(config_.object_spilling_error_retry_ms());
  opts.prefault_bytes =
      static_cast<uint64_t>(std::max<int64_t>(0, config_.object_store_prefault_bytes()));
  auto store = object_store::LocalStore::Create(opts);
  if (!store.ok()) return store.status();
  store_ = std::move(*store);
  server_ = std::make_unique<object_store::StoreServer>(store_.get(), socket_name,
                                                        config_.cluster_token());
  if (auto s = server_->Start(); !s.ok()) return s;
  admission_ = std::thread([this] { AdmissionLoop(); });
  return absl::OkStatus();
}

void ObjectManager::Stop() {
  std::list<Transfer> transfers;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    for (auto& t : transfers_) {
      for (auto* c : t.ctxs) c->TryCancel();
    }
  }
  if (admission_.joinable()) admission_.join();
  {
    absl::MutexLock lock(&mu_);
    transfers = std::move(transfers_);
  }
  for (auto& t : transfers) {
    if (t.thread.joinable()) t.thread.join();
  }
  std::vector<Done> waiters;
  {
    absl::MutexLock lock(&mu_);
    for (auto* m : {&queued_, &active_}) {
      for (auto& [id, r] : *m) {
        for (auto& w : r.waiters) waiters.push_back(std::move(w));
      }
      m->clear();
    }
  }
  for (auto& w : waiters) w(absl::UnavailableError("the raylet is stopping"));
  if (server_) server_->Stop();
  server_.reset();
  store_.reset();
}

void ObjectManager::Free(const ObjectID& id) {
  if (store_) store_->Delete(id);
}

rpc::StoreStats ObjectManager::Stats() { return store_ ? store_->Stats() : rpc::StoreStats(); }

// ---- pulling ------------------------------------------------------------------------------

void ObjectManager::PullObject(const ObjectID& id, const rpc::Address& from, int priority,
                               Done done) {
  if (store_->Contains(id)) return done(absl::OkStatus());
  absl::MutexLock lock(&mu_);
  if (stopping_) return done(absl::UnavailableError("the raylet is stopping"));
  if (auto it = active_.find(id); it != active_.end()) {
    it->second.waiters.push_back(std::move(done));
    return;
  }
  auto [it, fresh] = queued_.try_emplace(id);
  Request& r = it->second;
  if (fresh) {
    r.id = id;
    r.priority = priority;
    r.seq = next_seq_++;
    r.sources.push_back(from);
  }
  r.priority = std::min(r.priority, priority);
  r.waiters.push_back(std::move(done));
}

void ObjectManager::FinishQueued(const ObjectID& id, const absl::Status& s) {
  std::vector<Done> waiters;
  {
    absl::MutexLock lock(&mu_);
    auto it = queued_.find(id);
    if (it == queued_.end()) return;
    waiters = std::move(it->second.waiters);
    queued_.erase(it);
  }
  for (auto& w : waiters) w(s);
}

absl::StatusOr<std::pair<rpc::Address, rpc::ObjectInfoReply>> ObjectManager::Locate(
    const ObjectID& id, const std::vector<rpc::Address>& sources) {
  std::vector<rpc::Address> candidates = sources;
  const std::vector<rpc::Address> live = peers_();
  for (const auto& p : live) {
    bool seen = std::any_of(candidates.begin(), candidates.end(),
                            [&](const rpc::Address& c) { return SameAddress(c, p); });
    if (!seen) candidates.push_back(p);
  }
  rpc::ObjectInfoRequest req;
  req.set_object_id(id.Binary());
  // A busy source is asked again for up to one call deadline; a dead one
  // fails fast and the next candidate is asked.
  rpc::RetryPolicy policy =
      rpc::RetryPolicy{absl::Milliseconds(config_.rpc_timeout_ms()),
                       absl::Milliseconds(config_.rpc_retry_initial_backoff_ms()),
                       absl::Milliseconds(config_.rpc_retry_max_backoff_ms())};
  for (const auto& c : candidates) {
    auto stub = rpc::ObjectManagerService::NewStub(rpc::GetChannel(AddressText(c)));
    rpc::ObjectInfoReply reply;
    const auto ask = [&] {
      return rpc::CallSync(stub.get(), &rpc::ObjectManagerService::Stub::GetObjectInfo,
                           "GetObjectInfo", req, &reply, config_.rpc_timeout_ms());
    };
    // A source that is not (or no longer) among the live nodes (its node
    // was declared dead) is not asked again: retrying a dead node only
    // delays the loss being found, and with it the object's reconstruction.
    const auto is_live = [&](const std::vector<rpc::Address>& nodes) {
      return std::any_of(nodes.begin(), nodes.end(),
                         [&](const rpc::Address& p) { return SameAddress(c, p); });
    };
    const bool alive = is_live(live);
    int attempts = 0;
    absl::Status s = rpc::RetrySync("GetObjectInfo", policy, [&] {
      if (attempts++ > 0 && (!alive || !is_live(peers_()))) {
        return absl::NotFoundError("its node is dead");
      }
      return ask();
    });
    if (s.ok() && reply.found()) return std::make_pair(c, reply);
  }
  return absl::NotFoundError(
      fmt::format("no node has a copy of object {} (asked {} nodes)", id.Hex(), candidates.size()));
}

bool ObjectManager::AdmitOne() {
  ObjectID id;
  std::vector<rpc::Address> sources;
  std::optional<std::pair<rpc::Address, rpc::ObjectInfoReply>> located;
  {
    absl::MutexLock lock(&mu_);
    // Reap finished transfers.
    for (auto it = transfers_.begin(); it != transfers_.end();) {
      if (it->done) {
        it->thread.join();
        it = transfers_.erase(it);
      } else {
        ++it;
      }
    }
    const Request* best = nullptr;
    for (const auto& [k, r] : queued_) {
      if (best == nullptr || std::tie(r.priority, r.seq) < std::tie(best->priority, best->seq)) {
        best = &r;
      }
    }
    if (best == nullptr) return false;
    id = best->id;
    sources = best->sources;
    located = best->located;
  }
  if (!located) {
    auto found = Locate(id, sources);
    if (!found.ok()) {
      FinishQueued(id, found.status());
      return true;
    }
    located = *found;
    absl::MutexLock lock(&mu_);
    if (auto it = queued_.find(id); it != queued_.end()) it->second.located = located;
  }
  const rpc::ObjectInfoReply& info = located->second;
  auto span = store_->CreateObject(kRayletClient, id, static_cast<uint64_t>(info.metadata_size()),
                                   static_cast<uint64_t>(info.data_size()), /*primary=*/false);
  if (absl::IsAlreadyExists(span.status())) {
    FinishQueued(id, absl::OkStatus());
    return true;
  }
  if (absl::IsUnavailable(span.status())) return false;  // no room yet: the head waits
  if (!span.ok()) {
    FinishQueued(id, span.status());
    return true;
  }
  absl::MutexLock lock(&mu_);
  auto it = queued_.find(id);
  if (it == queued_.end() || stopping_) {
    store_->Abort(kRayletClient, id);
    return true;
  }
  active_[id] = std::move(it->second);
  queued_.erase(it);
  Transfer& t = transfers_.emplace_back();
  t.thread = std::thread(
      [this, id, from = located->first, s = *span, tp = &t] { RunTransfer(id, from, s, tp); });
  return true;
}

void ObjectManager::AdmissionLoop() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      auto work = [this]()
                      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !queued_.empty(); };
      mu_.Await(absl::Condition(&work));
      if (stopping_) return;
    }
    if (!AdmitOne()) {
      // The store is full for now (or the queue emptied): give spilling,
      // eviction and readers a moment.
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_),
                           absl::Milliseconds(config_.object_pull_admission_retry_ms()));
    }
  }
}

void ObjectManager::RunTransfer(ObjectID id, rpc::Address from, ObjectSpan span, Transfer* t) {
  absl::Status s = Stream(id, from, span, t);
  if (s.ok()) s = store_->Seal(kRayletClient, id);
  if (!s.ok()) store_->Abort(kRayletClient, id);
  std::vector<Done> waiters;
  {
    absl::MutexLock lock(&mu_);
    auto it = active_.find(id);
    if (it != active_.end()) {
      Request r = std::move(it->second);
      active_.erase(it);
      if (!s.ok() && !stopping_ && rpc::IsTransient(s) &&
          ++r.transient_failures <= kMaxTransientRetries) {
        // The source did not answer: ask it again.
        PHOTON_LOG_DEBUG("pull of object {} from {} failed ({}); trying again", id.Hex(),
                         AddressText(from), std::string(s.message()));
        queued_[id] = std::move(r);
      } else if (!s.ok() && !stopping_ && ++r.attempts < kMaxAttempts) {
        // Retry from another copy: every node but the one that failed.
        PHOTON_LOG_WARN("pull of object {} from {} failed ({}); looking for another copy", id.Hex(),
                        AddressText(from), std::string(s.message()));
        r.located.reset();
        r.sources.clear();
        for (const auto& p : peers_()) {
          if (!SameAddress(p, from)) r.sources.push_back(p);
        }
        queued_[id] = std::move(r);
      } else {
        waiters = std::move(r.waiters);
      }
    }
    t->done = true;
  }
  for (auto& w : waiters) w(s);
}

absl::Status ObjectManager::Stream(const ObjectID& id, const rpc::Address& from,
                                   const ObjectSpan& span, Transfer* t) {
  // One stream: with two cores, parallel range streams measured slower (each
  // side's copies then compete with the other raylet for the same cores).
  return StreamRange(id, from, span, 0, span.metadata_size + span.data_size, t);
}

absl::Status ObjectManager::StreamRange(const ObjectID& id, const rpc::Address& from,
                                        const ObjectSpan& span, uint64_t begin, uint64_t end,
                                        Transfer* t) {
  rpc::InjectedFailure injected = rpc::NextInjectedFailure("Pull");
  if (injected == rpc::InjectedFailure::kRequest)
    return rpc::InjectedFailureStatus("Pull", injected);
  auto stub = rpc::ObjectManagerService::NewStub(rpc::GetChannel(AddressText(from)));
  grpc::ClientContext ctx;
  rpc::AttachClusterToken(&ctx);  // no deadline: a pull streams for as long as it takes
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::CancelledError("the raylet is stopping");
    t->ctxs.push_back(&ctx);
  }
  rpc::PullRequest req;
  req.set_object_id(id.Binary());
  req.set_offset(static_cast<int64_t>(begin));
  req.set_length(static_cast<int64_t>(end - begin));
  auto reader = stub->Pull(&ctx, req);
  rpc::PullChunk chunk;
  char* base = store_->arena().base();
  const uint64_t total = span.metadata_size + span.data_size;
  uint64_t received = 0;
  absl::Status s;
  while (reader->Read(&chunk)) {
    uint64_t off = static_cast<uint64_t>(chunk.offset());
    const std::string& d = chunk.data();
    if (static_cast<uint64_t>(chunk.total_size()) != total || off < begin || off + d.size() > end) {
      s = absl::DataLossError(
          fmt::format("object {} from {} changed size in transit", id.Hex(), AddressText(from)));
      ctx.TryCancel();
      break;
    }
    // The stream is metadata then data; the arena puts data 64-aligned.
    for (uint64_t pos = 0; pos < d.size();) {
      uint64_t at = off + pos;
      uint64_t n;
      char* dst;
      if (at < span.metadata_size) {
        n = std::min<uint64_t>(d.size() - pos, span.metadata_size - at);
        dst = base + span.offset + at;
      } else {
        n = d.size() - pos;
        dst = base + span.data_offset() + (at - span.metadata_size);
      }
      object_store::CopyToStore(dst, d.data() + pos, n);
      pos += n;
    }
    received += d.size();
  }
  absl::Status finish = rpc::FromGrpcStatus(reader->Finish());
  {
    absl::MutexLock lock(&mu_);
    std::erase(t->ctxs, &ctx);
  }
  if (!s.ok()) return s;
  if (!finish.ok()) return finish;
  if (received != end - begin) {
    return absl::DataLossError(
        fmt::format("pull of object {} from {} was cut short ({} of {} bytes)", id.Hex(),
                    AddressText(from), received, end - begin));
  }
  if (injected == rpc::InjectedFailure::kReply) return rpc::InjectedFailureStatus("Pull", injected);
  return absl::OkStatus();
}

// ---- serving other nodes --------------------------------------------------------------

grpc::Status ObjectManager::GetObjectInfo(grpc::ServerContext*, const rpc::ObjectInfoRequest* req,
                                          rpc::ObjectInfoReply* reply) {
  auto id = ObjectID::FromBinary(req->object_id());
  if (!id.ok())
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "object_id is not an ObjectID");
  rpc::StoreObject o = store_->Info(*id);
  reply->set_found(o.status() == rpc::StoreObject::FOUND);
  if (reply->found()) {
    reply->set_data_size(o.data_size());
    reply->set_metadata_size(o.metadata_size());
  }
  return grpc::Status::OK;
}

grpc::Status ObjectManager::Pull(grpc::ServerContext*, const rpc::PullRequest* req,
                                 grpc::ServerWriter<rpc::PullChunk>* writer) {
  auto id = ObjectID::FromBinary(req->object_id());
  if (!id.ok())
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "object_id is not an ObjectID");
  auto src = store_->OpenForTransfer(*id);
  if (!src.ok()) return rpc::ToGrpcStatus(src.status());
  const uint64_t total = src->span.metadata_size + src->span.data_size;
  const uint64_t chunk_size =
      static_cast<uint64_t>(std::max<int64_t>(config_.object_chunk_size(), 4096));
  // A range (offset, length); length 0 means to the end.
  uint64_t off =
      std::min<uint64_t>(total, static_cast<uint64_t>(std::max<int64_t>(0, req->offset())));
  uint64_t end = req->length() > 0
                     ? std::min<uint64_t>(total, off + static_cast<uint64_t>(req->length()))
                     : total;
  absl::Status s;
  do {
    rpc::PullChunk chunk;
    chunk.set_object_id(req->object_id());
    chunk.set_total_size(static_cast<int64_t>(total));
    chunk.set_metadata_size(static_cast<int64_t>(src->span.metadata_size));
    chunk.set_offset(static_cast<int64_t>(off));
    uint64_t n = std::min(chunk_size, end - off);
    std::string* data = chunk.mutable_data();
    data->resize(n);
    s = store_->ReadForTransfer(*src, off, data->data(), n);
    if (!s.ok() || !writer->Write(chunk)) break;
    off += n;
  } while (off < end);
  store_->CloseTransfer(*src);
  return rpc::ToGrpcStatus(s);
}

}  // namespace photon::raylet
