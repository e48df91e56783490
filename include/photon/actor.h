// photon::Actor: create actors (stateful workers) from registered factories; find them by
// name; and the calls an actor's own methods may make.
//
//   Counter* CreateCounter(int start) { return new Counter(start); }
//   PHOTON_REMOTE(CreateCounter, &Counter::Add);
//   ...
//   photon::ActorHandle<Counter> counter =
//       photon::Actor(CreateCounter).SetName("counter").SetMaxRestarts(2).Remote(10);
//   int eleven = *counter.Task(&Counter::Add).Remote(1).Get();
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "photon/actor_handle.h"
#include "photon/internal/remote_function.h"
#include "photon/internal/runtime.h"
#include "photon/task_caller.h"

namespace photon {

// Whether an actor outlives the driver that created it (Ray's spelling).
enum class ActorLifetime {
  NON_DETACHED,  // destroyed when no handle to it is left (the default)
  DETACHED,      // lives until killed, even after its creator exits; find it with GetActor
};

namespace internal {

// Throw std::invalid_argument naming the option: the name must not be empty;
// max_restarts and max_task_retries must be >= -1; max_concurrency >= 1.
void ValidateActorName(const std::string& name);
void ValidateMaxRestarts(int max_restarts);
void ValidateMaxTaskRetries(int max_task_retries);
void ValidateMaxConcurrency(int max_concurrency);

// The binary ActorID of the live actor named `name` in `ray_namespace`, with one handle
// reference counted; "" if there is none. Throws std::invalid_argument for an empty name.
std::string GetNamedActorId(const std::string& name, const std::string& ray_namespace);

}  // namespace internal

template <typename Signature>
class ActorCreator;

// Builds the creation of one actor from a factory registered with PHOTON_REMOTE: set
// options, then Remote(args...). Made by photon::Actor(factory). Each setter returns the
// creator, so calls chain; each throws std::invalid_argument naming the option for a bad
// value and then leaves the options unchanged. Not thread-safe (a short-lived builder owned
// by one thread); it may create several actors (but a name can be taken only once).
template <typename T, typename... Params>
class ActorCreator<T*(Params...)> {
 public:
  // The class of the actor's state.
  using ActorType = T;

  explicit ActorCreator(T* (*factory)(Params...)) : factory_(factory) {}

  // Names the actor, so that GetActor<T>(name, ray_namespace) finds it while it lives.
  // `ray_namespace` empty: the job's namespace. A name already taken in the namespace makes
  // Remote throw photon::Error. Throws std::invalid_argument for an empty name.
  ActorCreator& SetName(std::string name, std::string ray_namespace = "") {
    internal::ValidateActorName(name);
    options_.name = std::move(name);
    options_.ray_namespace = std::move(ray_namespace);
    return *this;
  }
  // Requires `quantity` of resource `name` ("CPU", "GPU", or a custom resource) for the
  // actor's whole life; replaces an earlier quantity of the same resource. Quantities may be
  // fractional. Without any resource set, an actor needs 1 CPU to be placed and holds none
  // while it lives; once one is set, it needs and holds exactly the ones set.
  ActorCreator& SetResource(const std::string& name, double quantity) {
    internal::ValidateResource("SetResource", name, quantity);
    options_.resources[name] = quantity;
    return *this;
  }
  // Replaces every resource requirement with `resources` (validated as SetResource does).
  ActorCreator& SetResources(const std::unordered_map<std::string, double>& resources) {
    for (const auto& [name, quantity] : resources) {
      internal::ValidateResource("SetResources", name, quantity);
    }
    options_.resources = resources;
    return *this;
  }
  // How often the actor is restarted (its factory runs again in a new process) after its
  // process dies: 0 (the default) never, -1 forever.
  ActorCreator& SetMaxRestarts(int max_restarts) {
    internal::ValidateMaxRestarts(max_restarts);
    options_.max_restarts = max_restarts;
    return *this;
  }
  // How often a method call is retried when the actor's process dies while running it
  // (the actor must be able to restart): 0 (the default) never, -1 forever.
  ActorCreator& SetMaxTaskRetries(int max_task_retries) {
    internal::ValidateMaxTaskRetries(max_task_retries);
    options_.max_task_retries = max_task_retries;
    return *this;
  }
  // How many method calls may run at once, each on its own thread (default 1: one at a
  // time, in order). Above 1, the class must synchronize its own state.
  ActorCreator& SetMaxConcurrency(int max_concurrency) {
    internal::ValidateMaxConcurrency(max_concurrency);
    options_.max_concurrency = max_concurrency;
    return *this;
  }
  // Places the actor in bundle `bundle_index` of `pg` (-1: any bundle with room); it lives
  // on that bundle's resources and dies when the group is removed.
  ActorCreator& SetPlacementGroup(const PlacementGroup& pg, int bundle_index = -1) {
    options_.placement = internal::ToPlacementOptions(pg, bundle_index);
    return *this;
  }
  // Whether the actor outlives its creator (see ActorLifetime); default NON_DETACHED.
  ActorCreator& SetLifetime(ActorLifetime lifetime) {
    options_.detached = lifetime == ActorLifetime::DETACHED;
    return *this;
  }

