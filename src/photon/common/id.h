// Strongly typed identifiers of everything Photon names.
//
// Layouts (docs/ids.md is the reference; the static_asserts below pin sizes):
//   JobID            8 B = version (4, big-endian) | counter (4, big-endian)
//   ActorID         20 B = unique (12)  | JobID (8)
//   TaskID          36 B = unique (16)  | ActorID (20)
//   ObjectID        40 B = TaskID (36)  | index (4, little-endian; top bit set for puts)
//   PlacementGroupID 20 B = unique (12) | JobID (8)
//   NodeID          16 B = random
//   WorkerID        24 B = NodeID (16)  | unique (8)
// IDs nest, so the job of any actor, task or object (and the node of any
// worker) is read from the ID itself. Task IDs are derived deterministically
// from the parent task and the parent's submission counter, so re-executing a
// task recreates the same ObjectIDs.
//
// Every ID is a fixed-size value type: cheap to copy, hashable (absl and std),
// ordered, thread-compatible. The nil value of every type is all 0xff bytes.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace photon {

// CRTP base shared by every ID type. `Derived` is the concrete type, `N` its
// width in bytes.
template <typename Derived, size_t N>
class BaseID {
 public:
  static constexpr size_t kSize = N;

  // A default-constructed ID is nil.
  BaseID() { bytes_.fill(0xff); }

  static Derived Nil() { return Derived(); }

  // Parses the raw bytes of an ID. Fails with InvalidArgument if `binary` is
  // not exactly kSize bytes long.
  static absl::StatusOr<Derived> FromBinary(std::string_view binary);
  // Parses the lowercase or uppercase hex form (2 * kSize digits). Fails with
  // InvalidArgument on a wrong length or a non-hex digit.
  static absl::StatusOr<Derived> FromHex(std::string_view hex);
  // As FromBinary, for bytes already known to be kSize long (e.g. from a
  // protobuf field we wrote ourselves); aborts on a wrong size.
  static Derived FromBinaryOrDie(std::string_view binary);

  std::string Binary() const {
    return std::string(reinterpret_cast<const char*>(bytes_.data()), N);
  }
  std::string Hex() const;
  bool IsNil() const;
  const uint8_t* data() const { return bytes_.data(); }
  static constexpr size_t size() { return N; }

  // A well-mixed hash of all bytes; stable across processes.
  size_t Hash() const;

  friend bool operator==(const Derived& a, const Derived& b) { return a.bytes_ == b.bytes_; }
  friend auto operator<=>(const Derived& a, const Derived& b) { return a.bytes_ <=> b.bytes_; }
  template <typename H>
  friend H AbslHashValue(H h, const Derived& id) {
    return H::combine(std::move(h), id.Hash());
  }
  friend std::ostream& operator<<(std::ostream& os, const Derived& id) { return os << id.Hex(); }

 protected:
  uint8_t* mutable_data() { return bytes_.data(); }
  std::array<uint8_t, N> bytes_;
};

class JobID : public BaseID<JobID, 8> {
 public:
  JobID() = default;
  // A job ID from the GCS's cluster version and its job counter.
  static JobID FromParts(uint32_t version, uint32_t counter);
  uint32_t Version() const;
  uint32_t Counter() const;
};

class ActorID : public BaseID<ActorID, 20> {
 public:
  static constexpr size_t kUniqueSize = 12;
  ActorID() = default;
  // The actor created by the `counter`-th submission of `parent_task`.
  static ActorID Of(const JobID& job, const class TaskID& parent_task, uint64_t counter);
  // The "no actor" value of `job`: unique part nil, job part set. Normal
  // (non-actor) tasks embed it so their job stays readable.
  static ActorID NilFromJob(const JobID& job);
  JobID JobId() const;
  // True if the unique part is nil (a normal task's actor part).
  bool IsNilActor() const;
};

