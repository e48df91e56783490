// How PHOTON_REMOTE registers functions, actor factories and actor methods, and how a
// registered one is invoked on serialized arguments. Not for users: see photon/remote.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "photon/errors.h"
#include "photon/object_ref.h"
#include "photon/serializer.h"

namespace photon::internal {

// Calls the function at address `fn` (whose type the invoker knows) on `args`, the
// msgpack bytes of its arguments; returns the msgpack bytes of its result (empty for
// void). Throws whatever the function throws, and photon::Error if the arguments do not
// decode.
using Invoker = std::string (*)(std::uintptr_t fn, const std::vector<std::string_view>& args);

// Calls the actor factory at address `fn` on `args` and returns the object it made, owned
// by the shared_ptr (whose deleter deletes it as the factory's class). Throws as Invoker
// does, and photon::Error if the factory returns nullptr.
using FactoryInvoker = std::shared_ptr<void> (*)(std::uintptr_t fn,
                                                 const std::vector<std::string_view>& args);

// Calls the member function whose pointer is stored in `method` (its object
// representation, see MemberBytes) on `object`, an instance of its class; returns and
// throws as Invoker does.
using MethodInvoker = std::string (*)(std::string_view method, void* object,
                                      const std::vector<std::string_view>& args);

// Registers the function at address `fn` as `name`. Registering the same (name, fn) again
// is a no-op; registering `name` for a different function (or factory, or method) prints
// both to stderr and aborts (this happens during static initialization, where throwing
// would terminate anyway). Thread-safe.
void RegisterFunction(const std::string& name, std::uintptr_t fn, Invoker invoker);

// Registers the actor factory at address `fn`, which makes objects of class `actor_class`,
// as `name`; conflicts abort as in RegisterFunction. Thread-safe.
void RegisterActorFactory(const std::string& name, std::uintptr_t fn,
                          const std::type_info& actor_class, FactoryInvoker invoker);

// Registers the member function of `actor_class` whose pointer has type `method_type` and
// object representation `method` as `name`; conflicts abort as in RegisterFunction.
// Thread-safe.
void RegisterActorMethod(const std::string& name, const std::type_info& actor_class,
                         const std::type_info& method_type, std::string method,
                         MethodInvoker invoker);

// The name the function (or actor factory) at address `fn` was registered as. Throws
// FunctionNotFoundError, naming `api` (e.g. "photon::Task") and the function, if it was
// not registered with PHOTON_REMOTE. Thread-safe.
std::string RegisteredNameOf(std::uintptr_t fn, const char* api = "photon::Task");

// The name the member function (pointer type `method_type`, object representation
// `method`) was registered as. Throws FunctionNotFoundError naming `api` and the method's
// type if it was not registered with PHOTON_REMOTE. Thread-safe.
std::string RegisteredMethodNameOf(const std::type_info& method_type, std::string_view method,
                                   const char* api);

// Splits the stringified argument list of PHOTON_REMOTE ("f, ns::g, &h") into names
// ("f", "ns::g", "h"): whitespace and a leading '&' are dropped, and commas inside <...>
// or (...) do not split.
std::vector<std::string> SplitRemoteNames(std::string_view names);

// Aborts with a message; used when PHOTON_REMOTE's names and functions do not pair up.
[[noreturn]] void AbortRegistration(const std::string& message);

// Throws photon::Error unless a call received as many arguments as the callee takes.
void CheckArgumentCount(std::size_t expected, std::size_t received);

// The object representation of a pointer to member function: its identity (with its type)
// in the registry, and how the method invoker gets the pointer back.
template <typename Method>
std::string MemberBytes(Method method) {
  static_assert(std::is_member_function_pointer_v<Method>);
  std::string bytes(sizeof(Method), '\0');
  std::memcpy(bytes.data(), &method, sizeof(Method));
  return bytes;
}

// Decodes argument `index` (0-based) as D; the error names the argument.
template <typename D>
D DecodeArgument(std::string_view bytes, std::size_t index) {
  try {
    return Deserialize<D>(bytes);
  } catch (const Error& e) {
    throw Error("argument " + std::to_string(index + 1) + ": " + e.what());
  }
}

// Passes a decoded argument on as the parameter type P wants it: an lvalue for T&, an
// rvalue otherwise (so by-value and && parameters can move from it).
template <typename P, typename V>
decltype(auto) PassArgument(V& value) {
  if constexpr (std::is_lvalue_reference_v<P>) {
    return (value);
  } else {
    return std::move(value);
  }
}

template <typename... Params>
struct TypeList {};

// Decodes `args` as Params (left to right) and returns call(decoded...), each passed as
// PassArgument passes it. The decoded values die on return, so `call` must not return a
// reference to them (it serializes the result itself).
template <typename... Params, typename Call, std::size_t... I>
auto ApplyDecoded(TypeList<Params...>, Call&& call,
                  [[maybe_unused]] const std::vector<std::string_view>& args,
                  std::index_sequence<I...>) {
  // Braced initialization decodes the arguments left to right.
  [[maybe_unused]] std::tuple<std::remove_cvref_t<Params>...> values{
      DecodeArgument<std::remove_cvref_t<Params>>(args[I], I)...};
  return call(PassArgument<Params>(std::get<I>(values))...);
}

// Calls fn(args...) on the decoded arguments; returns the msgpack bytes of its result
// (empty for void).
template <typename R, typename... Params, typename Fn>
std::string SerializeCall(TypeList<Params...> params, Fn&& fn,
                          const std::vector<std::string_view>& args) {
  CheckArgumentCount(sizeof...(Params), args.size());
  return ApplyDecoded(
      params,
      [&fn](auto&&... decoded) {
        if constexpr (std::is_void_v<R>) {
          fn(std::forward<decltype(decoded)>(decoded)...);
          return std::string();
        } else {
          return Serialize(fn(std::forward<decltype(decoded)>(decoded)...));
        }
      },
      args, std::index_sequence_for<Params...>{});
}

// The Invoker of functions of type R(Params...).
template <typename R, typename... Params>
std::string Invoke(std::uintptr_t fn, const std::vector<std::string_view>& args) {
  return SerializeCall<R>(TypeList<Params...>{}, reinterpret_cast<R (*)(Params...)>(fn), args);
}

// The FactoryInvoker of factories of type T*(Params...).
template <typename T, typename... Params>
std::shared_ptr<void> InvokeFactory(std::uintptr_t fn, const std::vector<std::string_view>& args) {
  CheckArgumentCount(sizeof...(Params), args.size());
  T* object = ApplyDecoded(TypeList<Params...>{}, reinterpret_cast<T* (*)(Params...)>(fn), args,
                           std::index_sequence_for<Params...>{});
  if (object == nullptr) {
    throw Error("the actor factory returned nullptr");
  }
  return std::shared_ptr<T>(object);  // deletes the T if the control block cannot be made
}

// The MethodInvoker of member functions of C of type Method, which returns R and takes
// Params.
template <typename R, typename C, typename Method, typename... Params>
std::string InvokeMethod(std::string_view method_bytes, void* object,
                         const std::vector<std::string_view>& args) {
  Method method = nullptr;
  std::memcpy(&method, method_bytes.data(), sizeof(Method));
  C* self = static_cast<C*>(object);
  return SerializeCall<R>(
      TypeList<Params...>{},
      [self, method](auto&&... decoded) -> decltype(auto) {
        return (self->*method)(std::forward<decltype(decoded)>(decoded)...);
      },
      args);
}

// Whether every registered signature passes: values that can travel between processes.
template <typename R, typename... Params>
constexpr bool RemoteSignatureOk() {
  return !kIsObjectRef<R> && (!kIsObjectRef<Params> && ...) &&
         !std::is_pointer_v<std::remove_cvref_t<R>> &&
         (!std::is_pointer_v<std::remove_cvref_t<Params>> && ...);
}

// Explains a failed RemoteSignatureOk at compile time.
template <typename R, typename... Params>
constexpr void CheckRemoteSignature() {
  static_assert(!kIsObjectRef<R> && (!kIsObjectRef<Params> && ...),
                "PHOTON_REMOTE: ObjectRef parameters and return values are not supported yet; "
                "take the value type instead (an ObjectRef argument is resolved before the call)");
  static_assert(!std::is_pointer_v<std::remove_cvref_t<R>> &&
                    (!std::is_pointer_v<std::remove_cvref_t<Params>> && ...),
                "PHOTON_REMOTE: pointer parameters and return values cannot be sent to "
                "another process; use values (std::string, std::vector, ...). Only an actor "
                "factory returns a pointer: to a (non-const) class");
}

// A free function: a remote function, or, if it returns a pointer to a class, an actor
// factory.
template <typename R, typename... Params>
void RegisterOne(const std::string& name, R (*fn)(Params...)) {
  using Pointee = std::remove_pointer_t<R>;
  if constexpr (std::is_pointer_v<R> && std::is_class_v<Pointee> && !std::is_const_v<Pointee>) {
    CheckRemoteSignature<void, Params...>();
    if constexpr (RemoteSignatureOk<void, Params...>()) {
      RegisterActorFactory(name, reinterpret_cast<std::uintptr_t>(fn), typeid(Pointee),
                           &InvokeFactory<Pointee, Params...>);
    }
  } else {
    CheckRemoteSignature<R, Params...>();
    if constexpr (RemoteSignatureOk<R, Params...>()) {
      RegisterFunction(name, reinterpret_cast<std::uintptr_t>(fn), &Invoke<R, Params...>);
    }
  }
}

template <typename R, typename C, typename Method, typename... Params>
void RegisterMethod(const std::string& name, Method method) {
  CheckRemoteSignature<R, Params...>();
  if constexpr (RemoteSignatureOk<R, Params...>()) {
    RegisterActorMethod(name, typeid(C), typeid(Method), MemberBytes(method),
                        &InvokeMethod<R, C, Method, Params...>);
  }
}

// A member function (const or not; noexcept ones convert to these): an actor method.
template <typename R, typename C, typename... Params>
void RegisterOne(const std::string& name, R (C::*method)(Params...)) {
  RegisterMethod<R, C, decltype(method), Params...>(name, method);
}
template <typename R, typename C, typename... Params>
void RegisterOne(const std::string& name, R (C::*method)(Params...) const) {
  RegisterMethod<R, C, decltype(method), Params...>(name, method);
}

// What PHOTON_REMOTE expands to: registers each of `fns` under the matching name in
// `names` (the stringified argument list). Returns true, for a static initializer.
template <typename... Fns>
bool RegisterRemoteFunctions(const char* names, Fns... fns) {
  std::vector<std::string> split = SplitRemoteNames(names);
  if (split.size() != sizeof...(Fns)) {
    AbortRegistration(std::string("PHOTON_REMOTE(") + names + "): cannot split into " +
                      std::to_string(sizeof...(Fns)) + " function names");
  }
  std::size_t i = 0;
  (RegisterOne(split[i++], fns), ...);
  return true;
}

}  // namespace photon::internal
