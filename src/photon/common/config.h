// SystemConfig: the values of every tunable in config_def.h.
//
// A SystemConfig is a plain value: build it once at process start (defaults,
// then the environment, then explicit overrides) and pass it in to whatever
// needs it; nothing reads a global. Thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace photon {

// One row of the table, for documentation and for passing settings on.
struct ConfigEntry {
  std::string name;           // e.g. "max_direct_call_object_size"
  std::string env_var;        // e.g. "PHOTON_MAX_DIRECT_CALL_OBJECT_SIZE"
  std::string type;           // "bool", "int64", "double" or "string"
  std::string default_value;  // as text
  std::string doc;
};

class SystemConfig {
 public:
  // All defaults.
  SystemConfig() = default;

  // Defaults overridden by every PHOTON_* variable in `environ_vars`
  // ("NAME=value" strings; nullptr-terminated, like `environ`). Fails with
  // InvalidArgument naming the variable if a value does not parse or a
  // PHOTON_* variable names no tunable.
  static absl::StatusOr<SystemConfig> FromEnvironment(const char* const* environ_vars);
  // As above, with the process environment.
  static absl::StatusOr<SystemConfig> FromProcessEnvironment();

  // Sets tunable `name` from its text form. Fails with NotFound for an unknown
  // name and InvalidArgument for a value that does not parse as the row's type.
  absl::Status Set(std::string_view name, std::string_view value);

  // The current value of `name` as text; NotFound for an unknown name.
  absl::StatusOr<std::string> Get(std::string_view name) const;

  // Every value that differs from its default, as PHOTON_<NAME>=value pairs,
  // so a child process started with them sees the same configuration.
  std::map<std::string, std::string> ToEnvironment() const;

  // The whole table, in declaration order.
  static const std::vector<ConfigEntry>& Table();

  // Typed accessors, one per row: `int64_t max_direct_call_object_size() const`.
#define PHOTON_CONFIG(type, name, default_value, doc) \
  const type& name() const { return name##_; }        \
  void set_##name(type v) { name##_ = std::move(v); }
#include "photon/common/config_def.h"
#undef PHOTON_CONFIG

 private:
#define PHOTON_CONFIG(type, name, default_value, doc) type name##_ = default_value;
#include "photon/common/config_def.h"
#undef PHOTON_CONFIG
};

// The environment variable that sets `name`: "PHOTON_" + upper-case name.
std::string ConfigEnvVar(std::string_view name);

}  // namespace photon
