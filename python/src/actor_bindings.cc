// Bindings for actors (src/photon/core_worker/submit/actor_submitter.h):
// creating them, calling them, handles, names, kills.
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"

namespace photon::python {

void BindActors(nb::module_& m) {
  m.def(
      "create_actor",
      [](const std::string& class_key, nb::list args, const std::string& name,
         const std::string& ns, const std::map<std::string, double>& resources, int max_restarts,
         int max_task_retries, int max_concurrency, bool detached,
         const SchedulingTuple& scheduling, const std::string& class_name,
         const std::string& runtime_env, const std::string& call_site) {
        auto w = CurrentWorker();
        core::ActorCreationOptions o;
        o.call_site = call_site;
        o.scheduling = ToStrategy(scheduling);
        o.factory_name = class_key;
        o.class_name = class_name;
        o.name = name;
        o.ray_namespace = ns;
        o.resources = resources;
        o.max_restarts = max_restarts;
        o.max_task_retries = max_task_retries;
        o.max_concurrency = max_concurrency;
        o.detached = detached;
        o.runtime_env = runtime_env;
        auto cargs = ToArgs(args);
        absl::StatusOr<ActorID> id;
        {
          nb::gil_scoped_release release;
          id = w->CreateActor(std::move(cargs), o);
        }
        return Bytes(Check(std::move(id)).Binary());
      },
      nb::arg("class_key"), nb::arg("args"), nb::arg("name"), nb::arg("namespace"),
      nb::arg("resources"), nb::arg("max_restarts"), nb::arg("max_task_retries"),
      nb::arg("max_concurrency"), nb::arg("detached"),
      nb::arg("scheduling") = std::make_tuple(nb::bytes("", 0), false, false, nb::bytes("", 0), -1,
                                              false, std::vector<LabelTerm>()),
      nb::arg("class_name") = "", nb::arg("runtime_env") = "", nb::arg("call_site") = "");

  m.def(
      "submit_actor_task",
      [](nb::bytes actor_id, const std::string& method, nb::list args, int num_returns,
         const std::string& name, bool streaming, const std::string& call_site) {
        auto w = CurrentWorker();
        core::TaskOptions o;
        o.call_site = call_site;
        o.function_name = method;
        o.name = name;
        o.num_returns = num_returns;
        o.streaming = streaming;
        auto cargs = ToArgs(args);
        ActorID aid = ToActorId(actor_id);
        absl::StatusOr<std::vector<ObjectID>> ids;
        {
          nb::gil_scoped_release release;
          ids = w->SubmitActorTask(aid, std::move(cargs), o);
        }
        return IdList(Check(std::move(ids)));
      },
      nb::arg("actor_id"), nb::arg("method"), nb::arg("args"), nb::arg("num_returns"),
      nb::arg("name"), nb::arg("streaming"), nb::arg("call_site") = "");

  m.def("kill_actor", [](nb::bytes actor_id, bool no_restart) {
    auto w = CurrentWorker();
    ActorID aid = ToActorId(actor_id);
    absl::Status s;
    {
      nb::gil_scoped_release release;
      s = w->KillActor(aid, no_restart);
    }
    if (!s.ok() && !absl::IsNotFound(s)) ThrowStatus(s);  // NotFound: nothing left to kill
  });

  m.def("get_named_actor", [](const std::string& name, const std::string& ns) {
    auto w = CurrentWorker();
    absl::StatusOr<std::optional<ActorID>> id;
    {
      nb::gil_scoped_release release;
      id = w->GetNamedActor(name, ns);
    }
    auto v = Check(std::move(id));
    if (!v) return nb::object(nb::none());
    return nb::object(Bytes(v->Binary()));
  });

  m.def("actor_info", [](nb::bytes actor_id) {
    auto w = CurrentWorker();
    ActorID aid = ToActorId(actor_id);
    absl::StatusOr<std::optional<rpc::ActorTableData>> info;
    {
      nb::gil_scoped_release release;
      info = w->gcs().GetActorInfo(aid);
    }
    auto data = Check(std::move(info));
    nb::dict d;
    if (!data) return d;
    d["state"] = rpc::ActorTableData::State_Name(data->state());
    d["name"] = data->name();
    d["namespace"] = data->ray_namespace();
    d["num_restarts"] = data->num_restarts();
    d["max_task_retries"] = data->max_task_retries();
    d["death_cause"] = Bytes(data->death_cause().SerializeAsString());
    return d;
  });

  // Every actor the GCS knows: id, state, name, namespace.
  m.def("list_actors", [] {
    auto w = CurrentWorker();
    absl::StatusOr<std::vector<rpc::ActorTableData>> listed;
    {
      nb::gil_scoped_release release;
      listed = w->gcs().ListActors();
    }
    nb::list out;
    for (const auto& a : Check(std::move(listed))) {
      nb::dict d;
      d["actor_id"] = Bytes(a.actor_id());
      d["state"] = rpc::ActorTableData::State_Name(a.state());
      d["name"] = a.name();
      d["namespace"] = a.ray_namespace();
      out.append(d);
    }
    return out;
  });

  // Handles: from ActorHandle.__init__/__del__ (any thread, also during
  // shutdown), so they never raise for a missing connection. `owner` (the
  // serialized address a pickled handle carries) makes the handle a borrow
  // of the owner's, registered with the rest of the value's refs; without
  // it, the owner is looked up and the borrow registered here.
  m.def(
      "add_actor_handle",
      [](nb::bytes id, nb::bytes owner) {
        auto w = WorkerIfConnected();
        if (w == nullptr) return;
        ActorID aid = ToActorId(id);
        std::optional<rpc::Address> o;
        if (owner.size() > 0) o = ToAddress(owner);
        nb::gil_scoped_release release;
        w->AddActorHandle(aid, o);
      },
      nb::arg("id"), nb::arg("owner") = nb::bytes("", 0));
  m.def("remove_actor_handle", [](nb::bytes id) {
    if (auto w = WorkerIfConnected()) w->RemoveActorHandle(ToActorId(id));
  });
  // The owner of the actor's handles (serialized Address; empty if unknown).
  m.def("actor_owner", [](nb::bytes id) {
    auto w = CurrentWorker();
    ActorID aid = ToActorId(id);
    std::optional<rpc::Address> owner;
    {
      nb::gil_scoped_release release;
      owner = w->ActorOwner(aid);
    }
    return Bytes(owner ? owner->SerializeAsString() : std::string());
  });
  // The object that stands for the actor's handles in reference counting.
  m.def("actor_handle_object_id",
        [](nb::bytes id) { return Bytes(ObjectID::ForActorHandle(ToActorId(id)).Binary()); });
  m.def("actor_pending_calls", [](nb::bytes actor_id) {
    return CurrentWorker()->NumPendingActorCalls(ToActorId(actor_id));
  });
}

}  // namespace photon::python
