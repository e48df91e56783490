// The value of an object as the core worker holds it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "photon/common/id.h"
#include "photon/protocol/common.pb.h"
#include "photon/protocol/core_worker.pb.h"

namespace photon::core {

// Metadata tags. The front ends define their own for values ("msgpack",
// "pickle5", ...); the core reserves these.
inline constexpr char kErrorMetadata[] = "photon:error";

struct ObjectValue {
  // Set when the bytes are held here (inline objects, or a mapped store copy).
  std::string metadata;
  std::string_view data;
  std::shared_ptr<const void> holder;  // keeps `data` alive
  // Set when the value lives in a node's object store and is not held here.
  bool in_plasma = false;
  NodeID plasma_node;
  int64_t plasma_size = -1;  // of a store copy, when known (-1: not)

  // The object's size in bytes (data and metadata), -1 if not known here.
  int64_t Size() const {
    if (in_plasma) return plasma_size;
    return static_cast<int64_t>(data.size() + metadata.size());
  }

  bool IsError() const { return !in_plasma && metadata == kErrorMetadata; }

  static std::shared_ptr<ObjectValue> FromBytes(std::string metadata, std::string data);
  static std::shared_ptr<ObjectValue> FromError(const rpc::ErrorInfo& error);
  static std::shared_ptr<ObjectValue> InPlasma(const NodeID& node, int64_t size = -1);
  // The value a task reply (or stream item) carries: inline bytes or a marker.
  static std::shared_ptr<ObjectValue> FromReturn(const rpc::ReturnObject& r);
  // For an error value: the error it carries.
  rpc::ErrorInfo Error() const;
};

rpc::ErrorInfo MakeError(rpc::ErrorType type, std::string message);

}  // namespace photon::core
