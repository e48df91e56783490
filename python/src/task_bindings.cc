// Bindings for tasks (src/photon/core_worker/submit): submitting and
// cancelling normal tasks.
#include <nanobind/stl/map.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"

namespace photon::python {

void BindTasks(nb::module_& m) {
  m.def(
      "submit_task",
      [](const std::string& function, const std::string& name, nb::list args, int num_returns,
         const std::map<std::string, double>& resources, int max_retries, bool retry_exceptions,
         bool streaming, const SchedulingTuple& scheduling, const std::string& runtime_env,
         const std::string& call_site) {
        auto w = CurrentWorker();
        core::TaskOptions o;
        o.call_site = call_site;
        o.scheduling = ToStrategy(scheduling);
        o.function_name = function;
        o.name = name;
        o.num_returns = num_returns;
        o.streaming = streaming;
        o.resources = resources;
        o.max_retries = max_retries;
        o.retry_exceptions = retry_exceptions;
        o.runtime_env = runtime_env;
        auto cargs = ToArgs(args);
        absl::StatusOr<std::vector<ObjectID>> ids;
        {
          nb::gil_scoped_release release;
          ids = w->SubmitTask(std::move(cargs), o);
        }
        return IdList(Check(std::move(ids)));
      },
      nb::arg("function"), nb::arg("name"), nb::arg("args"), nb::arg("num_returns"),
      nb::arg("resources"), nb::arg("max_retries"), nb::arg("retry_exceptions"),
      nb::arg("streaming") = false,
      nb::arg("scheduling") = std::make_tuple(nb::bytes("", 0), false, false, nb::bytes("", 0), -1,
                                              false, std::vector<LabelTerm>()),
      nb::arg("runtime_env") = "", nb::arg("call_site") = "");

  m.def(
      "cancel",
      [](nb::bytes id, bool force, bool recursive) {
        auto w = CurrentWorker();
        ObjectID oid = ToObjectId(id);
        absl::Status s;
        {
          nb::gil_scoped_release release;
          s = w->Cancel(oid, force, recursive);
        }
        // NotFound: the task finished, and cancelling a finished task does nothing.
        if (absl::IsInvalidArgument(s)) ThrowStatus(s);
      },
      nb::arg("id"), nb::arg("force") = false, nb::arg("recursive") = true);
}

}  // namespace photon::python
