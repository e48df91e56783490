// Bindings for the GCS's tables (src/photon/gcs_client): the internal
// key-value store and the node table. Every call releases the GIL while the
// GCS answers.
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
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
      d["MetricsExportPort"] = n.metrics_export_port();
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

  // Placement groups (Ray's placement_group_table shape for each).
  auto table_entry = [](const rpc::PlacementGroupTableData& g) {
    nb::dict d;
    const auto& spec = g.spec();
    d["placement_group_id"] = PlacementGroupID::FromBinaryOrDie(spec.placement_group_id()).Hex();
    d["name"] = spec.name();
    d["namespace"] = spec.ray_namespace();
    nb::dict bundles, nodes;
    for (int i = 0; i < spec.bundles_size(); ++i) {
      std::map<std::string, double> r(spec.bundles(i).resources().begin(),
                                      spec.bundles(i).resources().end());
      bundles[nb::int_(i)] = r;
      if (!spec.bundles(i).node_id().empty()) {
        nodes[nb::int_(i)] = NodeID::FromBinaryOrDie(spec.bundles(i).node_id()).Hex();
      }
    }
    d["bundles"] = bundles;
    d["bundles_to_node_id"] = nodes;
    d["strategy"] = rpc::PlacementStrategy_Name(spec.strategy());
    d["state"] = rpc::PlacementGroupTableData::State_Name(g.state());
    d["is_detached"] = spec.detached();
    d["creator_job_id"] = JobID::FromBinaryOrDie(spec.creator_job_id()).Hex();
    nb::dict stats;
    stats["scheduling_attempt"] = g.scheduling_attempts();
    stats["scheduling_state"] =
        g.state() == rpc::PlacementGroupTableData::CREATED
            ? std::string("FINISHED")
            : std::string(g.state() == rpc::PlacementGroupTableData::REMOVED ? "REMOVED"
                                                                             : "PENDING");
    stats["pending_reason"] = g.pending_reason();
    stats["end_to_end_creation_latency_ms"] =
        g.scheduled_time_ms() > 0 ? g.scheduled_time_ms() - g.creation_time_ms() : 0;
    d["stats"] = stats;
    return d;
  };

  m.def(
      "pg_create",
      [](const std::vector<std::map<std::string, double>>& bundles, const std::string& strategy,
         const std::string& name, const std::string& ray_namespace, bool detached,
         const std::vector<std::vector<
             std::tuple<std::string, std::string, std::vector<std::string>, bool>>>& selectors) {
        auto w = CurrentWorker();
        rpc::PlacementStrategy s;
        if (!rpc::PlacementStrategy_Parse(strategy, &s)) {
          ThrowStatus(absl::InvalidArgumentError(fmt::format(
              "Invalid placement group strategy {}. The strategy must be one of PACK, SPREAD, "
              "STRICT_PACK or STRICT_SPREAD.",
              strategy)));
        }
        rpc::PlacementGroupSpec spec;
        PlacementGroupID id = PlacementGroupID::FromRandom(w->job_id());
        spec.set_placement_group_id(id.Binary());
        spec.set_name(name);
        spec.set_ray_namespace(ray_namespace);
        spec.set_strategy(s);
        spec.set_detached(detached);
        spec.set_creator_job_id(w->job_id().Binary());
        for (size_t i = 0; i < bundles.size(); ++i) {
          auto* bundle = spec.add_bundles();
          for (const auto& [k, v] : bundles[i]) (*bundle->mutable_resources())[k] = v;
          if (i >= selectors.size()) continue;
          for (const auto& [key, op, values, hard] : selectors[i]) {
            rpc::LabelExpression* e = bundle->add_label_selector();
            e->set_key(key);
            rpc::LabelExpression::Operator parsed;
            if (!rpc::LabelExpression::Operator_Parse(op, &parsed)) {
              ThrowStatus(absl::InvalidArgumentError("unknown label operator " + op));
            }
            e->set_op(parsed);
            for (const auto& v : values) e->add_values(v);
          }
        }
        absl::Status st;
        {
          nb::gil_scoped_release release;
          st = w->gcs().CreatePlacementGroup(spec);
        }
        Check(st);
        return Bytes(id.Binary());
      },
      nb::arg("bundles"), nb::arg("strategy"), nb::arg("name"), nb::arg("ray_namespace"),
      nb::arg("detached"),
      nb::arg("selectors") = std::vector<
          std::vector<std::tuple<std::string, std::string, std::vector<std::string>, bool>>>());
  m.def("pg_remove", [](nb::bytes id) {
    auto w = CurrentWorker();
    auto pg = PlacementGroupID::FromBinary(std::string(id.c_str(), id.size()));
    Check(pg.status());
    absl::Status st;
    {
      nb::gil_scoped_release release;
      st = w->gcs().RemovePlacementGroup(*pg);
    }
    Check(st);
  });
  m.def("pg_get", [table_entry](nb::bytes id) {
    auto w = CurrentWorker();
    auto pg = PlacementGroupID::FromBinary(std::string(id.c_str(), id.size()));
    Check(pg.status());
    absl::StatusOr<std::optional<rpc::PlacementGroupTableData>> got;
    {
      nb::gil_scoped_release release;
      got = w->gcs().GetPlacementGroup(*pg);
    }
    auto g = Check(std::move(got));
    return g ? nb::object(table_entry(*g)) : nb::object(nb::none());
  });
  m.def("pg_get_named", [table_entry](const std::string& name, const std::string& ray_namespace) {
    auto w = CurrentWorker();
    absl::StatusOr<std::optional<rpc::PlacementGroupTableData>> got;
    {
      nb::gil_scoped_release release;
      got = w->gcs().GetNamedPlacementGroup(name, ray_namespace);
    }
    auto g = Check(std::move(got));
    return g ? nb::object(table_entry(*g)) : nb::object(nb::none());
  });
  m.def("pg_all", [table_entry] {
    auto w = CurrentWorker();
    absl::StatusOr<std::vector<rpc::PlacementGroupTableData>> all;
    {
      nb::gil_scoped_release release;
      all = w->gcs().GetAllPlacementGroups();
    }
    nb::list out;
    for (const auto& g : Check(std::move(all))) out.append(table_entry(g));
    return out;
  });
  // True once created, False after `timeout_ms` (< 0: none); raises if removed.
  m.def("pg_wait", [](nb::bytes id, int64_t timeout_ms) {
    auto w = CurrentWorker();
    auto pg = PlacementGroupID::FromBinary(std::string(id.c_str(), id.size()));
    Check(pg.status());
    absl::StatusOr<bool> ready;
    {
      nb::gil_scoped_release release;
      ready = w->gcs().WaitPlacementGroupReady(*pg, timeout_ms);
    }
    return Check(std::move(ready));
  });
}

}  // namespace photon::python