class TaskID : public BaseID<TaskID, 36> {
 public:
  static constexpr size_t kUniqueSize = 16;
  TaskID() = default;
  // The root task of a driver: the parent of everything the driver submits.
  static TaskID ForDriverTask(const JobID& job);
  // The `counter`-th normal task submitted by `parent`.
  static TaskID ForNormalTask(const JobID& job, const TaskID& parent, uint64_t counter);
  // The creation task of `actor` (unique part all zero).
  static TaskID ForActorCreationTask(const ActorID& actor);
  // The `counter`-th call `parent` submits to `actor`.
  static TaskID ForActorTask(const JobID& job, const TaskID& parent, uint64_t counter,
                             const ActorID& actor);
  // A random task ID in `job` (for tests and for roots that need no determinism).
  static TaskID FromRandom(const JobID& job);

  ActorID ActorId() const;
  JobID JobId() const;
  bool IsForActorCreationTask() const;
};

class ObjectID : public BaseID<ObjectID, 40> {
 public:
  static constexpr uint32_t kPutFlag = 0x80000000u;
  static constexpr uint32_t kMaxIndex = 0x7fffffffu;
  ObjectID() = default;
  // The `index`-th return value (1-based) of `task`. `index` <= kMaxIndex.
  static ObjectID FromIndex(const TaskID& task, uint32_t index);
  // The `put_index`-th object that `task` put (1-based). `put_index` <= kMaxIndex.
  static ObjectID ForPut(const TaskID& task, uint32_t put_index);
  // A random object ID (for tests).
  static ObjectID FromRandom();
  // The object that stands for `actor`'s handles in reference counting: a
  // return index of its creation task that no task returns (kMaxIndex).
  static ObjectID ForActorHandle(const ActorID& actor);

  TaskID TaskId() const;
  JobID JobId() const { return TaskId().JobId(); }
  // The return or put index, without the put flag.
  uint32_t ObjectIndex() const;
  bool IsPut() const;
  bool IsReturn() const { return !IsPut(); }
  // Made by ForActorHandle.
  bool IsActorHandle() const;
};

class PlacementGroupID : public BaseID<PlacementGroupID, 20> {
 public:
  static constexpr size_t kUniqueSize = 12;
  PlacementGroupID() = default;
  static PlacementGroupID FromRandom(const JobID& job);
  JobID JobId() const;
};

class NodeID : public BaseID<NodeID, 16> {
 public:
  NodeID() = default;
  static NodeID FromRandom();
};

class WorkerID : public BaseID<WorkerID, 24> {
 public:
  static constexpr size_t kUniqueSize = 8;
  WorkerID() = default;
  static WorkerID FromRandom(const NodeID& node);
  NodeID NodeId() const;
};

static_assert(sizeof(JobID) == 8);
static_assert(sizeof(ActorID) == ActorID::kUniqueSize + JobID::kSize && sizeof(ActorID) == 20);
static_assert(sizeof(TaskID) == TaskID::kUniqueSize + ActorID::kSize && sizeof(TaskID) == 36);
static_assert(sizeof(ObjectID) == TaskID::kSize + 4 && sizeof(ObjectID) == 40);
static_assert(sizeof(PlacementGroupID) == PlacementGroupID::kUniqueSize + JobID::kSize);
static_assert(sizeof(NodeID) == 16);
static_assert(sizeof(WorkerID) == NodeID::kSize + WorkerID::kUniqueSize && sizeof(WorkerID) == 24);

// Fills `out` with `n` random bytes from a per-thread generator seeded by the OS.
void FillRandom(uint8_t* out, size_t n);

}  // namespace photon

#define PHOTON_DEFINE_STD_HASH(T)                                               \
  template <>                                                                   \
  struct std::hash<photon::T> {                                                 \
    size_t operator()(const photon::T& id) const noexcept { return id.Hash(); } \
  };
PHOTON_DEFINE_STD_HASH(JobID)
PHOTON_DEFINE_STD_HASH(ActorID)
PHOTON_DEFINE_STD_HASH(TaskID)
PHOTON_DEFINE_STD_HASH(ObjectID)
PHOTON_DEFINE_STD_HASH(PlacementGroupID)
PHOTON_DEFINE_STD_HASH(NodeID)
PHOTON_DEFINE_STD_HASH(WorkerID)
#undef PHOTON_DEFINE_STD_HASH
