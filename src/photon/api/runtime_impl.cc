#include "photon/api/runtime_impl.h"

#include "fmt/format.h"
#include "photon/errors.h"
#include "photon/task_caller.h"

namespace photon::internal {
namespace {

constexpr char kMsgpack[] = "msgpack";

ObjectID ToId(const std::string& binary) {
  auto id = ObjectID::FromBinary(binary);
  if (!id.ok()) throw std::invalid_argument(std::string(id.status().message()));
  return *id;
}

ActorID ToActorId(const std::string& binary) {
  auto id = ActorID::FromBinary(binary);
  if (!id.ok()) throw std::invalid_argument(std::string(id.status().message()));
  return *id;
}

std::vector<core::TaskArgument> ToCoreArgs(std::vector<TaskArg>& args);

[[noreturn]] void ThrowStatus(const absl::Status& s) {
  if (absl::IsAlreadyExists(s)) throw Error(std::string(s.message()));
  if (absl::IsDeadlineExceeded(s)) throw GetTimeoutError(std::string(s.message()));
  if (absl::IsInvalidArgument(s)) throw std::invalid_argument(std::string(s.message()));
  if (absl::IsResourceExhausted(s)) throw ObjectStoreFullError(std::string(s.message()));
  throw Error(std::string(s.message()));
}

}  // namespace

void ThrowError(const rpc::ErrorInfo& e) {
  switch (e.type()) {
    case rpc::TASK_EXECUTION_EXCEPTION:
      throw TaskError(e.exception_type(), e.message(), e.where());
    case rpc::WORKER_DIED:
      throw WorkerCrashedError(e.message());
    case rpc::NODE_DIED:
      throw NodeDiedError(e.message());
    case rpc::OUT_OF_MEMORY:
      throw OutOfMemoryError(e.message());
    case rpc::ACTOR_DIED:
      throw ActorDiedError(e.message());
    case rpc::OBJECT_LOST:
      throw ObjectLostError(e.message());
    case rpc::OBJECT_RECONSTRUCTION_FAILED_MAX_ATTEMPTS:
      throw ObjectReconstructionFailedMaxAttemptsExceededError(e.message());
    case rpc::OBJECT_RECONSTRUCTION_FAILED_LINEAGE_EVICTED:
      throw ObjectReconstructionFailedLineageEvictedError(e.message());
    case rpc::OBJECT_RECONSTRUCTION_FAILED:
      throw ObjectReconstructionFailedError(e.message());
    case rpc::OBJECT_FETCH_TIMED_OUT:
      throw ObjectFetchTimedOutError(e.message());
    case rpc::OWNER_DIED:
      throw OwnerDiedError(e.message());
    case rpc::TASK_CANCELLED:
      throw TaskCancelledError(e.message());
    case rpc::FUNCTION_NOT_FOUND:
      throw FunctionNotFoundError(
          e.where().empty() ? e.message() : fmt::format("{} (in {})", e.message(), e.where()));
    case rpc::OBJECT_STORE_FULL:
      throw ObjectStoreFullError(e.message());
    case rpc::TASK_UNSCHEDULABLE:
      throw TaskUnschedulableError(e.message());
    case rpc::GET_TIMEOUT:
      throw GetTimeoutError(e.message());
    default:
      throw Error(e.message());
  }
}

namespace {
std::vector<core::TaskArgument> ToCoreArgs(std::vector<TaskArg>& args) {
  std::vector<core::TaskArgument> core_args;
  core_args.reserve(args.size());
  for (auto& a : args) {
    core::TaskArgument c;
    c.is_ref = a.is_ref;
    if (a.is_ref) {
      c.ref = ToId(a.object_id);
    } else {
      c.metadata = kMsgpack;
      c.value = std::move(a.value);
      for (const auto& actor : a.nested_actor_ids) {
        c.nested_refs.push_back(ObjectID::ForActorHandle(ToActorId(actor)));
      }
    }
    core_args.push_back(std::move(c));
  }
  return core_args;
}
}  // namespace

std::string CoreWorkerRuntime::SubmitTask(const std::string& function_name,
                                          std::vector<TaskArg> args, const CallOptions& options) {
  std::vector<core::TaskArgument> core_args = ToCoreArgs(args);
  core::TaskOptions o;
  o.function_name = function_name;
  o.name = options.name;
  o.resources.insert(options.resources.begin(), options.resources.end());
  o.max_retries = options.max_retries;
  o.retry_exceptions = options.retry_exceptions;
  if (!options.placement.placement_group_id.empty()) {
    std::unordered_map<std::string, double> request = options.resources;
    if (request.empty()) request["CPU"] = 1;
    CheckFitsPlacement(options.placement, request, "task '" + function_name + "'");
    o.scheduling.set_placement_group_id(options.placement.placement_group_id);
    o.scheduling.set_bundle_index(options.placement.bundle_index);
  }
  auto ids = worker_->SubmitTask(std::move(core_args), o);
  if (!ids.ok()) ThrowStatus(ids.status());
  return ids->front().Binary();
}

std::string CoreWorkerRuntime::Put(std::string value,
                                   const std::vector<std::string>& nested_actor_ids) {
  auto id = worker_->Put(kMsgpack, std::move(value));
  if (!id.ok()) ThrowStatus(id.status());
  if (!nested_actor_ids.empty()) {
    std::vector<ObjectID> handles;
    for (const auto& actor : nested_actor_ids) {
      handles.push_back(ObjectID::ForActorHandle(ToActorId(actor)));
    }
    worker_->AddContainedRefs(*id, handles);
  }
  return id->Binary();
}

std::vector<ObjectBuffer> CoreWorkerRuntime::Get(const std::vector<std::string>& object_ids,
                                                 int64_t timeout_ms) {
  std::vector<ObjectID> ids;
  ids.reserve(object_ids.size());
  for (const auto& b : object_ids) ids.push_back(ToId(b));
  auto values = worker_->Get(ids, timeout_ms);
  if (!values.ok()) ThrowStatus(values.status());
  std::vector<ObjectBuffer> out;
  out.reserve(values->size());
  for (auto& v : *values) {
    if (v->IsError()) ThrowError(v->Error());
    ObjectBuffer b;
    b.data = v->data.data();
    b.size = v->data.size();
    b.holder = v;
    out.push_back(std::move(b));
  }
  return out;
}

std::vector<bool> CoreWorkerRuntime::Wait(const std::vector<std::string>& object_ids,
                                          int num_objects, int64_t timeout_ms) {
  std::vector<ObjectID> ids;
  for (const auto& b : object_ids) ids.push_back(ToId(b));
  auto ready = worker_->Wait(ids, num_objects, timeout_ms);
  if (!ready.ok()) ThrowStatus(ready.status());
  return *ready;
}

void CoreWorkerRuntime::Cancel(const std::string& object_id) {
  worker_->Cancel(ToId(object_id)).IgnoreError();  // a finished task has nothing to cancel
}

void CoreWorkerRuntime::AddLocalReference(const std::string& object_id) {
  auto id = ObjectID::FromBinary(object_id);
  if (id.ok()) worker_->AddLocalReference(*id);
}

void CoreWorkerRuntime::RemoveLocalReference(const std::string& object_id) {
  auto id = ObjectID::FromBinary(object_id);
  if (id.ok()) worker_->RemoveLocalReference(*id);
}

std::string CoreWorkerRuntime::CreateActor(const std::string& factory_name,
                                           std::vector<TaskArg> args, const ActorOptions& options) {
  core::ActorCreationOptions o;
  o.factory_name = factory_name;
  o.name = options.name;
  o.ray_namespace = options.ray_namespace;
  o.resources.insert(options.resources.begin(), options.resources.end());
  o.max_restarts = options.max_restarts;
  o.max_task_retries = options.max_task_retries;
  o.max_concurrency = options.max_concurrency;
  o.detached = options.detached;
  if (!options.placement.placement_group_id.empty()) {
    CheckFitsPlacement(options.placement, options.resources, "actor '" + factory_name + "'");
    o.scheduling.set_placement_group_id(options.placement.placement_group_id);
    o.scheduling.set_bundle_index(options.placement.bundle_index);
  }
  auto id = worker_->CreateActor(ToCoreArgs(args), o);
  if (!id.ok()) ThrowStatus(id.status());
  return id->Binary();
}

std::string CoreWorkerRuntime::SubmitActorTask(const std::string& actor_id,
                                               const std::string& method_name,
                                               std::vector<TaskArg> args,
                                               const CallOptions& options) {
  core::TaskOptions o;
  o.function_name = method_name;
  o.name = options.name;
  auto ids = worker_->SubmitActorTask(ToActorId(actor_id), ToCoreArgs(args), o);
  if (!ids.ok()) ThrowStatus(ids.status());
  return ids->front().Binary();
}

void CoreWorkerRuntime::KillActor(const std::string& actor_id, bool no_restart) {
  auto s = worker_->KillActor(ToActorId(actor_id), no_restart);
  if (!s.ok() && !absl::IsNotFound(s)) ThrowStatus(s);
}

std::string CoreWorkerRuntime::GetNamedActor(const std::string& name,
                                             const std::string& ray_namespace) {
  auto id = worker_->GetNamedActor(name, ray_namespace);
  if (!id.ok()) ThrowStatus(id.status());
  if (!id->has_value()) return "";
  return (*id)->Binary();  // the API counts the handle it makes from this id
}

void CoreWorkerRuntime::AddActorHandleReference(const std::string& actor_id) {
  auto id = ActorID::FromBinary(actor_id);
  if (id.ok()) worker_->AddActorHandle(*id);
}

void CoreWorkerRuntime::RemoveActorHandleReference(const std::string& actor_id) {
  auto id = ActorID::FromBinary(actor_id);
  if (id.ok()) worker_->RemoveActorHandle(*id);
}

void CoreWorkerRuntime::ExitActor() {
  auto s = worker_->ExitActor();
  if (!s.ok()) throw Error(std::string(s.message()));
}

bool CoreWorkerRuntime::WasCurrentActorRestarted() {
  if (worker_->current_actor_id().IsNil()) {
    throw Error("WasCurrentActorRestarted may only be called inside an actor");
  }
  return worker_->actor_restarted();
}

// ---- placement groups --------------------------------------------------------

namespace {
PlacementGroupData ToData(const rpc::PlacementGroupTableData& g) {
  PlacementGroupData d;
  d.id = g.spec().placement_group_id();
  d.name = g.spec().name();
  for (const auto& b : g.spec().bundles()) {
    d.bundles.emplace_back(b.resources().begin(), b.resources().end());
  }
  d.strategy = static_cast<int>(g.spec().strategy());
  d.state = static_cast<int>(g.state());
  return d;
}
}  // namespace

std::string CoreWorkerRuntime::CreatePlacementGroup(
    const std::string& name, const std::vector<std::unordered_map<std::string, double>>& bundles,
    int strategy, bool detached) {
  rpc::PlacementGroupSpec spec;
  PlacementGroupID id = PlacementGroupID::FromRandom(worker_->job_id());
  spec.set_placement_group_id(id.Binary());
  spec.set_name(name);
  spec.set_ray_namespace(worker_->ray_namespace());
  spec.set_strategy(static_cast<rpc::PlacementStrategy>(strategy));
  spec.set_detached(detached);
  spec.set_creator_job_id(worker_->job_id().Binary());
  for (const auto& b : bundles) {
    auto* bundle = spec.add_bundles();
    for (const auto& [k, v] : b) (*bundle->mutable_resources())[k] = v;
  }
  auto s = worker_->gcs().CreatePlacementGroup(spec);
  if (!s.ok()) ThrowStatus(s);
  return id.Binary();
}

void CoreWorkerRuntime::RemovePlacementGroup(const std::string& id) {
  auto pg = PlacementGroupID::FromBinary(id);
  if (!pg.ok()) ThrowStatus(pg.status());
  auto s = worker_->gcs().RemovePlacementGroup(*pg);
  if (!s.ok()) ThrowStatus(s);
}

bool CoreWorkerRuntime::WaitPlacementGroupReady(const std::string& id, int64_t timeout_ms) {
  auto pg = PlacementGroupID::FromBinary(id);
  if (!pg.ok()) ThrowStatus(pg.status());
  auto ready = worker_->gcs().WaitPlacementGroupReady(*pg, timeout_ms);
  if (!ready.ok()) ThrowStatus(ready.status());
  return *ready;
}

std::optional<PlacementGroupData> CoreWorkerRuntime::GetPlacementGroup(const std::string& id,
                                                                       const std::string& name) {
  absl::StatusOr<std::optional<rpc::PlacementGroupTableData>> got;
  if (!id.empty()) {
    auto pg = PlacementGroupID::FromBinary(id);
    if (!pg.ok()) ThrowStatus(pg.status());
    got = worker_->gcs().GetPlacementGroup(*pg);
  } else {
    got = worker_->gcs().GetNamedPlacementGroup(name, worker_->ray_namespace());
  }
  if (!got.ok()) ThrowStatus(got.status());
  if (!got->has_value()) return std::nullopt;
  return ToData(**got);
}

std::vector<PlacementGroupData> CoreWorkerRuntime::GetAllPlacementGroups() {
  auto all = worker_->gcs().GetAllPlacementGroups();
  if (!all.ok()) ThrowStatus(all.status());
  std::vector<PlacementGroupData> out;
  for (const auto& g : *all) out.push_back(ToData(g));
  return out;
}

}  // namespace photon::internal
