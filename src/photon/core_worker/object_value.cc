#include "photon/core_worker/object_value.h"

namespace photon::core {

std::shared_ptr<ObjectValue> ObjectValue::FromBytes(std::string metadata, std::string data) {
  auto v = std::make_shared<ObjectValue>();
  v->metadata = std::move(metadata);
  auto owned = std::make_shared<std::string>(std::move(data));
  v->data = *owned;
  v->holder = owned;
  return v;
}

std::shared_ptr<ObjectValue> ObjectValue::FromError(const rpc::ErrorInfo& error) {
  return FromBytes(kErrorMetadata, error.SerializeAsString());
}

std::shared_ptr<ObjectValue> ObjectValue::InPlasma(const NodeID& node, int64_t size) {
  auto v = std::make_shared<ObjectValue>();
  v->in_plasma = true;
  v->plasma_node = node;
  v->plasma_size = size;
  return v;
}

std::shared_ptr<ObjectValue> ObjectValue::FromReturn(const rpc::ReturnObject& r) {
  if (r.in_plasma()) {
    return InPlasma(NodeID::FromBinary(r.node_id()).value_or(NodeID::Nil()),
                    r.size() > 0 ? r.size() : -1);
  }
  return FromBytes(r.value().metadata(), r.value().data());
}

rpc::ErrorInfo ObjectValue::Error() const {
  rpc::ErrorInfo e;
  e.ParseFromArray(data.data(), static_cast<int>(data.size()));
  return e;
}

rpc::ErrorInfo MakeError(rpc::ErrorType type, std::string message) {
  rpc::ErrorInfo e;
  e.set_type(type);
  e.set_message(std::move(message));
  return e;
}

}  // namespace photon::core
