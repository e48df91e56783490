// photon::ObjectRef<T> and the object API: Put, Get, Wait, Cancel.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "photon/errors.h"
#include "photon/internal/runtime.h"
#include "photon/serializer.h"

namespace photon {

template <typename T>
class ObjectRef;

namespace internal {

template <typename T>
struct IsObjectRefT : std::false_type {};
template <typename T>
struct IsObjectRefT<ObjectRef<T>> : std::true_type {};
// True for photon::ObjectRef<T> (any cv-ref qualification).
template <typename T>
inline constexpr bool kIsObjectRef = IsObjectRefT<std::remove_cvref_t<T>>::value;

// Tag: construct an ObjectRef that takes over a local reference the runtime already counted.
struct AdoptReference {};

// What Get returns for an ObjectRef<T>: std::shared_ptr<T>, or nothing for T = void.
template <typename T>
using GetResult = std::conditional_t<std::is_void_v<T>, void, std::shared_ptr<T>>;
template <typename T>
using GetManyResult = std::conditional_t<std::is_void_v<T>, void, std::vector<std::shared_ptr<T>>>;

// Adds / removes one local reference to `object_id` with the runtime, if `object_id` is not
// empty and a runtime is installed (so refs outliving Shutdown are harmless). Release never
// throws (errors from the runtime are dropped: it runs in destructors).
void RetainObject(const std::string& object_id);
void ReleaseObject(const std::string& object_id) noexcept;

// Lower-case hex of a binary id ("" for "").
std::string HexOfObjectId(const std::string& binary);

// Throws std::invalid_argument("<api>: ...") for a nil ObjectRef (empty id).
void CheckNotNil(const std::string& object_id, const char* api);

// GetRuntime().Get(ids, timeout_ms), after checking timeout_ms >= -1 (else
// std::invalid_argument) and, after the call, that one buffer came back per id.
std::vector<ObjectBuffer> GetObjects(const std::vector<std::string>& object_ids,
                                     int64_t timeout_ms);

// GetRuntime().Wait(ids, num_objects, timeout_ms), after checking 1 <= num_objects <=
// ids.size() and timeout_ms >= -1 (else std::invalid_argument).
std::vector<bool> WaitObjects(const std::vector<std::string>& object_ids, int num_objects,
                              int64_t timeout_ms);

template <typename T>
std::vector<std::string> ObjectIdsOf(const std::vector<ObjectRef<T>>& refs, const char* api) {
  std::vector<std::string> ids;
  ids.reserve(refs.size());
  for (const ObjectRef<T>& ref : refs) {
    CheckNotNil(ref.Binary(), api);
    ids.push_back(ref.Binary());
  }
  return ids;
}

}  // namespace internal

// Blocks until the object exists, then returns its value (deserialized into a new T each
// call); for ObjectRef<void>, returns nothing once the task has finished. `timeout_ms` is
// how long to wait: -1 (the default) waits forever.
// Throws: std::invalid_argument for a nil ref or timeout_ms < -1; GetTimeoutError when the
// timeout passes; the error stored for a failed task (TaskError, WorkerCrashedError,
// TaskCancelledError, ObjectLostError, ...); photon::Error if photon::Init has not run or the
// bytes do not deserialize as T. Any thread may call it.
template <typename T>
internal::GetResult<T> Get(const ObjectRef<T>& ref);
template <typename T>
internal::GetResult<T> Get(const ObjectRef<T>& ref, int64_t timeout_ms);

// A handle to an object in the cluster: a value that Put stored or that a task returns (or
// will return). Cheap to copy; every copy holds one local reference, and the object may be
// freed once no handle (and no pending task) refers to it. A default-constructed ref is nil
// and refers to nothing.
//
// Thread-safety: like std::shared_ptr; different ObjectRef objects (even copies of one
// another) may be used from different threads at once, one ObjectRef object may be read
// concurrently but not written.
template <typename T>
class ObjectRef {
 public:
  // The type of the referenced value (void for the result of a void function).
  using ValueType = T;

  // A nil ref.
  ObjectRef() = default;
  // Takes over the one local reference to `object_id` (a binary ObjectID) that the runtime
  // counted when it returned the id. For the API and the runtime; users get refs from Put
  // and Task(...).Remote.
  ObjectRef(internal::AdoptReference, std::string object_id) noexcept : id_(std::move(object_id)) {}

  // Copying adds a local reference; moving transfers it (the source becomes nil);
  // destruction removes it. After photon::Shutdown these touch no runtime.
  ObjectRef(const ObjectRef& other) : id_(other.id_) { internal::RetainObject(id_); }
  ObjectRef(ObjectRef&& other) noexcept : id_(std::exchange(other.id_, std::string())) {}
  ObjectRef& operator=(const ObjectRef& other) {
    ObjectRef copy(other);
    id_.swap(copy.id_);
    return *this;
  }
  ObjectRef& operator=(ObjectRef&& other) noexcept {
    if (this != &other) {
      internal::ReleaseObject(id_);
      id_ = std::exchange(other.id_, std::string());
    }
    return *this;
  }
  ~ObjectRef() { internal::ReleaseObject(id_); }

  // The object id in lower-case hex; "" for a nil ref.
  std::string ID() const { return internal::HexOfObjectId(id_); }
  // The binary object id; empty for a nil ref.
  const std::string& Binary() const { return id_; }
  // True for a default-constructed (or moved-from) ref.
  bool IsNil() const { return id_.empty(); }

