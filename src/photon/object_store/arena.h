// The shared-memory arena that holds every object of a node.
//
// The raylet creates it (a memfd: nothing to clean up on disk, gone with the
// last process that maps it) and passes its descriptor to each client, which
// maps it once. Objects are offsets into it.
//
// Thread-safe after construction: base() and capacity() never change;
// Prefault may run on any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"

namespace photon::object_store {

class Arena {
 public:
  // Creates an arena of `capacity` bytes, mapped read-write.
  static absl::StatusOr<std::unique_ptr<Arena>> Create(uint64_t capacity);
  // Maps an arena received from the raylet. Takes ownership of `fd`.
  static absl::StatusOr<std::unique_ptr<Arena>> Map(int fd, uint64_t capacity);
  ~Arena();
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  char* base() const { return base_; }
  uint64_t capacity() const { return capacity_; }
  int fd() const { return fd_; }

  // Faults in [offset, offset + bytes) so that later writes hit resident
  // pages (first touch of fresh pages is many times slower than a memcpy).
  // Blocks for as long as that takes; stops early once `stop` is set.
  // Returns the bytes faulted in.
  uint64_t Prefault(uint64_t offset, uint64_t bytes, const std::atomic<bool>& stop);

 private:
  Arena(int fd, char* base, uint64_t capacity) : fd_(fd), base_(base), capacity_(capacity) {}
  int fd_;
  char* base_;
  uint64_t capacity_;
};

}  // namespace photon::object_store
