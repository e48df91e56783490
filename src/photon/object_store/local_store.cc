#include "photon/object_store/local_store.h"

#include <algorithm>
#include <cstring>

#include "fmt/format.h"
#include "photon/common/logging.h"

namespace photon::object_store {
namespace {

// A spill file holds at least this much when that many bytes are spillable:
// fewer, larger files (and fewer syscalls) than one file per object.
constexpr uint64_t kMinSpillBatch = 64ull << 20;
constexpr uint64_t kMaxSpillBatch = 1ull << 30;

}  // namespace

absl::StatusOr<std::unique_ptr<LocalStore>> LocalStore::Create(const StoreOptions& options) {
  if (options.capacity < ArenaAllocator::kAlignment) {
    return absl::InvalidArgumentError(
        fmt::format("object store capacity of {} bytes is too small", options.capacity));
  }
  auto arena = Arena::Create(options.capacity);
  if (!arena.ok()) return arena.status();
  return std::unique_ptr<LocalStore>(new LocalStore(options, std::move(*arena)));
}

LocalStore::LocalStore(const StoreOptions& options, std::unique_ptr<Arena> arena)
    : options_(options),
      arena_(std::move(arena)),
      spill_files_(options.spill_dir),
      alloc_(options.capacity) {
  spill_thread_ = std::thread([this] { SpillLoop(); });
  if (options_.prefault_bytes > 0) {
    prefault_thread_ = std::thread([this] {
      // In steps, so the count is visible while it runs and a stop is quick.
      constexpr uint64_t kStep = 64ull << 20;
      uint64_t end = std::min(options_.prefault_bytes, arena_->capacity());
      for (uint64_t pos = 0; pos < end && !stop_; pos += kStep) {
        prefaulted_ += arena_->Prefault(pos, std::min(kStep, end - pos), stop_);
      }
    });
  }
}

LocalStore::~LocalStore() {
  stop_ = true;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (spill_thread_.joinable()) spill_thread_.join();
  if (prefault_thread_.joinable()) prefault_thread_.join();
}

// ---- table helpers ----------------------------------------------------------------

bool LocalStore::Evictable(const Entry& e) const {
  return e.sealed && e.in_memory && e.pins == 0 && !e.spilling && !e.restoring &&
         (!e.primary || e.spill.has_value());
}

void LocalStore::UpdateLru(const ObjectID& id, Entry& e) {
  bool want = Evictable(e);
  if (want == e.in_lru) return;
  if (want) {
    e.lru_it = lru_.insert(lru_.end(), id);
  } else {
    lru_.erase(e.lru_it);
  }
  e.in_lru = want;
}

void LocalStore::FreeMemory(Entry& e) {
  if (!e.in_memory) return;
  alloc_.Free(e.span.offset);
  e.in_memory = false;
}

std::optional<uint64_t> LocalStore::AllocateEvicting(uint64_t size) {
  for (;;) {
    if (auto off = alloc_.Allocate(size)) return off;
    if (lru_.empty()) return std::nullopt;
    ObjectID victim = lru_.front();
    Entry& e = objects_.at(victim);
    lru_.pop_front();
    e.in_lru = false;
    counters_.set_evicted_bytes_total(counters_.evicted_bytes_total() +
                                      static_cast<int64_t>(e.span.total()));
    counters_.set_evicted_objects_total(counters_.evicted_objects_total() + 1);
    FreeMemory(e);
    if (!e.spill) objects_.erase(victim);  // a secondary copy: gone from this node
  }
}

void LocalStore::MaybeErase(const ObjectID& id) {
  auto it = objects_.find(id);
  if (it == objects_.end()) return;
  Entry& e = it->second;
  if (!e.deleted || e.pins > 0 || e.spilling || e.restoring || !e.sealed) return;
  if (e.in_lru) lru_.erase(e.lru_it);
  FreeMemory(e);
  if (e.spill) spill_files_.Unref(e.spill->file_id);
  objects_.erase(it);
}

std::string LocalStore::FullMessage(uint64_t size) const {
  uint64_t pinned = 0, primary = 0, creating = 0;
  for (const auto& [id, e] : objects_) {
    if (!e.in_memory) continue;
    if (e.pins > 0) pinned += e.span.total();
    if (!e.sealed) creating += e.span.total();
    if (e.primary && !e.spill) primary += e.span.total();
  }
  std::string msg = fmt::format(
      "the object store is full: no room for an object of {} bytes; capacity {} bytes, {} in use "
      "({} pinned by readers, {} being created, {} primary copies not yet spilled), largest free "
      "block {} bytes",
      size, alloc_.capacity(), alloc_.allocated(), pinned, creating, primary,
      alloc_.largest_free_block());
  if (!spill_error_.empty()) msg += fmt::format("; spilling failed: {}", spill_error_);
  return msg;
}

// ---- create / seal ----------------------------------------------------------------

absl::StatusOr<ObjectSpan> LocalStore::CreateObject(ClientId client, const ObjectID& id,
                                                    uint64_t metadata_size, uint64_t data_size,
                                                    bool primary) {
  if (metadata_size > options_.capacity || data_size > options_.capacity) {
    return absl::ResourceExhaustedError(
        fmt::format("an object of {} + {} bytes cannot fit in an object store of {} bytes",
                    metadata_size, data_size, options_.capacity));
  }
  uint64_t total = AlignUp64(metadata_size) + data_size;  // both bounded: no overflow
  absl::MutexLock lock(&mu_);
  if (objects_.contains(id)) {
    return absl::AlreadyExistsError(fmt::format("object {} is already in the store", id.Hex()));
  }
  if (ArenaAllocator::RoundUp(total) > alloc_.capacity()) {
    return absl::ResourceExhaustedError(
        fmt::format("an object of {} bytes cannot fit in an object store of {} bytes", total,
                    alloc_.capacity()));
  }
  auto offset = AllocateEvicting(total);
  if (!offset) {
    space_wanted_ = std::max(space_wanted_, total);
    return absl::UnavailableError(FullMessage(total));
  }
  if (space_wanted_ <= total) space_wanted_ = 0;
  Entry& e = objects_[id];
  e.primary = primary;
  e.in_memory = true;
  e.creator = client;
  e.seq = next_seq_++;
  e.span = ObjectSpan{*offset, metadata_size, data_size};
  clients_[client].creating.push_back(id);
  return e.span;
}

absl::Status LocalStore::Seal(ClientId client, const ObjectID& id) {
  absl::MutexLock lock(&mu_);
  auto it = objects_.find(id);
  if (it == objects_.end() || it->second.sealed || it->second.creator != client) {
    return absl::NotFoundError(
        fmt::format("object {} is not being created by this client", id.Hex()));
  }
  it->second.sealed = true;
  auto& creating = clients_[client].creating;
  creating.erase(std::remove(creating.begin(), creating.end(), id), creating.end());
  UpdateLru(id, it->second);
  MaybeErase(id);
  return absl::OkStatus();
}

void LocalStore::Abort(ClientId client, const ObjectID& id) {
  absl::MutexLock lock(&mu_);
  auto it = objects_.find(id);
  if (it == objects_.end() || it->second.sealed || it->second.creator != client) return;
  FreeMemory(it->second);
  objects_.erase(it);
  auto& creating = clients_[client].creating;
  creating.erase(std::remove(creating.begin(), creating.end(), id), creating.end());
}

// ---- get / release / delete ---------------------------------------------------------

LocalStore::GetResult LocalStore::GetOne(ClientId client, const ObjectID& id) {
  for (;;) {
    auto it = objects_.find(id);
    if (it == objects_.end() || !it->second.sealed || it->second.deleted) return {};
    Entry& e = it->second;
    if (e.restoring) {  // another reader is bringing it back: wait for it
      auto restored = [this, &id]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        auto found = objects_.find(id);
        return found == objects_.end() || !found->second.restoring;
      };
      mu_.Await(absl::Condition(&restored));
      continue;
    }
    if (!e.in_memory) {
      // Spilled: restore into the arena. The read runs without the lock; the
      // entry is marked so nobody frees or restores it meanwhile.
      auto offset = AllocateEvicting(e.span.total());
      if (!offset) {
        space_wanted_ = std::max(space_wanted_, e.span.total());
        return {GetStatus::kRetry, {}};
      }
      e.span.offset = *offset;
      e.in_memory = true;
      e.restoring = true;
      SpillLocation loc = *e.spill;
      ObjectSpan span = e.span;
      mu_.Unlock();
      char* base = arena_->base();
      absl::Status s = spill_files_.Read(loc, 0, base + span.offset, span.metadata_size);
      if (s.ok()) {
        s = spill_files_.Read(loc, span.metadata_size, base + span.data_offset(), span.data_size);
      }
      mu_.Lock();
      Entry& r = objects_.at(id);
      r.restoring = false;
      if (!s.ok()) {
        PHOTON_LOG_ERROR("cannot restore object {}: {}", id.Hex(), std::string(s.message()));
        FreeMemory(r);
        MaybeErase(id);
        return {};
      }
      counters_.set_restored_bytes_total(counters_.restored_bytes_total() +
                                         static_cast<int64_t>(span.total()));
      counters_.set_restored_objects_total(counters_.restored_objects_total() + 1);
    }
    Entry& f = objects_.at(id);
    ++f.pins;
    ++clients_[client].pins[id];
    UpdateLru(id, f);
    return {GetStatus::kFound, f.span};
  }
}

