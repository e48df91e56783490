#include "photon/object_store/local_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "test_util.h"

namespace photon::object_store {
namespace {

using ostest::CountFiles;
using ostest::FillPattern;
using ostest::HashBytes;
using ostest::Pattern;
using ostest::TempDir;
using ostest::WaitFor;
using ::testing::HasSubstr;

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * 1024;

std::unique_ptr<LocalStore> MakeStore(const TempDir& dir, uint64_t capacity,
                                      double spill_threshold = 0.8) {
  StoreOptions opts;
  opts.capacity = capacity;
  opts.spill_threshold = spill_threshold;
  opts.spill_dir = dir.Sub("spill");
  auto store = LocalStore::Create(opts);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

// Creates, writes (through the store's own mapping) and seals an object.
absl::StatusOr<ObjectSpan> PutObject(LocalStore& store, ClientId client, const ObjectID& id,
                                     std::string_view meta, std::string_view data, bool primary) {
  auto span = store.CreateObject(client, id, meta.size(), data.size(), primary);
  if (!span.ok()) return span;
  char* base = store.arena().base();
  std::memcpy(base + span->offset, meta.data(), meta.size());
  std::memcpy(base + span->data_offset(), data.data(), data.size());
  if (auto s = store.Seal(client, id); !s.ok()) return s;
  return span;
}

std::string_view MetaAt(LocalStore& store, const ObjectSpan& span) {
  return {store.arena().base() + span.offset, span.metadata_size};
}
std::string_view DataAt(LocalStore& store, const ObjectSpan& span) {
  return {store.arena().base() + span.data_offset(), span.data_size};
}

// Retries a create while the store reports full-for-now.
absl::StatusOr<ObjectSpan> CreateRetrying(LocalStore& store, ClientId client, const ObjectID& id,
                                          uint64_t meta, uint64_t data, bool primary,
                                          int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (int attempt = 0;; ++attempt) {
    auto span = store.CreateObject(client, id, meta, data, primary);
    if (span.ok() || !absl::IsUnavailable(span.status())) return span;
    if (std::chrono::steady_clock::now() >= deadline) return span;
    std::this_thread::sleep_for(std::chrono::milliseconds(1 + attempt % 5));
  }
}

// Reads a whole transfer source in uneven chunks (the first ones cross the
// metadata/data boundary).
std::string ReadTransfer(LocalStore& store, const LocalStore::TransferSource& src) {
  uint64_t total = src.span.metadata_size + src.span.data_size;
  std::string out(total, '\0');
  const uint64_t chunks[] = {5, 17, 3, 65536, 100003};
  uint64_t pos = 0;
  for (int i = 0; pos < total; ++i) {
    uint64_t n = std::min<uint64_t>(chunks[std::min(i, 4)], total - pos);
    absl::Status s = store.ReadForTransfer(src, pos, out.data() + pos, n);
    EXPECT_TRUE(s.ok()) << s;
    if (!s.ok()) return "";
    pos += n;
  }
  return out;
}

// ---- create / seal / get ---------------------------------------------------------------

TEST(LocalStoreTest, CreateSealGetRoundTrip) {
  TempDir dir;
  auto store = MakeStore(dir, 1 * kMiB);
  ASSERT_NE(store, nullptr);
  ObjectID id = ObjectID::FromRandom();
  std::string meta = "hello-meta";
  std::string data = Pattern(1000, 7);

  auto span = store->CreateObject(1, id, meta.size(), data.size(), /*primary=*/true);
  ASSERT_TRUE(span.ok()) << span.status();
  EXPECT_EQ(span->offset % 64, 0u);
  EXPECT_EQ(span->metadata_size, meta.size());
  EXPECT_EQ(span->data_size, data.size());
  EXPECT_EQ(span->data_offset(), span->offset + 64);
  EXPECT_EQ(span->total(), 64u + 1000u);
  char* base = store->arena().base();
  std::memcpy(base + span->offset, meta.data(), meta.size());
  std::memcpy(base + span->data_offset(), data.data(), data.size());
  EXPECT_FALSE(store->Contains(id));  // not sealed yet
  ASSERT_TRUE(store->Seal(1, id).ok());
  EXPECT_TRUE(store->Contains(id));

  auto got = store->Get(2, {id});
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].status, LocalStore::GetStatus::kFound);
  EXPECT_EQ(got[0].span.offset, span->offset);
  EXPECT_EQ(MetaAt(*store, got[0].span), meta);
  EXPECT_EQ(DataAt(*store, got[0].span), data);

