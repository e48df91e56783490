// A process's connection to its node's object store (the raylet's
// LocalStore, over a Unix socket). The arena is mapped once at Connect;
// objects are then read and written in place: a get copies nothing.
//
// Thread-safe: any thread may call any method (requests on the one connection
// are serialized). Views returned by Get stay valid while their StoredObject
// (or a copy of its `holder`) lives; dropping the last holder releases the pin.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "photon/common/id.h"
#include "photon/protocol/store.pb.h"

namespace photon::object_store {

// A sealed object mapped read-only.
struct StoredObject {
  std::string_view metadata;
  std::string_view data;
  std::shared_ptr<const void> holder;  // the pin
};

class StoreClient {
 public:
  // Connects to the store at `socket_name` and maps its arena. Unavailable if
  // no store listens there.
  // `token` is the cluster token the store requires ("" for a store without).
  static absl::StatusOr<std::unique_ptr<StoreClient>> Connect(const std::string& socket_name,
                                                              const std::string& token = "");
  ~StoreClient();

  // Writes and seals an object. AlreadyExists if the store has it (objects are
  // immutable: the existing copy stands). When the store is full it waits up
  // to `grace_ms` for spilling or readers to make room, then fails with
  // ResourceExhausted describing the sizes involved.
  absl::Status Put(const ObjectID& id, std::string_view metadata, std::string_view data,
                   int64_t grace_ms);
  // As Put, with the data written by `fill(dst)` straight into shared memory.
  // `fill` must write exactly `data_size` bytes.
  absl::Status PutWith(const ObjectID& id, std::string_view metadata, size_t data_size,
                       const std::function<void(char* dst)>& fill, int64_t grace_ms);

  // Pins and maps each object; nullopt for one that is not sealed here.
  // Objects spilled to disk are restored first (waiting up to `grace_ms` for
  // room). Blocks for one round trip plus any restore.
  absl::StatusOr<std::vector<std::optional<StoredObject>>> Get(const std::vector<ObjectID>& ids,
                                                               int64_t grace_ms = 0);
  // One object; NotFound if it is not here.
  absl::StatusOr<StoredObject> Get(const ObjectID& id, int64_t grace_ms = 0);
  bool Contains(const ObjectID& id);
  // The owner is done with these objects (one-way, ordered before any later
  // request of this client, so the room is free for its next create).
  void Delete(const std::vector<ObjectID>& ids);
  // Pins, spill state and placement of one object (takes no pin).
  absl::StatusOr<rpc::StoreObject> Info(const ObjectID& id);
  absl::StatusOr<rpc::StoreStats> Stats();

  uint64_t capacity() const;
  // The objects this process holds views of (pins not yet released), with
  // their sizes (data and metadata): Ray's "pinned in memory".
  std::vector<std::pair<ObjectID, int64_t>> PinnedObjects() const;

 private:
  struct Conn;
  explicit StoreClient(std::shared_ptr<Conn> conn) : conn_(std::move(conn)) {}
  absl::StatusOr<char*> Create(const ObjectID& id, uint64_t metadata_size, uint64_t data_size,
                               int64_t grace_ms);
  std::shared_ptr<Conn> conn_;
};

}  // namespace photon::object_store