std::vector<LocalStore::GetResult> LocalStore::Get(ClientId client,
                                                   const std::vector<ObjectID>& ids) {
  std::vector<GetResult> out;
  out.reserve(ids.size());
  absl::MutexLock lock(&mu_);
  for (const ObjectID& id : ids) out.push_back(GetOne(client, id));
  return out;
}

void LocalStore::Unpin(ClientId client, const ObjectID& id) {
  auto c = clients_.find(client);
  if (c == clients_.end()) return;
  auto p = c->second.pins.find(id);
  if (p == c->second.pins.end()) return;
  if (--p->second == 0) c->second.pins.erase(p);
  auto it = objects_.find(id);
  if (it == objects_.end()) return;
  --it->second.pins;
  UpdateLru(id, it->second);
  MaybeErase(id);
}

void LocalStore::Release(ClientId client, const ObjectID& id) {
  absl::MutexLock lock(&mu_);
  Unpin(client, id);
}

void LocalStore::Delete(const ObjectID& id) {
  absl::MutexLock lock(&mu_);
  auto it = objects_.find(id);
  if (it == objects_.end()) return;
  it->second.deleted = true;
  MaybeErase(id);
}

bool LocalStore::Contains(const ObjectID& id) {
  absl::MutexLock lock(&mu_);
  auto it = objects_.find(id);
  return it != objects_.end() && it->second.sealed && !it->second.deleted;
}