  rpc::StoreObject info = store->Info(id);
  EXPECT_EQ(info.status(), rpc::StoreObject::FOUND);
  EXPECT_EQ(info.pins(), 1);
  EXPECT_TRUE(info.primary());
  EXPECT_TRUE(info.in_memory());
  EXPECT_FALSE(info.spilled());
  EXPECT_EQ(info.offset(), static_cast<int64_t>(span->offset));
  EXPECT_EQ(info.metadata_size(), static_cast<int64_t>(meta.size()));
  EXPECT_EQ(info.data_size(), static_cast<int64_t>(data.size()));

  rpc::StoreStats stats = store->Stats();
  EXPECT_EQ(stats.capacity(), static_cast<int64_t>(1 * kMiB));
  EXPECT_EQ(stats.num_objects(), 1);
  EXPECT_EQ(stats.num_objects_in_memory(), 1);
  EXPECT_EQ(stats.bytes_used(), static_cast<int64_t>(ArenaAllocator::RoundUp(span->total())));
  EXPECT_EQ(stats.pinned_bytes(), static_cast<int64_t>(span->total()));

  store->Release(2, id);
  EXPECT_EQ(store->Info(id).pins(), 0);
  EXPECT_EQ(store->Stats().pinned_bytes(), 0);
  // A release by a client that holds no pin changes nothing.
  store->Release(2, id);
  store->Release(9, id);
  EXPECT_EQ(store->Info(id).pins(), 0);
}

TEST(LocalStoreTest, GetOfUnsealedObjectIsNotFound) {
  TempDir dir;
  auto store = MakeStore(dir, 1 * kMiB);
  ASSERT_NE(store, nullptr);
  ObjectID id = ObjectID::FromRandom();
  ASSERT_TRUE(store->CreateObject(1, id, 0, 100, true).ok());
  auto got = store->Get(1, {id, ObjectID::FromRandom()});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].status, LocalStore::GetStatus::kNotFound);
  EXPECT_EQ(got[1].status, LocalStore::GetStatus::kNotFound);
  EXPECT_EQ(store->Info(id).status(), rpc::StoreObject::NOT_FOUND);
  // Only its creator may seal it, and only once.
  EXPECT_TRUE(absl::IsNotFound(store->Seal(2, id)));
  ASSERT_TRUE(store->Seal(1, id).ok());
  EXPECT_TRUE(absl::IsNotFound(store->Seal(1, id)));
  EXPECT_EQ(store->Get(1, {id})[0].status, LocalStore::GetStatus::kFound);
  store->Release(1, id);
}

TEST(LocalStoreTest, DuplicateCreateIsAlreadyExists) {
  TempDir dir;
  auto store = MakeStore(dir, 1 * kMiB);
  ASSERT_NE(store, nullptr);
  ObjectID id = ObjectID::FromRandom();
  ASSERT_TRUE(store->CreateObject(1, id, 0, 100, true).ok());
  // While it is being created (by anyone) ...
  EXPECT_TRUE(absl::IsAlreadyExists(store->CreateObject(1, id, 0, 100, true).status()));
  EXPECT_TRUE(absl::IsAlreadyExists(store->CreateObject(2, id, 0, 50, false).status()));
  ASSERT_TRUE(store->Seal(1, id).ok());
  // ... and once sealed.
  EXPECT_TRUE(absl::IsAlreadyExists(store->CreateObject(2, id, 0, 100, true).status()));
  EXPECT_EQ(store->Stats().num_objects(), 1);
}

TEST(LocalStoreTest, ObjectLargerThanCapacityIsResourceExhausted) {
  TempDir dir;
  auto store = MakeStore(dir, 1 * kMiB);
  ASSERT_NE(store, nullptr);
  auto s = store->CreateObject(1, ObjectID::FromRandom(), 0, 1 * kMiB + 1, true);
  EXPECT_TRUE(absl::IsResourceExhausted(s.status())) << s.status();
  // Metadata counts too (padded to 64 bytes).
  s = store->CreateObject(1, ObjectID::FromRandom(), 1, 1 * kMiB - 63, true);
  EXPECT_TRUE(absl::IsResourceExhausted(s.status())) << s.status();
  // Exactly the capacity is fine.
  s = store->CreateObject(1, ObjectID::FromRandom(), 1, 1 * kMiB - 64, true);
  EXPECT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(store->Stats().bytes_used(), static_cast<int64_t>(1 * kMiB));
}

