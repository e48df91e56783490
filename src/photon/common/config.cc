#include "photon/common/config.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>

#include "absl/strings/numbers.h"
#include "fmt/format.h"

extern char** environ;

namespace photon {
namespace {

constexpr std::string_view kEnvPrefix = "PHOTON_";

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  return out;
}

// Debian's abseil has its own string_view type; bridge explicitly.
absl::string_view AbslView(std::string_view s) { return absl::string_view(s.data(), s.size()); }

absl::Status Parse(std::string_view text, bool* out) {
  std::string v = Lower(text);
  if (v == "1" || v == "true" || v == "yes" || v == "on") {
    *out = true;
  } else if (v == "0" || v == "false" || v == "no" || v == "off") {
    *out = false;
  } else {
    return absl::InvalidArgumentError(
        fmt::format("expected a boolean (true/false/1/0), got '{}'", text));
  }
  return absl::OkStatus();
}

absl::Status Parse(std::string_view text, int64_t* out) {
  if (!absl::SimpleAtoi(AbslView(text), out)) {
    return absl::InvalidArgumentError(fmt::format("expected an integer, got '{}'", text));
  }
  return absl::OkStatus();
}

absl::Status Parse(std::string_view text, double* out) {
  if (!absl::SimpleAtod(AbslView(text), out)) {
    return absl::InvalidArgumentError(fmt::format("expected a number, got '{}'", text));
  }
  return absl::OkStatus();
}

absl::Status Parse(std::string_view text, std::string* out) {
  *out = std::string(text);
  return absl::OkStatus();
}

std::string Format(bool v) { return v ? "true" : "false"; }
std::string Format(int64_t v) { return fmt::format("{}", v); }
std::string Format(double v) { return fmt::format("{}", v); }
std::string Format(const std::string& v) { return v; }

const char* TypeName(bool*) { return "bool"; }
const char* TypeName(int64_t*) { return "int64"; }
const char* TypeName(double*) { return "double"; }
const char* TypeName(std::string*) { return "string"; }

}  // namespace

std::string ConfigEnvVar(std::string_view name) {
  return fmt::format("{}{}", kEnvPrefix, Upper(name));
}

const std::vector<ConfigEntry>& SystemConfig::Table() {
  static const std::vector<ConfigEntry>* table = [] {
    auto* t = new std::vector<ConfigEntry>();
#define PHOTON_CONFIG(type, name, default_value, doc)                                         \
  t->push_back(ConfigEntry{#name, ConfigEnvVar(#name), TypeName(static_cast<type*>(nullptr)), \
                           Format(type(default_value)), doc});
#include "photon/common/config_def.h"
#undef PHOTON_CONFIG
    return t;
  }();
  return *table;
}

absl::Status SystemConfig::Set(std::string_view name, std::string_view value) {
#define PHOTON_CONFIG(type, cname, default_value, doc)                                     \
  if (name == #cname) {                                                                    \
    type parsed{};                                                                         \
    absl::Status s = Parse(value, &parsed);                                                \
    if (!s.ok()) {                                                                         \
      return absl::InvalidArgumentError(                                                   \
          fmt::format("bad value for config '{}': {}", #cname, std::string(s.message()))); \
    }                                                                                      \
    cname##_ = std::move(parsed);                                                          \
    return absl::OkStatus();                                                               \
  }
#include "photon/common/config_def.h"
#undef PHOTON_CONFIG
  return absl::NotFoundError(fmt::format("unknown config '{}'", name));
}

absl::StatusOr<std::string> SystemConfig::Get(std::string_view name) const {
#define PHOTON_CONFIG(type, cname, default_value, doc) \
  if (name == #cname) return Format(cname##_);
#include "photon/common/config_def.h"
#undef PHOTON_CONFIG
  return absl::NotFoundError(fmt::format("unknown config '{}'", name));
}

std::map<std::string, std::string> SystemConfig::ToEnvironment() const {
  std::map<std::string, std::string> env;
#define PHOTON_CONFIG(type, cname, default_value, doc) \
  if (cname##_ != type(default_value)) env[ConfigEnvVar(#cname)] = Format(cname##_);
#include "photon/common/config_def.h"
#undef PHOTON_CONFIG
  return env;
}

absl::StatusOr<SystemConfig> SystemConfig::FromEnvironment(const char* const* environ_vars) {
  SystemConfig config;
  for (const char* const* e = environ_vars; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    if (kv.substr(0, kEnvPrefix.size()) != kEnvPrefix) continue;
    size_t eq = kv.find('=');
    std::string_view var = kv.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : kv.substr(eq + 1);
    std::string name = Lower(var.substr(kEnvPrefix.size()));
    absl::Status s = config.Set(name, value);
    if (absl::IsNotFound(s)) {
      return absl::InvalidArgumentError(fmt::format(
          "unknown environment variable {}: no Photon config is named '{}' (see docs/config.md)",
          var, name));
    }
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("environment variable {}: {}", var, std::string(s.message())));
    }
  }
  return config;
}

absl::StatusOr<SystemConfig> SystemConfig::FromProcessEnvironment() {
  return FromEnvironment(environ);
}

}  // namespace photon
