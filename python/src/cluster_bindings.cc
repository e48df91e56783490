// Bindings for src/photon/cluster: start GCS + raylets on this machine (for
// photon.cluster_utils.Cluster, a test harness like Ray's).
#include <nanobind/nanobind.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/unique_ptr.h>
#include <nanobind/stl/vector.h>

#include "photon/cluster/local_cluster.h"
#include "photon/common/config.h"

namespace nb = nanobind;

namespace photon::python {

void BindCluster(nb::module_& m) {
  nb::class_<NodeProcess>(m, "NodeProcess")
      .def_ro("pid", &NodeProcess::pid)
      .def_ro("port", &NodeProcess::port)
      .def_ro("node_id", &NodeProcess::node_id_hex)
      .def_ro("address", &NodeProcess::address);

  nb::class_<LocalCluster>(m, "LocalCluster")
      .def_static(
          "start",
          [](const std::string& session_root, const std::string& redis_address,
             const std::string& redis_password) {
            auto sys = SystemConfig::FromProcessEnvironment();
            if (!sys.ok()) throw nb::value_error(std::string(sys.status().message()).c_str());
            auto bin = FindBinDir(sys->bin_dir());
            if (!bin.ok()) throw std::runtime_error(std::string(bin.status().message()));
            std::string root = session_root.empty() ? sys->session_dir_root() : session_root;
            auto opts = ClusterOptionsFromConfig(*sys);
            if (!opts.ok()) throw nb::value_error(std::string(opts.status().message()).c_str());
            if (!redis_address.empty()) {
              opts->redis_address = redis_address;
              opts->redis_password = redis_password;
            }
            absl::StatusOr<std::unique_ptr<LocalCluster>> c;
            {
              nb::gil_scoped_release release;
              c = LocalCluster::Start(*bin, root, nullptr, *opts);
            }
            if (!c.ok()) throw std::runtime_error(std::string(c.status().message()));
            return std::move(*c);
          },
          nb::arg("session_root") = "", nb::arg("redis_address") = "",
          nb::arg("redis_password") = "")
      .def(
          "add_node",
          [](LocalCluster& c, double num_cpus, double num_gpus,
             const std::map<std::string, double>& resources, int64_t object_store_memory,
             const std::map<std::string, std::string>& labels, int metrics_export_port) {
            NodeArgs a;
            a.metrics_export_port = metrics_export_port;
            a.num_cpus = num_cpus;
            a.num_gpus = num_gpus;
            a.resources = resources;
            a.labels = labels;
            a.object_store_memory = object_store_memory;
            a.head = c.nodes().empty();  // the first node is the head
            absl::StatusOr<NodeProcess> n;
            {
              nb::gil_scoped_release release;
              n = c.AddNode(a);
            }
            if (!n.ok()) throw std::runtime_error(std::string(n.status().message()));
            return *n;
          },
          nb::arg("num_cpus") = -1.0, nb::arg("num_gpus") = 0.0,
          nb::arg("resources") = std::map<std::string, double>(),
          nb::arg("object_store_memory") = 0,
          nb::arg("labels") = std::map<std::string, std::string>(),
          nb::arg("metrics_export_port") = 0)
      .def(
          "remove_node",
          [](LocalCluster& c, const NodeProcess& n, bool kill) {
            nb::gil_scoped_release release;
            c.RemoveNode(n, kill);
          },
          nb::arg("node"), nb::arg("kill") = false)
      .def("shutdown",
           [](LocalCluster& c) {
             nb::gil_scoped_release release;
             c.Shutdown();
           })
      .def("kill_gcs",
           [](LocalCluster& c) {
             nb::gil_scoped_release release;
             c.KillGcs();
           })
      .def("start_gcs",
           [](LocalCluster& c) {
             absl::Status s;
             {
               nb::gil_scoped_release release;
               s = c.StartGcs();
             }
             if (!s.ok()) throw std::runtime_error(std::string(s.message()));
           })
      .def_prop_ro("gcs_pid", &LocalCluster::gcs_pid)
      .def_prop_ro("gcs_address", &LocalCluster::gcs_address)
      .def_prop_ro("session_dir", &LocalCluster::session_dir)
      .def_prop_ro("nodes", &LocalCluster::nodes);
}

}  // namespace photon::python
