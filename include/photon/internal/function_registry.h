// The worker side of remote functions: run a registered function by name on
// serialized arguments, and load the shared libraries that hold functions.
//
// Not for users. The registry is process-wide (it lives in libphoton, so the
// executable and every library loaded into the process share it) and every
// function here is thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace photon::internal {

// The outcome of one ExecuteFunction call.
struct ExecutionResult {
  enum class Kind { kOk, kException, kFunctionNotFound };
  Kind kind = Kind::kOk;
  std::string value;  // msgpack bytes of the return value when kOk (empty for void)
  // Binary ActorIDs of the handles packed in `value`, each with one handle
  // reference held for the consumer of the result to release (ReleaseActor).
  std::vector<std::string> nested_actor_ids;
  std::string exception_type;  // demangled C++ type of what the function threw, when kException
  std::string message;         // what() of it, or a description
};

// Runs the function registered as `name` with `args` (each the msgpack bytes of one
// argument, in order). Never throws: exceptions the function throws (std::exception or
// anything else) and argument deserialization failures come back as kException;
// an unknown name as kFunctionNotFound. Blocks for as long as the function runs; any
// number of threads may run functions at once.
ExecutionResult ExecuteFunction(const std::string& name, const std::vector<std::string_view>& args);

// Runs the actor factory registered as `factory_name` (a free function returning T*,
// registered with PHOTON_REMOTE). On kOk `*instance` owns the new object: resetting it
// destroys the actor's state. Never throws (as ExecuteFunction).
ExecutionResult CreateActorInstance(const std::string& factory_name,
                                    const std::vector<std::string_view>& args,
                                    std::shared_ptr<void>* instance);

// Runs the member function registered as `method_name` (e.g. "Counter::Add", from
// PHOTON_REMOTE(&Counter::Add)) on `instance`, which CreateActorInstance made. Never
// throws (as ExecuteFunction). Several threads may call it at once on one instance
// (threaded actors); synchronizing the object's state is then the user's job.
ExecutionResult ExecuteActorMethod(const std::string& method_name, void* instance,
                                   const std::vector<std::string_view>& args);

// True if a function is registered as `name` in this process.
bool IsFunctionRegistered(const std::string& name);

// The names of every function registered in this process, sorted.
std::vector<std::string> RegisteredFunctionNames();

// Loads every shared library named in `paths` (a path to a .so, or a folder whose
// top-level *.so files are loaded) with dlopen(RTLD_NOW | RTLD_GLOBAL), so their
// PHOTON_REMOTE registrations run. Returns an error message per failure (empty = ok).
// Libraries stay loaded for the life of the process; loading one twice is harmless.
// A library that registers a name already taken by another function aborts the process
// (see PHOTON_REMOTE).
std::vector<std::string> LoadFunctionLibraries(const std::vector<std::string>& paths);

}  // namespace photon::internal
