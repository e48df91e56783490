// The one table that turns core statuses into Python exceptions. The values
// of failed objects are not raised here (get returns them as error values;
// photon/_private/worker.py turns those into Ray's exception classes).
#include <Python.h>

#include "bindings.h"

namespace photon::python {
namespace {

struct Translation {
  absl::StatusCode code;
  const char* module;  // nullptr: a builtin
  const char* name;
};

// Codes not listed raise RuntimeError.
constexpr Translation kTranslations[] = {
    {absl::StatusCode::kInvalidArgument, nullptr, "ValueError"},
    {absl::StatusCode::kNotFound, nullptr, "ValueError"},
    {absl::StatusCode::kAlreadyExists, nullptr, "ValueError"},
    {absl::StatusCode::kDeadlineExceeded, nullptr, "TimeoutError"},
    {absl::StatusCode::kResourceExhausted, "photon.exceptions", "ObjectStoreFullError"},
};

}  // namespace

void ThrowStatus(const absl::Status& s) {
  std::string msg(s.message());
  nb::object cls;
  for (const auto& t : kTranslations) {
    if (t.code != s.code()) continue;
    cls = t.module == nullptr ? nb::module_::import_("builtins").attr(t.name)
                              : nb::module_::import_(t.module).attr(t.name);
    break;
  }
  if (!cls.is_valid()) cls = nb::module_::import_("builtins").attr("RuntimeError");
  PyErr_SetString(cls.ptr(), msg.c_str());
  throw nb::python_error();
}

}  // namespace photon::python
