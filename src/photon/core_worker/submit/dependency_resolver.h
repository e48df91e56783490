// The one place where a submitted task waits for its arguments: normal
// tasks, actor calls and actor creation all go through Resolve before they
// are sent.
//
// An argument passed by reference must exist somewhere before the task is
// sent (Ray's owner-side dependency resolution). An object this process owns
// is ready once its value (or the marker of its store copy) is in the memory
// store; a borrowed one is asked of its owner. Once every argument is ready,
// the small ones that this process holds inline are copied into the spec (up
// to task_rpc_inlined_bytes_limit in all), so the executor needs no round
// trip for them; an argument whose value is an error fails the task with
// that error.
//
// Threading: thread-safe. `done` runs once, on the thread that made the last
// argument ready (or on the calling thread if all were), and never after the
// guard is closed.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "photon/common/callback_guard.h"
#include "photon/common/id.h"
#include "photon/core_worker/memory_store.h"
#include "photon/protocol/common.pb.h"

namespace photon::core {

class DependencyResolver {
 public:
  // Asks the owner of a borrowed object for its value; the answer (the value
  // or an error value) goes into the memory store.
  using FetchFn = std::function<void(const ObjectID& id, const rpc::Address& owner)>;
  using Done = std::function<void(rpc::TaskSpec spec, std::optional<rpc::ErrorInfo> error)>;

  DependencyResolver(MemoryStore* store, FetchFn fetch, std::shared_ptr<CallbackGuard> guard,
                     std::string self_worker_id, int64_t max_inline_object_bytes,
                     int64_t max_inline_total_bytes);

  void Resolve(rpc::TaskSpec spec, Done done);

  // Copies the small ready values of `spec`'s reference arguments into it;
  // returns the error of the first argument whose value is an error.
  std::optional<rpc::ErrorInfo> InlineReadyArgs(rpc::TaskSpec* spec) const;

 private:
  MemoryStore* const store_;
  const FetchFn fetch_;
  const std::shared_ptr<CallbackGuard> guard_;
  const std::string self_worker_id_;
  const int64_t max_inline_object_bytes_;
  const int64_t max_inline_total_bytes_;
};

}  // namespace photon::core