// Sizes near 2^64 (a CREATE on the wire carries int64s) must not wrap the
// capacity check: rejected as too large, with nothing evicted.
TEST(LocalStoreTest, CreateWithOverflowingSizesIsRejectedWithoutEvicting) {
  TempDir dir;
  auto store = MakeStore(dir, 1 * kMiB);
  ASSERT_NE(store, nullptr);
  ObjectID secondary = ObjectID::FromRandom();
  ASSERT_TRUE(PutObject(*store, 1, secondary, "", Pattern(1000, 1), /*primary=*/false).ok());
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  auto s = store->CreateObject(1, ObjectID::FromRandom(), kMax, kMax, true);
  EXPECT_TRUE(absl::IsResourceExhausted(s.status()) || absl::IsInvalidArgument(s.status()))
      << s.status();
  EXPECT_TRUE(store->Contains(secondary)) << "a request that can never succeed evicted data";
  EXPECT_EQ(store->Stats().evicted_objects_total(), 0);
}

TEST(LocalStoreTest, AbortFreesTheReservation) {
  TempDir dir;
  auto store = MakeStore(dir, 1 * kMiB);
  ASSERT_NE(store, nullptr);
  ObjectID id = ObjectID::FromRandom();
  ASSERT_TRUE(store->CreateObject(1, id, 10, 1000, true).ok());
  EXPECT_GT(store->Stats().bytes_used(), 0);
  store->Abort(2, id);  // not its creator: ignored
  EXPECT_GT(store->Stats().bytes_used(), 0);
  store->Abort(1, id);
  EXPECT_EQ(store->Stats().bytes_used(), 0);
  EXPECT_TRUE(store->CreateObject(1, id, 10, 1000, true).ok());  // the id is free again
}

TEST(LocalStoreTest, FullOfPinnedPrimariesIsUnavailableUntilReleased) {
  TempDir dir;
  constexpr uint64_t kObj = 256 * kKiB;
  auto store = MakeStore(dir, 4 * kObj);
  ASSERT_NE(store, nullptr);
  std::vector<ObjectID> ids;
  for (int i = 0; i < 4; ++i) {
    ids.push_back(ObjectID::FromRandom());
    ASSERT_TRUE(PutObject(*store, 1, ids.back(), "", Pattern(kObj, i), true).ok());
  }
  auto got = store->Get(2, ids);
  for (const auto& g : got) ASSERT_EQ(g.status, LocalStore::GetStatus::kFound);

  ObjectID extra = ObjectID::FromRandom();
  auto s = store->CreateObject(1, extra, 0, kObj, true);
  ASSERT_TRUE(absl::IsUnavailable(s.status())) << s.status();
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("pinned"));
  EXPECT_THAT(std::string(s.status().message()), HasSubstr(std::to_string(kObj)));
  // Still full a little later: spilling a pinned copy frees nothing.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_TRUE(absl::IsUnavailable(store->CreateObject(1, extra, 0, kObj, true).status()));
  for (const auto& id : ids) {
    EXPECT_EQ(store->Info(id).pins(), 1);
    EXPECT_TRUE(store->Info(id).in_memory());
  }

  // Once the readers let go, spilling makes room.
  for (const auto& id : ids) store->Release(2, id);
  auto later = CreateRetrying(*store, 1, extra, 0, kObj, true, 10000);
  ASSERT_TRUE(later.ok()) << later.status();
  // Every earlier object is still readable (from memory or from disk).
  ASSERT_TRUE(store->Seal(1, extra).ok());
  for (int i = 0; i < 4; ++i) {
    std::vector<LocalStore::GetResult> r;
    ASSERT_TRUE(WaitFor(
        [&] {
          r = store->Get(3, {ids[i]});
          return r[0].status != LocalStore::GetStatus::kRetry;
        },
        10000));
    ASSERT_EQ(r[0].status, LocalStore::GetStatus::kFound);
    EXPECT_EQ(HashBytes(DataAt(*store, r[0].span)), HashBytes(Pattern(kObj, i)));
    store->Release(3, ids[i]);
  }
}

// ---- eviction ------------------------------------------------------------------------------