  // Creates the actor: a new worker runs factory(args...) and keeps the object it returns;
  // returns a handle at once, without waiting for the factory. Arguments are passed as in
  // photon::Task(f).Remote (values converted to the factory's parameter types, or
  // ObjectRef<T>) and checked by the compiler. If the factory throws, the actor is dead:
  // its method calls fail with ActorDiedError.
  // Throws FunctionNotFoundError if the factory was not registered with PHOTON_REMOTE;
  // photon::Error if the name is taken or photon::Init has not run; std::invalid_argument
  // for a nil ObjectRef argument. Thread-safe with respect to other creators.
  template <typename... Args>
  ActorHandle<T> Remote(Args&&... args) const {
    static_assert(sizeof...(Args) == sizeof...(Params),
                  "photon::Actor(factory).Remote: wrong number of arguments for factory");
    static_assert(sizeof...(Args) != sizeof...(Params) ||
                      internal::ParamList<Params...>::template Fit<Args...>(),
                  "photon::Actor(factory).Remote: an argument does not convert to the type of "
                  "factory's parameter (an ObjectRef<T> argument counts as a T)");
    if constexpr (internal::ParamList<Params...>::template Fit<Args...>()) {
      std::string name =
          internal::RegisteredNameOf(reinterpret_cast<std::uintptr_t>(factory_), "photon::Actor");
      std::vector<internal::TaskArg> task_args = internal::ParamList<Params...>::Encode(
          "photon::Actor(...).Remote", std::forward<Args>(args)...);
      return ActorHandle<T>(internal::AdoptReference{}, internal::GetRuntime().CreateActor(
                                                            name, std::move(task_args), options_));
    } else {
      return ActorHandle<T>();
    }
  }

  // The options set so far.
  const internal::ActorOptions& Options() const { return options_; }

 private:
  T* (*factory_)(Params...);
  internal::ActorOptions options_;
};

// A creator of actors whose state `factory` makes: a free or static member function that
// returns a new T (which the actor owns and deletes), registered with PHOTON_REMOTE
// (checked at Remote). Never throws.
template <typename T, typename... Params>
ActorCreator<T*(Params...)> Actor(T* (*factory)(Params...)) {
  static_assert(std::is_class_v<T> && !std::is_const_v<T>,
                "photon::Actor(factory): the factory must return a pointer to a new object of "
                "a (non-const) class");
  return ActorCreator<T*(Params...)>(factory);
}

// A handle to the live actor named `name` in `ray_namespace` (empty: the job's namespace),
// or std::nullopt if there is none (never created, or dead). T must be the actor's class:
// calls through a handle of another type fail with a TaskError naming both classes. Blocks
// on one call to the cluster. Throws std::invalid_argument for an empty name; photon::Error
// if photon::Init has not run. Thread-safe.
template <typename T>
std::optional<ActorHandle<T>> GetActor(const std::string& name,
                                       const std::string& ray_namespace = "") {
  std::string id = internal::GetNamedActorId(name, ray_namespace);
  if (id.empty()) {
    return std::nullopt;
  }
  return ActorHandle<T>(internal::AdoptReference{}, std::move(id));
}

// Inside an actor's method: the actor exits once the current call returns; calls after it
// fail with ActorDiedError. Throws photon::Error outside an actor.
void ExitActor();

// Inside an actor: true if this instance was made by a restart (the factory ran again
// after the actor's process died). Throws photon::Error outside an actor.
bool WasCurrentActorRestarted();

}  // namespace photon
