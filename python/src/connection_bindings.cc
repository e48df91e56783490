// Bindings for connecting (src/photon/driver): joining or starting a cluster
// as a driver, serving as a worker (the Python executor), and the process's
// identity.
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"
#include "photon/common/config.h"
#include "photon/common/logging.h"
#include "photon/driver/connect.h"

namespace photon::python {
namespace {

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

// Calls the Python executor for one task (GIL taken here). Refs nested in a
// return value are referenced here while the value still holds them, for
// the receiver to hand to the caller (see core::ReturnValue).
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
    if (spec.type() != rpc::ACTOR_TASK) {  // an actor's calls run in its creation's group
      task["placement_group_id"] = Bytes(spec.scheduling().placement_group_id());
      task["bundle_index"] = spec.scheduling().bundle_index();
      task["capture_child_tasks"] = spec.scheduling().capture_child_tasks();
    }
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
      auto worker = WorkerIfConnected();
      for (nb::handle item : nb::cast<nb::list>(r[1])) {
        nb::tuple ret = nb::cast<nb::tuple>(item);
        nb::bytes meta = nb::cast<nb::bytes>(ret[0]);
        Py_buffer view;
        std::string_view data = ViewOf(ret[1], &view);
        core::ReturnValue value{std::string(meta.c_str(), meta.size()), std::string(data), {}};
        PyBuffer_Release(&view);
        if (ret.size() > 2 && worker != nullptr) {
          for (nb::handle id : nb::cast<nb::list>(ret[2])) {
            ObjectID oid = ToObjectId(nb::cast<nb::bytes>(id));
            auto owner = worker->OwnerOf(oid);
            if (!owner) continue;  // not a ref this process knows: nothing to hand over
            worker->AddLocalReference(oid);
            value.nested_refs.push_back(core::OwnedRef{oid, *owner});
          }
        }
        out.returns.push_back(std::move(value));
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

void BindConnection(nb::module_& m) {
  m.def("connect",
        [](const std::string& address, double num_cpus, double num_gpus,
           const std::map<std::string, double>& resources, int64_t object_store_memory,
           const std::string& ns, const std::vector<std::string>& worker_command,
           const std::map<std::string, std::string>& worker_env,
           const std::map<std::string, std::string>& config_overrides, int metrics_export_port) {
          if (Connected()) throw std::runtime_error("already connected");
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
          o.metrics_export_port = metrics_export_port;
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
          auto c = std::make_unique<Connection>();
          c->cluster = std::move(conn->cluster);
          c->worker = std::move(conn->worker);
          c->session_dir = conn->session_dir;
          c->gcs_address = conn->gcs_address;
          c->raylet_address = conn->raylet_address;
          nb::dict info;
          info["job_id"] = Bytes(c->worker->job_id().Binary());
          info["node_id"] = Bytes(c->worker->node_id().Binary());
          info["worker_id"] = Bytes(c->worker->worker_id().Binary());
          info["gcs_address"] = c->gcs_address;
          info["raylet_address"] = c->raylet_address;
          info["session_dir"] = c->session_dir;
          info["namespace"] = conn->ray_namespace;
          SetConnection(std::move(c));
          return info;
        });

  m.def("disconnect", [] {
    std::unique_ptr<Connection> c = TakeConnection();
    if (c == nullptr) return;
    nb::gil_scoped_release release;
    c->worker->Shutdown();
    if (c->cluster) c->cluster->Shutdown();
  });

  m.def("is_connected", [] { return Connected(); });

  m.def("run_worker", [](nb::object executor, nb::object interrupter, nb::object before_exit) {
    auto sys = SystemConfig::FromProcessEnvironment();
    if (!sys.ok()) throw nb::value_error(std::string(sys.status().message()).c_str());
    auto* exec = new nb::object(executor);          // lives as long as the process
    auto* interrupt = new nb::object(interrupter);  // likewise
    absl::StatusOr<std::unique_ptr<core::CoreWorker>> worker;
    {
      nb::gil_scoped_release release;
      worker = ConnectWorker(
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
    }
    if (!worker.ok()) ThrowStatus(worker.status());
    auto c = std::make_unique<Connection>();
    c->worker = std::move(*worker);
    std::shared_ptr<core::CoreWorker> w = c->worker;
    SetConnection(std::move(c));
    auto* hooks = new nb::object(before_exit);  // lives as long as the process
    nb::gil_scoped_release release;
    return w->RunTaskLoop([hooks] {
      if (hooks->is_none()) return;
      nb::gil_scoped_acquire gil;
      try {
        (*hooks)();
      } catch (const std::exception& e) {
        PHOTON_LOG_WARN("the worker's shutdown hooks failed: {}", e.what());
      }
    });
  });

  m.def("exit_actor", [] { Check(CurrentWorker()->ExitActor()); });
  m.def("exit_worker_after_task", [] { CurrentWorker()->ExitAfterCurrentTask(); });
  m.def("actor_restarted", [] { return CurrentWorker()->actor_restarted(); });
  m.def("job_id", [] { return Bytes(CurrentWorker()->job_id().Binary()); });
  m.def("node_id", [] { return Bytes(CurrentWorker()->node_id().Binary()); });
  m.def("worker_id", [] { return Bytes(CurrentWorker()->worker_id().Binary()); });
  m.def("current_task_id", [] { return Bytes(CurrentWorker()->current_task_id().Binary()); });
  m.def("current_actor_id", [] { return Bytes(CurrentWorker()->current_actor_id().Binary()); });
  m.def("namespace", [] { return CurrentWorker()->ray_namespace(); });
  m.def("is_driver", [] { return CurrentWorker()->is_driver(); });
}

}  // namespace photon::python