TEST(LocalStoreTest, SecondaryCopiesAreEvictedLeastRecentlyUsedFirst) {
  TempDir dir;
  constexpr uint64_t kObj = 64 * kKiB;
  auto store = MakeStore(dir, 3 * kObj);
  ASSERT_NE(store, nullptr);
  ObjectID a = ObjectID::FromRandom(), b = ObjectID::FromRandom(), c = ObjectID::FromRandom();
  ASSERT_TRUE(PutObject(*store, 1, a, "", Pattern(kObj, 1), false).ok());
  ASSERT_TRUE(PutObject(*store, 1, b, "", Pattern(kObj, 2), false).ok());
  ASSERT_TRUE(PutObject(*store, 1, c, "", Pattern(kObj, 3), false).ok());
  EXPECT_EQ(store->Stats().bytes_used(), static_cast<int64_t>(3 * kObj));
  EXPECT_FALSE(store->Info(a).primary());

  // Touch A: B becomes the least recently used.
  ASSERT_EQ(store->Get(2, {a})[0].status, LocalStore::GetStatus::kFound);
  store->Release(2, a);

  ObjectID d = ObjectID::FromRandom();
  auto span = store->CreateObject(1, d, 0, kObj, false);
  ASSERT_TRUE(span.ok()) << span.status();
  EXPECT_FALSE(store->Contains(b));
  EXPECT_EQ(store->Get(2, {b})[0].status, LocalStore::GetStatus::kNotFound);
  EXPECT_TRUE(store->Contains(a));
  EXPECT_TRUE(store->Contains(c));
  rpc::StoreStats stats = store->Stats();
  EXPECT_EQ(stats.evicted_objects_total(), 1);
  EXPECT_EQ(stats.evicted_bytes_total(), static_cast<int64_t>(kObj));
  std::memset(store->arena().base() + span->data_offset(), 4, kObj);
  ASSERT_TRUE(store->Seal(1, d).ok());

  // Order now: C, A, D. The next create takes C.
  ObjectID e = ObjectID::FromRandom();
  ASSERT_TRUE(PutObject(*store, 1, e, "", Pattern(kObj, 5), false).ok());
  EXPECT_FALSE(store->Contains(c));
  EXPECT_TRUE(store->Contains(a));
  EXPECT_TRUE(store->Contains(d));
  EXPECT_EQ(store->Stats().evicted_objects_total(), 2);

  // Touch A again: order D, E, A; the next create takes D.
  ASSERT_EQ(store->Get(2, {a})[0].status, LocalStore::GetStatus::kFound);
  store->Release(2, a);
  ObjectID f = ObjectID::FromRandom();
  ASSERT_TRUE(PutObject(*store, 1, f, "", Pattern(kObj, 6), false).ok());
  EXPECT_FALSE(store->Contains(d));
  EXPECT_TRUE(store->Contains(a));
  EXPECT_TRUE(store->Contains(e));
  EXPECT_EQ(store->Stats().evicted_objects_total(), 3);
  EXPECT_EQ(store->Stats().evicted_bytes_total(), static_cast<int64_t>(3 * kObj));
  // A survived every round with its bytes.
  auto got = store->Get(2, {a});
  ASSERT_EQ(got[0].status, LocalStore::GetStatus::kFound);
  EXPECT_EQ(DataAt(*store, got[0].span), Pattern(kObj, 1));
  store->Release(2, a);
}

TEST(LocalStoreTest, PinnedObjectIsNeverEvicted) {
  TempDir dir;
  constexpr uint64_t kObj = 64 * kKiB;
  auto store = MakeStore(dir, 4 * kObj);
  ASSERT_NE(store, nullptr);
  ObjectID p = ObjectID::FromRandom();
  std::string pdata = Pattern(kObj - 64, 99);
  ASSERT_TRUE(PutObject(*store, 1, p, "pin", pdata, false).ok());
  auto pinned = store->Get(7, {p});
  ASSERT_EQ(pinned[0].status, LocalStore::GetStatus::kFound);
  ObjectSpan pspan = pinned[0].span;
  EXPECT_EQ(pspan.total(), kObj);

  for (int i = 0; i < 20; ++i) {
    ObjectID s = ObjectID::FromRandom();
    auto span = PutObject(*store, 1, s, "", Pattern(kObj, 1000 + i), false);
    ASSERT_TRUE(span.ok()) << "secondary " << i << ": " << span.status();
    EXPECT_NE(span->offset, pspan.offset);
    ASSERT_TRUE(store->Contains(p)) << "after secondary " << i;
  }
  EXPECT_EQ(store->Stats().evicted_objects_total(), 17);  // 20 created, 3 fit beside P
  EXPECT_EQ(store->Info(p).pins(), 1);
  EXPECT_EQ(MetaAt(*store, pspan), "pin");
  EXPECT_EQ(HashBytes(DataAt(*store, pspan)), HashBytes(pdata));

  // An object of the whole capacity needs P's room: full for now.
  ObjectID big = ObjectID::FromRandom();
  auto s = store->CreateObject(1, big, 0, 4 * kObj, false);
  ASSERT_TRUE(absl::IsUnavailable(s.status())) << s.status();
  EXPECT_TRUE(store->Contains(p));
  EXPECT_EQ(HashBytes(DataAt(*store, pspan)), HashBytes(pdata));

  // Unpinned, P is the last evictable object and goes.
  store->Release(7, p);
  s = store->CreateObject(1, big, 0, 4 * kObj, false);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_FALSE(store->Contains(p));
}

