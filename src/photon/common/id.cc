#include "photon/common/id.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "fmt/format.h"
#include "photon/common/hash.h"

namespace photon {
namespace {

// Seeds that keep the derivations of different ID kinds apart even when they
// hash the same bytes.
constexpr uint64_t kNormalTaskSeed = 0x6e6f726d616c5441ULL;
constexpr uint64_t kActorTaskSeed = 0x6163746f72546b41ULL;
constexpr uint64_t kDriverTaskSeed = 0x6472697665725441ULL;
constexpr uint64_t kActorSeed = 0x6163746f72494441ULL;

// Hashes (parent bytes, counter) into `n` bytes at `out` (n <= 16).
void DeriveUnique(std::string_view parent, uint64_t counter, uint64_t seed, uint8_t* out,
                  size_t n) {
  std::string buf(parent);
  buf.append(reinterpret_cast<const char*>(&counter), sizeof(counter));
  Hash128Value h = StableHash128(buf, seed);
  uint8_t tmp[16];
  std::memcpy(tmp, &h.low, 8);
  std::memcpy(tmp + 8, &h.high, 8);
  std::memcpy(out, tmp, n);
}

bool AllBytesAre(const uint8_t* p, size_t n, uint8_t v) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != v) return false;
  }
  return true;
}

}  // namespace

void FillRandom(uint8_t* out, size_t n) {
  thread_local absl::BitGen gen;
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = absl::Uniform<uint64_t>(gen);
    std::memcpy(out + i, &v, std::min<size_t>(8, n - i));
  }
}

// ---- BaseID -----------------------------------------------------------------

template <typename D, size_t N>
absl::StatusOr<D> BaseID<D, N>::FromBinary(std::string_view binary) {
  if (binary.size() != N) {
    return absl::InvalidArgumentError(
        fmt::format("an ID of this kind is {} bytes, got {}", N, binary.size()));
  }
  D id;
  std::memcpy(id.mutable_data(), binary.data(), N);
  return id;
}

template <typename D, size_t N>
D BaseID<D, N>::FromBinaryOrDie(std::string_view binary) {
  auto id = FromBinary(binary);
  if (!id.ok()) std::abort();
  return *id;
}

template <typename D, size_t N>
absl::StatusOr<D> BaseID<D, N>::FromHex(std::string_view hex) {
  if (hex.size() != 2 * N) {
    return absl::InvalidArgumentError(
        fmt::format("a hex ID of this kind has {} digits, got {}: '{}'", 2 * N, hex.size(), hex));
  }
  for (char c : hex) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(fmt::format("not a hex ID: '{}'", hex));
    }
  }
  return FromBinary(absl::HexStringToBytes(absl::string_view(hex.data(), hex.size())));
}

template <typename D, size_t N>
std::string BaseID<D, N>::Hex() const {
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(bytes_.data()), N));
}

template <typename D, size_t N>
bool BaseID<D, N>::IsNil() const {
  return AllBytesAre(bytes_.data(), N, 0xff);
}

template <typename D, size_t N>
size_t BaseID<D, N>::Hash() const {
  return StableHash64(std::string_view(reinterpret_cast<const char*>(bytes_.data()), N));
}

template class BaseID<JobID, 8>;
template class BaseID<ActorID, 20>;
template class BaseID<TaskID, 36>;
template class BaseID<ObjectID, 40>;
template class BaseID<PlacementGroupID, 20>;
template class BaseID<NodeID, 16>;
template class BaseID<WorkerID, 24>;

// ---- JobID ------------------------------------------------------------------

JobID JobID::FromParts(uint32_t version, uint32_t counter) {
  JobID id;
  uint8_t* d = id.mutable_data();
  for (int i = 0; i < 4; ++i) {
    d[i] = static_cast<uint8_t>(version >> (24 - 8 * i));
    d[4 + i] = static_cast<uint8_t>(counter >> (24 - 8 * i));
  }
  return id;
}

uint32_t JobID::Version() const {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | data()[i];
  return v;
}

uint32_t JobID::Counter() const {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | data()[4 + i];
  return v;
}

// ---- ActorID ----------------------------------------------------------------

ActorID ActorID::Of(const JobID& job, const TaskID& parent_task, uint64_t counter) {
  ActorID id;
  DeriveUnique(parent_task.Binary(), counter, kActorSeed, id.mutable_data(), kUniqueSize);
  if (AllBytesAre(id.data(), kUniqueSize, 0xff)) id.mutable_data()[0] = 0;  // never nil
  std::memcpy(id.mutable_data() + kUniqueSize, job.data(), JobID::kSize);
  return id;
}

ActorID ActorID::NilFromJob(const JobID& job) {
  ActorID id;
  std::memcpy(id.mutable_data() + kUniqueSize, job.data(), JobID::kSize);
  return id;
}

JobID ActorID::JobId() const {
  return JobID::FromBinaryOrDie(
      std::string_view(reinterpret_cast<const char*>(data()) + kUniqueSize, JobID::kSize));
}

bool ActorID::IsNilActor() const { return AllBytesAre(data(), kUniqueSize, 0xff); }

