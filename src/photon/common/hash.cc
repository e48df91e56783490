#include "photon/common/hash.h"

#include <cstring>

namespace photon {
namespace {

// A bijective 64-bit finalizer (the splitmix64 constants): every input bit
// affects every output bit, so two lanes fed the same words stay independent
// once their starting values differ.
inline uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

inline uint64_t Rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

inline uint64_t LoadWord(const char* p, size_t n) {
  uint64_t w = 0;
  std::memcpy(&w, p, n);
  return w;
}

}  // namespace

Hash128Value StableHash128(std::string_view data, uint64_t seed) {
  uint64_t a = Mix(seed ^ 0x9e3779b97f4a7c15ULL ^ data.size());
  uint64_t b = Mix(~seed + 0x632be59bd9b4e019ULL + (data.size() << 1));
  size_t i = 0;
  for (; i + 8 <= data.size(); i += 8) {
    uint64_t w = LoadWord(data.data() + i, 8);
    a = Mix(a ^ w) + Rotl(b, 23);
    b = Mix(b + Rotl(w, 31)) ^ a;
  }
  if (i < data.size()) {
    uint64_t w = LoadWord(data.data() + i, data.size() - i) ^ (0xffULL << 56);
    a = Mix(a ^ w) + Rotl(b, 23);
    b = Mix(b + Rotl(w, 31)) ^ a;
  }
  Hash128Value out;
  out.low = Mix(a ^ Rotl(b, 17));
  out.high = Mix(b ^ Rotl(out.low, 41));
  return out;
}

uint64_t StableHash64(std::string_view data, uint64_t seed) {
  return StableHash128(data, seed).low;
}

}  // namespace photon
