// The process-wide table of remote functions, and running them by name.
#include "photon/internal/function_registry.h"

#include <cxxabi.h>
#include <dlfcn.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <typeinfo>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "photon/errors.h"
#include "photon/internal/remote_function.h"
#include "photon/internal/type_name.h"

namespace photon::internal {
namespace {

enum class EntryKind { kFunction, kActorFactory, kActorMethod };

// One registered name. `key` identifies the registered thing: the bytes of a function's
// address, or a member function pointer's mangled type followed by its bytes.
struct Entry {
  EntryKind kind = EntryKind::kFunction;
  std::string key;
  std::uintptr_t fn = 0;                        // kFunction, kActorFactory
  Invoker invoker = nullptr;                    // kFunction
  FactoryInvoker factory_invoker = nullptr;     // kActorFactory
  MethodInvoker method_invoker = nullptr;       // kActorMethod
  std::string method;                           // kActorMethod: the pointer's bytes
  const std::type_info* method_type = nullptr;  // kActorMethod
  const std::type_info* actor_class = nullptr;  // kActorFactory: made; kActorMethod: member of
};

std::string AddressKey(std::uintptr_t fn) {
  return std::string(reinterpret_cast<const char*>(&fn), sizeof(fn));
}

std::string MethodKey(const std::type_info& method_type, std::string_view method) {
  return std::string(method_type.name()) + '@' + std::string(method);
}

// Registrations arrive during static initialization of the executable and of every library
// dlopen'd later, possibly while other threads run functions; one mutex guards both maps.
class Registry {
 public:
  // Never destroyed: worker threads may still run functions while the process exits.
  static Registry& Instance() {
    static Registry* registry = new Registry();
    return *registry;
  }

  // Returns the entry already registered as `name` if it is another function (a conflict).
  std::optional<Entry> Register(const std::string& name, Entry entry) {
    absl::MutexLock lock(&mu_);
    std::string key = entry.key;
    auto [it, inserted] = by_name_.try_emplace(name, std::move(entry));
    if (!inserted && it->second.key != key) {
      return it->second;
    }
    by_key_.try_emplace(std::move(key), name);  // the first name wins for Task(f)
    return std::nullopt;
  }

  // The entry registered as `name`, or nullptr. Entries are never removed or changed and
  // node_hash_map keeps them in place, so the pointer stays valid.
  const Entry* Find(const std::string& name) const {
    absl::ReaderMutexLock lock(&mu_);
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : &it->second;
  }

  bool NameOf(const std::string& key, std::string* name) const {
    absl::ReaderMutexLock lock(&mu_);
    auto it = by_key_.find(key);
    if (it == by_key_.end()) {
      return false;
    }
    *name = it->second;
    return true;
  }

