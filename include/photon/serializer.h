// How Photon turns values into bytes and back: msgpack (msgpack-cxx).
//
// Numbers, bools, std::string, and the standard containers (vector, array, map,
// unordered_map, set, pair, tuple, optional, ...) of such values work out of the box.
// A struct or class becomes serializable by listing its fields with msgpack's macro:
//
//   struct Point {
//     double x = 0;
//     double y = 0;
//     MSGPACK_DEFINE(x, y);
//   };
//
// Deserialized types must be default-constructible (or have a msgpack adaptor).
#pragma once

#include <cstddef>
#include <exception>
#include <msgpack.hpp>
#include <string>
#include <string_view>

#include "photon/errors.h"
#include "photon/internal/type_name.h"

namespace photon {

namespace internal {

// A msgpack output stream that appends to a std::string.
struct StringWriter {
  std::string* out;
  void write(const char* data, std::size_t size) { out->append(data, size); }
};

}  // namespace internal

// Returns the msgpack bytes of `value`. Throws photon::Error if msgpack cannot pack it (e.g. a
// container with more than 2^32 elements). Thread-safe (touches no shared state).
template <typename T>
std::string Serialize(const T& value) {
  std::string bytes;
  internal::StringWriter writer{&bytes};
  try {
    msgpack::pack(writer, value);
  } catch (const std::exception& e) {
    throw Error("cannot serialize a value of type " + internal::TypeName<T>() + ": " + e.what());
  }
  return bytes;
}

// Reads a T back from the msgpack bytes [data, data + size), which must hold exactly one
// msgpack value. Throws photon::Error naming T if the bytes are malformed, hold a value of
// another type, or have trailing bytes. Thread-safe; does not keep a pointer to `data`.
template <typename T>
T Deserialize(const char* data, std::size_t size) {
  try {
    std::size_t offset = 0;
    msgpack::object_handle handle = msgpack::unpack(data, size, offset);
    if (offset != size) {
      throw Error(std::to_string(size - offset) + " trailing bytes");
    }
    return handle.get().as<T>();
  } catch (const std::exception& e) {
    throw Error("cannot deserialize " + std::to_string(size) + " bytes as " +
                internal::TypeName<T>() + ": " + e.what());
  }
}

// Deserialize<T>(bytes.data(), bytes.size()).
template <typename T>
T Deserialize(std::string_view bytes) {
  return Deserialize<T>(bytes.data(), bytes.size());
}

}  // namespace photon
