// Whether a peer process (a worker or driver) is alive, on evidence: its
// raylet says its process ended, or the GCS says its node is dead. A peer
// that merely fails to answer is not dead; callers keep trying it
// (CallWhileAlive), so an overloaded machine makes calls slower, never
// turns a busy peer into a dead one.
//
// Threading: thread-safe; callbacks run on RPC or timer threads.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "fmt/format.h"
#include "photon/common/callback_guard.h"
#include "photon/common/logging.h"
#include "photon/common/timer.h"
#include "photon/core_worker/node_directory.h"
#include "photon/gcs_client/gcs_client.h"
#include "photon/rpc/client.h"
#include "photon/rpc/raylet_client.h"

namespace photon::core {

class WorkerLiveness {
 public:
  enum class State { kAlive, kDead, kUnknown };
  // `reason`: for kDead, how it ended (its exit, or its node's death).
  using Done = std::function<void(State state, const std::string& reason)>;

  // Callbacks that come after `guard` is closed touch nothing of this object
  // (they end the call with Cancelled).
  WorkerLiveness(NodeDirectory* nodes, rpc::RayletClientPool* raylets, GcsClient* gcs, Timer* timer,
                 rpc::RetryPolicy backoff, std::shared_ptr<CallbackGuard> guard)
      : nodes_(nodes),
        raylets_(raylets),
        gcs_(gcs),
        timer_(timer),
        backoff_(backoff),
        guard_(std::move(guard)) {}

  // Asks the raylet of `worker`'s node (worker.node_id) whether its process
  // lives. kUnknown when neither the raylet nor the GCS can tell (both
  // unreachable): the caller tries again later.
  void Check(const rpc::Address& worker, Done done);

  // True if the node `peer` ran on is known dead (the GCS said so to the
  // node directory): the peer died with its node, not on its own.
  bool NodeDied(const rpc::Address& peer) const;

  // Calls `attempt(cb)` (one call to `peer`) until it succeeds or fails for
  // good, trying again after a growing backoff while it fails transiently
  // and `peer` is not known dead. A dead peer ends it with Unavailable naming
  // how the peer ended. If the timer stops while a retry waits, `done` is not
  // called.
  template <typename Reply>
  void CallWhileAlive(const rpc::Address& peer, std::string name,
                      std::function<void(rpc::ReplyCallback<Reply>)> attempt,
                      rpc::ReplyCallback<Reply> done);

 private:
  NodeDirectory* const nodes_;
  rpc::RayletClientPool* const raylets_;
  GcsClient* const gcs_;
  Timer* const timer_;
  const rpc::RetryPolicy backoff_;
  const std::shared_ptr<CallbackGuard> guard_;
};

template <typename Reply>
void WorkerLiveness::CallWhileAlive(const rpc::Address& peer, std::string name,
                                    std::function<void(rpc::ReplyCallback<Reply>)> attempt,
                                    rpc::ReplyCallback<Reply> done) {
  struct State {
    rpc::Address peer;
    std::string name;
    Backoff backoff;
    int attempts = 0;
    std::function<void(rpc::ReplyCallback<Reply>)> attempt;
    rpc::ReplyCallback<Reply> done;
  };
  auto st = std::make_shared<State>(State{peer, std::move(name),
                                          Backoff(backoff_.initial_backoff, backoff_.max_backoff),
                                          0, std::move(attempt), std::move(done)});
  auto run = std::make_shared<std::function<void()>>();
  std::weak_ptr<std::function<void()>> weak_run = run;
  *run = [this, st, weak_run] {
    auto self = weak_run.lock();
    if (self == nullptr) return;
    ++st->attempts;
    st->attempt([this, st, self, g = guard_](const absl::Status& s, Reply&& reply) {
      if (!rpc::IsTransient(s)) return st->done(s, std::move(reply));
      auto token = g->Enter();
      if (!token) return st->done(absl::CancelledError(st->name + ": this process stops"), Reply());
      std::string why(s.message());
      Check(st->peer, [this, st, self, why, g](WorkerLiveness::State state,
                                               const std::string& reason) {
        auto token = g->Enter();
        if (!token) {
          return st->done(absl::CancelledError(st->name + ": this process stops"), Reply());
        }
        if (state == WorkerLiveness::State::kDead) {
          return st->done(
              absl::UnavailableError(fmt::format("{}: the peer at {} is dead ({}); last error: {}",
                                                 st->name, rpc::HostPort(st->peer), reason, why)),
              Reply());
        }
        PHOTON_LOG_DEBUG("{}: attempt {} failed ({}); the peer lives, trying again", st->name,
                         st->attempts, why);
        timer_->RunAfter(st->name + " retry", st->backoff.Next(), [self] { (*self)(); });
      });
    });
  };
  (*run)();
}

}  // namespace photon::core