// ---- spilling ------------------------------------------------------------------------------

TEST(LocalStoreTest, SpillsAndRestoresOneGibibyteBitExact) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  constexpr uint64_t kCapacity = 64 * kMiB;
  constexpr uint64_t kObj = 4 * kMiB;
  constexpr int kCount = 256;  // 1 GiB
  constexpr int kTimeoutMs = 30000;
  auto store = MakeStore(dir, kCapacity, 0.8);
  ASSERT_NE(store, nullptr);
  const std::string spill_dir = dir.Sub("spill");
  auto t0 = std::chrono::steady_clock::now();

  std::vector<ObjectID> ids;
  std::vector<uint64_t> hashes;
  auto meta_of = [](int i) { return "obj-" + std::to_string(i) + "-meta"; };
  for (int i = 0; i < kCount; ++i) {
    ObjectID id = ObjectID::FromRandom();
    std::string meta = meta_of(i);
    auto span = CreateRetrying(*store, 1, id, meta.size(), kObj, true, kTimeoutMs);
    ASSERT_TRUE(span.ok()) << "object " << i << " (gave up after " << kTimeoutMs
                           << " ms): " << span.status();
    char* base = store->arena().base();
    std::memcpy(base + span->offset, meta.data(), meta.size());
    FillPattern(base + span->data_offset(), kObj, 5000 + i);
    hashes.push_back(HashBytes(base + span->data_offset(), kObj));
    ASSERT_TRUE(store->Seal(1, id).ok());
    ids.push_back(id);
  }
  auto t1 = std::chrono::steady_clock::now();

  rpc::StoreStats stats = store->Stats();
  EXPECT_GT(stats.spilled_bytes_total(), 0);
  EXPECT_GT(stats.spilled_objects_total(), 0);
  EXPECT_GT(stats.spill_files(), 0);
  EXPECT_GT(stats.spilled_bytes_current(), 0);
  EXPECT_EQ(stats.num_objects(), kCount);
  EXPECT_LE(stats.bytes_used(), static_cast<int64_t>(kCapacity));
  EXPECT_GT(CountFiles(spill_dir), 0u) << "no spill files in " << spill_dir;
  rpc::StoreObject first = store->Info(ids[0]);
  EXPECT_TRUE(first.spilled());
  EXPECT_FALSE(first.in_memory());

  int retries = 0;
  for (int i = 0; i < kCount; ++i) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kTimeoutMs);
    std::vector<LocalStore::GetResult> got;
    for (;;) {
      got = store->Get(2, {ids[i]});
      if (got[0].status != LocalStore::GetStatus::kRetry) break;
      ++retries;
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "object " << i << " never restored";
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ASSERT_EQ(got[0].status, LocalStore::GetStatus::kFound) << "object " << i;
    EXPECT_EQ(MetaAt(*store, got[0].span), meta_of(i));
    ASSERT_EQ(got[0].span.data_size, kObj);
    EXPECT_EQ(HashBytes(DataAt(*store, got[0].span)), hashes[i]) << "object " << i;
    store->Release(2, ids[i]);
  }
  auto t2 = std::chrono::steady_clock::now();

  stats = store->Stats();
  EXPECT_GT(stats.restored_bytes_total(), 0);
  EXPECT_GT(stats.restored_objects_total(), 0);
  EXPECT_GT(CountFiles(spill_dir), 0u);
  std::printf(
      "[ spill ] wrote 1 GiB in %.2f s, read back in %.2f s; spilled %lld objects (%lld "
      "bytes), restored %lld objects, %d get retries, %lld spill files\n",
      std::chrono::duration<double>(t1 - t0).count(),
      std::chrono::duration<double>(t2 - t1).count(),
      static_cast<long long>(stats.spilled_objects_total()),
      static_cast<long long>(stats.spilled_bytes_total()),
      static_cast<long long>(stats.restored_objects_total()), retries,
      static_cast<long long>(stats.spill_files()));

  // Spill files go with the last of their objects.
  for (const auto& id : ids) store->Delete(id);
  EXPECT_TRUE(WaitFor(
      [&] {
        rpc::StoreStats s = store->Stats();
        return CountFiles(spill_dir) == 0 && s.spill_files() == 0 && s.bytes_used() == 0 &&
               s.num_objects() == 0 && s.spilled_bytes_current() == 0;
      },
      10000))
      << "left behind: " << CountFiles(spill_dir) << " files in " << spill_dir << "; "
      << store->Stats().DebugString();
}

