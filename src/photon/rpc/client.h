// Client-side gRPC helpers: channels, named unary calls (async and sync),
// retries of transient failures, and a reply callback that logs failures.
//
// Every call carries its method's name: failures are logged with it and the
// fault injector (fault_injection.h) picks calls by it.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>

#include "absl/status/status.h"
#include "fmt/format.h"
#include "photon/common/logging.h"
#include "photon/common/timer.h"
#include "photon/rpc/auth.h"
#include "photon/rpc/fault_injection.h"
#include "photon/rpc/grpc_status.h"

namespace photon::rpc {

// A channel to `address` ("host:port") with Photon's settings (no message size
// limit). Cached per address in this process; thread-safe. A cached channel
// in TRANSIENT_FAILURE is replaced by a fresh one: ports are reused, and a new
// process at the address of a dead one must not inherit its backoff.
std::shared_ptr<grpc::Channel> GetChannel(const std::string& address);
// The same for a known peer (`peer_id`: a WorkerID or NodeID in binary): a
// cached channel that was made for another peer at that address is replaced.
std::shared_ptr<grpc::Channel> GetChannel(const std::string& address, const std::string& peer_id);

// "ip:port" of an address message.
template <typename AddressProto>
std::string HostPort(const AddressProto& a) {
  return fmt::format("{}:{}", a.ip(), a.port());
}

// Readies a call's context: a deadline `timeout_ms` from now (none if < 0)
// and the process's cluster token (rpc/auth.h). Every call Photon makes is
// readied by it (or by AttachClusterToken); a source rule checks that.
inline void PrepareCall(grpc::ClientContext* ctx, int64_t timeout_ms) {
  if (timeout_ms >= 0) {
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
  }
  AttachClusterToken(ctx);
}

template <typename Reply>
using ReplyCallback = std::function<void(const absl::Status&, Reply&&)>;

namespace internal {
// Runs `fn` soon on a thread of the injector's own (injected request
// failures must not call back on the caller's stack).
void RunInjected(std::function<void()> fn);
}  // namespace internal

// Calls `method` (named `name`) on `async` (a stub's async() interface)
// without blocking; `done` runs on a gRPC thread with the status and the
// reply, and must not block for long. The stub must outlive the call.
template <typename AsyncStub, typename Request, typename Reply>
void CallAsync(AsyncStub* async,
               void (AsyncStub::*method)(grpc::ClientContext*, const Request*, Reply*,
                                         std::function<void(grpc::Status)>),
               std::string_view name, Request request, int64_t timeout_ms,
               std::type_identity_t<ReplyCallback<Reply>> done) {
  InjectedFailure injected = NextInjectedFailure(name);
  if (injected == InjectedFailure::kRequest) {
    internal::RunInjected(
        [done = std::move(done), s = InjectedFailureStatus(name, injected)] { done(s, Reply()); });
    return;
  }
  struct Call {
    grpc::ClientContext ctx;
    Request request;
    Reply reply;
  };
  auto call = std::make_shared<Call>();
  call->request = std::move(request);
  PrepareCall(&call->ctx, timeout_ms);
  (async->*method)(&call->ctx, &call->request, &call->reply,
                   [call, injected, name = std::string(name),
                    done = std::move(done)](grpc::Status status) mutable {
                     if (injected == InjectedFailure::kReply && status.ok()) {
                       done(InjectedFailureStatus(name, injected), Reply());
                       return;
                     }
                     done(FromGrpcStatus(status), std::move(call->reply));
                   });
}

// Blocking unary call; returns the reply or the call's error.
template <typename Stub, typename Request, typename Reply>
absl::Status CallSync(Stub* stub,
                      grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Reply*),
                      std::string_view name, const Request& request, Reply* reply,
                      int64_t timeout_ms) {
  InjectedFailure injected = NextInjectedFailure(name);
  if (injected == InjectedFailure::kRequest) return InjectedFailureStatus(name, injected);
  grpc::ClientContext ctx;
  PrepareCall(&ctx, timeout_ms);
  absl::Status s = FromGrpcStatus((stub->*method)(&ctx, request, reply));
  if (s.ok() && injected == InjectedFailure::kReply) return InjectedFailureStatus(name, injected);
  return s;
}