// ---- TaskID -----------------------------------------------------------------

namespace {
TaskID MakeTask(const uint8_t* unique, const ActorID& actor) {
  std::string bin(reinterpret_cast<const char*>(unique), TaskID::kUniqueSize);
  bin += actor.Binary();
  return TaskID::FromBinaryOrDie(bin);
}
}  // namespace

TaskID TaskID::ForDriverTask(const JobID& job) {
  uint8_t u[kUniqueSize];
  DeriveUnique(job.Binary(), 0, kDriverTaskSeed, u, kUniqueSize);
  return MakeTask(u, ActorID::NilFromJob(job));
}

TaskID TaskID::ForNormalTask(const JobID& job, const TaskID& parent, uint64_t counter) {
  uint8_t u[kUniqueSize];
  DeriveUnique(parent.Binary(), counter, kNormalTaskSeed, u, kUniqueSize);
  return MakeTask(u, ActorID::NilFromJob(job));
}

TaskID TaskID::ForActorCreationTask(const ActorID& actor) {
  uint8_t u[kUniqueSize] = {0};
  return MakeTask(u, actor);
}

TaskID TaskID::ForActorTask(const JobID& job, const TaskID& parent, uint64_t counter,
                            const ActorID& actor) {
  uint8_t u[kUniqueSize];
  DeriveUnique(parent.Binary() + actor.Binary(), counter, kActorTaskSeed, u, kUniqueSize);
  if (AllBytesAre(u, kUniqueSize, 0)) u[0] = 1;  // never the creation task's
  return MakeTask(u, actor);
}

TaskID TaskID::FromRandom(const JobID& job) {
  uint8_t u[kUniqueSize];
  FillRandom(u, kUniqueSize);
  return MakeTask(u, ActorID::NilFromJob(job));
}

ActorID TaskID::ActorId() const {
  return ActorID::FromBinaryOrDie(
      std::string_view(reinterpret_cast<const char*>(data()) + kUniqueSize, ActorID::kSize));
}

JobID TaskID::JobId() const { return ActorId().JobId(); }

bool TaskID::IsForActorCreationTask() const { return AllBytesAre(data(), kUniqueSize, 0); }

// ---- ObjectID ---------------------------------------------------------------

namespace {
ObjectID MakeObject(const TaskID& task, uint32_t raw_index) {
  std::string bin = task.Binary();
  bin.append(reinterpret_cast<const char*>(&raw_index), 4);  // little-endian hosts only
  return ObjectID::FromBinaryOrDie(bin);
}
}  // namespace

ObjectID ObjectID::FromIndex(const TaskID& task, uint32_t index) {
  return MakeObject(task, index & kMaxIndex);
}

ObjectID ObjectID::ForPut(const TaskID& task, uint32_t put_index) {
  return MakeObject(task, (put_index & kMaxIndex) | kPutFlag);
}

ObjectID ObjectID::ForActorHandle(const ActorID& actor) {
  return MakeObject(TaskID::ForActorCreationTask(actor), kMaxIndex);
}

bool ObjectID::IsActorHandle() const {
  return IsReturn() && ObjectIndex() == kMaxIndex && TaskId().IsForActorCreationTask();
}

ObjectID ObjectID::FromRandom() {
  ObjectID id;
  FillRandom(id.mutable_data(), kSize);
  return id;
}

TaskID ObjectID::TaskId() const {
  return TaskID::FromBinaryOrDie(
      std::string_view(reinterpret_cast<const char*>(data()), TaskID::kSize));
}

uint32_t ObjectID::ObjectIndex() const {
  uint32_t raw;
  std::memcpy(&raw, data() + TaskID::kSize, 4);
  return raw & kMaxIndex;
}

bool ObjectID::IsPut() const {
  uint32_t raw;
  std::memcpy(&raw, data() + TaskID::kSize, 4);
  return (raw & kPutFlag) != 0;
}

// ---- PlacementGroupID, NodeID, WorkerID --------------------------------------

PlacementGroupID PlacementGroupID::FromRandom(const JobID& job) {
  PlacementGroupID id;
  FillRandom(id.mutable_data(), kUniqueSize);
  std::memcpy(id.mutable_data() + kUniqueSize, job.data(), JobID::kSize);
  return id;
}

JobID PlacementGroupID::JobId() const {
  return JobID::FromBinaryOrDie(
      std::string_view(reinterpret_cast<const char*>(data()) + kUniqueSize, JobID::kSize));
}

NodeID NodeID::FromRandom() {
  NodeID id;
  FillRandom(id.mutable_data(), kSize);
  return id;
}

WorkerID WorkerID::FromRandom(const NodeID& node) {
  WorkerID id;
  std::memcpy(id.mutable_data(), node.data(), NodeID::kSize);
  FillRandom(id.mutable_data() + NodeID::kSize, kUniqueSize);
  return id;
}

NodeID WorkerID::NodeId() const {
  return NodeID::FromBinaryOrDie(
      std::string_view(reinterpret_cast<const char*>(data()), NodeID::kSize));
}

}  // namespace photon
