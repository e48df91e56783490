// Bindings for src/photon/common: version, configuration, identifiers.
#include <nanobind/nanobind.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "photon/common/config.h"
#include "photon/common/id.h"

namespace nb = nanobind;

namespace photon::python {

void BindCommon(nb::module_& m) {
  m.def("version", [] { return std::string(PHOTON_PY_VERSION); });

  // Validates the PHOTON_* environment variables; raises ValueError naming the
  // first bad one. Returns every tunable's current value as text.
  m.def("check_config_environment", [] {
    auto config = SystemConfig::FromProcessEnvironment();
    if (!config.ok()) throw nb::value_error(std::string(config.status().message()).c_str());
    std::map<std::string, std::string> values;
    for (const auto& e : SystemConfig::Table()) values[e.name] = *config->Get(e.name);
    return values;
  });

  m.def("config_table", [] {
    std::vector<std::map<std::string, std::string>> rows;
    for (const auto& e : SystemConfig::Table()) {
      rows.push_back({{"name", e.name},
                      {"env_var", e.env_var},
                      {"type", e.type},
                      {"default", e.default_value},
                      {"doc", e.doc}});
    }
    return rows;
  });

  m.def("id_sizes", [] {
    return std::map<std::string, int>{{"JobID", JobID::kSize},
                                      {"ActorID", ActorID::kSize},
                                      {"TaskID", TaskID::kSize},
                                      {"ObjectID", ObjectID::kSize},
                                      {"NodeID", NodeID::kSize},
                                      {"WorkerID", WorkerID::kSize},
                                      {"PlacementGroupID", PlacementGroupID::kSize}};
  });
}

}  // namespace photon::python
