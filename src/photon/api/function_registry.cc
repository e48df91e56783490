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
#include <string>
#include <string_view>
#include <system_error>
#include <typeinfo>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "photon/errors.h"
#include "photon/internal/remote_function.h"
#include "photon/internal/type_name.h"

namespace photon::internal {
namespace {

struct Entry {
  std::uintptr_t fn = 0;
  Invoker invoker = nullptr;
};

// Registrations arrive during static initialization of the executable and of every library
// dlopen'd later, possibly while other threads run functions; one mutex guards both maps.
class Registry {
 public:
  // Never destroyed: worker threads may still run functions while the process exits.
  static Registry& Instance() {
    static Registry* registry = new Registry();
    return *registry;
  }

  // Returns the address already registered as `name` if it differs from `fn` (a conflict),
  // else 0.
  std::uintptr_t Register(const std::string& name, std::uintptr_t fn, Invoker invoker) {
    absl::MutexLock lock(&mu_);
    auto [it, inserted] = by_name_.try_emplace(name, Entry{fn, invoker});
    if (!inserted && it->second.fn != fn) {
      return it->second.fn;
    }
    by_address_.try_emplace(fn, name);  // the first name wins for Task(f)
    return 0;
  }

  bool Find(const std::string& name, Entry* entry) const {
    absl::ReaderMutexLock lock(&mu_);
    auto it = by_name_.find(name);
    if (it == by_name_.end()) {
      return false;
    }
    *entry = it->second;
    return true;
  }

  bool NameOf(std::uintptr_t fn, std::string* name) const {
    absl::ReaderMutexLock lock(&mu_);
    auto it = by_address_.find(fn);
    if (it == by_address_.end()) {
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
  absl::flat_hash_map<std::string, Entry> by_name_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::uintptr_t, std::string> by_address_ ABSL_GUARDED_BY(mu_);
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

ExecutionResult Failure(ExecutionResult::Kind kind, std::string type, std::string message) {
  ExecutionResult result;
  result.kind = kind;
  result.exception_type = std::move(type);
  result.message = std::move(message);
  return result;
}

// Runs the function; converts what it throws into kException. May throw only while
// describing a failure (std::bad_alloc).
ExecutionResult Run(const std::string& name, const std::vector<std::string_view>& args) {
  Entry entry;
  if (!Registry::Instance().Find(name, &entry)) {
    return Failure(ExecutionResult::Kind::kFunctionNotFound, "",
                   "no function named '" + name +
                       "' is registered in this process; register it with PHOTON_REMOTE and "
                       "make sure its library is loaded (code_search_path)");
  }
  try {
    ExecutionResult result;
    result.value = entry.invoker(entry.fn, args);
    return result;
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
  std::uintptr_t existing = Registry::Instance().Register(name, fn, invoker);
  if (existing != 0) {
    AbortRegistration("PHOTON_REMOTE: the name '" + name + "' is registered for two different " +
                      "functions: " + DescribeFunction(existing) + ", and " + DescribeFunction(fn));
  }
}

std::string RegisteredNameOf(std::uintptr_t fn) {
  std::string name;
  if (!Registry::Instance().NameOf(fn, &name)) {
    throw FunctionNotFoundError("photon::Task: " + DescribeFunction(fn) +
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

ExecutionResult ExecuteFunction(const std::string& name,
                                const std::vector<std::string_view>& args) {
  try {
    return Run(name, args);
  } catch (const abi::__forced_unwind&) {
    throw;
  } catch (...) {
    // Out of memory while describing a failure: report it without allocating.
    ExecutionResult result;
    result.kind = ExecutionResult::Kind::kException;
    return result;
  }
}

bool IsFunctionRegistered(const std::string& name) {
  Entry entry;
  return Registry::Instance().Find(name, &entry);
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
