// Bindings for objects (src/photon/core_worker): put, get, wait, references,
// borrowing, and the node's store.
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"
#include "fmt/format.h"

namespace photon::python {

void BindObjects(nb::module_& m) {
  m.attr("ERROR_METADATA") = Bytes(core::kErrorMetadata);

  m.def("put", [](nb::bytes metadata, nb::handle data) {
    auto w = CurrentWorker();
    Py_buffer view;
    std::string_view d = ViewOf(data, &view);
    absl::StatusOr<ObjectID> id;
    {
      nb::gil_scoped_release release;
      id = w->PutParts(std::string(metadata.c_str(), metadata.size()), {d});
    }
    PyBuffer_Release(&view);
    return Bytes(Check(std::move(id)).Binary());
  });

  m.def("put_parts", [](nb::bytes metadata, nb::list parts) {
    auto w = CurrentWorker();
    std::vector<Py_buffer> views(parts.size());
    std::vector<std::string_view> data;
    for (size_t i = 0; i < parts.size(); ++i) data.push_back(ViewOf(parts[i], &views[i]));
    absl::StatusOr<ObjectID> id;
    {
      nb::gil_scoped_release release;
      id = w->PutParts(std::string(metadata.c_str(), metadata.size()), data);
    }
    for (auto& v : views) PyBuffer_Release(&v);
    return Bytes(Check(std::move(id)).Binary());
  });

  m.def("get", [](const std::vector<nb::bytes>& ids, int64_t timeout_ms) {
    auto w = CurrentWorker();
    std::vector<ObjectID> oids = ToObjectIds(ids);
    // Ctrl-C interrupts a blocked get: the core asks every 100 ms (taking the
    // GIL to run Python's signal handlers) while keeping its wait, so a get
    // of many refs is not started over at each check. Only the main thread
    // runs signal handlers, so other threads never take the GIL to ask (a
    // daemon thread taking it while the interpreter exits would be unwound
    // through the core and abort the process).
    const bool main_thread = _PyOS_IsMainThread() != 0;
    absl::StatusOr<std::vector<std::shared_ptr<core::ObjectValue>>> values;
    {
      nb::gil_scoped_release release;
      values = w->Get(oids, timeout_ms, rpc::PullObjectRequest::GET, [main_thread] {
        if (!main_thread) return false;
        nb::gil_scoped_acquire acquire;
        return PyErr_CheckSignals() != 0;
      });
    }
    if (PyErr_Occurred() != nullptr) throw nb::python_error();  // raised by a signal handler
    if (!values.ok()) {
      if (absl::IsDeadlineExceeded(values.status())) {
        ThrowStatus(
            absl::DeadlineExceededError(fmt::format("get timed out after {} ms", timeout_ms)));
      }
      ThrowStatus(values.status());
    }
    nb::list out;
    for (auto& v : *values) out.append(nb::make_tuple(Bytes(v->metadata), Buffer{v}));
    return out;
  });

  m.def(
      "wait",
      [](const std::vector<nb::bytes>& ids, int num_returns, int64_t timeout_ms, bool fetch_local) {
        auto w = CurrentWorker();
        std::vector<ObjectID> oids = ToObjectIds(ids);
        absl::StatusOr<std::vector<bool>> ready;
        {
          nb::gil_scoped_release release;
          ready = w->Wait(oids, num_returns, timeout_ms, fetch_local);
        }
        return Check(std::move(ready));
      },
      nb::arg("ids"), nb::arg("num_returns"), nb::arg("timeout_ms"),
      nb::arg("fetch_local") = false);

  // Reference counting: called from ObjectRef.__init__/__del__ (any thread,
  // also during shutdown), so they never raise for a missing connection.
  m.def("add_local_ref", [](nb::bytes id) {
    if (auto w = WorkerIfConnected()) w->AddLocalReference(ToObjectId(id));
  });
  m.def("remove_local_ref", [](nb::bytes id) {
    if (auto w = WorkerIfConnected()) w->RemoveLocalReference(ToObjectId(id));
  });
  m.def("owner_address", [](nb::bytes id) {
    auto owner = CurrentWorker()->OwnerOf(ToObjectId(id));
    return Bytes(owner ? owner->SerializeAsString() : std::string());
  });
  m.def("register_borrowed_refs", [](const std::vector<std::pair<nb::bytes, nb::bytes>>& refs) {
    auto w = CurrentWorker();
    std::vector<core::OwnedRef> parsed;
    parsed.reserve(refs.size());
    for (const auto& [id, owner] : refs) parsed.push_back({ToObjectId(id), ToAddress(owner)});
    nb::gil_scoped_release release;
    w->RegisterBorrowedRefs(parsed);
  });
  m.def("add_contained_refs", [](nb::bytes outer, const std::vector<nb::bytes>& inner) {
    CurrentWorker()->AddContainedRefs(ToObjectId(outer), ToObjectIds(inner));
  });
  m.def("num_tracked_objects", [] { return CurrentWorker()->NumTrackedObjects(); });
  // record_ref_creation_sites: whether to record, and where `ids` were made.
  m.def("record_ref_creation_sites",
        [] { return CurrentWorker()->config().record_ref_creation_sites(); });
  m.def("record_task_actor_creation_sites",
        [] { return CurrentWorker()->config().record_task_actor_creation_sites(); });
  m.def("record_call_site", [](const std::vector<nb::bytes>& ids, const std::string& site) {
    CurrentWorker()->RecordCallSite(ToObjectIds(ids), site);
  });
  // What holds one object here (empty if untracked): local, submitted,
  // contained_in, borrowers, owned, registered.
  m.def("reference_counts", [](nb::bytes id) {
    nb::dict d;
    auto c = CurrentWorker()->ReferenceCountsOf(ToObjectId(id));
    if (!c) return d;
    d["owned"] = c->owned;
    d["local"] = c->local;
    d["submitted"] = c->submitted;
    d["contained_in"] = c->contained_in;
    d["borrowers"] = c->borrowers;
    d["registered"] = c->registered;
    return d;
  });
  m.def("local_store_stats", [] {
    auto w = CurrentWorker();
    nb::gil_scoped_release release;
    return w->LocalStoreStats();
  });
  m.def("local_object_info", [](nb::bytes id) {
    auto w = CurrentWorker();
    std::string b(id.c_str(), id.size());
    nb::gil_scoped_release release;
    return w->LocalObjectInfo(b);
  });

  m.def("parse_error", [](nb::bytes data) {
    rpc::ErrorInfo e;
    e.ParseFromArray(data.c_str(), static_cast<int>(data.size()));
    nb::dict d;
    d["type"] = rpc::ErrorType_Name(e.type());
    d["message"] = e.message();
    d["exception_type"] = e.exception_type();
    d["where"] = e.where();
    d["serialized_exception"] = Bytes(e.serialized_exception());
    return d;
  });
  m.def("make_error", [](const std::string& type, const std::string& message,
                         const std::string& exception_type, nb::bytes serialized) {
    rpc::ErrorInfo e;
    rpc::ErrorType t;
    if (!rpc::ErrorType_Parse(type, &t)) throw nb::value_error("unknown error type");
    e.set_type(t);
    e.set_message(message);
    e.set_exception_type(exception_type);
    e.set_serialized_exception(std::string(serialized.c_str(), serialized.size()));
    return Bytes(e.SerializeAsString());
  });
}

}  // namespace photon::python