TEST(LocalStoreTest, DeleteWhilePinnedFreesAfterLastRelease) {
  TempDir dir;
  auto store = MakeStore(dir, 1 * kMiB);
  ASSERT_NE(store, nullptr);
  ObjectID id = ObjectID::FromRandom();
  std::string data = Pattern(100 * kKiB, 3);
  auto span = PutObject(*store, 1, id, "m", data, true);
  ASSERT_TRUE(span.ok());
  const int64_t used = static_cast<int64_t>(ArenaAllocator::RoundUp(span->total()));
  ASSERT_EQ(store->Get(2, {id})[0].status, LocalStore::GetStatus::kFound);
  ASSERT_EQ(store->Get(3, {id})[0].status, LocalStore::GetStatus::kFound);
  EXPECT_EQ(store->Info(id).pins(), 2);

  store->Delete(id);
  EXPECT_FALSE(store->Contains(id));
  EXPECT_EQ(store->Info(id).status(), rpc::StoreObject::NOT_FOUND);
  EXPECT_EQ(store->Get(4, {id})[0].status, LocalStore::GetStatus::kNotFound);
  EXPECT_EQ(store->Stats().num_objects(), 0);
  EXPECT_EQ(store->Stats().bytes_used(), used);  // readers still map it
  EXPECT_EQ(DataAt(*store, *span), data);
  // Not free yet: a create cannot take its place.
  EXPECT_TRUE(absl::IsAlreadyExists(store->CreateObject(1, id, 0, 10, true).status()));

  store->Release(2, id);
  EXPECT_EQ(store->Stats().bytes_used(), used);
  EXPECT_EQ(DataAt(*store, *span), data);
  store->Release(3, id);
  EXPECT_EQ(store->Stats().bytes_used(), 0);
  // The id is free for a new object.
  EXPECT_TRUE(store->CreateObject(1, id, 0, 10, true).ok());
}

TEST(LocalStoreTest, DisconnectClientDropsPinsAndAbortsCreations) {
  TempDir dir;
  auto store = MakeStore(dir, 1 * kMiB);
  ASSERT_NE(store, nullptr);
  ObjectID a = ObjectID::FromRandom(), b = ObjectID::FromRandom();
  auto span = PutObject(*store, 1, a, "", Pattern(1000, 1), true);
  ASSERT_TRUE(span.ok());
  const int64_t base_used = store->Stats().bytes_used();
  ASSERT_EQ(store->Get(5, {a})[0].status, LocalStore::GetStatus::kFound);
  ASSERT_EQ(store->Get(5, {a})[0].status, LocalStore::GetStatus::kFound);
  ASSERT_TRUE(store->CreateObject(5, b, 0, 5000, true).ok());
  EXPECT_EQ(store->Info(a).pins(), 2);
  EXPECT_GT(store->Stats().bytes_used(), base_used);

  store->DisconnectClient(5);
  EXPECT_EQ(store->Info(a).pins(), 0);
  EXPECT_TRUE(store->Contains(a));
  EXPECT_FALSE(store->Contains(b));
  EXPECT_EQ(store->Stats().bytes_used(), base_used);
  EXPECT_TRUE(absl::IsNotFound(store->Seal(5, b)));
  EXPECT_TRUE(store->CreateObject(6, b, 0, 5000, true).ok());
}

// ---- transfers -----------------------------------------------------------------------------

