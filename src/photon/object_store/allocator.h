// Offsets-only allocator for the object store's arena.
//
// The arena itself is shared memory; this allocator keeps its bookkeeping in
// the raylet's private memory (only the raylet allocates, clients see offsets).
// Policy: best fit, ties to the lowest offset, neighbours coalesced on free.
// Preferring low offsets keeps the live set packed at the start of the arena,
// which is the part the raylet pre-faults, and lets a freed block be reused by
// the next object of a similar size (the put-drop-put pattern stays on warm
// pages).
//
// Not thread-safe: the store calls it under its own mutex.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>

namespace photon::object_store {

class ArenaAllocator {
 public:
  static constexpr uint64_t kAlignment = 64;

  // Manages [0, capacity). `capacity` is rounded down to kAlignment.
  explicit ArenaAllocator(uint64_t capacity);

  // Returns the offset of a block of at least `size` bytes (rounded up to
  // kAlignment; a zero size takes one unit), or nullopt if no free block is
  // large enough.
  std::optional<uint64_t> Allocate(uint64_t size);
  // Frees the block that Allocate returned at `offset`. Freeing an offset that
  // is not allocated is a broken invariant (CHECK).
  void Free(uint64_t offset);
  // The size Allocate reserved for the block at `offset` (0 if none).
  uint64_t BlockSize(uint64_t offset) const;

  uint64_t capacity() const { return capacity_; }
  uint64_t allocated() const { return allocated_; }
  size_t num_blocks() const { return used_.size(); }
  uint64_t largest_free_block() const;
  // 1 - largest_free_block / free bytes: 0 when all free space is one block.
  double fragmentation() const;
  // Rounds `size` up the way Allocate does.
  static uint64_t RoundUp(uint64_t size);

 private:
  void InsertFree(uint64_t offset, uint64_t size);
  void EraseFree(std::map<uint64_t, uint64_t>::iterator it);

  uint64_t capacity_;
  uint64_t allocated_ = 0;
  std::map<uint64_t, uint64_t> free_by_offset_;           // offset -> size
  std::set<std::pair<uint64_t, uint64_t>> free_by_size_;  // (size, offset)
  std::map<uint64_t, uint64_t> used_;                     // offset -> size
};

}  // namespace photon::object_store
