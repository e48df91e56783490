// Bindings for streaming generators (src/photon/core_worker/stream_manager.h).
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"

namespace photon::python {

void BindStreams(nb::module_& m) {
  // The next item's id, or None at the end; waits in slices so that Ctrl-C
  // interrupts it.
  m.def("stream_next", [](nb::bytes task_id, int64_t index, int64_t timeout_ms) -> nb::object {
    auto w = CurrentWorker();
    TaskID task = ToTaskId(task_id);
    absl::StatusOr<std::optional<ObjectID>> next = CallInSlices<std::optional<ObjectID>>(
        timeout_ms, [&](int64_t slice) { return w->StreamNext(task, index, slice); });
    if (!next.ok()) ThrowStatus(next.status());
    if (!next->has_value()) return nb::none();
    return Bytes((*next)->Binary());
  });
  m.def("stream_release", [](nb::bytes task_id) {
    if (auto w = WorkerIfConnected()) w->StreamRelease(ToTaskId(task_id));
  });
  m.def(
      "report_stream_item",
      [](nb::bytes task_id, int64_t index, nb::bytes metadata, nb::list parts,
         const std::vector<nb::bytes>& nested) {
        auto w = CurrentWorker();
        std::vector<Py_buffer> views(parts.size());
        std::vector<std::string_view> data;
        for (size_t i = 0; i < parts.size(); ++i) data.push_back(ViewOf(parts[i], &views[i]));
        std::vector<ObjectID> refs = ToObjectIds(nested);
        TaskID task = ToTaskId(task_id);
        std::string meta(metadata.c_str(), metadata.size());
        absl::Status s;
        {
          nb::gil_scoped_release release;
          s = w->ReportStreamItem(task, index, meta, data, refs);
        }
        for (auto& v : views) PyBuffer_Release(&v);
        Check(s);
      },
      nb::arg("task_id"), nb::arg("index"), nb::arg("metadata"), nb::arg("parts"),
      nb::arg("nested") = std::vector<nb::bytes>());
}

}  // namespace photon::python
