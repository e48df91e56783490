// The raylet's side of objects: it owns the node's LocalStore and serves it to
// local processes (StoreServer), serves chunks of local or spilled objects to
// other nodes (ObjectManagerService), and pulls objects from other nodes into
// the store with admission control.
//
// Pulls: a request names the object, a node believed to hold it, and a
// priority (get, then wait, then task arguments). One admission thread takes
// requests in priority order and reserves each object's room in the store
// before its transfer starts, so pulls never overcommit the store; while the
// store has no room the head request waits (spilling and eviction make room)
// and nothing behind it jumps ahead. Transfers run on their own threads, in
// chunks of object_chunk_size, straight into the arena. If the source fails,
// the pull asks every other node for a copy and retries from one that has it.
//
// Threading: Pull/GetObjectInfo run on gRPC sync-server threads; PullObject
// may be called from any thread; pull state is guarded by mu_.
#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "photon/common/config.h"
#include "photon/common/id.h"
#include "photon/object_store/local_store.h"
#include "photon/object_store/store_server.h"
#include "photon/protocol/object_manager.grpc.pb.h"
#include "photon/protocol/raylet.pb.h"

namespace photon::raylet {

class ObjectManager : public rpc::ObjectManagerService::Service {
 public:
  using Done = std::function<void(const absl::Status&)>;
  // Returns the addresses of the other live raylets (for finding copies).
  using PeersFn = std::function<std::vector<rpc::Address>()>;

  ObjectManager(const SystemConfig& config, PeersFn peers)
      : config_(config), peers_(std::move(peers)) {}
  ~ObjectManager() override { Stop(); }

  // Creates the arena (`capacity` bytes), starts the store socket `socket_name`
  // and the admission thread. Spill files go under `spill_dir`.
  absl::Status Start(uint64_t capacity, const std::string& socket_name,
                     const std::string& spill_dir);
  // Fails queued pulls, cancels transfers, stops the store. Safe to call twice.
  void Stop();

  // Makes `id` local, copying it from `from` (or any node with a copy); calls
  // `done` once it is sealed here, or with the reason it cannot be.
  void PullObject(const ObjectID& id, const rpc::Address& from, int priority, Done done);
  // The owner freed `id`.
  void Free(const ObjectID& id);
  rpc::StoreStats Stats();

  // --- ObjectManagerService ---
  grpc::Status GetObjectInfo(grpc::ServerContext* ctx, const rpc::ObjectInfoRequest* req,
                             rpc::ObjectInfoReply* reply) override;
  grpc::Status Pull(grpc::ServerContext* ctx, const rpc::PullRequest* req,
                    grpc::ServerWriter<rpc::PullChunk>* writer) override;

 private:
  struct Request {
    ObjectID id;
    std::vector<rpc::Address> sources;  // to try in order
    int priority = 0;
    uint64_t seq = 0;
    int attempts = 0;
    int transient_failures = 0;
    std::vector<Done> waiters;
    // Set once a source has said it holds the object, with its sizes.
    std::optional<std::pair<rpc::Address, rpc::ObjectInfoReply>> located;
  };
  struct Transfer {
    std::thread thread;
    std::vector<grpc::ClientContext*> ctxs;  // guarded by mu_, for cancelling
    bool done = false;
  };

  void AdmissionLoop();
  // Finds a node holding the object among `sources`, then among all peers.
  absl::StatusOr<std::pair<rpc::Address, rpc::ObjectInfoReply>> Locate(
      const ObjectID& id, const std::vector<rpc::Address>& sources);
  // Admits the best queued request if the store has room; false if it waits.
  bool AdmitOne();
  void RunTransfer(ObjectID id, rpc::Address from, object_store::ObjectSpan span, Transfer* t);
  // Copies the object from `from` into `span`.
  absl::Status Stream(const ObjectID& id, const rpc::Address& from,
                      const object_store::ObjectSpan& span, Transfer* t);
  // One stream: bytes [begin, end) of the object (metadata then data).
  absl::Status StreamRange(const ObjectID& id, const rpc::Address& from,
                           const object_store::ObjectSpan& span, uint64_t begin, uint64_t end,
                           Transfer* t);
  void FinishQueued(const ObjectID& id, const absl::Status& s);

  const SystemConfig& config_;
  PeersFn peers_;
  std::unique_ptr<object_store::LocalStore> store_;
  std::unique_ptr<object_store::StoreServer> server_;

  absl::Mutex mu_;
  absl::flat_hash_map<ObjectID, Request> queued_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<ObjectID, Request> active_ ABSL_GUARDED_BY(mu_);
  std::list<Transfer> transfers_ ABSL_GUARDED_BY(mu_);
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread admission_;
};

}  // namespace photon::raylet
