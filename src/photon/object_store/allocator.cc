#include "photon/object_store/allocator.h"

#include "photon/common/logging.h"

namespace photon::object_store {

ArenaAllocator::ArenaAllocator(uint64_t capacity) : capacity_(capacity / kAlignment * kAlignment) {
  if (capacity_ > 0) InsertFree(0, capacity_);
}

uint64_t ArenaAllocator::RoundUp(uint64_t size) {
  if (size == 0) return kAlignment;
  return (size + kAlignment - 1) / kAlignment * kAlignment;
}

void ArenaAllocator::InsertFree(uint64_t offset, uint64_t size) {
  free_by_offset_.emplace(offset, size);
  free_by_size_.emplace(size, offset);
}

void ArenaAllocator::EraseFree(std::map<uint64_t, uint64_t>::iterator it) {
  free_by_size_.erase({it->second, it->first});
  free_by_offset_.erase(it);
}

std::optional<uint64_t> ArenaAllocator::Allocate(uint64_t size) {
  if (size > capacity_) return std::nullopt;
  uint64_t need = RoundUp(size);
  // The set orders by (size, offset): the first block not smaller than `need`
  // is the best fit with the lowest offset among equals.
  auto fit = free_by_size_.lower_bound({need, 0});
  if (fit == free_by_size_.end()) return std::nullopt;
  uint64_t offset = fit->second;
  uint64_t block = fit->first;
  EraseFree(free_by_offset_.find(offset));
  if (block > need) InsertFree(offset + need, block - need);
  used_.emplace(offset, need);
  allocated_ += need;
  return offset;
}

void ArenaAllocator::Free(uint64_t offset) {
  auto it = used_.find(offset);
  PHOTON_CHECK(it != used_.end(), "freeing offset {} that is not allocated", offset);
  uint64_t size = it->second;
  used_.erase(it);
  allocated_ -= size;
  // Coalesce with the free neighbours on both sides.
  auto next = free_by_offset_.lower_bound(offset);
  if (next != free_by_offset_.end() && next->first == offset + size) {
    size += next->second;
    EraseFree(next);
  }
  auto after = free_by_offset_.lower_bound(offset);
  if (after != free_by_offset_.begin()) {
    auto prev = std::prev(after);
    if (prev->first + prev->second == offset) {
      offset = prev->first;
      size += prev->second;
      EraseFree(prev);
    }
  }
  InsertFree(offset, size);
}

uint64_t ArenaAllocator::BlockSize(uint64_t offset) const {
  auto it = used_.find(offset);
  return it == used_.end() ? 0 : it->second;
}

uint64_t ArenaAllocator::largest_free_block() const {
  return free_by_size_.empty() ? 0 : free_by_size_.rbegin()->first;
}

double ArenaAllocator::fragmentation() const {
  uint64_t free_bytes = capacity_ - allocated_;
  if (free_bytes == 0) return 0;
  return 1.0 - static_cast<double>(largest_free_block()) / static_cast<double>(free_bytes);
}

}  // namespace photon::object_store
