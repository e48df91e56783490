// photon::Task: call a registered function as a remote task.
//
//   int Add(int a, int b) { return a + b; }
//   PHOTON_REMOTE(Add);
//   ...
//   photon::ObjectRef<int> sum = photon::Task(Add).SetName("add").Remote(1, 2);
//   int three = *sum.Get();
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "photon/internal/remote_function.h"
#include "photon/internal/runtime.h"
#include "photon/object_ref.h"
#include "photon/serializer.h"

namespace photon {
namespace internal {

// Throw std::invalid_argument naming the option (e.g. "SetResource"): a resource needs a
// non-empty name and a finite quantity >= 0; max_retries must be >= -1.
void ValidateResource(const char* option, const std::string& name, double quantity);
void ValidateMaxRetries(int max_retries);

}  // namespace internal

class PlacementGroup;  // photon/placement_group.h

namespace internal {

// Where `pg`'s bundle `bundle_index` (-1: any) is, for a task's or actor's options.
// Throws std::invalid_argument for an empty group or an index out of range.
PlacementOptions ToPlacementOptions(const PlacementGroup& pg, int bundle_index);
// Throws std::invalid_argument if `resources` fit no bundle `p` allows (as Ray refuses
// such a request when it is submitted, rather than letting it wait forever).
void CheckFitsPlacement(const PlacementOptions& p,
                        const std::unordered_map<std::string, double>& resources,
                        const std::string& what);

// The options a task is submitted with: `options`, plus {"CPU": 1} when resources were
// set without mentioning CPU (an empty map already means {"CPU": 1} to the runtime).
CallOptions FinalCallOptions(const CallOptions& options);

// The task-option setters shared by the task callers. Each returns the caller, so calls
// chain; each throws std::invalid_argument for a bad value and then leaves the options
// unchanged. Not thread-safe (a caller is a short-lived builder owned by one thread).
template <typename Derived>
class TaskOptionsBuilder {
 public:
  // Requires `quantity` of resource `name` (e.g. "CPU", "GPU", or a custom resource) while
  // the task runs; replaces an earlier quantity of the same resource. Quantities may be
  // fractional. Unless CPU is set, the task requires 1 CPU.
  Derived& SetResource(const std::string& name, double quantity) {
    ValidateResource("SetResource", name, quantity);
    options_.resources[name] = quantity;
    return Self();
  }
  // Replaces every resource requirement with `resources` (validated as SetResource does).
  Derived& SetResources(const std::unordered_map<std::string, double>& resources) {
    for (const auto& [name, quantity] : resources) {
      ValidateResource("SetResources", name, quantity);
    }
    options_.resources = resources;
    return Self();
  }
  // The task's display name (in logs and the dashboard); default: the function's name.
  Derived& SetName(std::string name) {
    options_.name = std::move(name);
    return Self();
  }
  // How often the task is retried when its worker dies (-1: forever; 0: never). Default:
  // the cluster's configured default. Throws std::invalid_argument for values below -1.
  Derived& SetMaxRetries(int max_retries) {
    ValidateMaxRetries(max_retries);
    options_.max_retries = max_retries;
    return Self();
  }
  // Whether an exception thrown by the function also counts as a retryable failure
  // (default: false, the exception is the result).
  Derived& SetRetryExceptions(bool retry_exceptions) {
    options_.retry_exceptions = retry_exceptions;
    return Self();
  }
  // Runs the task in bundle `bundle_index` of `pg` (-1: any bundle with room), on that
  // bundle's resources (see photon/placement_group.h). Throws std::invalid_argument for an
  // index out of range; Remote() throws it for a request no such bundle can hold.
  Derived& SetPlacementGroup(const PlacementGroup& pg, int bundle_index = -1) {
    options_.placement = ToPlacementOptions(pg, bundle_index);
    return Self();
  }

  // The options set so far.
  const CallOptions& Options() const { return options_; }

 protected:
  CallOptions options_;