rpc::StoreObject LocalStore::Info(const ObjectID& id) {
  rpc::StoreObject o;
  absl::MutexLock lock(&mu_);
  auto it = objects_.find(id);
  if (it == objects_.end() || !it->second.sealed || it->second.deleted) {
    o.set_status(rpc::StoreObject::NOT_FOUND);
    return o;
  }
  const Entry& e = it->second;
  o.set_status(rpc::StoreObject::FOUND);
  o.set_offset(static_cast<int64_t>(e.span.offset));
  o.set_metadata_size(static_cast<int64_t>(e.span.metadata_size));
  o.set_data_size(static_cast<int64_t>(e.span.data_size));
  o.set_pins(static_cast<int32_t>(e.pins));
  o.set_spilled(e.spill.has_value());
  o.set_primary(e.primary);
  o.set_in_memory(e.in_memory);
  return o;
}

void LocalStore::DisconnectClient(ClientId client) {
  absl::MutexLock lock(&mu_);
  auto c = clients_.find(client);
  if (c == clients_.end()) return;
  ClientState state = std::move(c->second);
  clients_.erase(c);
  for (const ObjectID& id : state.creating) {
    auto it = objects_.find(id);
    if (it == objects_.end() || it->second.sealed) continue;
    FreeMemory(it->second);
    objects_.erase(it);
  }
  for (const auto& [id, n] : state.pins) {
    auto it = objects_.find(id);
    if (it == objects_.end()) continue;
    it->second.pins -= n;
    UpdateLru(id, it->second);
    MaybeErase(id);
  }
}