TEST(LocalStoreTest, TransferReadsSameBytesFromMemoryAndFromSpill) {
  TempDir dir;
  auto store = MakeStore(dir, 8 * kMiB, 0.5);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(absl::IsNotFound(store->OpenForTransfer(ObjectID::FromRandom()).status()));

  ObjectID x = ObjectID::FromRandom();
  std::string meta = "transfer-meta-x";  // 15 bytes: data starts after padding
  std::string data = Pattern(1 * kMiB + 13, 42);
  ASSERT_TRUE(PutObject(*store, 1, x, meta, data, true).ok());
  const std::string expect = meta + data;

  // In memory: served from the arena, pinned while open.
  auto mem = store->OpenForTransfer(x);
  ASSERT_TRUE(mem.ok()) << mem.status();
  EXPECT_TRUE(mem->in_memory);
  EXPECT_EQ(store->Info(x).pins(), 1);
  std::string from_memory = ReadTransfer(*store, *mem);
  store->CloseTransfer(*mem);
  EXPECT_EQ(store->Info(x).pins(), 0);
  ASSERT_EQ(from_memory.size(), expect.size());
  EXPECT_TRUE(from_memory == expect) << "in-memory transfer differs";

  // Fill the store with more primaries until X is spilled and its memory freed.
  for (int i = 0; i < 6; ++i) {
    ObjectID f = ObjectID::FromRandom();
    auto span = CreateRetrying(*store, 1, f, 0, 1 * kMiB, true, 10000);
    ASSERT_TRUE(span.ok()) << span.status();
    FillPattern(store->arena().base() + span->data_offset(), 1 * kMiB, 100 + i);
    ASSERT_TRUE(store->Seal(1, f).ok());
  }
  ASSERT_TRUE(WaitFor(
      [&] {
        rpc::StoreObject info = store->Info(x);
        return info.spilled() && !info.in_memory();
      },
      10000))
      << store->Info(x).DebugString();

  auto disk = store->OpenForTransfer(x);
  ASSERT_TRUE(disk.ok()) << disk.status();
  EXPECT_FALSE(disk->in_memory);
  std::string from_disk = ReadTransfer(*store, *disk);
  ASSERT_EQ(from_disk.size(), expect.size());
  EXPECT_TRUE(from_disk == expect) << "spilled transfer differs";
  EXPECT_TRUE(from_disk == from_memory);

  // The owner deletes X mid-transfer: the open transfer still reads it.
  store->Delete(x);
  EXPECT_FALSE(store->Contains(x));
  std::string again = ReadTransfer(*store, *disk);
  EXPECT_TRUE(again == expect) << "transfer lost its spill file after Delete";
  store->CloseTransfer(*disk);
  EXPECT_TRUE(absl::IsNotFound(store->OpenForTransfer(x).status()));
}

// When spilling cannot write (here: the spill folder cannot be created, as on a
// full or read-only disk), a create that needs room fails with a message that
// names the spill error, and objects already in memory stay readable.
TEST(LocalStoreTest, SpillFailureIsReportedInTheFullStoreError) {
  StoreOptions opts;
  opts.capacity = 1 * kMiB;
  opts.spill_dir = "/proc/photon-cannot-create-this";
  auto created = LocalStore::Create(opts);
  ASSERT_TRUE(created.ok()) << created.status();
  auto& store = **created;
  std::vector<ObjectID> ids;
  for (int i = 0; i < 4; ++i) {
    ids.push_back(ObjectID::FromRandom());
    ASSERT_TRUE(PutObject(store, 1, ids.back(), "", Pattern(256 * kKiB - 64, i), true).ok());
  }
  absl::Status last;
  ASSERT_TRUE(WaitFor(
      [&] {
        last = store.CreateObject(1, ObjectID::FromRandom(), 0, 256 * kKiB, true).status();
        return std::string(last.message()).find("spilling failed") != std::string::npos;
      },
      5000))
      << last;
  EXPECT_TRUE(absl::IsUnavailable(last)) << last;
  EXPECT_THAT(std::string(last.message()), HasSubstr("photon-cannot-create-this"));
  for (int i = 0; i < 4; ++i) {
    auto r = store.Get(2, {ids[i]});
    ASSERT_EQ(r[0].status, LocalStore::GetStatus::kFound);
    store.Release(2, ids[i]);
  }
}

}  // namespace
}  // namespace photon::object_store
