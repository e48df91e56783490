// photon::ActorHandle<T>: a handle to an actor, and calls of the actor's methods.
//
//   class Counter {
//    public:
//     explicit Counter(int start) : value_(start) {}
//     static Counter* FactoryCreate(int start) { return new Counter(start); }
//     int Add(int x) { return value_ += x; }
//     int Get() const { return value_; }
//    private:
//     int value_;
//   };
//   PHOTON_REMOTE(Counter::FactoryCreate, &Counter::Add, &Counter::Get);
//   ...
//   photon::ActorHandle<Counter> counter = photon::Actor(Counter::FactoryCreate).Remote(10);
//   photon::ObjectRef<int> eleven = counter.Task(&Counter::Add).Remote(1);
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <msgpack.hpp>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "photon/internal/remote_function.h"
#include "photon/internal/runtime.h"
#include "photon/object_ref.h"
#include "photon/serializer.h"
#include "photon/task_caller.h"

namespace photon {
namespace internal {

// Adds / removes one handle reference to `actor_id` with the runtime, if `actor_id` is not
// empty and a runtime is installed (so handles outliving Shutdown are harmless). Release
// never throws (errors from the runtime are dropped: it runs in destructors).
void RetainActor(const std::string& actor_id);
void ReleaseActor(const std::string& actor_id) noexcept;

// Throws std::invalid_argument("<api>: the ActorHandle is nil") for an empty id.
void CheckActorNotNil(const std::string& actor_id, const char* api);

// A serialized ActorHandle is the msgpack ext value of this type whose data is the binary
// ActorID; a nil handle is msgpack nil.
inline constexpr int8_t kActorHandleExtType = 1;

// Reads the actor id of a serialized ActorHandle ("" for nil) and counts one handle
// reference to it (RetainActor). Throws msgpack::type_error for any other value.
std::string UnpackActorHandle(const msgpack::object& object);

}  // namespace internal

template <typename Signature>
class ActorTaskCaller;

// Builds one call of an actor's method: set options, then Remote(args...). Made by
// ActorHandle<T>::Task(&T::Method). It names the actor but does not keep it alive: use it
// while a handle to the actor exists. Not thread-safe (a short-lived builder owned by one
// thread); it may submit several calls.
template <typename R, typename... Params>
class ActorTaskCaller<R(Params...)> {
 public:
  // The type of the call's result: R without const or reference.
  using ResultType = std::remove_cvref_t<R>;

  // For ActorHandle::Task: a call of the member function whose pointer has type
  // `method_type` and object representation `method` (internal::MemberBytes).
  ActorTaskCaller(std::string actor_id, const std::type_info& method_type, std::string method)
      : actor_id_(std::move(actor_id)), method_type_(&method_type), method_(std::move(method)) {}

  // The call's display name (in logs and the dashboard); default: the method's name.
  ActorTaskCaller& SetName(std::string name) {
    options_.name = std::move(name);
    return *this;
  }

  // Submits the call of the method with `args` and returns a ref to its result at once,
  // without waiting for it to run. Calls from one caller process to one actor run in
  // submission order. Arguments are passed as in photon::Task(f).Remote: values converted
  // to the method's parameter types and serialized now, or ObjectRef<T> (the value is
  // passed; the call waits for the object); the compiler checks them.
  // Throws FunctionNotFoundError if the method was not registered with PHOTON_REMOTE;
  // std::invalid_argument for a nil handle or a nil ObjectRef argument; photon::Error if
  // photon::Init has not run or an argument cannot be serialized. Errors of the call
  // surface from Get of its result: TaskError if the method threw, ActorDiedError if the
  // actor is dead (its constructor threw, it was killed, or it died and may not restart).
  // Thread-safe with respect to other callers.
  template <typename... Args>
  ObjectRef<ResultType> Remote(Args&&... args) const {
    static_assert(sizeof...(Args) == sizeof...(Params),
                  "photon::ActorHandle<T>::Task(&T::m).Remote: wrong number of arguments for m");
    static_assert(sizeof...(Args) != sizeof...(Params) ||
                      internal::ParamList<Params...>::template Fit<Args...>(),
                  "photon::ActorHandle<T>::Task(&T::m).Remote: an argument does not convert to "
                  "the type of m's parameter (an ObjectRef<T> argument counts as a T)");
    if constexpr (internal::ParamList<Params...>::template Fit<Args...>()) {
      static constexpr char kApi[] = "photon::ActorHandle<T>::Task(&T::m).Remote";
      internal::CheckActorNotNil(actor_id_, kApi);
      std::string name = internal::RegisteredMethodNameOf(*method_type_, method_, kApi);
      std::vector<internal::TaskArg> task_args =
          internal::ParamList<Params...>::Encode(kApi, std::forward<Args>(args)...);
      return ObjectRef<ResultType>(
          internal::AdoptReference{},
          internal::GetRuntime().SubmitActorTask(actor_id_, name, std::move(task_args), options_));
    } else {
      return ObjectRef<ResultType>();
    }
  }

  // The options set so far.
  const internal::CallOptions& Options() const { return options_; }