rpc::StoreStats LocalStore::Stats() {
  rpc::StoreStats s;
  {
    absl::MutexLock lock(&mu_);
    s = counters_;
    s.set_capacity(static_cast<int64_t>(alloc_.capacity()));
    s.set_bytes_used(static_cast<int64_t>(alloc_.allocated()));
    int64_t in_memory = 0, pinned = 0, live = 0;
    for (const auto& [id, e] : objects_) {
      if (e.deleted) continue;
      ++live;
      if (e.in_memory) ++in_memory;
      if (e.pins > 0) pinned += static_cast<int64_t>(e.span.total());
    }
    s.set_num_objects(live);
    s.set_num_objects_in_memory(in_memory);
    s.set_pinned_bytes(pinned);
    s.set_fragmentation(alloc_.fragmentation());
    s.set_largest_free_block(static_cast<int64_t>(alloc_.largest_free_block()));
  }
  s.set_spilled_bytes_current(static_cast<int64_t>(spill_files_.bytes_on_disk()));
  s.set_spill_files(static_cast<int64_t>(spill_files_.num_files()));
  s.set_prefaulted_bytes(static_cast<int64_t>(prefaulted_.load()));
  return s;
}

// ---- transfers ------------------------------------------------------------------------

absl::StatusOr<LocalStore::TransferSource> LocalStore::OpenForTransfer(const ObjectID& id) {
  absl::MutexLock lock(&mu_);
  auto it = objects_.find(id);
  if (it == objects_.end() || !it->second.sealed || it->second.deleted) {
    return absl::NotFoundError(fmt::format("object {} is not in this node's store", id.Hex()));
  }
  Entry& e = it->second;
  TransferSource src;
  src.id = id;
  src.span = e.span;
  if (e.in_memory && !e.restoring) {
    src.in_memory = true;
    ++e.pins;
    ++clients_[kRayletClient].pins[id];
    UpdateLru(id, e);
  } else if (e.spill) {
    src.spill = *e.spill;  // served straight from the spill file
    spill_files_.Ref(src.spill.file_id);
  } else {
    return absl::UnavailableError(fmt::format("object {} is being restored", id.Hex()));
  }
  return src;
}

absl::Status LocalStore::ReadForTransfer(const TransferSource& src, uint64_t pos, char* dst,
                                         uint64_t n) {
  if (!src.in_memory) return spill_files_.Read(src.spill, pos, dst, n);
  const char* base = arena_->base();
  uint64_t meta = src.span.metadata_size;
  if (pos < meta) {
    uint64_t k = std::min(n, meta - pos);
    std::memcpy(dst, base + src.span.offset + pos, k);
    dst += k;
    pos += k;
    n -= k;
  }
  if (n > 0) std::memcpy(dst, base + src.span.data_offset() + (pos - meta), n);
  return absl::OkStatus();
}

