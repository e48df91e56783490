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
  // Reconnect quickly: a restarted peer on the same port should be found fast,
  // and a dead one should fail calls fast.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // A fresh channel per use, so that gRPC does not share one subchannel
  // between this channel and the replaced one.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  (*channels)[address] = Entry{channel, peer_id};
  return channel;
}

}  // namespace photon::rpc
