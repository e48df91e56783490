// The process's runtime pointer: set by Init/Shutdown (or a test's fake) and
// read by every API call, from any thread.
#include <atomic>

#include "photon/errors.h"
#include "photon/internal/runtime.h"

namespace photon::internal {
namespace {

// Constant-initialized, so API calls made during static initialization see nullptr
// rather than an unconstructed object.
constinit std::atomic<Runtime*> g_runtime{nullptr};

}  // namespace

Runtime& GetRuntime() {
  Runtime* runtime = g_runtime.load(std::memory_order_acquire);
  if (runtime == nullptr) {
    throw Error("photon::Init has not been called");
  }
  return *runtime;
}

Runtime* GetRuntimeOrNull() { return g_runtime.load(std::memory_order_acquire); }

void SetRuntime(Runtime* runtime) { g_runtime.store(runtime, std::memory_order_release); }

}  // namespace photon::internal