  // photon::Get(*this) and photon::Get(*this, timeout_ms): see there.
  internal::GetResult<T> Get() const { return photon::Get(*this); }
  internal::GetResult<T> Get(int64_t timeout_ms) const { return photon::Get(*this, timeout_ms); }

  // Refs compare by object id (nil refs are equal to each other).
  friend bool operator==(const ObjectRef& a, const ObjectRef& b) { return a.id_ == b.id_; }
  friend std::strong_ordering operator<=>(const ObjectRef& a, const ObjectRef& b) {
    return a.id_ <=> b.id_;
  }

 private:
  std::string id_;
};

// The result of Wait: the input refs split into those whose objects exist and the rest,
// each in input order.
template <typename T>
struct WaitResult {
  std::vector<ObjectRef<T>> ready;
  std::vector<ObjectRef<T>> unready;
};

// Stores a copy of `value` in the object store and returns a ref to it (the caller owns
// the object: it lives while refs to it do). T must be serializable (photon/serializer.h).
// Throws photon::Error if photon::Init has not run or the value cannot be stored
// (ObjectStoreFullError). Blocks while the value is copied; any thread may call it.
template <typename T>
ObjectRef<T> Put(const T& value) {
  static_assert(!std::is_array_v<T> && !std::is_pointer_v<T>,
                "photon::Put: put a std::string or container, not a raw array or pointer");
  static_assert(!internal::kIsObjectRef<T>, "photon::Put: putting an ObjectRef is not supported");
  internal::PackedActorHandles nested;
  std::string bytes = Serialize(value);
  return ObjectRef<T>(internal::AdoptReference{},
                      internal::GetRuntime().Put(std::move(bytes), nested.ids()));
}

template <typename T>
internal::GetResult<T> Get(const ObjectRef<T>& ref, int64_t timeout_ms) {
  internal::CheckNotNil(ref.Binary(), "photon::Get");
  if constexpr (std::is_void_v<T>) {
    internal::GetObjects({ref.Binary()}, timeout_ms);
  } else {
    std::vector<internal::ObjectBuffer> buffers = internal::GetObjects({ref.Binary()}, timeout_ms);
    return std::make_shared<T>(Deserialize<T>(buffers[0].data, buffers[0].size));
  }
}

template <typename T>
internal::GetResult<T> Get(const ObjectRef<T>& ref) {
  return photon::Get(ref, -1);
}

// Blocks until every object exists (or `timeout_ms` passes; -1, the default, waits
// forever) and returns their values in input order, fetched with one runtime call; for
// ObjectRef<void>, returns nothing once every task has finished. An empty input returns
// at once. Throws as Get of one ref does (the first failed object's error).
template <typename T>
internal::GetManyResult<T> Get(const std::vector<ObjectRef<T>>& refs, int64_t timeout_ms = -1) {
  std::vector<std::string> ids = internal::ObjectIdsOf(refs, "photon::Get");
  if (ids.empty()) {
    return internal::GetManyResult<T>();
  }
  if constexpr (std::is_void_v<T>) {
    internal::GetObjects(ids, timeout_ms);
  } else {
    std::vector<internal::ObjectBuffer> buffers = internal::GetObjects(ids, timeout_ms);
    std::vector<std::shared_ptr<T>> values;
    values.reserve(buffers.size());
    for (const internal::ObjectBuffer& buffer : buffers) {
      values.push_back(std::make_shared<T>(Deserialize<T>(buffer.data, buffer.size)));
    }
    return values;
  }
}

// Blocks until `num_objects` of `refs` exist or `timeout_ms` passes (-1: forever), then
// returns which exist; a timeout is not an error (fewer than num_objects are ready).
// Both lists keep input order and hold copies of the input refs. Throws
// std::invalid_argument unless 1 <= num_objects <= refs.size() and timeout_ms >= -1, or
// for a nil ref; photon::Error if photon::Init has not run. Any thread may call it.
template <typename T>
WaitResult<T> Wait(const std::vector<ObjectRef<T>>& refs, int num_objects, int64_t timeout_ms) {
  std::vector<bool> ready =
      internal::WaitObjects(internal::ObjectIdsOf(refs, "photon::Wait"), num_objects, timeout_ms);
  WaitResult<T> result;
  for (std::size_t i = 0; i < refs.size(); ++i) {
    (ready[i] ? result.ready : result.unready).push_back(refs[i]);
  }
  return result;
}

// Asks the runtime to cancel the task that makes `ref`'s object, if it has not finished;
// a later Get then throws TaskCancelledError. Does nothing for a finished task or a Put
// object. Does not block. Throws std::invalid_argument for a nil ref; photon::Error if
// photon::Init has not run.
template <typename T>
void Cancel(const ObjectRef<T>& ref) {
  internal::CheckNotNil(ref.Binary(), "photon::Cancel");
  internal::GetRuntime().Cancel(ref.Binary());
}

}  // namespace photon

// ObjectRefs hash by object id, for unordered containers.
template <typename T>
struct std::hash<photon::ObjectRef<T>> {
  std::size_t operator()(const photon::ObjectRef<T>& ref) const noexcept {
    return std::hash<std::string>()(ref.Binary());
  }
};
