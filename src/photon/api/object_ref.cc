#include "photon/object_ref.h"

#include <msgpack.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "photon/actor_handle.h"

namespace photon::internal {
namespace {
thread_local PackedActorHandles* t_packed_handles = nullptr;
}  // namespace

PackedActorHandles::PackedActorHandles() : outer_(t_packed_handles) { t_packed_handles = this; }

PackedActorHandles::~PackedActorHandles() {
  t_packed_handles = outer_;
  for (const auto& id : ids_) ReleaseActor(id);
}

void PackedActorHandles::Note(const std::string& actor_id) {
  if (t_packed_handles == nullptr) return;
  RetainActor(actor_id);
  t_packed_handles->ids_.push_back(actor_id);
}

void RetainObject(const std::string& object_id) {
  if (object_id.empty()) {
    return;
  }
  if (Runtime* runtime = GetRuntimeOrNull()) {
    runtime->AddLocalReference(object_id);
  }
}

void ReleaseObject(const std::string& object_id) noexcept {
  if (object_id.empty()) {
    return;
  }
  Runtime* runtime = GetRuntimeOrNull();
  if (runtime == nullptr) {
    return;
  }
  try {
    runtime->RemoveLocalReference(object_id);
  } catch (...) {
    // Called from destructors: a runtime that is shutting down may refuse; the object is
    // going away with it.
  }
}

std::string HexOfObjectId(const std::string& binary) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(binary.size() * 2);
  for (unsigned char byte : binary) {
    hex.push_back(kDigits[byte >> 4]);
    hex.push_back(kDigits[byte & 0xf]);
  }
  return hex;
}

void CheckNotNil(const std::string& object_id, const char* api) {
  if (object_id.empty()) {
    throw std::invalid_argument(std::string(api) + ": the ObjectRef is nil");
  }
}

namespace {

void CheckTimeout(int64_t timeout_ms, const char* api) {
  if (timeout_ms < -1) {
    throw std::invalid_argument(std::string(api) + ": timeout_ms must be >= 0, or -1 to wait " +
                                "forever; got " + std::to_string(timeout_ms));
  }
}

}  // namespace

std::vector<ObjectBuffer> GetObjects(const std::vector<std::string>& object_ids,
                                     int64_t timeout_ms) {
  CheckTimeout(timeout_ms, "photon::Get");
  std::vector<ObjectBuffer> buffers = GetRuntime().Get(object_ids, timeout_ms);
  if (buffers.size() != object_ids.size()) {
    throw Error("photon::Get: the runtime returned " + std::to_string(buffers.size()) +
                " objects for " + std::to_string(object_ids.size()) + " ids");
  }
  return buffers;
}

std::vector<bool> WaitObjects(const std::vector<std::string>& object_ids, int num_objects,
                              int64_t timeout_ms) {
  if (num_objects < 1 || static_cast<size_t>(num_objects) > object_ids.size()) {
    throw std::invalid_argument("photon::Wait: num_objects must be between 1 and the number of " +
                                std::string("refs (") + std::to_string(object_ids.size()) +
                                "); got " + std::to_string(num_objects));
  }
  CheckTimeout(timeout_ms, "photon::Wait");
  std::vector<bool> ready = GetRuntime().Wait(object_ids, num_objects, timeout_ms);
  if (ready.size() != object_ids.size()) {
    throw Error("photon::Wait: the runtime returned " + std::to_string(ready.size()) +
                " flags for " + std::to_string(object_ids.size()) + " ids");
  }
  return ready;
}

// --- actor handles ---

void RetainActor(const std::string& actor_id) {
  if (actor_id.empty()) {
    return;
  }
  if (Runtime* runtime = GetRuntimeOrNull()) {
    runtime->AddActorHandleReference(actor_id);
  }
}

void ReleaseActor(const std::string& actor_id) noexcept {
  if (actor_id.empty()) {
    return;
  }
  Runtime* runtime = GetRuntimeOrNull();
  if (runtime == nullptr) {
    return;
  }
  try {
    runtime->RemoveActorHandleReference(actor_id);
  } catch (...) {
    // As in ReleaseObject: a runtime that is shutting down may refuse.
  }
}

void CheckActorNotNil(const std::string& actor_id, const char* api) {
  if (actor_id.empty()) {
    throw std::invalid_argument(std::string(api) + ": the ActorHandle is nil");
  }
}

std::string UnpackActorHandle(const msgpack::object& object) {
  if (object.type == msgpack::type::NIL) {
    return std::string();
  }
  if (object.type != msgpack::type::EXT || object.via.ext.type() != kActorHandleExtType ||
      object.via.ext.size == 0) {
    throw msgpack::type_error();
  }
  std::string actor_id(object.via.ext.data(), object.via.ext.size);
  RetainActor(actor_id);
  return actor_id;
}

}  // namespace photon::internal
