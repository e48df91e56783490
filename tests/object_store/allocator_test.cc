#include "photon/object_store/allocator.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <random>
#include <vector>

namespace photon::object_store {
namespace {

constexpr uint64_t kA = ArenaAllocator::kAlignment;

// The free gaps between live blocks of a reference model, as (offset, size).
std::vector<std::pair<uint64_t, uint64_t>> Gaps(const std::map<uint64_t, uint64_t>& live,
                                                uint64_t capacity) {
  std::vector<std::pair<uint64_t, uint64_t>> gaps;
  uint64_t pos = 0;
  for (const auto& [off, size] : live) {
    if (off > pos) gaps.emplace_back(pos, off - pos);
    pos = off + size;
  }
  if (capacity > pos) gaps.emplace_back(pos, capacity - pos);
  return gaps;
}

uint64_t LargestGap(const std::map<uint64_t, uint64_t>& live, uint64_t capacity) {
  uint64_t best = 0;
  for (const auto& [off, size] : Gaps(live, capacity)) best = std::max(best, size);
  return best;
}

TEST(ArenaAllocatorTest, CapacityRoundsDownAndSizesRoundUp) {
  ArenaAllocator a(10 * kA + 17);
  EXPECT_EQ(a.capacity(), 10 * kA);
  EXPECT_EQ(ArenaAllocator::RoundUp(0), kA);
  EXPECT_EQ(ArenaAllocator::RoundUp(1), kA);
  EXPECT_EQ(ArenaAllocator::RoundUp(kA), kA);
  EXPECT_EQ(ArenaAllocator::RoundUp(kA + 1), 2 * kA);
  auto z = a.Allocate(0);  // a zero size takes one unit
  ASSERT_TRUE(z.has_value());
  EXPECT_EQ(a.BlockSize(*z), kA);
  EXPECT_EQ(a.allocated(), kA);
  EXPECT_EQ(a.BlockSize(*z + kA), 0u);  // not a block
  a.Free(*z);
  EXPECT_EQ(a.allocated(), 0u);
  EXPECT_EQ(a.largest_free_block(), a.capacity());
  EXPECT_DOUBLE_EQ(a.fragmentation(), 0.0);
}

TEST(ArenaAllocatorTest, AllocateLargerThanCapacityFails) {
  ArenaAllocator a(1 << 20);
  EXPECT_FALSE(a.Allocate((1 << 20) + 1).has_value());
  EXPECT_FALSE(a.Allocate(uint64_t{1} << 40).has_value());
  EXPECT_FALSE(a.Allocate(~uint64_t{0}).has_value());
  EXPECT_EQ(a.allocated(), 0u);
  EXPECT_EQ(a.num_blocks(), 0u);
  // Exactly the capacity fits, and then nothing else does.
  auto all = a.Allocate(1 << 20);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(*all, 0u);
  EXPECT_FALSE(a.Allocate(1).has_value());
  EXPECT_EQ(a.largest_free_block(), 0u);
  EXPECT_DOUBLE_EQ(a.fragmentation(), 0.0);  // no free bytes at all
  a.Free(*all);
  EXPECT_EQ(a.largest_free_block(), a.capacity());
}

TEST(ArenaAllocatorTest, BestFitPicksSmallestBlockThatFitsTiesToLowerOffset) {
  ArenaAllocator a(100 * kA);
  // Lay out: [0,4) A  [4,5) B  [5,7) C  [7,8) D  [8,10) E  [10,11) F  [11,100) free (units of kA).
  auto A = a.Allocate(4 * kA), B = a.Allocate(kA), C = a.Allocate(2 * kA), D = a.Allocate(kA),
       E = a.Allocate(2 * kA), F = a.Allocate(kA);
  ASSERT_TRUE(A && B && C && D && E && F);
  EXPECT_EQ(*A, 0u);
  EXPECT_EQ(*B, 4 * kA);
  EXPECT_EQ(*C, 5 * kA);
  EXPECT_EQ(*D, 7 * kA);
  EXPECT_EQ(*E, 8 * kA);
  EXPECT_EQ(*F, 10 * kA);
  // Holes: 4 units at 0, 2 units at 5, 2 units at 8, 89 units at 11.
  a.Free(*A);
  a.Free(*C);
  a.Free(*E);
  EXPECT_EQ(a.largest_free_block(), 89 * kA);

  // 100 bytes round to 2 units: the two 2-unit holes tie, the lower one wins.
  auto x = a.Allocate(100);
  ASSERT_TRUE(x);
  EXPECT_EQ(*x, 5 * kA);
  EXPECT_EQ(a.BlockSize(*x), 2 * kA);
  // The next 2-unit request takes the other exact fit, not the 4-unit hole.
  auto y = a.Allocate(2 * kA);
  ASSERT_TRUE(y);
  EXPECT_EQ(*y, 8 * kA);
  // 3 units: the 4-unit hole at 0 is the smallest that fits (not the tail).
  auto z = a.Allocate(3 * kA);
  ASSERT_TRUE(z);
  EXPECT_EQ(*z, 0u);
  // The 1-unit remainder at 3 is now the best fit for a tiny object.
  auto t = a.Allocate(1);
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, 3 * kA);
  // Nothing smaller is left: a 5-unit request goes to the tail.
  auto u = a.Allocate(5 * kA);
  ASSERT_TRUE(u);
  EXPECT_EQ(*u, 11 * kA);
}

TEST(ArenaAllocatorTest, FreeCoalescesBothNeighbours) {
  ArenaAllocator a(8 * kA);
  std::vector<uint64_t> offs;
  for (int i = 0; i < 8; ++i) offs.push_back(*a.Allocate(kA));
  // Free 1, 3, 2 (joins left and right), then 5, 6, 4 and the rest.
  a.Free(offs[1]);
  a.Free(offs[3]);
  EXPECT_EQ(a.largest_free_block(), kA);
  a.Free(offs[2]);
  EXPECT_EQ(a.largest_free_block(), 3 * kA);
  a.Free(offs[5]);
  a.Free(offs[6]);
  a.Free(offs[4]);
  EXPECT_EQ(a.largest_free_block(), 6 * kA);  // units 1..6
  EXPECT_NEAR(a.fragmentation(), 0.0, 1e-12);
  a.Free(offs[0]);
  a.Free(offs[7]);
  EXPECT_EQ(a.largest_free_block(), a.capacity());
  EXPECT_EQ(a.num_blocks(), 0u);
  // A block of the whole capacity fits again.
  EXPECT_TRUE(a.Allocate(8 * kA).has_value());
}

TEST(ArenaAllocatorTest, FragmentationIsOneMinusLargestOverFree) {
  ArenaAllocator a(4 * kA);
  auto b0 = a.Allocate(kA), b1 = a.Allocate(kA), b2 = a.Allocate(kA), b3 = a.Allocate(kA);
  ASSERT_TRUE(b0 && b1 && b2 && b3);
  a.Free(*b0);
  a.Free(*b2);
  // Two free units, the largest block is one of them.
  EXPECT_DOUBLE_EQ(a.fragmentation(), 0.5);
}

// 200k random allocations and frees against a map of live blocks.
TEST(ArenaAllocatorTest, RandomizedAgainstReferenceModel) {
  constexpr uint64_t kCapacity = (32ull << 20) + 100;  // not a multiple of 64 on purpose
  constexpr int kOps = 200000;
  constexpr uint64_t kSeed = 20240611;
  ArenaAllocator a(kCapacity);
  const uint64_t cap = a.capacity();
  ASSERT_EQ(cap, kCapacity / kA * kA);

  std::mt19937_64 rng(kSeed);
  std::map<uint64_t, uint64_t> live;  // offset -> block size (as BlockSize reports it)
  std::vector<uint64_t> offsets;      // the same, for picking a random victim
  uint64_t sum = 0;
  uint64_t failed_allocs = 0, allocs = 0, frees = 0;

  auto random_size = [&]() -> uint64_t {
    uint64_t kind = rng() % 100;
    if (kind < 55) return rng() % 257;                        // tiny, including 0
    if (kind < 85) return 257 + rng() % (64 << 10);           // up to 64 KiB
    if (kind < 98) return (64 << 10) + rng() % (2ull << 20);  // up to ~2 MiB
    return (2ull << 20) + rng() % (6ull << 20);               // up to 8 MiB
  };

  auto full_check = [&](int op) {
    ASSERT_EQ(a.num_blocks(), live.size()) << "op " << op;
    ASSERT_EQ(a.allocated(), sum) << "op " << op;
    uint64_t prev_end = 0;
    for (const auto& [off, size] : live) {
      ASSERT_GE(off, prev_end) << "overlap at op " << op;
      ASSERT_EQ(a.BlockSize(off), size) << "op " << op;
      prev_end = off + size;
    }
    ASSERT_LE(prev_end, cap);
    // With full coalescing each maximal gap is exactly one free block.
    ASSERT_EQ(a.largest_free_block(), LargestGap(live, cap)) << "op " << op;
    uint64_t free_bytes = cap - sum;
    double expect = free_bytes == 0 ? 0.0
                                    : 1.0 - static_cast<double>(a.largest_free_block()) /
                                                static_cast<double>(free_bytes);
    ASSERT_DOUBLE_EQ(a.fragmentation(), expect);
  };

  for (int op = 0; op < kOps; ++op) {
    // Lean towards allocating so the arena runs full and frees land in the
    // middle of live data.
    bool do_alloc = live.empty() || rng() % 100 < 60;
    if (do_alloc) {
      uint64_t size = random_size();
      auto off = a.Allocate(size);
      uint64_t need = ArenaAllocator::RoundUp(size);
      if (!off) {
        ++failed_allocs;
        // A failure is only allowed when no gap of the model is large enough.
        ASSERT_LT(LargestGap(live, cap), need) << "op " << op << " size " << size;
        ASSERT_LT(a.largest_free_block(), need);
      } else {
        ++allocs;
        uint64_t o = *off;
        ASSERT_EQ(o % kA, 0u) << "op " << op;
        ASSERT_EQ(a.BlockSize(o), need) << "op " << op;
        ASSERT_LE(o + need, cap) << "op " << op;
        auto next = live.lower_bound(o);
        if (next != live.end()) {
          ASSERT_NE(next->first, o) << "offset handed out twice at op " << op;
          ASSERT_LE(o + need, next->first) << "overlaps the next block at op " << op;
        }
        if (next != live.begin()) {
          auto prev = std::prev(next);
          ASSERT_LE(prev->first + prev->second, o) << "overlaps the previous block at op " << op;
        }
        live.emplace(o, need);
        offsets.push_back(o);
        sum += need;
      }
    } else {
      size_t i = rng() % offsets.size();
      uint64_t o = offsets[i];
      offsets[i] = offsets.back();
      offsets.pop_back();
      sum -= live.at(o);
      live.erase(o);
      a.Free(o);
      ++frees;
      ASSERT_EQ(a.BlockSize(o), 0u);
    }
    ASSERT_EQ(a.allocated(), sum) << "op " << op;
    ASSERT_EQ(a.num_blocks(), live.size()) << "op " << op;
    if (op % 1000 == 0) {
      full_check(op);
      if (::testing::Test::HasFatalFailure()) return;
    }
    if (op == kOps / 2) {
      std::printf(
          "[ allocator ] midpoint (op %d): fragmentation %.4f, %zu live blocks, %llu of %llu "
          "bytes allocated, largest free block %llu bytes\n",
          op, a.fragmentation(), live.size(), static_cast<unsigned long long>(a.allocated()),
          static_cast<unsigned long long>(cap),
          static_cast<unsigned long long>(a.largest_free_block()));
    }
  }
  full_check(kOps);
  if (::testing::Test::HasFatalFailure()) return;
  std::printf("[ allocator ] %llu allocations, %llu failed (no room), %llu frees; seed %llu\n",
              static_cast<unsigned long long>(allocs),
              static_cast<unsigned long long>(failed_allocs),
              static_cast<unsigned long long>(frees), static_cast<unsigned long long>(kSeed));
  EXPECT_GT(failed_allocs, 0u) << "the test never ran the arena full";

  // Free everything in random order: one free block of the whole capacity.
  std::shuffle(offsets.begin(), offsets.end(), rng);
  for (uint64_t o : offsets) a.Free(o);
  EXPECT_EQ(a.allocated(), 0u);
  EXPECT_EQ(a.num_blocks(), 0u);
  EXPECT_EQ(a.largest_free_block(), a.capacity());
  EXPECT_DOUBLE_EQ(a.fragmentation(), 0.0);
  auto whole = a.Allocate(cap);
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(*whole, 0u);
}

}  // namespace
}  // namespace photon::object_store
