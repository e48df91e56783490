// A node's object store, inside the raylet: the object table over the shared
// arena, pins per client, LRU eviction of secondary copies, spilling of
// primary copies to fused files, restore on get.
//
// Object lifecycle: CreateObject reserves room (metadata at `offset`, data
// from data_offset()), the creator writes it through its own mapping, Seal
// makes it visible and immutable. A Get pins what it returns until Release.
// A primary copy (created by a put or a task return on this node) stays until
// its owner Deletes it; past the spill threshold it is written to disk and its
// memory freed. A secondary copy (pulled from another node) and the in-memory
// copy of a spilled object are evicted least-recently-used first when room is
// needed. Nothing pinned, being created or being spilled is ever evicted.
//
// Threading: every method may be called from any thread (one mutex guards
// the table). Get blocks while it restores a spilled object from disk, which
// only blocks its caller. Spilling runs on the store's own thread; the
// arena's pre-faulting on another.
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "photon/common/id.h"
#include "photon/object_store/allocator.h"
#include "photon/object_store/arena.h"
#include "photon/object_store/spill_files.h"
#include "photon/protocol/store.pb.h"

namespace photon::object_store {

// Identifies a connected process (its pins and unsealed creations).
using ClientId = uint64_t;
// The raylet itself (pulls, transfers).
inline constexpr ClientId kRayletClient = 0;

inline uint64_t AlignUp64(uint64_t n) { return (n + 63) / 64 * 64; }

// Where an object's bytes are in the arena.
struct ObjectSpan {
  uint64_t offset = 0;
  uint64_t metadata_size = 0;
  uint64_t data_size = 0;
  uint64_t data_offset() const { return offset + AlignUp64(metadata_size); }
  uint64_t total() const { return AlignUp64(metadata_size) + data_size; }
};

struct StoreOptions {
  uint64_t capacity = 0;
  double spill_threshold = 0.8;
  std::string spill_dir;        // fused spill files go here
  uint64_t prefault_bytes = 0;  // of the arena, faulted in the background
  // While spilling is wanted but nothing can be spilled (every candidate
  // pinned or in use), how often the spill thread looks again.
  absl::Duration spill_retry = absl::Milliseconds(50);
  // After writing a spill file failed (a full disk), how long it waits.
  absl::Duration spill_error_retry = absl::Seconds(1);
};

class LocalStore {
 public:
  enum class GetStatus { kFound, kNotFound, kRetry };
  struct GetResult {
    GetStatus status = GetStatus::kNotFound;
    ObjectSpan span;
  };
  // What a transfer to another node reads: pinned memory or a spill file
  // (kept while the transfer runs).
  struct TransferSource {
    ObjectID id;
    bool in_memory = false;
    ObjectSpan span;
    SpillLocation spill;
  };

  static absl::StatusOr<std::unique_ptr<LocalStore>> Create(const StoreOptions& options);
  // Stops the spill and prefault threads, removes the spill files.
  ~LocalStore();

  Arena& arena() { return *arena_; }

  // Reserves room for a new object, evicting what it can. AlreadyExists if the
  // id is here (sealed, spilled or being created); ResourceExhausted if it is
  // larger than the whole store; Unavailable (with what is in the way) when the
  // store is full for now: spilling has been asked for, the caller may retry.
  absl::StatusOr<ObjectSpan> CreateObject(ClientId client, const ObjectID& id,
                                          uint64_t metadata_size, uint64_t data_size, bool primary);
  // NotFound unless `client` created `id` and has not sealed it.
  absl::Status Seal(ClientId client, const ObjectID& id);
  void Abort(ClientId client, const ObjectID& id);

  // Pins each sealed object found (one Release each), restoring spilled ones.
  // kRetry: spilled and no room to restore it now.
  std::vector<GetResult> Get(ClientId client, const std::vector<ObjectID>& ids);
  void Release(ClientId client, const ObjectID& id);
  // The owner is done with `id`: freed now, or when its last pin goes.
  void Delete(const ObjectID& id);
  bool Contains(const ObjectID& id);
  rpc::StoreObject Info(const ObjectID& id);
  // Drops the pins of a client that went away and aborts what it was creating.
  void DisconnectClient(ClientId client);
  rpc::StoreStats Stats();

  absl::StatusOr<TransferSource> OpenForTransfer(const ObjectID& id);
  // Copies `n` bytes at `pos` of the object (metadata then data, unpadded).
  absl::Status ReadForTransfer(const TransferSource& src, uint64_t pos, char* dst, uint64_t n);
  void CloseTransfer(const TransferSource& src);

 private:
  struct Entry {
    bool sealed = false;
    bool primary = false;
    bool in_memory = false;
    bool spilling = false;
    bool restoring = false;
    bool deleted = false;  // Delete came while pinned or busy
    ClientId creator = 0;
    uint64_t seq = 0;  // creation order, oldest spills first
    ObjectSpan span;
    std::optional<SpillLocation> spill;
    int64_t pins = 0;
    bool in_lru = false;
    std::list<ObjectID>::iterator lru_it;
  };
  struct ClientState {
    absl::flat_hash_map<ObjectID, int64_t> pins;
    std::vector<ObjectID> creating;
  };

  LocalStore(const StoreOptions& options, std::unique_ptr<Arena> arena);
  bool Evictable(const Entry& e) const;
  void UpdateLru(const ObjectID& id, Entry& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::optional<uint64_t> AllocateEvicting(uint64_t size) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FreeMemory(Entry& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Erases the entry if nothing holds it any more (after Delete).
  void MaybeErase(const ObjectID& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Unpin(ClientId client, const ObjectID& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  GetResult GetOne(ClientId client, const ObjectID& id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string FullMessage(uint64_t size) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  bool SpillWanted() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SpillLoop();
  void SpillBatch(std::vector<ObjectID> batch);

  const StoreOptions options_;
  std::unique_ptr<Arena> arena_;
  SpillFiles spill_files_;

  absl::Mutex mu_;
  ArenaAllocator alloc_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<ObjectID, Entry> objects_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<ClientId, ClientState> clients_ ABSL_GUARDED_BY(mu_);
  std::list<ObjectID> lru_ ABSL_GUARDED_BY(mu_);  // front: least recently used
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t space_wanted_ ABSL_GUARDED_BY(mu_) = 0;  // by a create that found no room
  std::string spill_error_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  rpc::StoreStats counters_ ABSL_GUARDED_BY(mu_);

  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> prefaulted_{0};
  std::thread spill_thread_;
  std::thread prefault_thread_;
};

}  // namespace photon::object_store
