// How PHOTON_REMOTE registers functions and how a registered function is
// invoked on serialized arguments. Not for users: see photon/remote.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
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

// Registers the function at address `fn` as `name`. Registering the same (name, fn) again
// is a no-op; registering `name` for a different function prints both to stderr and aborts
// (this happens during static initialization, where throwing would terminate anyway).
// Thread-safe.
void RegisterFunction(const std::string& name, std::uintptr_t fn, Invoker invoker);

// The name the function at address `fn` was registered as. Throws FunctionNotFoundError
// if it was not registered with PHOTON_REMOTE. Thread-safe.
std::string RegisteredNameOf(std::uintptr_t fn);

// Splits the stringified argument list of PHOTON_REMOTE ("f, ns::g, &h") into names
// ("f", "ns::g", "h"): whitespace and a leading '&' are dropped, and commas inside <...>
// or (...) do not split.
std::vector<std::string> SplitRemoteNames(std::string_view names);

// Aborts with a message; used when PHOTON_REMOTE's names and functions do not pair up.
[[noreturn]] void AbortRegistration(const std::string& message);

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

template <typename R, typename... Params, std::size_t... I>
std::string InvokeDecoded(R (*fn)(Params...),
                          [[maybe_unused]] const std::vector<std::string_view>& args,
                          std::index_sequence<I...>) {
  // Braced initialization decodes the arguments left to right.
  [[maybe_unused]] std::tuple<std::remove_cvref_t<Params>...> values{
      DecodeArgument<std::remove_cvref_t<Params>>(args[I], I)...};
  if constexpr (std::is_void_v<R>) {
    fn(PassArgument<Params>(std::get<I>(values))...);
    return std::string();
  } else {
    return Serialize(fn(PassArgument<Params>(std::get<I>(values))...));
  }
}

// The Invoker of functions of type R(Params...).
template <typename R, typename... Params>
std::string Invoke(std::uintptr_t fn, const std::vector<std::string_view>& args) {
  if (args.size() != sizeof...(Params)) {
    throw Error("the function takes " + std::to_string(sizeof...(Params)) +
                " arguments but was called with " + std::to_string(args.size()));
  }
  return InvokeDecoded(reinterpret_cast<R (*)(Params...)>(fn), args,
                       std::index_sequence_for<Params...>{});
}

template <typename R, typename... Params>
void RegisterOne(const std::string& name, R (*fn)(Params...)) {
  static_assert(!kIsObjectRef<R> && (!kIsObjectRef<Params> && ...),
                "PHOTON_REMOTE: ObjectRef parameters and return values are not supported yet; "
                "take the value type instead (an ObjectRef argument is resolved before the call)");
  static_assert(!std::is_pointer_v<std::remove_cvref_t<R>> &&
                    (!std::is_pointer_v<std::remove_cvref_t<Params>> && ...),
                "PHOTON_REMOTE: pointer parameters and return values cannot be sent to "
                "another process; use values (std::string, std::vector, ...)");
  RegisterFunction(name, reinterpret_cast<std::uintptr_t>(fn), &Invoke<R, Params...>);
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
