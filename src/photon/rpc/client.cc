#include "photon/rpc/client.h"

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace photon::rpc {

std::shared_ptr<grpc::Channel> GetChannel(const std::string& address) {
  return GetChannel(address, "");
}

std::shared_ptr<grpc::Channel> GetChannel(const std::string& address, const std::string& peer_id) {
  struct Entry {
    std::shared_ptr<grpc::Channel> channel;
    std::string peer_id;
  };
  static absl::Mutex mu;
  static auto* channels ABSL_GUARDED_BY(mu) = new absl::flat_hash_map<std::string, Entry>();
  absl::MutexLock lock(&mu);
  auto it = channels->find(address);
  if (it != channels->end()) {
    Entry& e = it->second;
    // A process that died left this address; a new one may listen there now
    // (ports are reused). A channel still backing off from the dead peer
    // would fail calls at once, so such a channel is replaced.
    bool other_peer = !peer_id.empty() && !e.peer_id.empty() && peer_id != e.peer_id;
    bool failing = e.channel->GetState(false) == GRPC_CHANNEL_TRANSIENT_FAILURE;
    if (!other_peer && !failing) {
      if (e.peer_id.empty()) e.peer_id = peer_id;
      return e.channel;
    }
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  // Reconnect quickly: a restarted peer on the same port should be found fast.
  // GRPC_ARG_MIN_RECONNECT_BACKOFF_MS is left at its default on purpose: gRPC
  // also takes it as the minimum time a connection attempt (TCP and HTTP/2
  // handshake) may take, and a small value makes every connect to a busy peer
  // fail ("timed out before receiving SETTINGS frame").
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // A fresh channel per use, so that gRPC does not share one subchannel
  // between this channel and the replaced one.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  (*channels)[address] = Entry{channel, peer_id};
  return channel;
}

namespace internal {

void RunInjected(std::function<void()> fn) {
  // Lives as long as the process: only fault-injection tests start it.
  static ThreadTimer* timer = new ThreadTimer("rpc-fault-injection");
  timer->RunAfter("injected failure", absl::ZeroDuration(), std::move(fn));
}

}  // namespace internal

absl::Status RetrySync(std::string_view name, const RetryPolicy& policy,
                       const std::function<absl::Status()>& attempt) {
  absl::Time give_up_at = absl::Now() + policy.deadline;
  Backoff backoff(policy.initial_backoff, policy.max_backoff);
  int attempts = 0;
  while (true) {
    ++attempts;
    absl::Status s = attempt();
    if (!IsTransient(s)) return s;
    absl::Duration wait = backoff.Next();
    if (absl::Now() + wait >= give_up_at) {
      return absl::Status(s.code(), fmt::format("{}: {} (after {} attempts)", std::string(name),
                                                std::string(s.message()), attempts));
    }
    PHOTON_LOG_DEBUG("{}: attempt {} failed ({}); trying again", std::string(name), attempts,
                     std::string(s.message()));
    absl::SleepFor(wait);
  }
}

}  // namespace photon::rpc
