#include "photon/core_worker/submit/dependency_resolver.h"

#include <atomic>

namespace photon::core {

DependencyResolver::DependencyResolver(MemoryStore* store, FetchFn fetch,
                                       std::shared_ptr<CallbackGuard> guard,
                                       std::string self_worker_id, int64_t max_inline_object_bytes,
                                       int64_t max_inline_total_bytes)
    : store_(store),
      fetch_(std::move(fetch)),
      guard_(std::move(guard)),
      self_worker_id_(std::move(self_worker_id)),
      max_inline_object_bytes_(max_inline_object_bytes),
      max_inline_total_bytes_(max_inline_total_bytes) {}

void DependencyResolver::Resolve(rpc::TaskSpec spec, Done done) {
  std::vector<std::pair<ObjectID, rpc::Address>> deps;
  for (const auto& arg : spec.args()) {
    if (!arg.has_ref()) continue;
    auto id = ObjectID::FromBinary(arg.ref().object_id());
    if (id.ok()) deps.emplace_back(*id, arg.ref().owner());
  }
  struct Pending {
    rpc::TaskSpec spec;
    Done done;
    std::atomic<size_t> left;
  };
  // +1 for this call itself, so `done` cannot run before every callback is
  // registered.
  auto pending = std::make_shared<Pending>();
  pending->spec = std::move(spec);
  pending->done = std::move(done);
  pending->left = deps.size() + 1;
  auto arrived = [this, pending] {
    if (--pending->left > 0) return;
    std::optional<rpc::ErrorInfo> error = InlineReadyArgs(&pending->spec);
    pending->done(std::move(pending->spec), std::move(error));
  };
  for (const auto& [id, owner] : deps) {
    if (owner.worker_id() != self_worker_id_ && !store_->Contains(id)) fetch_(id, owner);
    store_->OnReady(id, [arrived, g = guard_](std::shared_ptr<ObjectValue>) {
      auto token = g->Enter();
      if (token) arrived();
    });
  }
  arrived();
}

std::optional<rpc::ErrorInfo> DependencyResolver::InlineReadyArgs(rpc::TaskSpec* spec) const {
  int64_t inlined = 0;
  for (const auto& arg : spec->args()) {
    if (arg.has_value()) inlined += static_cast<int64_t>(arg.value().data().size());
  }
  for (auto& arg : *spec->mutable_args()) {
    if (!arg.has_ref()) continue;
    auto v = store_->GetIfReady(ObjectID::FromBinaryOrDie(arg.ref().object_id()));
    if (v == nullptr || v->in_plasma) continue;
    if (v->IsError()) return v->Error();
    int64_t size = static_cast<int64_t>(v->data.size());
    // Past the limits the argument stays a reference: the executor asks the
    // owner for it.
    if (size > max_inline_object_bytes_ || inlined + size > max_inline_total_bytes_) continue;
    inlined += size;
    rpc::SerializedObject* value = arg.mutable_value();  // replaces the ref
    value->set_metadata(v->metadata);
    value->set_data(std::string(v->data));
  }
  return std::nullopt;
}

}  // namespace photon::core