 private:
  Derived& Self() { return static_cast<Derived&>(*this); }
};

// Whether an argument of type A may be passed for a parameter of type P: A converts to P's
// value type, or A is an ObjectRef<T> (not void) whose T does.
template <typename A, typename P>
constexpr bool ArgumentFits() {
  using Arg = std::remove_cvref_t<A>;
  using Param = std::remove_cvref_t<P>;
  if constexpr (kIsObjectRef<Arg>) {
    using Value = typename Arg::ValueType;
    if constexpr (std::is_void_v<Value>) {
      return false;
    } else {
      return std::is_convertible_v<const Value&, Param>;
    }
  } else {
    return std::is_convertible_v<A, Param>;
  }
}

// True for ObjectRef<void> (any cv-ref qualification).
template <typename A>
constexpr bool IsVoidObjectRef() {
  if constexpr (kIsObjectRef<A>) {
    return std::is_void_v<typename std::remove_cvref_t<A>::ValueType>;
  } else {
    return false;
  }
}

// Encodes one argument of a remote call: an ObjectRef as a reference to its object; any
// other value as the msgpack bytes of it converted to Param (Param = void: of the value
// as it is, with C strings as strings). Throws std::invalid_argument naming `api` for a
// nil ObjectRef.
template <typename Param, typename A>
TaskArg MakeTaskArg(A&& arg, const char* api = "photon::Task(...).Remote") {
  using Arg = std::remove_cvref_t<A>;
  TaskArg out;
  PackedActorHandles nested;  // handles packed into out.value
  if constexpr (kIsObjectRef<Arg>) {
    CheckNotNil(arg.Binary(), api);
    out.is_ref = true;
    out.object_id = arg.Binary();
  } else if constexpr (std::is_same_v<Arg, Param>) {
    out.value = Serialize(arg);
  } else if constexpr (std::is_void_v<Param>) {
    if constexpr (std::is_convertible_v<const Arg&, std::string_view> &&
                  (std::is_array_v<Arg> || std::is_pointer_v<Arg>)) {
      out.value = Serialize(std::string_view(arg));
    } else {
      static_assert(!std::is_pointer_v<Arg> && !std::is_array_v<Arg>,
                    "photon::Task(...).Remote: pointers and arrays cannot be sent; pass values");
      out.value = Serialize(arg);
    }
  } else {
    const Param converted = std::forward<A>(arg);
    out.value = Serialize(converted);
  }
  out.nested_actor_ids = nested.ids();
  return out;
}

// The parameter list of a registered function, factory or method: checks and encodes the
// arguments of a call of it.
template <typename... Params>
struct ParamList {
  // Whether Args (as passed to Remote) match Params in number and each fits (ArgumentFits).
  template <typename... Args>
  static constexpr bool Fit() {
    if constexpr (sizeof...(Args) != sizeof...(Params)) {
      return false;
    } else {
      return (ArgumentFits<Args, Params>() && ...);
    }
  }

  // The TaskArgs of a call with `args` (which Fit); throws as MakeTaskArg does.
  template <typename... Args>
  static std::vector<TaskArg> Encode([[maybe_unused]] const char* api, Args&&... args) {
    std::vector<TaskArg> task_args;
    task_args.reserve(sizeof...(Args));
    (task_args.push_back(MakeTaskArg<std::remove_cvref_t<Params>>(std::forward<Args>(args), api)),
     ...);
    return task_args;
  }
};

// Submits the call and wraps the id the runtime returns (its reference is adopted).
template <typename R>
ObjectRef<R> SubmitTask(const std::string& function_name, std::vector<TaskArg> args,
                        const CallOptions& options) {
  return ObjectRef<R>(AdoptReference{}, GetRuntime().SubmitTask(function_name, std::move(args),
                                                                FinalCallOptions(options)));
}

}  // namespace internal

template <typename Signature>
class TaskCaller;

// Builds one remote call of a function registered with PHOTON_REMOTE: set options, then
// Remote(args...). Made by photon::Task(f). A caller may submit several calls.
template <typename R, typename... Params>
class TaskCaller<R(Params...)> : public internal::TaskOptionsBuilder<TaskCaller<R(Params...)>> {
 public:
  // The type of the call's result: R without const or reference.
  using ResultType = std::remove_cvref_t<R>;