 private:
  std::string actor_id_;
  const std::type_info* method_type_;
  std::string method_;
  internal::CallOptions options_;
};

// A handle to an actor of class T, made by photon::Actor(factory).Remote(...) or
// photon::GetActor<T>(name). Cheap to copy; every copy in this process holds one handle
// reference, and a non-detached actor is destroyed once no handle to it is left anywhere.
// A default-constructed handle is nil.
//
// A handle can be passed as an argument of tasks and actor methods and returned from them
// (it is serializable: see photon/serializer.h); the copy made on the other side is a
// normal handle holding its own reference.
//
// Thread-safety: like std::shared_ptr; different handles (even copies of one another) may
// be used from different threads at once, one handle object may be read concurrently but
// not written.
template <typename T>
class ActorHandle {
 public:
  // The actor's class.
  using ActorType = T;

  // A nil handle.
  ActorHandle() = default;
  // Takes over the one handle reference to `actor_id` (a binary ActorID) that the runtime
  // counted. For the API; users get handles from Actor(...).Remote and GetActor.
  ActorHandle(internal::AdoptReference, std::string actor_id) noexcept : id_(std::move(actor_id)) {}

  // Copying adds a handle reference; moving transfers it (the source becomes nil);
  // destruction removes it. After photon::Shutdown these touch no runtime.
  ActorHandle(const ActorHandle& other) : id_(other.id_) { internal::RetainActor(id_); }
  ActorHandle(ActorHandle&& other) noexcept : id_(std::exchange(other.id_, std::string())) {}
  ActorHandle& operator=(const ActorHandle& other) {
    ActorHandle copy(other);
    id_.swap(copy.id_);
    return *this;
  }
  ActorHandle& operator=(ActorHandle&& other) noexcept {
    if (this != &other) {
      internal::ReleaseActor(id_);
      id_ = std::exchange(other.id_, std::string());
    }
    return *this;
  }
  ~ActorHandle() { internal::ReleaseActor(id_); }

  // The actor id in lower-case hex; "" for a nil handle.
  std::string ID() const { return internal::HexOfObjectId(id_); }
  // The binary actor id; empty for a nil handle.
  const std::string& Binary() const { return id_; }
  // True for a default-constructed (or moved-from) handle.
  bool IsNil() const { return id_.empty(); }

  // A caller of `method`, a member function of T (const or not) registered with
  // PHOTON_REMOTE(&T::Method) (checked at Remote). Methods T inherits from a base class
  // cannot be called. Never throws except std::bad_alloc.
  template <typename R, typename C, typename... Params>
  ActorTaskCaller<R(Params...)> Task(R (C::*method)(Params...)) const {
    static_assert(std::is_same_v<C, T>,
                  "photon::ActorHandle<T>::Task(&C::m): m must be a member function of T itself "
                  "(not of a base class, and not of another class)");
    return ActorTaskCaller<R(Params...)>(id_, typeid(method), internal::MemberBytes(method));
  }
  template <typename R, typename C, typename... Params>
  ActorTaskCaller<R(Params...)> Task(R (C::*method)(Params...) const) const {
    static_assert(std::is_same_v<C, T>,
                  "photon::ActorHandle<T>::Task(&C::m): m must be a member function of T itself "
                  "(not of a base class, and not of another class)");
    return ActorTaskCaller<R(Params...)>(id_, typeid(method), internal::MemberBytes(method));
  }

  // Kills the actor: calls pending on it and later ones fail with ActorDiedError. With
  // no_restart = false, the actor restarts (its factory runs again) if its max_restarts
  // allows. Does not wait for the actor to die. Throws std::invalid_argument for a nil
  // handle; photon::Error if photon::Init has not run.
  void Kill(bool no_restart = true) const {
    internal::CheckActorNotNil(id_, "photon::ActorHandle<T>::Kill");
    internal::GetRuntime().KillActor(id_, no_restart);
  }

  // Handles compare by actor id (nil handles are equal to each other).
  friend bool operator==(const ActorHandle& a, const ActorHandle& b) { return a.id_ == b.id_; }
  friend std::strong_ordering operator<=>(const ActorHandle& a, const ActorHandle& b) {
    return a.id_ <=> b.id_;
  }

  // msgpack serialization (see internal::kActorHandleExtType). Unpacking counts one handle
  // reference for the new handle.
  template <typename Packer>
  void msgpack_pack(Packer& packer) const {
    if (id_.empty()) {
      packer.pack_nil();
      return;
    }
    packer.pack_ext(id_.size(), internal::kActorHandleExtType);
    packer.pack_ext_body(id_.data(), static_cast<uint32_t>(id_.size()));
    internal::PackedActorHandles::Note(id_);
  }
  void msgpack_unpack(const msgpack::object& object) {
    *this = ActorHandle(internal::AdoptReference{}, internal::UnpackActorHandle(object));
  }

 private:
  std::string id_;
};

}  // namespace photon

// Handles hash by actor id, for unordered containers.
template <typename T>
struct std::hash<photon::ActorHandle<T>> {
  std::size_t operator()(const photon::ActorHandle<T>& handle) const noexcept {
    return std::hash<std::string>()(handle.Binary());
  }
};