// Failures worth another attempt: the peer could not be reached (or an
// injected failure), or an attempt ran past its own deadline.
inline bool IsTransient(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s);
}

// How long and how often a call is tried again after transient failures.
// (Built from the config table: rpc/raylet_client.h, ControlRetryPolicy.)
struct RetryPolicy {
  absl::Duration deadline;  // from the first attempt
  absl::Duration initial_backoff;
  absl::Duration max_backoff;
};

// Calls `attempt(cb)`, which starts one call and reports it to `cb`. While it
// fails transiently, the policy's deadline has not passed and `keep_trying`
// (optional) says so, it is called again after a growing backoff scheduled on
// `timer`; then `done` gets the last outcome (a give-up names the number of
// attempts). Use it only for calls the server handles idempotently.
// If the timer is stopped while a retry waits, `done` is not called. The
// timer is shared so that a call ending after its caller stopped finds it
// (stopped, scheduling nothing) rather than freed.
template <typename Reply>
void CallWithRetry(std::shared_ptr<Timer> timer, std::string name, RetryPolicy policy,
                   std::function<void(ReplyCallback<Reply>)> attempt, ReplyCallback<Reply> done,
                   std::function<bool()> keep_trying = nullptr) {
  struct State {
    std::shared_ptr<Timer> timer;
    std::string name;
    RetryPolicy policy;
    absl::Time give_up_at;
    Backoff backoff;
    int attempts = 0;
    std::function<void(ReplyCallback<Reply>)> attempt;
    ReplyCallback<Reply> done;
    std::function<bool()> keep_trying;
  };
  absl::Time give_up_at = timer->Now() + policy.deadline;
  auto st =
      std::make_shared<State>(State{std::move(timer), std::move(name), policy, give_up_at,
                                    Backoff(policy.initial_backoff, policy.max_backoff), 0,
                                    std::move(attempt), std::move(done), std::move(keep_trying)});
  // Each attempt's callback holds the state; the state holds no callback of
  // its own, so nothing is kept alive in a cycle.
  auto run = std::make_shared<std::function<void()>>();
  std::weak_ptr<std::function<void()>> weak_run = run;
  *run = [st, weak_run] {
    auto self = weak_run.lock();
    if (self == nullptr) return;
    ++st->attempts;
    st->attempt([st, self](const absl::Status& s, Reply&& reply) {
      bool again = IsTransient(s) && st->timer->Now() < st->give_up_at &&
                   (st->keep_trying == nullptr || st->keep_trying());
      if (!again) {
        if (!s.ok() && st->attempts > 1) {
          st->done(absl::Status(s.code(), fmt::format("{} (after {} attempts)",
                                                      std::string(s.message()), st->attempts)),
                   std::move(reply));
        } else {
          st->done(s, std::move(reply));
        }
        return;
      }
      PHOTON_LOG_DEBUG("{}: attempt {} failed ({}); trying again", st->name, st->attempts,
                       std::string(s.message()));
      st->timer->RunAfter(st->name + " retry", st->backoff.Next(), [self] { (*self)(); });
    });
  };
  (*run)();
}

// The blocking counterpart of CallWithRetry: calls `attempt()` until it
// succeeds, fails for good or the policy's deadline passes, sleeping between
// attempts on the calling thread (never call it on an RPC thread).
absl::Status RetrySync(std::string_view name, const RetryPolicy& policy,
                       const std::function<absl::Status()>& attempt);

// A reply callback for a call whose outcome needs no action: a failure is
// logged (at `level`, with `what`), a success ignored.
template <typename Reply>
ReplyCallback<Reply> LogIfFailed(std::string what,
                                 spdlog::level::level_enum level = spdlog::level::debug) {
  return [what = std::move(what), level](const absl::Status& s, Reply&&) {
    if (!s.ok()) PHOTON_LOG(level, "{} failed: {}", what, std::string(s.message()));
  };
}

}  // namespace photon::rpc
