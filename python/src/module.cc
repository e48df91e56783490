// photon._photon: the native half of the Python package. One file per area
// registers its bindings; this file only ties them together. Contracts are
// in python/photon/_photon.pyi.
#include <nanobind/nanobind.h>

namespace nb = nanobind;

namespace photon::python {
void BindBuffer(nb::module_& m);
void BindCommon(nb::module_& m);
void BindConnection(nb::module_& m);
void BindObjects(nb::module_& m);
void BindTasks(nb::module_& m);
void BindActors(nb::module_& m);
void BindStreams(nb::module_& m);
void BindGcs(nb::module_& m);
void BindCluster(nb::module_& m);
void BindStateApi(nb::module_& m);
void BindMetrics(nb::module_& m);
}  // namespace photon::python

NB_MODULE(_photon, m) {
  m.doc() = "Photon's native core (internal; use the photon package)";
  photon::python::BindBuffer(m);
  photon::python::BindCommon(m);
  photon::python::BindConnection(m);
  photon::python::BindObjects(m);
  photon::python::BindTasks(m);
  photon::python::BindActors(m);
  photon::python::BindStreams(m);
  photon::python::BindGcs(m);
  photon::python::BindCluster(m);
  photon::python::BindStateApi(m);
  photon::python::BindMetrics(m);
}
