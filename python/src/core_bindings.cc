// Bindings for the core worker (src/photon/core_worker, src/photon/driver):
// connecting as a driver, serving as a worker, objects, tasks and actors.
// Contracts are in python/photon/_photon.pyi. Every blocking call releases
// the GIL; core errors become Python exceptions here, in ThrowStatus only.
#include <nanobind/nanobind.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>

#include "fmt/format.h"
#include "photon/common/config.h"
#include "photon/common/logging.h"
#include "photon/core_worker/core_worker.h"
#include "photon/core_worker/object_value.h"
#include "photon/driver/connect.h"

namespace nb = nanobind;

namespace photon::python {
namespace {

struct State {
  std::unique_ptr<LocalCluster> cluster;
  std::unique_ptr<core::CoreWorker> worker;
  std::string session_dir;
  std::string gcs_address;
  std::string raylet_address;
};

std::mutex g_mu;
State* g_state = nullptr;

core::CoreWorker& Worker() {
  if (g_state == nullptr || g_state->worker == nullptr) {
    throw std::runtime_error("Photon is not initialized: call photon.init() first");
  }
  return *g_state->worker;
}

[[noreturn]] void ThrowStatus(const absl::Status& s) {
  std::string msg(s.message());
  if (absl::IsInvalidArgument(s)) throw nb::value_error(msg.c_str());
  if (absl::IsDeadlineExceeded(s)) {
    PyErr_SetString(PyExc_TimeoutError, msg.c_str());
    throw nb::python_error();
  }
  if (absl::IsNotFound(s)) throw nb::value_error(msg.c_str());
  if (absl::IsResourceExhausted(s)) {
    nb::object cls = nb::module_::import_("photon.exceptions").attr("ObjectStoreFullError");
    PyErr_SetString(cls.ptr(), msg.c_str());
    throw nb::python_error();
  }
  throw std::runtime_error(msg);
}

template <typename T>
T Check(absl::StatusOr<T> v) {
  if (!v.ok()) ThrowStatus(v.status());
  return std::move(*v);
}

ObjectID ToObjectId(const nb::bytes& b) {
  auto id = ObjectID::FromBinary(std::string_view(b.c_str(), b.size()));
  if (!id.ok()) throw nb::value_error(std::string(id.status().message()).c_str());
  return *id;
}

TaskID ToTaskId(const nb::bytes& b) {
  auto id = TaskID::FromBinary(std::string_view(b.c_str(), b.size()));
  if (!id.ok()) throw nb::value_error(std::string(id.status().message()).c_str());
  return *id;
}

// (node_id bytes, soft, spread) from Python's scheduling_strategy.
rpc::SchedulingStrategy ToStrategy(const std::tuple<nb::bytes, bool, bool>& t) {
  rpc::SchedulingStrategy st;
  const nb::bytes& node = std::get<0>(t);
  st.set_node_id(std::string(node.c_str(), node.size()));
  st.set_soft(std::get<1>(t));
  st.set_spread(std::get<2>(t));
  return st;
}

ActorID ToActorId(const nb::bytes& b) {
  auto id = ActorID::FromBinary(std::string_view(b.c_str(), b.size()));
  if (!id.ok()) throw nb::value_error(std::string(id.status().message()).c_str());
  return *id;
}

nb::bytes Bytes(const std::string& s) { return nb::bytes(s.data(), s.size()); }

// Bytes of one object; exposes the buffer protocol (read-only, zero-copy).
struct Buffer {
  std::shared_ptr<core::ObjectValue> value;
};

int BufferGet(PyObject* self, Py_buffer* view, int flags) {
  Buffer* b = nb::inst_ptr<Buffer>(self);
  return PyBuffer_FillInfo(view, self, const_cast<char*>(b->value->data.data()),
                           static_cast<Py_ssize_t>(b->value->data.size()), /*readonly=*/1, flags);
}

PyType_Slot kBufferSlots[] = {{Py_bf_getbuffer, reinterpret_cast<void*>(BufferGet)}, {0, nullptr}};

// Reads a bytes-like object without copying; the view lives while `obj` does.
std::string_view ViewOf(nb::handle obj, Py_buffer* view) {
  if (PyObject_GetBuffer(obj.ptr(), view, PyBUF_SIMPLE) != 0) throw nb::python_error();
  return std::string_view(static_cast<const char*>(view->buf), static_cast<size_t>(view->len));
}

std::vector<core::TaskArgument> ToArgs(const nb::list& args) {
  std::vector<core::TaskArgument> out;
  out.reserve(args.size());
  for (nb::handle item : args) {
    nb::tuple t = nb::cast<nb::tuple>(item);
    core::TaskArgument a;
    a.is_ref = nb::cast<bool>(t[0]);
    if (a.is_ref) {
      a.ref = ToObjectId(nb::cast<nb::bytes>(t[1]));
    } else {
      nb::bytes meta = nb::cast<nb::bytes>(t[1]);
      a.metadata.assign(meta.c_str(), meta.size());
      Py_buffer view;
      std::string_view data = ViewOf(t[2], &view);
      a.value.assign(data);
      PyBuffer_Release(&view);
    }
    out.push_back(std::move(a));
  }
  return out;
}

std::map<std::string, double> ToResources(const std::map<std::string, double>& r) { return r; }

nb::list IdList(const std::vector<ObjectID>& ids) {
  nb::list out;
  for (const auto& id : ids) out.append(Bytes(id.Binary()));
  return out;
}

const char* TaskType(rpc::TaskType t) {
  switch (t) {
    case rpc::ACTOR_CREATION_TASK:
      return "actor_creation";
    case rpc::ACTOR_TASK:
      return "actor_task";
    default:
      return "normal";
  }
}

// Runs `call(slice_ms)` (a blocking core call that returns DeadlineExceeded
// when its slice runs out) in slices of at most 100 ms until it returns
// something else or `timeout_ms` (< 0: none) has passed, with the GIL released
// during each slice; between slices a pending Ctrl-C raises KeyboardInterrupt.
template <typename T>
absl::StatusOr<T> CallInSlices(int64_t timeout_ms,
                               const std::function<absl::StatusOr<T>(int64_t)>& call) {
  constexpr int64_t kSliceMs = 100;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  absl::StatusOr<T> result;
  while (true) {
    int64_t slice = kSliceMs;
    if (timeout_ms >= 0) {
      int64_t left = std::chrono::duration_cast<std::chrono::milliseconds>(
                         deadline - std::chrono::steady_clock::now())
                         .count();
      slice = std::max<int64_t>(0, std::min(left, kSliceMs));
    }
    {
      nb::gil_scoped_release release;
      result = call(slice);
    }
    if (result.ok() || !absl::IsDeadlineExceeded(result.status())) return result;
    if (timeout_ms >= 0 && std::chrono::steady_clock::now() >= deadline) return result;
    if (PyErr_CheckSignals() != 0) throw nb::python_error();
  }
}

// Calls the Python executor for one task (GIL taken here).
core::TaskResult RunPythonTask(nb::object* executor, const rpc::TaskSpec& spec,
                               const std::vector<const core::ObjectValue*>& args) {
  nb::gil_scoped_acquire gil;
  core::TaskResult out;
  try {
    nb::dict task;
    task["type"] = TaskType(spec.type());
    task["function"] = spec.function_name();
    task["name"] = spec.name();
    task["task_id"] = Bytes(spec.task_id());
    task["actor_id"] = Bytes(spec.actor_id());
    task["num_returns"] = spec.num_returns();
    task["streaming"] = spec.streaming();
    task["attempt"] = spec.attempt();
    task["restarted"] = spec.restarted();
    task["max_concurrency"] = spec.max_concurrency();
    if (spec.type() != rpc::ACTOR_TASK) {  // an actor's calls use its creation's
      nb::dict resources;
      for (const auto& [k, v] : spec.resources()) resources[k.c_str()] = v;
      task["resources"] = resources;
      if (spec.type() == rpc::ACTOR_CREATION_TASK) task["actor_name"] = spec.actor_name();
      std::vector<int> gpus(spec.assigned_gpu_ids().begin(), spec.assigned_gpu_ids().end());
      task["gpu_ids"] = gpus;
    }
    nb::list py_args;
    for (const auto* a : args) {
      auto holder = std::make_shared<core::ObjectValue>(*a);
      py_args.append(nb::make_tuple(Bytes(a->metadata), Buffer{holder}));
    }
    nb::tuple r = nb::cast<nb::tuple>((*executor)(task, py_args));
    std::string kind = nb::cast<std::string>(r[0]);
    if (kind == "ok") {
      nb::list returns = nb::cast<nb::list>(r[1]);
      for (size_t i = 0; i < returns.size(); ++i) {
        nb::tuple ret = nb::cast<nb::tuple>(returns[i]);
        nb::bytes meta = nb::cast<nb::bytes>(ret[0]);
        Py_buffer view;
        std::string_view data = ViewOf(ret[1], &view);
        if (i == 0) {
          out.metadata.assign(meta.c_str(), meta.size());
          out.value.assign(data);
        } else {
          out.more_returns.emplace_back(std::string(meta.c_str(), meta.size()), std::string(data));
        }
        PyBuffer_Release(&view);
      }
      out.kind = core::TaskResult::Kind::kOk;
    } else {
      nb::bytes err = nb::cast<nb::bytes>(r[1]);
      out.kind = core::TaskResult::Kind::kApplicationError;
      out.serialized_error.assign(err.c_str(), err.size());
    }
  } catch (const std::exception& e) {
    out.kind = core::TaskResult::Kind::kApplicationError;
    out.error_type = "photon.internal";
    out.error_message = e.what();
  }
  return out;
}

}  // namespace

void BindCore(nb::module_& m) {
  m.attr("ERROR_METADATA") = Bytes(core::kErrorMetadata);

  nb::class_<Buffer>(m, "Buffer", nb::type_slots(kBufferSlots)).def("__len__", [](const Buffer& b) {
    return b.value->data.size();
  });

  m.def("connect", [](const std::string& address, double num_cpus, double num_gpus,
                      const std::map<std::string, double>& resources, int64_t object_store_memory,
                      const std::string& ns, const std::vector<std::string>& worker_command,
                      const std::map<std::string, std::string>& worker_env,
                      const std::map<std::string, std::string>& config_overrides) {
    std::lock_guard<std::mutex> lock(g_mu);
    if (g_state != nullptr) throw std::runtime_error("already connected");
    auto sys = SystemConfig::FromProcessEnvironment();
    if (!sys.ok()) throw nb::value_error(std::string(sys.status().message()).c_str());
    for (const auto& [k, v] : config_overrides) {
      auto st = sys->Set(k, v);
      if (!st.ok()) throw nb::value_error(std::string(st.message()).c_str());
    }
    DriverOptions o;
    o.address = address;
    if (num_cpus >= 0) o.num_cpus = num_cpus;
    o.num_gpus = num_gpus;
    o.resources = resources;
    o.object_store_memory = object_store_memory;
    o.ray_namespace = ns;
    o.language = rpc::PYTHON;
    o.worker_command = worker_command;
    o.worker_env = worker_env;
    absl::StatusOr<DriverConnection> conn;
    {
      nb::gil_scoped_release release;
      conn = ConnectDriver(*sys, std::move(o));
    }
    if (!conn.ok()) ThrowStatus(conn.status());
    auto* st = new State();
    st->cluster = std::move(conn->cluster);
    st->worker = std::move(conn->worker);
    st->session_dir = conn->session_dir;
    st->gcs_address = conn->gcs_address;
    st->raylet_address = conn->raylet_address;
    g_state = st;
    nb::dict info;
    info["job_id"] = Bytes(st->worker->job_id().Binary());
    info["node_id"] = Bytes(st->worker->node_id().Binary());
    info["worker_id"] = Bytes(st->worker->worker_id().Binary());
    info["gcs_address"] = st->gcs_address;
    info["raylet_address"] = st->raylet_address;
    info["session_dir"] = st->session_dir;
    info["namespace"] = conn->ray_namespace;
    return info;
  });

  m.def("disconnect", [] {
    std::unique_ptr<State> st;
    {
      std::lock_guard<std::mutex> lock(g_mu);
      if (g_state == nullptr) return;
      st.reset(g_state);
      g_state = nullptr;
    }
    nb::gil_scoped_release release;
    st->worker->Shutdown();
    if (st->cluster) st->cluster->Shutdown();
    st->worker.reset();
  });

  m.def("is_connected", [] {
    std::lock_guard<std::mutex> lock(g_mu);
    return g_state != nullptr;
  });

  m.def("run_worker", [](nb::object executor, nb::object interrupter) {
    auto sys = SystemConfig::FromProcessEnvironment();
    if (!sys.ok()) throw nb::value_error(std::string(sys.status().message()).c_str());
    auto* exec = new nb::object(executor);          // lives as long as the process
    auto* interrupt = new nb::object(interrupter);  // likewise
    auto worker = ConnectWorker(
        *sys, rpc::PYTHON,
        [exec](const rpc::TaskSpec& spec, const std::vector<const core::ObjectValue*>& args) {
          return RunPythonTask(exec, spec, args);
        },
        [interrupt](const TaskID& task) {
          nb::gil_scoped_acquire gil;
          try {
            (*interrupt)(Bytes(task.Binary()));
          } catch (const std::exception& e) {
            PHOTON_LOG_WARN("interrupting task {} failed: {}", task.Hex(), e.what());
          }
        });
    if (!worker.ok()) ThrowStatus(worker.status());
    {
      std::lock_guard<std::mutex> lock(g_mu);
      g_state = new State();
      g_state->worker = std::move(*worker);
    }
    int code;
    {
      nb::gil_scoped_release release;
      code = g_state->worker->RunTaskLoop();
    }
    return code;
  });

  m.def("exit_actor", [] {
    auto s = Worker().ExitActor();
    if (!s.ok()) ThrowStatus(s);
  });
  m.def("exit_worker_after_task", [] { Worker().ExitAfterCurrentTask(); });
  m.def("actor_pending_calls",
        [](nb::bytes actor_id) { return Worker().NumPendingActorCalls(ToActorId(actor_id)); });
  m.def("actor_restarted", [] { return Worker().actor_restarted(); });
  m.def("job_id", [] { return Bytes(Worker().job_id().Binary()); });
  m.def("node_id", [] { return Bytes(Worker().node_id().Binary()); });
  m.def("worker_id", [] { return Bytes(Worker().worker_id().Binary()); });
  m.def("current_task_id", [] { return Bytes(Worker().current_task_id().Binary()); });
  m.def("current_actor_id", [] { return Bytes(Worker().current_actor_id().Binary()); });
  m.def("namespace", [] { return Worker().options().ray_namespace; });
  m.def("is_driver", [] { return Worker().is_driver(); });

  m.def("put", [](nb::bytes metadata, nb::handle data) {
    Py_buffer view;
    std::string_view d = ViewOf(data, &view);
    absl::StatusOr<ObjectID> id;
    {
      nb::gil_scoped_release release;
      id = Worker().PutParts(std::string(metadata.c_str(), metadata.size()), {d});
    }
    PyBuffer_Release(&view);
    return Bytes(Check(std::move(id)).Binary());
  });

  m.def("put_parts", [](nb::bytes metadata, nb::list parts) {
    std::vector<Py_buffer> views(parts.size());
    std::vector<std::string_view> data;
    for (size_t i = 0; i < parts.size(); ++i) data.push_back(ViewOf(parts[i], &views[i]));
    absl::StatusOr<ObjectID> id;
    {
      nb::gil_scoped_release release;
      id = Worker().PutParts(std::string(metadata.c_str(), metadata.size()), data);
    }
    for (auto& v : views) PyBuffer_Release(&v);
    return Bytes(Check(std::move(id)).Binary());
  });

  m.def("get", [](const std::vector<nb::bytes>& ids, int64_t timeout_ms) {
    std::vector<ObjectID> oids;
    for (const auto& b : ids) oids.push_back(ToObjectId(b));
    // In slices, so that Ctrl-C interrupts a blocked get.
    using Values = std::vector<std::shared_ptr<core::ObjectValue>>;
    absl::StatusOr<Values> values =
        CallInSlices<Values>(timeout_ms, [&](int64_t slice) { return Worker().Get(oids, slice); });
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

  // Streaming generators. stream_next returns the next item's id, or None at
  // the end; it waits in slices so that Ctrl-C interrupts it.
  m.def("stream_next", [](nb::bytes task_id, int64_t index, int64_t timeout_ms) -> nb::object {
    TaskID task = ToTaskId(task_id);
    absl::StatusOr<std::optional<ObjectID>> next = CallInSlices<std::optional<ObjectID>>(
        timeout_ms, [&](int64_t slice) { return Worker().StreamNext(task, index, slice); });
    if (!next.ok()) ThrowStatus(next.status());
    if (!next->has_value()) return nb::none();
    return Bytes((*next)->Binary());
  });
  m.def("stream_release", [](nb::bytes task_id) {
    if (g_state && g_state->worker) g_state->worker->StreamRelease(ToTaskId(task_id));
  });
  m.def("report_stream_item",
        [](nb::bytes task_id, int64_t index, nb::bytes metadata, nb::list parts) {
          std::vector<Py_buffer> views(parts.size());
          std::vector<std::string_view> data;
          for (size_t i = 0; i < parts.size(); ++i) data.push_back(ViewOf(parts[i], &views[i]));
          absl::Status s;
          {
            nb::gil_scoped_release release;
            s = Worker().ReportStreamItem(ToTaskId(task_id), index,
                                          std::string(metadata.c_str(), metadata.size()), data);
          }
          for (auto& v : views) PyBuffer_Release(&v);
          if (!s.ok()) ThrowStatus(s);
        });

  m.def(
      "wait",
      [](const std::vector<nb::bytes>& ids, int num_returns, int64_t timeout_ms, bool fetch_local) {
        std::vector<ObjectID> oids;
        for (const auto& b : ids) oids.push_back(ToObjectId(b));
        absl::StatusOr<std::vector<bool>> ready;
        {
          nb::gil_scoped_release release;
          ready = Worker().Wait(oids, num_returns, timeout_ms, fetch_local);
        }
        return Check(std::move(ready));
      },
      nb::arg("ids"), nb::arg("num_returns"), nb::arg("timeout_ms"),
      nb::arg("fetch_local") = false);

  m.def("add_local_ref", [](nb::bytes id) {
    if (g_state && g_state->worker) g_state->worker->AddLocalReference(ToObjectId(id));
  });
  m.def("remove_local_ref", [](nb::bytes id) {
    if (g_state && g_state->worker) g_state->worker->RemoveLocalReference(ToObjectId(id));
  });
  m.def("owner_address", [](nb::bytes id) {
    auto owner = Worker().OwnerOf(ToObjectId(id));
    return Bytes(owner ? owner->SerializeAsString() : std::string());
  });
  m.def("register_borrowed_refs", [](const std::vector<std::pair<nb::bytes, nb::bytes>>& refs) {
    std::vector<std::pair<ObjectID, rpc::Address>> parsed;
    parsed.reserve(refs.size());
    for (const auto& [id, owner] : refs) {
      rpc::Address a;
      if (!a.ParseFromArray(owner.c_str(), static_cast<int>(owner.size()))) {
        throw nb::value_error("bad owner address");
      }
      parsed.emplace_back(ToObjectId(id), std::move(a));
    }
    nb::gil_scoped_release release;
    Worker().RegisterBorrowedRefs(parsed);
  });
  m.def("add_contained_refs", [](nb::bytes outer, const std::vector<nb::bytes>& inner) {
    std::vector<ObjectID> ids;
    for (const auto& b : inner) ids.push_back(ToObjectId(b));
    Worker().AddContainedRefs(ToObjectId(outer), ids);
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
  m.def(
      "cancel",
      [](nb::bytes id, bool force, bool recursive) {
        absl::Status s = Worker().Cancel(ToObjectId(id), force, recursive);
        if (absl::IsInvalidArgument(s)) ThrowStatus(s);  // else: finished, nothing to do
      },
      nb::arg("id"), nb::arg("force") = false, nb::arg("recursive") = true);
  m.def("num_tracked_objects", [] { return Worker().NumTrackedObjects(); });
  m.def("local_store_stats", [] {
    nb::gil_scoped_release release;
    return Worker().LocalStoreStats();
  });
  m.def("local_object_info", [](nb::bytes id) {
    std::string b(id.c_str(), id.size());
    nb::gil_scoped_release release;
    return Worker().LocalObjectInfo(b);
  });

  m.def(
      "submit_task",
      [](const std::string& function, const std::string& name, nb::list args, int num_returns,
         const std::map<std::string, double>& resources, int max_retries, bool retry_exceptions,
         bool streaming, const std::tuple<nb::bytes, bool, bool>& scheduling) {
        core::TaskOptions o;
        o.scheduling = ToStrategy(scheduling);
        o.function_name = function;
        o.name = name;
        o.num_returns = num_returns;
        o.streaming = streaming;
        o.resources = ToResources(resources);
        o.max_retries = max_retries;
        o.retry_exceptions = retry_exceptions;
        auto cargs = ToArgs(args);
        absl::StatusOr<std::vector<ObjectID>> ids;
        {
          nb::gil_scoped_release release;
          ids = Worker().SubmitTask(std::move(cargs), o);
        }
        return IdList(Check(std::move(ids)));
      },
      nb::arg("function"), nb::arg("name"), nb::arg("args"), nb::arg("num_returns"),
      nb::arg("resources"), nb::arg("max_retries"), nb::arg("retry_exceptions"),
      nb::arg("streaming") = false,
      nb::arg("scheduling") = std::make_tuple(nb::bytes("", 0), false, false));

  m.def(
      "create_actor",
      [](const std::string& class_key, nb::list args, const std::string& name,
         const std::string& ns, const std::map<std::string, double>& resources, int max_restarts,
         int max_task_retries, int max_concurrency, bool detached,
         const std::tuple<nb::bytes, bool, bool>& scheduling) {
        core::ActorCreationOptions o;
        o.scheduling = ToStrategy(scheduling);
        o.factory_name = class_key;
        o.name = name;
        o.ray_namespace = ns;
        o.resources = resources;
        o.max_restarts = max_restarts;
        o.max_task_retries = max_task_retries;
        o.max_concurrency = max_concurrency;
        o.detached = detached;
        auto cargs = ToArgs(args);
        absl::StatusOr<ActorID> id;
        {
          nb::gil_scoped_release release;
          id = Worker().CreateActor(std::move(cargs), o);
        }
        if (!id.ok() && absl::IsAlreadyExists(id.status())) {
          throw nb::value_error(std::string(id.status().message()).c_str());
        }
        return Bytes(Check(std::move(id)).Binary());
      },
      nb::arg("class_key"), nb::arg("args"), nb::arg("name"), nb::arg("namespace"),
      nb::arg("resources"), nb::arg("max_restarts"), nb::arg("max_task_retries"),
      nb::arg("max_concurrency"), nb::arg("detached"),
      nb::arg("scheduling") = std::make_tuple(nb::bytes("", 0), false, false));

  m.def("submit_actor_task", [](nb::bytes actor_id, const std::string& method, nb::list args,
                                int num_returns, const std::string& name, bool streaming) {
    core::TaskOptions o;
    o.function_name = method;
    o.name = name;
    o.num_returns = num_returns;
    o.streaming = streaming;
    auto cargs = ToArgs(args);
    ActorID aid = ToActorId(actor_id);
    absl::StatusOr<std::vector<ObjectID>> ids;
    {
      nb::gil_scoped_release release;
      ids = Worker().SubmitActorTask(aid, std::move(cargs), o);
    }
    return IdList(Check(std::move(ids)));
  });

  m.def("kill_actor", [](nb::bytes actor_id, bool no_restart) {
    ActorID aid = ToActorId(actor_id);
    absl::Status s;
    {
      nb::gil_scoped_release release;
      s = Worker().KillActor(aid, no_restart);
    }
    if (!s.ok() && !absl::IsNotFound(s)) ThrowStatus(s);
  });

  m.def("get_named_actor", [](const std::string& name, const std::string& ns) {
    absl::StatusOr<std::optional<ActorID>> id;
    {
      nb::gil_scoped_release release;
      id = Worker().GetNamedActor(name, ns);
    }
    auto v = Check(std::move(id));
    if (!v) return nb::object(nb::none());
    return nb::object(Bytes(v->Binary()));
  });

  m.def("actor_info", [](nb::bytes actor_id) {
    auto info = Check(Worker().gcs().GetActorInfo(ToActorId(actor_id)));
    nb::dict d;
    if (!info) return d;
    d["state"] = rpc::ActorTableData::State_Name(info->state());
    d["name"] = info->name();
    d["namespace"] = info->ray_namespace();
    d["num_restarts"] = info->num_restarts();
    d["max_task_retries"] = info->max_task_retries();
    d["death_cause"] = Bytes(info->death_cause().SerializeAsString());
    return d;
  });

  // Every actor the GCS knows: id, state, name, namespace.
  m.def("list_actors", [] {
    absl::StatusOr<std::vector<rpc::ActorTableData>> listed;
    {
      nb::gil_scoped_release release;
      listed = Worker().gcs().ListActors();
    }
    if (!listed.ok()) ThrowStatus(listed.status());
    nb::list out;
    for (const auto& a : *listed) {
      nb::dict d;
      d["actor_id"] = Bytes(a.actor_id());
      d["state"] = rpc::ActorTableData::State_Name(a.state());
      d["name"] = a.name();
      d["namespace"] = a.ray_namespace();
      out.append(d);
    }
    return out;
  });

  m.def("add_actor_handle", [](nb::bytes id) {
    if (g_state && g_state->worker) g_state->worker->AddActorHandle(ToActorId(id));
  });
  m.def("remove_actor_handle", [](nb::bytes id) {
    if (g_state && g_state->worker) g_state->worker->RemoveActorHandle(ToActorId(id));
  });

  m.def("kv_put", [](const std::string& ns, nb::bytes key, nb::bytes value, bool overwrite) {
    return Check(Worker().gcs().KvPut(ns, std::string(key.c_str(), key.size()),
                                      std::string(value.c_str(), value.size()), overwrite));
  });
  m.def("kv_get", [](const std::string& ns, nb::bytes key) {
    absl::StatusOr<std::optional<std::string>> v;
    {
      nb::gil_scoped_release release;
      v = Worker().gcs().KvGet(ns, std::string(key.c_str(), key.size()));
    }
    auto r = Check(std::move(v));
    if (!r) return nb::object(nb::none());
    return nb::object(Bytes(*r));
  });

  m.def("nodes", [] {
    // Ray's keys, plus AvailableResources.
    auto nodes = Check(Worker().gcs().GetAllNodes());
    nb::list out;
    for (const auto& n : nodes) {
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
      d["MetricsExportPort"] = 0;
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
}

}  // namespace photon::python