  std::vector<std::string> Names() const {
    std::vector<std::string> names;
    {
      absl::ReaderMutexLock lock(&mu_);
      names.reserve(by_name_.size());
      for (const auto& [name, entry] : by_name_) {
        names.push_back(name);
      }
    }
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  Registry() = default;

  mutable absl::Mutex mu_;
  absl::node_hash_map<std::string, Entry> by_name_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::string> by_key_ ABSL_GUARDED_BY(mu_);
};

// "Add(int, int) in /path/libapp.so" when the dynamic symbol table knows the function,
// else its address and file.
std::string DescribeFunction(std::uintptr_t fn) {
  char address[32];
  std::snprintf(address, sizeof(address), "%#jx", static_cast<std::uintmax_t>(fn));
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(fn), &info) == 0) {
    return std::string("the function at ") + address;
  }
  std::string file = info.dli_fname != nullptr ? info.dli_fname : "?";
  if (info.dli_sname != nullptr && reinterpret_cast<std::uintptr_t>(info.dli_saddr) == fn) {
    return DemangleTypeName(info.dli_sname) + " in " + file;
  }
  return std::string("the function at ") + address + " in " + file;
}

std::string DescribeMethod(const std::type_info& method_type) {
  return "the member function of type " + DemangleTypeName(method_type.name());
}

std::string Describe(const Entry& entry) {
  switch (entry.kind) {
    case EntryKind::kFunction:
      return DescribeFunction(entry.fn);
    case EntryKind::kActorFactory:
      return "the actor factory " + DescribeFunction(entry.fn);
    case EntryKind::kActorMethod:
      return DescribeMethod(*entry.method_type);
  }
  return "?";
}

const char* Noun(EntryKind kind) {
  switch (kind) {
    case EntryKind::kFunction:
      return "function";
    case EntryKind::kActorFactory:
      return "actor factory";
    case EntryKind::kActorMethod:
      return "actor method";
  }
  return "?";
}

const char* KindName(EntryKind kind) {
  switch (kind) {
    case EntryKind::kFunction:
      return "a remote function";
    case EntryKind::kActorFactory:
      return "an actor factory";
    case EntryKind::kActorMethod:
      return "an actor method";
  }
  return "?";
}

void Register(const std::string& name, Entry entry) {
  std::string description = Describe(entry);
  if (std::optional<Entry> existing = Registry::Instance().Register(name, std::move(entry))) {
    AbortRegistration("PHOTON_REMOTE: the name '" + name + "' is registered for two different " +
                      "functions: " + Describe(*existing) + ", and " + description);
  }
}

ExecutionResult Failure(ExecutionResult::Kind kind, std::string type, std::string message) {
  ExecutionResult result;
  result.kind = kind;
  result.exception_type = std::move(type);
  result.message = std::move(message);
  return result;
}

// Finds `name` registered as `kind` (sets *entry); otherwise returns the kFunctionNotFound
// result.
std::optional<ExecutionResult> Lookup(const std::string& name, EntryKind kind,
                                      const Entry** entry) {
  *entry = Registry::Instance().Find(name);
  if (*entry == nullptr) {
    return Failure(ExecutionResult::Kind::kFunctionNotFound, "",
                   std::string("no ") + Noun(kind) + " named '" + name +
                       "' is registered in this process; register it with PHOTON_REMOTE and "
                       "make sure its library is loaded (code_search_path)");
  }
  if ((*entry)->kind != kind) {
    return Failure(ExecutionResult::Kind::kFunctionNotFound, "",
                   "'" + name + "' is registered as " + KindName((*entry)->kind) + ", not as " +
                       KindName(kind));
  }
  return std::nullopt;
}

// Runs `body`; converts what it throws into kException. May throw only while describing a
// failure (std::bad_alloc).
template <typename Body>
ExecutionResult Guarded(Body&& body) {
  try {
    return body();
  } catch (const abi::__forced_unwind&) {
    throw;  // thread cancellation must unwind on
  } catch (const std::exception& e) {
    return Failure(ExecutionResult::Kind::kException, DemangleTypeName(typeid(e).name()), e.what());
  } catch (const std::string& s) {
    return Failure(ExecutionResult::Kind::kException, "std::string", s);
  } catch (const char* s) {
    return Failure(ExecutionResult::Kind::kException, "const char*", s != nullptr ? s : "");
  } catch (...) {
    const std::type_info* type = abi::__cxa_current_exception_type();
    std::string type_name = type != nullptr ? DemangleTypeName(type->name()) : "unknown";
    return Failure(
        ExecutionResult::Kind::kException, type_name,
        "the function threw a value of type " + type_name + ", which is not a std::exception");
  }
}

// Guarded, and never throws: out of memory while describing a failure is reported without
// allocating.
template <typename Body>
ExecutionResult NeverThrow(Body&& body) {
  try {
    return Guarded(std::forward<Body>(body));
  } catch (const abi::__forced_unwind&) {
    throw;
  } catch (...) {
    ExecutionResult result;
    result.kind = ExecutionResult::Kind::kException;
    return result;
  }
}

// What CreateActorInstance hands out: the object and the class the factory declared, so
// that ExecuteActorMethod can refuse a method of another class (a handle of the wrong type,
// say from GetActor<Wrong>) instead of calling it on the wrong object.
struct ActorInstance {
  const std::type_info* actor_class = nullptr;
  std::shared_ptr<void> object;  // deletes the object as its class
};

bool EndsWithSo(const std::filesystem::path& path) { return path.extension() == ".so"; }

// dlopen's error for `path`, or "" once it is loaded.
std::string LoadLibrary(const std::filesystem::path& path) {
  dlerror();
  if (dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL) != nullptr) {
    return "";
  }
  const char* error = dlerror();
  return path.string() + ": " + (error != nullptr ? error : "dlopen failed");
}

