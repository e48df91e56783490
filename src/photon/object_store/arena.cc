#include "photon/object_store/arena.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include "fmt/format.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

namespace photon::object_store {
namespace {

absl::StatusOr<char*> MapShared(int fd, uint64_t capacity) {
  void* p = mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    return absl::InternalError(
        fmt::format("cannot map the object store arena ({} bytes): {}", capacity, strerror(errno)));
  }
  return static_cast<char*>(p);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Arena>> Arena::Create(uint64_t capacity) {
  int fd = memfd_create("photon-object-store", MFD_CLOEXEC);
  if (fd < 0) {
    return absl::InternalError(fmt::format("memfd_create failed: {}", strerror(errno)));
  }
  if (ftruncate(fd, static_cast<off_t>(capacity)) != 0) {
    int e = errno;
    close(fd);
    return absl::ResourceExhaustedError(
        fmt::format("cannot size the object store arena to {} bytes: {}", capacity, strerror(e)));
  }
  auto base = MapShared(fd, capacity);
  if (!base.ok()) {
    close(fd);
    return base.status();
  }
  return std::unique_ptr<Arena>(new Arena(fd, *base, capacity));
}

absl::StatusOr<std::unique_ptr<Arena>> Arena::Map(int fd, uint64_t capacity) {
  auto base = MapShared(fd, capacity);
  if (!base.ok()) {
    close(fd);
    return base.status();
  }
  return std::unique_ptr<Arena>(new Arena(fd, *base, capacity));
}

Arena::~Arena() {
  munmap(base_, capacity_);
  close(fd_);
}

uint64_t Arena::Prefault(uint64_t offset, uint64_t bytes, const std::atomic<bool>& stop) {
  constexpr uint64_t kStep = 16ull << 20;
  uint64_t end = std::min(capacity_, offset + bytes);
  uint64_t done = 0;
  for (uint64_t pos = offset; pos < end && !stop.load(std::memory_order_relaxed); pos += kStep) {
    uint64_t n = std::min(kStep, end - pos);
    if (madvise(base_ + pos, n, MADV_POPULATE_WRITE) != 0) {
      // Older kernels: read one byte per page (a read never disturbs an
      // object a client may be writing there already).
      volatile char sink = 0;
      for (uint64_t p = 0; p < n; p += 4096) sink = sink + base_[pos + p];
    }
    done += n;
  }
  return done;
}

}  // namespace photon::object_store