  explicit TaskCaller(R (*fn)(Params...)) : fn_(fn) {}

  // Submits the call f(args...) and returns a ref to its result at once, without waiting
  // for it to run. Each argument is either a value, converted to f's parameter type and
  // serialized now (so later changes to it do not matter), or an ObjectRef<T>, whose value
  // the task receives (the task waits for the object). The compiler checks the number of
  // arguments and that each converts (an ObjectRef<T> counts as a T).
  // Throws FunctionNotFoundError if f was not registered with PHOTON_REMOTE;
  // std::invalid_argument for a nil ObjectRef argument; photon::Error if photon::Init has
  // not run or an argument cannot be serialized. Errors of the call itself surface when
  // its result is read (Get). Thread-safe with respect to other callers.
  template <typename... Args>
  ObjectRef<ResultType> Remote(Args&&... args) const {
    static_assert(sizeof...(Args) == sizeof...(Params),
                  "photon::Task(f).Remote: wrong number of arguments for f");
    static_assert(sizeof...(Args) != sizeof...(Params) ||
                      internal::ParamList<Params...>::template Fit<Args...>(),
                  "photon::Task(f).Remote: an argument does not convert to the type of f's "
                  "parameter (an ObjectRef<T> argument counts as a T)");
    if constexpr (internal::ParamList<Params...>::template Fit<Args...>()) {
      std::string name = internal::RegisteredNameOf(reinterpret_cast<std::uintptr_t>(fn_));
      return internal::SubmitTask<ResultType>(
          name,
          internal::ParamList<Params...>::Encode("photon::Task(...).Remote",
                                                 std::forward<Args>(args)...),
          this->options_);
    } else {
      return ObjectRef<ResultType>();
    }
  }

 private:
  R (*fn_)(Params...);
};

// Builds a remote call of the function registered as a name, for functions this program
// does not link (they live in a library on code_search_path). Made by photon::Task<R>(name).
// Nothing is checked at compile time: arguments are serialized as their own types and R
// must match what the function returns.
template <typename R>
class NamedTaskCaller : public internal::TaskOptionsBuilder<NamedTaskCaller<R>> {
 public:
  explicit NamedTaskCaller(std::string function_name) : name_(std::move(function_name)) {}

  // Submits the call as TaskCaller::Remote does; each argument is a value (serialized as
  // its own type; C strings as strings) or an ObjectRef. An unknown name is not detected
  // here: Get of the result throws FunctionNotFoundError. Throws std::invalid_argument for
  // an empty name or a nil ObjectRef argument; photon::Error if photon::Init has not run.
  template <typename... Args>
  ObjectRef<R> Remote(Args&&... args) const {
    static_assert((!internal::IsVoidObjectRef<Args>() && ...),
                  "photon::Task<R>(name).Remote: an ObjectRef<void> has no value to pass");
    if (name_.empty()) {
      throw std::invalid_argument("photon::Task<R>(name): the function name is empty");
    }
    std::vector<internal::TaskArg> task_args;
    task_args.reserve(sizeof...(Args));
    (task_args.push_back(internal::MakeTaskArg<void>(std::forward<Args>(args))), ...);
    return internal::SubmitTask<R>(name_, std::move(task_args), this->options_);
  }

 private:
  std::string name_;
};

// A caller of `fn`, a free function registered with PHOTON_REMOTE (checked at Remote).
// Never throws.
template <typename R, typename... Params>
TaskCaller<R(Params...)> Task(R (*fn)(Params...)) {
  static_assert(!std::is_pointer_v<R>,
                "photon::Task(f): f returns a pointer; an actor factory is called with "
                "photon::Actor(f) (photon/actor.h)");
  return TaskCaller<R(Params...)>(fn);
}

// A caller of the function registered as `function_name`, returning R (see
// NamedTaskCaller). Never throws.
template <typename R>
NamedTaskCaller<R> Task(std::string function_name) {
  return NamedTaskCaller<R>(std::move(function_name));
}

}  // namespace photon