void LocalStore::CloseTransfer(const TransferSource& src) {
  if (!src.in_memory) {
    spill_files_.Unref(src.spill.file_id);
    return;
  }
  absl::MutexLock lock(&mu_);
  Unpin(kRayletClient, src.id);
}

// ---- spilling ---------------------------------------------------------------------------

bool LocalStore::SpillWanted() const {
  double used = static_cast<double>(alloc_.allocated());
  return space_wanted_ > 0 ||
         used > options_.spill_threshold * static_cast<double>(alloc_.capacity());
}

void LocalStore::SpillLoop() {
  for (;;) {
    std::vector<ObjectID> batch;
    {
      absl::MutexLock lock(&mu_);
      auto wanted = [this]()
                        ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || SpillWanted(); };
      mu_.AwaitWithTimeout(absl::Condition(&wanted), options_.spill_retry);
      if (stopping_) return;
      if (!SpillWanted()) continue;
      // Oldest sealed primaries not on disk yet, enough to get under the
      // threshold and make room for what a create is waiting for.
      std::vector<std::pair<uint64_t, ObjectID>> candidates;
      for (const auto& [id, e] : objects_) {
        if (e.sealed && e.primary && e.in_memory && !e.spill && !e.spilling && !e.deleted) {
          candidates.emplace_back(e.seq, id);
        }
      }
      std::sort(candidates.begin(), candidates.end());
      double limit = options_.spill_threshold * static_cast<double>(alloc_.capacity());
      uint64_t over =
          alloc_.allocated() > limit ? alloc_.allocated() - static_cast<uint64_t>(limit) : 0;
      uint64_t want = std::max(over + space_wanted_, kMinSpillBatch);
      uint64_t chosen = 0;
      for (const auto& [seq, id] : candidates) {
        if (chosen >= want || chosen >= kMaxSpillBatch) break;
        Entry& e = objects_.at(id);
        e.spilling = true;
        UpdateLru(id, e);
        chosen += e.span.total();
        batch.push_back(id);
      }
      if (batch.empty()) {
        // Nothing to spill: what is in memory is pinned or being created.
        // Wait for releases rather than spinning; a create still short of
        // room asks again.
        space_wanted_ = 0;
        mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.spill_retry);
        continue;
      }
    }
    SpillBatch(std::move(batch));
  }
}

void LocalStore::SpillBatch(std::vector<ObjectID> batch) {
  std::vector<SpillFiles::Piece> pieces;
  {
    absl::MutexLock lock(&mu_);
    const char* base = arena_->base();
    for (const ObjectID& id : batch) {
      const ObjectSpan& s = objects_.at(id).span;
      pieces.push_back({base + s.offset, s.metadata_size, base + s.data_offset(), s.data_size});
    }
  }
  // The bytes are sealed (immutable) and the entries marked spilling, so
  // nothing frees or moves them while the write runs without the lock.
  auto locs = spill_files_.WriteFused(pieces);
  absl::MutexLock lock(&mu_);
  if (!locs.ok()) {
    spill_error_ = std::string(locs.status().message());
    PHOTON_LOG_ERROR("spilling {} objects failed: {}", batch.size(), spill_error_);
  } else {
    spill_error_.clear();
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    Entry& e = objects_.at(batch[i]);
    e.spilling = false;
    if (locs.ok()) {
      e.spill = (*locs)[i];
      counters_.set_spilled_bytes_total(counters_.spilled_bytes_total() +
                                        static_cast<int64_t>((*locs)[i].size));
      counters_.set_spilled_objects_total(counters_.spilled_objects_total() + 1);
      if (e.pins == 0 && !e.deleted) FreeMemory(e);  // the point of spilling
    }
    UpdateLru(batch[i], e);
    MaybeErase(batch[i]);
  }
  space_wanted_ = 0;  // a create still short of room asks again
  if (!locs.ok()) {
    // Do not retry at once against a full disk; creates report the error.
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.spill_error_retry);
  }
}

}  // namespace photon::object_store
