// Copying large buffers into the arena.
#pragma once

#include <cstddef>

namespace photon::object_store {

// memcpy for writes into shared memory. Large copies use non-temporal
// stores: they do not evict the caller's cache for bytes it will not read
// back, and they avoid the slow path that plain memcpy takes when the
// destination sits just after the source modulo 4 KiB (a 3x slowdown seen on
// numpy arrays, whose data starts 16 bytes into a page). Copies of 16 MiB and
// more are split over up to 4 threads (as many as there are cores). Blocks
// until the copy is done; any thread may call it.
void CopyToStore(char* dst, const char* src, size_t n);

}  // namespace photon::object_store
