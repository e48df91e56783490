// What the binding files share: the process's connection (the one global
// state of photon._photon), the translation of core errors into Python
// exceptions (one table, errors.cc), and conversions between Python objects
// and core types.
//
// Threading: the connection is read under its mutex (CurrentWorker copies a
// reference), never while waiting for the GIL, so a call that releases the
// GIL keeps the worker it started with even if another thread disconnects.
#pragma once

#include <nanobind/nanobind.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "photon/cluster/local_cluster.h"
#include "photon/common/id.h"
#include "photon/core_worker/core_worker.h"
#include "photon/core_worker/object_value.h"

namespace photon::python {

namespace nb = nanobind;

// --- the connection (state.cc) ---
struct Connection {
  std::unique_ptr<LocalCluster> cluster;  // set if this driver started it
  std::shared_ptr<core::CoreWorker> worker;
  std::string session_dir;
  std::string gcs_address;
  std::string raylet_address;
};
// Installs `c` as the process's connection. RuntimeError if one exists.
void SetConnection(std::unique_ptr<Connection> c);
// Removes and returns the connection (nullptr if none).
std::unique_ptr<Connection> TakeConnection();
// The connected core worker; RuntimeError naming photon.init() if none.
std::shared_ptr<core::CoreWorker> CurrentWorker();
// The same, or nullptr (for finalizers, which must not raise).
std::shared_ptr<core::CoreWorker> WorkerIfConnected();
bool Connected();

// --- errors (errors.cc): the one place where core statuses become
// Python exceptions ---
[[noreturn]] void ThrowStatus(const absl::Status& s);
template <typename T>
T Check(absl::StatusOr<T> v) {
  if (!v.ok()) ThrowStatus(v.status());
  return std::move(*v);
}
inline void Check(const absl::Status& s) {
  if (!s.ok()) ThrowStatus(s);
}

// --- conversions (convert.cc) ---
nb::bytes Bytes(const std::string& s);
ObjectID ToObjectId(const nb::bytes& b);
TaskID ToTaskId(const nb::bytes& b);
ActorID ToActorId(const nb::bytes& b);
std::vector<ObjectID> ToObjectIds(const std::vector<nb::bytes>& ids);
nb::list IdList(const std::vector<ObjectID>& ids);
// An Address from its serialized form (as owner_address returns it); a bad
// one raises ValueError.
rpc::Address ToAddress(const nb::bytes& b);
// Reads a bytes-like object without copying; the view lives while `obj` does.
std::string_view ViewOf(nb::handle obj, Py_buffer* view);
// Task arguments from Python: (is_ref, id | metadata, data, nested_ref_ids).
std::vector<core::TaskArgument> ToArgs(const nb::list& args);
// (node_id bytes, soft, spread) from Python's scheduling_strategy.
// A label term: (key, operator name, values, hard).
using LabelTerm = std::tuple<std::string, std::string, std::vector<std::string>, bool>;
// (node_id, soft, spread, placement_group_id, bundle_index, capture_child_tasks, labels)
using SchedulingTuple =
    std::tuple<nb::bytes, bool, bool, nb::bytes, int, bool, std::vector<LabelTerm>>;
rpc::SchedulingStrategy ToStrategy(const SchedulingTuple& t);

// Bytes of one object; exposes the buffer protocol (read-only, zero-copy).
struct Buffer {
  std::shared_ptr<core::ObjectValue> value;
};
void BindBuffer(nb::module_& m);

// Runs `call(slice_ms)` (a blocking core call that returns DeadlineExceeded
// when its slice runs out) in slices of at most 100 ms until it returns
// something else or `timeout_ms` (< 0: none) has passed, with the GIL released
// during each slice; between slices a pending Ctrl-C raises KeyboardInterrupt.
template <typename T>
absl::StatusOr<T> CallInSlices(int64_t timeout_ms,
                               const std::function<absl::StatusOr<T>(int64_t)>& call);

}  // namespace photon::python

#include "bindings_inl.h"
