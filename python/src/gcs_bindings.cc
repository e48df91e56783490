// Bindings for the GCS's tables (src/photon/gcs_client): the internal
// key-value store and the node table. Every call releases the GIL while the
// GCS answers.
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"
#include "fmt/format.h"

namespace photon::python {

void BindGcs(nb::module_& m) {
  m.def("kv_put", [](const std::string& ns, nb::bytes key, nb::bytes value, bool overwrite) {
    auto w = CurrentWorker();
    std::string k(key.c_str(), key.size()), v(value.c_str(), value.size());
    absl::StatusOr<bool> added;
    {
      nb::gil_scoped_release release;
      added = w->gcs().KvPut(ns, k, v, overwrite);
    }
    return Check(std::move(added));
  });
  m.def("kv_get", [](const std::string& ns, nb::bytes key) {
    auto w = CurrentWorker();
    std::string k(key.c_str(), key.size());
    absl::StatusOr<std::optional<std::string>> v;
    {
      nb::gil_scoped_release release;
      v = w->gcs().KvGet(ns, k);
    }
    auto r = Check(std::move(v));
    if (!r) return nb::object(nb::none());
    return nb::object(Bytes(*r));
  });

  m.def("nodes", [] {
    auto w = CurrentWorker();
    absl::StatusOr<std::vector<rpc::NodeInfo>> listed;
    {
      nb::gil_scoped_release release;
      listed = w->gcs().GetAllNodes();
    }
    // Ray's keys, plus AvailableResources.
    nb::list out;
    for (const auto& n : Check(std::move(listed))) {
      nb::dict d;
      d["NodeID"] = NodeID::FromBinaryOrDie(n.node_id()).Hex();
      d["Alive"] = n.state() == rpc::NodeInfo::ALIVE;
      d["alive"] = n.state() == rpc::NodeInfo::ALIVE;
      d["NodeManagerAddress"] = n.ip();
      d["NodeManagerHostname"] = n.hostname();
      d["NodeName"] = n.ip();
      d["NodeManagerPort"] = n.raylet_port();
      d["ObjectManagerPort"] = n.object_manager_port();
      d["ObjectStoreSocketName"] = n.store_socket();
      d["RayletSocketName"] = fmt::format("{}:{}", n.ip(), n.raylet_port());
      d["MetricsExportPort"] = 0;
      std::map<std::string, std::string> labels(n.labels().begin(), n.labels().end());
      d["Labels"] = labels;
      d["DeathReason"] = n.death_reason();
      std::map<std::string, double> total(n.resources_total().begin(), n.resources_total().end());
      std::map<std::string, double> avail(n.resources_available().begin(),
                                          n.resources_available().end());
      d["Resources"] = total;
      d["AvailableResources"] = avail;
      out.append(d);
    }
    return out;
  });
}

}  // namespace photon::python