void LoadFolder(const std::filesystem::path& folder, std::vector<std::string>* errors) {
  std::vector<std::filesystem::path> libraries;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(folder, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::error_code file_ec;
    if (EndsWithSo(it->path()) && it->is_regular_file(file_ec)) {
      libraries.push_back(it->path());
    }
  }
  if (ec) {
    errors->push_back(folder.string() + ": " + ec.message());
    return;
  }
  if (libraries.empty()) {
    errors->push_back(folder.string() + ": the folder holds no .so files");
    return;
  }
  std::sort(libraries.begin(), libraries.end());  // a deterministic registration order
  for (const std::filesystem::path& library : libraries) {
    if (std::string error = LoadLibrary(library); !error.empty()) {
      errors->push_back(std::move(error));
    }
  }
}

}  // namespace

void RegisterFunction(const std::string& name, std::uintptr_t fn, Invoker invoker) {
  Entry entry;
  entry.kind = EntryKind::kFunction;
  entry.key = AddressKey(fn);
  entry.fn = fn;
  entry.invoker = invoker;
  Register(name, std::move(entry));
}

void RegisterActorFactory(const std::string& name, std::uintptr_t fn,
                          const std::type_info& actor_class, FactoryInvoker invoker) {
  Entry entry;
  entry.kind = EntryKind::kActorFactory;
  entry.key = AddressKey(fn);
  entry.fn = fn;
  entry.factory_invoker = invoker;
  entry.actor_class = &actor_class;
  Register(name, std::move(entry));
}

void RegisterActorMethod(const std::string& name, const std::type_info& actor_class,
                         const std::type_info& method_type, std::string method,
                         MethodInvoker invoker) {
  Entry entry;
  entry.kind = EntryKind::kActorMethod;
  entry.key = MethodKey(method_type, method);
  entry.method_invoker = invoker;
  entry.method = std::move(method);
  entry.method_type = &method_type;
  entry.actor_class = &actor_class;
  Register(name, std::move(entry));
}

std::string RegisteredNameOf(std::uintptr_t fn, const char* api) {
  std::string name;
  if (!Registry::Instance().NameOf(AddressKey(fn), &name)) {
    throw FunctionNotFoundError(std::string(api) + ": " + DescribeFunction(fn) +
                                " was not registered with PHOTON_REMOTE");
  }
  return name;
}

std::string RegisteredMethodNameOf(const std::type_info& method_type, std::string_view method,
                                   const char* api) {
  std::string name;
  if (!Registry::Instance().NameOf(MethodKey(method_type, method), &name)) {
    throw FunctionNotFoundError(std::string(api) + ": " + DescribeMethod(method_type) +
                                " was not registered with PHOTON_REMOTE");
  }
  return name;
}

std::vector<std::string> SplitRemoteNames(std::string_view names) {
  std::vector<std::string> result;
  std::string current;
  int depth = 0;  // inside <...>, (...) or [...], commas belong to the name
  auto finish = [&] {
    if (!current.empty() && current.front() == '&') {
      current.erase(0, 1);
    }
    result.push_back(std::move(current));
    current.clear();
  };
  for (char c : names) {
    if (c == ',' && depth == 0) {
      finish();
      continue;
    }
    if (c == '<' || c == '(' || c == '[') {
      ++depth;
    } else if ((c == '>' || c == ')' || c == ']') && depth > 0) {
      --depth;
    }
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      current.push_back(c);
    }
  }
  finish();
  return result;
}

