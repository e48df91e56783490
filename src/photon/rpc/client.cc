#include "photon/rpc/client.h"

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace photon::rpc {

std::shared_ptr<grpc::Channel> GetChannel(const std::string& address) {
  static absl::Mutex mu;
  static auto* channels ABSL_GUARDED_BY(mu) =
      new absl::flat_hash_map<std::string, std::shared_ptr<grpc::Channel>>();
  absl::MutexLock lock(&mu);
  auto it = channels->find(address);
  if (it != channels->end()) return it->second;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  // Reconnect quickly: a restarted peer on the same port should be found fast,
  // and a dead one should fail calls fast.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  auto channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  (*channels)[address] = channel;
  return channel;
}

}  // namespace photon::rpc
