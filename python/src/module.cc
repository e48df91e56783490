// photon._photon: the native half of the Python package. One file per area
// registers its bindings; this file only ties them together.
#include <nanobind/nanobind.h>

namespace nb = nanobind;

namespace photon::python {
void BindCommon(nb::module_& m);
void BindCore(nb::module_& m);
void BindCluster(nb::module_& m);
}  // namespace photon::python

NB_MODULE(_photon, m) {
  m.doc() = "Photon's native core (internal; use the photon package)";
  photon::python::BindCommon(m);
  photon::python::BindCore(m);
  photon::python::BindCluster(m);
}