void AbortRegistration(const std::string& message) {
  std::fprintf(stderr, "photon: %s\n", message.c_str());
  std::fflush(stderr);
  std::abort();
}

void CheckArgumentCount(std::size_t expected, std::size_t received) {
  if (received != expected) {
    throw Error("the function takes " + std::to_string(expected) +
                " arguments but was called with " + std::to_string(received));
  }
}

ExecutionResult ExecuteFunction(const std::string& name,
                                const std::vector<std::string_view>& args) {
  return NeverThrow([&] {
    const Entry* entry = nullptr;
    if (std::optional<ExecutionResult> missing = Lookup(name, EntryKind::kFunction, &entry)) {
      return *std::move(missing);
    }
    ExecutionResult result;
    PackedActorHandles nested;
    result.value = entry->invoker(entry->fn, args);
    result.nested_actor_ids = nested.ReleaseHeld();
    return result;
  });
}

ExecutionResult CreateActorInstance(const std::string& factory_name,
                                    const std::vector<std::string_view>& args,
                                    std::shared_ptr<void>* instance) {
  return NeverThrow([&] {
    instance->reset();
    const Entry* entry = nullptr;
    if (std::optional<ExecutionResult> missing =
            Lookup(factory_name, EntryKind::kActorFactory, &entry)) {
      return *std::move(missing);
    }
    auto made = std::make_shared<ActorInstance>();
    made->actor_class = entry->actor_class;
    made->object = entry->factory_invoker(entry->fn, args);
    *instance = std::move(made);
    return ExecutionResult();
  });
}

ExecutionResult ExecuteActorMethod(const std::string& method_name, void* instance,
                                   const std::vector<std::string_view>& args) {
  return NeverThrow([&] {
    const Entry* entry = nullptr;
    if (std::optional<ExecutionResult> missing =
            Lookup(method_name, EntryKind::kActorMethod, &entry)) {
      return *std::move(missing);
    }
    const auto* actor = static_cast<const ActorInstance*>(instance);
    if (actor == nullptr || actor->object == nullptr) {
      throw Error("ExecuteActorMethod: no actor instance");
    }
    if (*actor->actor_class != *entry->actor_class) {
      throw Error("the method '" + method_name + "' is a member of " +
                  DemangleTypeName(entry->actor_class->name()) + ", but the actor is a " +
                  DemangleTypeName(actor->actor_class->name()) +
                  " (is the ActorHandle's type wrong?)");
    }
    ExecutionResult result;
    PackedActorHandles nested;
    result.value = entry->method_invoker(entry->method, actor->object.get(), args);
    result.nested_actor_ids = nested.ReleaseHeld();
    return result;
  });
}

bool IsFunctionRegistered(const std::string& name) {
  return Registry::Instance().Find(name) != nullptr;
}

std::vector<std::string> RegisteredFunctionNames() { return Registry::Instance().Names(); }

std::vector<std::string> LoadFunctionLibraries(const std::vector<std::string>& paths) {
  std::vector<std::string> errors;
  for (const std::string& path : paths) {
    if (path.empty()) {
      errors.push_back("an empty path in the list of function libraries");
      continue;
    }
    std::error_code ec;
    // Absolute, so dlopen opens this file rather than searching LD_LIBRARY_PATH.
    std::filesystem::path absolute = std::filesystem::absolute(path, ec);
    std::filesystem::file_status status = std::filesystem::status(absolute, ec);
    if (ec || !std::filesystem::exists(status)) {
      errors.push_back(path + ": no such file or folder");
    } else if (std::filesystem::is_directory(status)) {
      LoadFolder(absolute, &errors);
    } else if (std::string error = LoadLibrary(absolute); !error.empty()) {
      errors.push_back(std::move(error));
    }
  }
  return errors;
}

}  // namespace photon::internal
