// Bindings for application metrics (photon.util.metrics): metrics defined
// in this process's registry (src/photon/stats/metrics.h), which its core
// worker exports to the node's /metrics endpoint.
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"
#include "photon/stats/metrics.h"

namespace photon::python {

void BindMetrics(nb::module_& m) {
  nb::class_<stats::Metric>(m, "_Metric")
      .def(
          "record",
          [](stats::Metric& self, double value, const std::vector<std::string>& tag_values) {
            self.Record(value, tag_values);
          },
          nb::arg("value"), nb::arg("tag_values"),
          "Counters add value, gauges take it, histograms observe it; tag values in the "
          "order of the tag keys.");
  m.def(
      "metric_define",
      [](const std::string& kind, const std::string& name, const std::string& help,
         const std::vector<std::string>& tag_keys, const std::vector<double>& boundaries) {
        stats::MetricType type = kind == "counter"     ? stats::MetricType::kCounter
                                 : kind == "histogram" ? stats::MetricType::kHistogram
                                                       : stats::MetricType::kGauge;
        return Check(stats::Registry::Default().Define({name, help, type, tag_keys, boundaries}));
      },
      nb::rv_policy::reference, nb::arg("kind"), nb::arg("name"), nb::arg("help"),
      nb::arg("tag_keys"), nb::arg("boundaries"),
      "The metric of this name in this process (defined now, or the same one as before); "
      "ValueError if it was defined differently.");
}

}  // namespace photon::python
