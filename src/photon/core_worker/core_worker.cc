#include "photon/core_worker/core_worker.h"

#include <unistd.h>

#include <cstdio>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/notification.h"
#include "fmt/format.h"
#include "photon/common/callback_guard.h"
#include "photon/common/log_rotation.h"
#include "photon/common/logging.h"
#include "photon/common/status.h"
#include "photon/core_worker/borrow_tracker.h"
#include "photon/core_worker/core_worker_service.h"
#include "photon/core_worker/memory_store.h"
#include "photon/core_worker/node_directory.h"
#include "photon/core_worker/object_fetcher.h"
#include "photon/core_worker/stream_manager.h"
#include "photon/core_worker/submit/actor_submitter.h"
#include "photon/core_worker/submit/dependency_resolver.h"
#include "photon/core_worker/submit/task_manager.h"
#include "photon/core_worker/submit/task_submitter.h"
#include "photon/core_worker/task_context.h"
#include "photon/core_worker/worker_liveness.h"
#include "photon/object_store/store_client.h"
#include "photon/rpc/core_worker_client.h"
#include "photon/rpc/fault_injection.h"
#include "photon/rpc/raylet_client.h"
#include "photon/rpc/server.h"

namespace photon::core {

CoreWorker::CoreWorker(SystemConfig config, CoreWorkerOptions options)
    : config_(std::move(config)),
      options_(std::move(options)),
      guard_(std::make_shared<CallbackGuard>()) {}

absl::StatusOr<std::unique_ptr<CoreWorker>> CoreWorker::Create(SystemConfig config,
                                                               CoreWorkerOptions options) {
  std::unique_ptr<CoreWorker> w(new CoreWorker(std::move(config), std::move(options)));
  if (auto s = w->Start(); !s.ok()) {
    w->Shutdown();
    return s;
  }
  return w;
}

CoreWorker::~CoreWorker() { Shutdown(); }

absl::Status CoreWorker::Start() {
  PHOTON_RETURN_IF_ERROR(rpc::InstallFaultInjection(config_.testing_rpc_failure()));
  timer_ = std::make_shared<ThreadTimer>(options_.is_driver ? "driver" : "worker");
  // A worker's stdout and stderr are its log files; a driver's are the user's.
  if (!options_.is_driver) RotateStdioPeriodically(timer_.get(), LogRotationOf(config_));
  // A worker does not wait for the GCS: it may be restarting (with Redis),
  // and the worker's raylet is waiting for it to register.
  auto gcs = GcsClient::Connect(options_.gcs_address, config_, options_.is_driver);
  if (!gcs.ok()) return gcs.status();
  gcs_ = std::move(*gcs);
  if (options_.is_driver) {
    // The user must hear it: later calls fail with the same words.
    gcs_->OnClusterLost(
        [](const std::string& why) { std::fprintf(stderr, "photon: %s\n", why.c_str()); });
  }
  // Retries hold the timer, so one that ends after this worker is gone finds
  // it stopped rather than freed.
  raylets_ = rpc::MakeRayletClientPool(config_, timer_);
  workers_ = rpc::MakeCoreWorkerClientPool(config_);
  nodes_ = std::make_unique<NodeDirectory>(gcs_.get(), guard_);
  liveness_ =
      std::make_unique<WorkerLiveness>(nodes_.get(), raylets_.get(), gcs_.get(), timer_.get(),
                                       rpc::ControlRetryPolicy(config_), guard_);
  if (!options_.is_driver) {
    // Known before serving: a task may be pushed as soon as the raylet sees
    // our registration, before its reply reaches us.
    worker_id_ = options_.worker_id;
    node_id_ = options_.worker_id.NodeId();
  }
  service_ = std::make_unique<CoreWorkerServiceImpl>();
  server_ = std::make_unique<rpc::GrpcServer>(options_.is_driver ? "driver" : "worker",
                                              options_.host, 0, config_.cluster_token());
  server_->RegisterService(service_.get());
  metrics_service_ = std::make_unique<stats::MetricsServiceImpl>();
  server_->RegisterService(metrics_service_.get());
  PHOTON_RETURN_IF_ERROR(server_->Start());
  PHOTON_RETURN_IF_ERROR(Register(server_->port()));
  address_.set_ip(options_.host);
  address_.set_port(server_->port());
  address_.set_node_id(node_id_.Binary());
  address_.set_worker_id(worker_id_.Binary());
  auto store = object_store::StoreClient::Connect(store_socket_, config_.cluster_token());
  if (!store.ok()) return store.status();
  store_ = std::move(*store);
  Assemble();
  service_->Attach(CoreWorkerServiceImpl::Handlers{
      worker_id_.Binary(), receiver_.get(), memory_store_.get(), refs_.get(), streams_.get(),
      borrows_.get(), [this](const ObjectID& id, rpc::ErrorInfo* e) { return Reconstruct(id, e); },
      [this](const rpc::GetCoreWorkerStatsRequest& req, rpc::GetCoreWorkerStatsReply* reply) {
        Stats(req, reply);
      }});
  if (options_.is_driver && config_.log_to_driver()) StartLogSubscriber();
  return absl::OkStatus();
}

absl::Status CoreWorker::Register(int port) {
  rpc::RegisterWorkerRequest req;
  req.set_pid(getpid());
  req.set_is_driver(options_.is_driver);
  req.set_job_id(options_.job_id.Binary());
  req.set_language(options_.language);
  if (!options_.is_driver) req.set_worker_id(options_.worker_id.Binary());
  req.mutable_address()->set_ip(options_.host);
  req.mutable_address()->set_port(port);
  struct Result {
    absl::Notification done;
    absl::Status status;
    rpc::RegisterWorkerReply reply;
  };
  auto result = std::make_shared<Result>();
  // Retried until worker_register_timeout_ms: a raylet busy starting many
  // workers answers late, not never.
  raylets_->Get(options_.raylet_address)
      ->RegisterWorker(req, [result](const absl::Status& s, rpc::RegisterWorkerReply&& reply) {
        result->status = s;
        result->reply = std::move(reply);
        result->done.Notify();
      });
  result->done.WaitForNotification();
  if (!result->status.ok()) {
    return absl::UnavailableError(fmt::format("cannot register with the raylet at {}: {}",
                                              options_.raylet_address,
                                              std::string(result->status.message())));
  }
  auto node = NodeID::FromBinary(result->reply.node_id());
  if (!node.ok()) return absl::InternalError("the raylet sent a malformed NodeID");
  node_id_ = *node;
  if (options_.is_driver) {
    auto id = WorkerID::FromBinary(result->reply.worker_id());
    worker_id_ = id.ok() ? *id : WorkerID::FromRandom(node_id_);
  }
  store_socket_ = result->reply.store_socket();
  return absl::OkStatus();
}

void CoreWorker::Assemble() {
  const JobID& job = options_.job_id;
  contexts_ = std::make_unique<TaskContexts>(job);
  // Threads without a task of their own derive ids from this process's task:
  // unique to this process, so two workers never derive the same ids.
  contexts_->SetProcessTask(options_.is_driver ? TaskID::ForDriverTask(job)
                                               : TaskID::FromRandom(job));
  memory_store_ = std::make_unique<MemoryStore>();
  refs_ = std::make_unique<ReferenceCounter>(
      [this](const ReferenceCounter::Freed& f) { OnObjectFreed(f); });
  fetcher_ = std::make_unique<ObjectFetcher>(ObjectFetcher::Deps{
      &config_, memory_store_.get(), refs_.get(), store_.get(), raylets_.get(),
      options_.raylet_address, workers_.get(), nodes_.get(), liveness_.get(), timer_.get(), guard_,
      node_id_, worker_id_.Binary(), options_.is_driver,
      [this](const ObjectID& id, rpc::ErrorInfo* error) { return Reconstruct(id, error); }});
  borrows_ = std::make_unique<BorrowTracker>(BorrowTracker::Deps{
      &config_, refs_.get(), workers_.get(), liveness_.get(), gcs_.get(), timer_.get(), address_});
  events_ = std::make_unique<TaskEventBuffer>(
      TaskEventBuffer::Options{config_.enable_task_events(), config_.task_events_max_buffer_size(),
                               node_id_, worker_id_, static_cast<int32_t>(getpid()),
                               /*worker_log_files=*/!options_.is_driver},
      [gcs = gcs_.get()](rpc::AddTaskEventDataRequest req,
                         std::function<void(const absl::Status&)> done) {
        gcs->AddTaskEventDataAsync(req, std::move(done));
      });
  events_->Start(timer_.get(), absl::Milliseconds(config_.task_events_report_interval_ms()),
                 guard_);
  tasks_ = std::make_unique<TaskManager>(
      refs_.get(), memory_store_.get(), address_,
      [this](const ObjectID& id, const NodeID& node) {
        if (!shut_down_) fetcher_->FreeCopy(id, node);
      },
      [this](const ObjectID& outer, const std::vector<OwnedRef>& borrows) {
        for (const auto& b : borrows) borrows_->EndBorrow(b.owner, b.id, 1, outer.Binary());
      },
      config_.max_lineage_bytes(), events_.get());
  resolver_ = std::make_unique<DependencyResolver>(
      memory_store_.get(),
      [this](const ObjectID& id, const rpc::Address& owner) {
        fetcher_->FetchFromOwner(id, owner);
      },
      guard_, worker_id_.Binary(), config_.max_direct_call_object_size(),
      config_.task_rpc_inlined_bytes_limit());
  specs_ = std::make_unique<TaskSpecBuilder>(config_, refs_.get(), address_, job, options_.language,
                                             [this](std::string metadata, std::string data) {
                                               return PutValue(std::move(metadata), {data});
                                             });
  streams_ = std::make_unique<StreamManager>(
      StreamManager::Deps{&config_, memory_store_.get(), refs_.get(), tasks_.get(), fetcher_.get(),
                          borrows_.get(), workers_.get(), liveness_.get(), node_id_});
  submitter_ = std::make_unique<TaskSubmitter>(TaskSubmitter::Deps{
      &config_, tasks_.get(), resolver_.get(), raylets_.get(), workers_.get(), liveness_.get(),
      timer_.get(), guard_, options_.raylet_address, options_.language, job,
      options_.worker_command, options_.worker_env, [this](const std::vector<ObjectID>& lost) {
        for (const ObjectID& id : lost) {
          rpc::ErrorInfo why;
          // A borrowed argument is its owner's to rebuild.
          if (!refs_->IsOwned(id) || !Reconstruct(id, &why)) return false;
        }
        return true;
      }});
  actor_submitter_ = std::make_unique<ActorSubmitter>(
      ActorSubmitter::Deps{&config_, tasks_.get(), resolver_.get(), workers_.get(), gcs_.get(),
                           timer_.get(), guard_, worker_id_.Binary()});
  if (!options_.is_driver) {
    receiver_ = std::make_unique<TaskReceiver>(TaskReceiver::Deps{
        &config_, options_.executor, options_.interrupt, fetcher_.get(), refs_.get(),
        borrows_.get(), streams_.get(), contexts_.get(), node_id_,
        [this](const ActorID& actor, bool restarted) {
          absl::MutexLock lock(&mu_);
          current_actor_ = actor;
          actor_restarted_ = restarted;
        },
        [this](const TaskID& parent) { submitter_->CancelChildrenOf(parent); }, events_.get()});
  }
}

void CoreWorker::StartLogSubscriber() {
  gcs_->Subscribe({rpc::LOG_CHANNEL}, options_.job_id.Binary(), [](const rpc::PubMessage& m) {
    const rpc::LogBatch& b = m.log();
    FILE* out = b.is_error() ? stderr : stdout;
    std::string prefix = b.task_name().empty() ? fmt::format("(pid={})", b.pid())
                                               : fmt::format("({} pid={})", b.task_name(), b.pid());
    if (b.ip() != "127.0.0.1" && !b.ip().empty())
      prefix.insert(prefix.size() - 1, ", ip=" + b.ip());
    for (const auto& line : b.lines()) std::fprintf(out, "%s %s\n", prefix.c_str(), line.c_str());
    std::fflush(out);
  });
}

void CoreWorker::Shutdown() {
  if (shut_down_.exchange(true)) return;
  if (submitter_) submitter_->Stop();  // leases go back to their raylets
  if (borrows_) borrows_->Stop();      // owners hear of the borrows this process drops
  if (service_) service_->Detach();
  // The last task events (a short driver's, an exiting worker's last task).
  if (events_ && gcs_) {
    events_->FlushAndWait(absl::Milliseconds(config_.shutdown_rpc_timeout_ms()));
  }
  // From here on, late RPC callbacks leave this worker alone, and no delayed
  // work runs.
  guard_->Close();
  if (timer_) timer_->Stop();
  if (options_.is_driver && gcs_) {
    if (auto s = gcs_->MarkJobFinished(options_.job_id); !s.ok()) {
      // The raylets find the driver's process gone and finish the job then.
      PHOTON_LOG_WARN("cannot mark job {} finished: {}", options_.job_id.Hex(),
                      std::string(s.message()));
    }
  }
  if (server_) server_->Shutdown(config_.server_shutdown_grace_ms());
  gcs_.reset();  // joins its subscriptions
}

void CoreWorker::FlushTaskEvents() {
  if (events_) events_->FlushAndWait(absl::Milliseconds(config_.gcs_rpc_timeout_ms()));
}

TaskID CoreWorker::current_task_id() const {
  return contexts_ ? contexts_->Current() : TaskID::Nil();
}

// ---- objects ------------------------------------------------------------------

absl::StatusOr<ObjectID> CoreWorker::PutValue(std::string metadata,
                                              const std::vector<std::string_view>& parts) {
  size_t total = 0;
  for (auto p : parts) total += p.size();
  ObjectID id = contexts_->NextPutId();
  if (static_cast<int64_t>(total) > config_.max_direct_call_object_size()) {
    PHOTON_RETURN_IF_ERROR(fetcher_->PutToStore(id, metadata, parts, total));
    memory_store_->Put(id, ObjectValue::InPlasma(node_id_, static_cast<int64_t>(total)));
  } else {
    std::string data;
    data.reserve(total);
    for (auto p : parts) data.append(p);
    memory_store_->Put(id, ObjectValue::FromBytes(std::move(metadata), std::move(data)));
  }
  refs_->AddOwned(id, 1);
  return id;
}

void CoreWorker::RecordCallSite(const std::vector<ObjectID>& ids, const std::string& call_site) {
  refs_->SetCallSite(ids, call_site);
}

void CoreWorker::Stats(const rpc::GetCoreWorkerStatsRequest& req,
                       rpc::GetCoreWorkerStatsReply* reply) {
  reply->set_worker_id(worker_id_.Binary());
  reply->set_pid(getpid());
  reply->set_worker_type(options_.is_driver ? "DRIVER" : "WORKER");
  reply->set_ip_address(options_.host);
  reply->set_job_id(options_.job_id.Binary());
  reply->set_num_pending_tasks(static_cast<int64_t>(tasks_->NumPending()));
  if (!req.include_memory_info()) return;
  const size_t limit = req.limit() > 0 ? static_cast<size_t>(req.limit()) : 0;
  size_t total = 0;
  std::vector<ReferenceCounter::Entry> entries = refs_->Snapshot(limit, &total);
  absl::flat_hash_map<ObjectID, int64_t> pinned;
  for (const auto& [id, size] : store_->PinnedObjects()) pinned[id] = size;
  int64_t owned = 0;
  auto status_of = [this](const ObjectID& id, rpc::ObjectRefInfo* o) {
    if (auto p = tasks_->PendingStatus(id.TaskId())) {
      o->set_task_status(rpc::TaskStatus_Name(p->first));
      o->set_attempt_number(p->second);
      return;
    }
    std::shared_ptr<ObjectValue> v = memory_store_->GetIfReady(id);
    if (v == nullptr) {
      o->set_task_status(rpc::TaskStatus_Name(rpc::NIL));
      return;
    }
    o->set_task_status(rpc::TaskStatus_Name(v->IsError() ? rpc::FAILED : rpc::FINISHED));
    if (o->object_size() < 0) o->set_object_size(v->Size());
  };
  for (const ReferenceCounter::Entry& e : entries) {
    rpc::ObjectRefInfo* o = reply->add_object_refs();
    o->set_object_id(e.id.Binary());
    o->set_call_site(e.call_site);
    o->set_owned(e.counts.owned);
    owned += e.counts.owned;
    o->set_is_actor_handle(e.id.IsActorHandle());
    o->set_local_ref_count(e.counts.local);
    o->set_submitted_task_ref_count(e.counts.submitted);
    o->set_borrower_count(e.counts.borrowers);
    for (const ObjectID& outer : e.contained_in) o->add_contained_in_owned(outer.Binary());
    o->set_object_size(-1);
    if (auto it = pinned.find(e.id); it != pinned.end()) {
      o->set_pinned_in_memory(true);
      o->set_object_size(it->second);
      pinned.erase(it);
    }
    if (!e.id.IsActorHandle()) status_of(e.id, o);
  }
  // Views of objects this process no longer references (a get result it
  // still uses after dropping the ref).
  for (const auto& [id, size] : pinned) {
    if (limit > 0 && static_cast<size_t>(reply->object_refs_size()) >= limit) break;
    rpc::ObjectRefInfo* o = reply->add_object_refs();
    o->set_object_id(id.Binary());
    o->set_pinned_in_memory(true);
    o->set_object_size(size);
    o->set_task_status(rpc::TaskStatus_Name(rpc::FINISHED));
  }
  reply->set_num_object_refs(static_cast<int64_t>(total + pinned.size()));
  reply->set_num_owned_objects(owned);
}

absl::StatusOr<ObjectID> CoreWorker::Put(std::string metadata, std::string data) {
  return PutValue(std::move(metadata), {data});
}

absl::StatusOr<ObjectID> CoreWorker::PutParts(std::string metadata,
                                              const std::vector<std::string_view>& parts) {
  return PutValue(std::move(metadata), parts);
}

void CoreWorker::AddContainedRefs(const ObjectID& outer, const std::vector<ObjectID>& inner) {
  std::vector<OwnedRef> refs;
  refs.reserve(inner.size());
  for (const ObjectID& id : inner) {
    OwnedRef r{id, {}};
    if (auto owner = OwnerOf(id)) r.owner = *owner;
    refs.push_back(std::move(r));
  }
  refs_->AddContainedRefs(outer, refs);
}

std::optional<rpc::Address> CoreWorker::OwnerOf(const ObjectID& id) const {
  if (refs_->IsOwned(id)) return address_;
  return refs_->OwnerOf(id);
}

absl::StatusOr<std::vector<std::shared_ptr<ObjectValue>>> CoreWorker::Get(
    const std::vector<ObjectID>& ids, int64_t timeout_ms, rpc::PullObjectRequest::Priority priority,
    const std::function<bool()>& interrupted) {
  return fetcher_->Get(ids, timeout_ms, priority, interrupted);
}

absl::StatusOr<std::vector<bool>> CoreWorker::Wait(const std::vector<ObjectID>& ids,
                                                   int num_objects, int64_t timeout_ms,
                                                   bool fetch_local) {
  return fetcher_->Wait(ids, num_objects, timeout_ms, fetch_local);
}

void CoreWorker::AddLocalReference(const ObjectID& id) { refs_->AddLocalRef(id); }
void CoreWorker::RemoveLocalReference(const ObjectID& id) { refs_->RemoveLocalRef(id); }
size_t CoreWorker::NumTrackedObjects() const { return refs_->NumObjects(); }

std::optional<ReferenceCounter::Counts> CoreWorker::ReferenceCountsOf(const ObjectID& id) const {
  return refs_->CountsOf(id);
}

void CoreWorker::RegisterBorrowedRefs(const std::vector<OwnedRef>& refs) {
  borrows_->RegisterBorrowedRefs(refs);
}

namespace {
// Every numeric field of a message, by name.
std::map<std::string, double> NumericFields(const google::protobuf::Message& m) {
  std::map<std::string, double> out;
  const auto* d = m.GetDescriptor();
  const auto* r = m.GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const auto* f = d->field(i);
    if (f->is_repeated()) continue;
    switch (f->cpp_type()) {
      case google::protobuf::FieldDescriptor::CPPTYPE_INT64:
        out[f->name()] = static_cast<double>(r->GetInt64(m, f));
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_INT32:
        out[f->name()] = r->GetInt32(m, f);
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_DOUBLE:
        out[f->name()] = r->GetDouble(m, f);
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_BOOL:
        out[f->name()] = r->GetBool(m, f) ? 1 : 0;
        break;
      default:
        break;
    }
  }
  return out;
}
}  // namespace

std::map<std::string, double> CoreWorker::LocalStoreStats() {
  auto stats = store_->Stats();
  if (!stats.ok()) return {};
  return NumericFields(*stats);
}

std::map<std::string, double> CoreWorker::LocalObjectInfo(const std::string& object_id) {
  auto id = ObjectID::FromBinary(object_id);
  if (!id.ok()) return {};
  auto info = store_->Info(*id);
  if (!info.ok()) return {};
  auto out = NumericFields(*info);
  out["found"] = info->status() == rpc::StoreObject::FOUND ? 1 : 0;
  out.erase("status");
  return out;
}

void CoreWorker::OnObjectFreed(const ReferenceCounter::Freed& freed) {
  const ObjectID& id = freed.id;
  // End the borrows that went with it: this process's own, and those its
  // value held on its behalf.
  if (!freed.owned && freed.owner && freed.borrow_epoch != 0) {
    borrows_->EndBorrow(*freed.owner, id, freed.borrow_epoch, "");
  }
  for (const auto& b : freed.on_behalf) borrows_->EndBorrow(b.owner, b.id, 1, id.Binary());
  if (id.IsActorHandle()) {
    if (freed.owned) actor_submitter_->OnHandlesGone(id.TaskId().ActorId());
    return;
  }
  auto v = memory_store_->GetIfReady(id);
  memory_store_->Erase(id);
  if (freed.owned) tasks_->OnObjectFreed(id);
  if (!freed.owned || v == nullptr || !v->in_plasma || shut_down_) return;
  fetcher_->FreeCopy(id, v->plasma_node);
}

bool CoreWorker::Reconstruct(const ObjectID& id, rpc::ErrorInfo* error) {
  auto spec = tasks_->Resubmit(id);
  if (absl::IsAlreadyExists(spec.status())) return true;  // another getter started it
  if (!spec.ok()) {
    if (absl::IsFailedPrecondition(spec.status())) {
      *error =
          MakeError(rpc::OBJECT_RECONSTRUCTION_FAILED_MAX_ATTEMPTS,
                    fmt::format("object {} (owner {}) is lost and cannot be rebuilt: {}", id.Hex(),
                                worker_id_.Hex(), std::string(spec.status().message())));
    } else if (absl::IsOutOfRange(spec.status())) {
      *error =
          MakeError(rpc::OBJECT_RECONSTRUCTION_FAILED_LINEAGE_EVICTED,
                    fmt::format("object {} (owner {}) is lost and cannot be rebuilt: {}", id.Hex(),
                                worker_id_.Hex(), std::string(spec.status().message())));
    } else {
      error->set_type(rpc::OBJECT_LOST);  // no lineage: the loss stands
    }
    return false;
  }
  PHOTON_LOG_INFO(
      "object {} lost every copy; rebuilding it by running task '{}' again (attempt {})", id.Hex(),
      spec->name(), spec->attempt());
  // Its arguments that this process owns and that are gone too (freed since,
  // or their only copy lost with its node) are rebuilt first, recursively;
  // the rebuild waits for them like any task for its arguments.
  const TaskID task = TaskID::FromBinaryOrDie(spec->task_id());
  for (const auto& arg : spec->args()) {
    if (!arg.has_ref() || arg.ref().owner().worker_id() != worker_id_.Binary()) continue;
    auto aid = ObjectID::FromBinary(arg.ref().object_id());
    if (!aid.ok()) continue;
    const auto unrebuildable = [&] {
      return MakeError(rpc::OBJECT_RECONSTRUCTION_FAILED,
                       fmt::format("object {} (owner {}) is lost and cannot be rebuilt: its task "
                                   "'{}' needs object {}, which is gone too and has no lineage "
                                   "to rebuild it from",
                                   id.Hex(), worker_id_.Hex(), spec->name(), aid->Hex()));
    };
    if (refs_->Contains(*aid)) {
      auto v = memory_store_->GetIfReady(*aid);
      if (v == nullptr || !v->in_plasma || !nodes_->IsDead(v->plasma_node)) continue;
    } else if (!tasks_->Retrack(*aid, task)) {
      tasks_->FailTask(task, unrebuildable());  // freed, and nothing to rebuild it from
      return true;                              // the getter finds the error in the store
    }
    rpc::ErrorInfo why;
    if (!Reconstruct(*aid, &why)) {
      tasks_->FailTask(task, why.type() == rpc::OBJECT_LOST ? unrebuildable() : why);
      return true;
    }
  }
  if (spec->type() == rpc::ACTOR_TASK) {
    // The call runs again on the actor (its current incarnation).
    const ActorID actor = ActorID::FromBinaryOrDie(spec->actor_id());
    actor_submitter_->Submit(actor, std::move(*spec));
  } else {
    submitter_->Submit(std::move(*spec));
  }
  return true;
}

// ---- tasks -----------------------------------------------------------------------

absl::StatusOr<std::vector<ObjectID>> CoreWorker::SubmitTask(std::vector<TaskArgument> args,
                                                             const TaskOptions& options) {
  if (options.num_returns < 0) {
    return absl::InvalidArgumentError(
        fmt::format("num_returns must be >= 0, got {}", options.num_returns));
  }
  if (options.max_retries < -2) {
    return absl::InvalidArgumentError(
        fmt::format("max_retries must be >= -1, got {}", options.max_retries));
  }
  if (options.streaming && options.num_returns != 1) {
    return absl::InvalidArgumentError("a streaming task has one return (its completion)");
  }
  TaskID parent = contexts_->Current();
  TaskID task_id = contexts_->NextTaskId();
  rpc::TaskSpec spec = specs_->Begin(rpc::NORMAL_TASK, task_id, parent, options.function_name,
                                     options.name, options.num_returns);
  spec.set_streaming(options.streaming);
  *spec.mutable_scheduling() = options.scheduling;
  spec.set_runtime_env(options.runtime_env);
  spec.set_call_site(options.call_site);
  spec.set_max_retries(options.max_retries == -2 ? static_cast<int>(config_.task_max_retries())
                                                 : options.max_retries);
  spec.set_retry_exceptions(options.retry_exceptions);
  for (const auto& [k, v] : options.resources) (*spec.mutable_resources())[k] = v;
  if (options.resources.empty()) (*spec.mutable_resources())["CPU"] = 1;
  PHOTON_RETURN_IF_ERROR(TaskSpecBuilder::PlaceInBundle(&spec));
  PHOTON_ASSIGN_OR_RETURN(ArgumentRefs held, specs_->AddArgs(std::move(args), &spec));
  std::vector<ObjectID> returns = tasks_->AddPendingTask(spec, held);
  if (options.streaming) streams_->Open(task_id);
  submitter_->Submit(std::move(spec));
  return returns;
}

absl::Status CoreWorker::Cancel(const ObjectID& id, bool force, bool recursive) {
  TaskID task = id.TaskId();
  if (!task.ActorId().IsNilActor()) {
    if (force) return absl::InvalidArgumentError("force=True is not supported for actor tasks.");
    return actor_submitter_->Cancel(task);
  }
  return submitter_->Cancel(task, force, recursive);
}

void CoreWorker::ExitAfterCurrentTask() {
  if (receiver_ != nullptr) receiver_->ExitAfterCurrentTask();
}

// ---- streams ------------------------------------------------------------------------

absl::StatusOr<std::optional<ObjectID>> CoreWorker::StreamNext(const TaskID& task, int64_t index,
                                                               int64_t timeout_ms) {
  return streams_->Next(task, index, timeout_ms);
}

void CoreWorker::StreamRelease(const TaskID& task) { streams_->Release(task); }

absl::Status CoreWorker::ReportStreamItem(const TaskID& task, int64_t index,
                                          const std::string& metadata,
                                          const std::vector<std::string_view>& parts,
                                          const std::vector<ObjectID>& nested) {
  std::vector<OwnedRef> refs;
  for (const ObjectID& id : nested) {
    if (auto owner = OwnerOf(id)) refs.push_back(OwnedRef{id, *owner});
  }
  return streams_->Report(task, index, metadata, parts, refs);
}

// ---- actors --------------------------------------------------------------------

absl::StatusOr<ActorID> CoreWorker::CreateActor(std::vector<TaskArgument> args,
                                                const ActorCreationOptions& options) {
  if (options.max_restarts < -1 || options.max_task_retries < -1 || options.max_concurrency < 1) {
    return absl::InvalidArgumentError(
        "max_restarts and max_task_retries must be >= -1 and max_concurrency >= 1");
  }
  TaskID parent = contexts_->Current();
  ActorID actor_id = contexts_->NextActorId();
  rpc::ActorTableData data;
  data.set_actor_id(actor_id.Binary());
  data.set_job_id(options_.job_id.Binary());
  *data.mutable_owner() = address_;
  data.set_name(options.name);
  data.set_ray_namespace(options.ray_namespace.empty() ? options_.ray_namespace
                                                       : options.ray_namespace);
  data.set_detached(options.detached);
  data.set_max_restarts(options.max_restarts);
  data.set_max_task_retries(options.max_task_retries);
  const std::string& class_name =
      options.class_name.empty() ? options.factory_name : options.class_name;
  data.set_class_name(class_name);
  actor_submitter_->EnsureSubscribed();  // before the actor can change state
  PHOTON_RETURN_IF_ERROR(gcs_->RegisterActor(data));

  TaskID task_id = TaskID::ForActorCreationTask(actor_id);
  rpc::TaskSpec spec = specs_->Begin(rpc::ACTOR_CREATION_TASK, task_id, parent,
                                     options.factory_name, class_name + ".__init__", 1);
  *spec.mutable_scheduling() = options.scheduling;
  spec.set_runtime_env(options.runtime_env);
  spec.set_call_site(options.call_site);
  for (const auto& [k, v] : options.resources) (*spec.mutable_resources())[k] = v;
  PHOTON_RETURN_IF_ERROR(TaskSpecBuilder::PlaceInBundle(&spec));
  spec.set_actor_id(actor_id.Binary());
  spec.set_max_restarts(options.max_restarts);
  spec.set_max_task_retries(options.max_task_retries);
  spec.set_max_concurrency(options.max_concurrency);
  spec.set_actor_name(options.name);
  spec.set_ray_namespace(data.ray_namespace());
  spec.set_detached(options.detached);
  PHOTON_ASSIGN_OR_RETURN(ArgumentRefs held, specs_->AddArgs(std::move(args), &spec));
  // The creation task's arguments are held until the actor is alive (or dead,
  // if it may restart); its one handle object is owned here.
  rpc::TaskSpec record = spec;
  record.set_num_returns(0);
  tasks_->AddPendingTask(record, held);
  refs_->AddOwned(ObjectID::ForActorHandle(actor_id), 1);
  actor_submitter_->AddOwnedActor(actor_id, data, task_id);

  // Wait for the constructor's ObjectRef arguments, inline the small ones,
  // then hand the creation task to the GCS.
  resolver_->Resolve(std::move(spec), [this, task_id](rpc::TaskSpec resolved,
                                                      std::optional<rpc::ErrorInfo> error) {
    // An argument that failed stays a reference: the worker finds the error
    // when it fetches it, and the constructor (and the actor) fails with it.
    (void)error;
    rpc::CreateActorRequest req;
    *req.mutable_creation_task() = std::move(resolved);
    for (const auto& c : options_.worker_command) req.add_worker_command(c);
    for (const auto& [k, v] : options_.worker_env) (*req.mutable_worker_env())[k] = v;
    if (!req.creation_task().runtime_env().empty()) {
      (*req.mutable_worker_env())[ConfigEnvVar("runtime_env")] = req.creation_task().runtime_env();
    }
    gcs_->CreateActorAsync(req, [task_id](const absl::Status& s) {
      if (!s.ok()) {
        PHOTON_LOG_ERROR("cannot create actor {}: {}", task_id.ActorId().Hex(),
                         std::string(s.message()));
      }
    });
  });
  return actor_id;
}

absl::StatusOr<std::vector<ObjectID>> CoreWorker::SubmitActorTask(const ActorID& actor,
                                                                  std::vector<TaskArgument> args,
                                                                  const TaskOptions& options) {
  if (options.streaming && options.num_returns != 1) {
    return absl::InvalidArgumentError("a streaming task has one return (its completion)");
  }
  TaskID parent = contexts_->Current();
  TaskID task_id = contexts_->NextActorTaskId(actor);
  rpc::TaskSpec spec = specs_->Begin(rpc::ACTOR_TASK, task_id, parent, options.function_name,
                                     options.name, options.num_returns);
  spec.set_streaming(options.streaming);
  spec.set_actor_id(actor.Binary());
  spec.set_call_site(options.call_site);
  PHOTON_ASSIGN_OR_RETURN(ArgumentRefs held, specs_->AddArgs(std::move(args), &spec));
  std::vector<ObjectID> returns = tasks_->AddPendingTask(spec, held);
  if (options.streaming) streams_->Open(task_id);
  actor_submitter_->Submit(actor, std::move(spec));
  return returns;
}

absl::Status CoreWorker::KillActor(const ActorID& actor, bool no_restart) {
  auto data = gcs_->KillActor(actor, no_restart,
                              no_restart ? "the actor was killed with Kill()"
                                         : "the actor was killed with Kill(no_restart=false)");
  if (!data.ok()) return data.status();
  // Act on the new state now rather than when the published update arrives:
  // calls made after Kill() returns fail (or wait for the restart) for certain.
  if (!data->actor_id().empty()) actor_submitter_->OnActorUpdate(*data);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<ActorID>> CoreWorker::GetNamedActor(const std::string& name,
                                                                 const std::string& ns) {
  auto info = gcs_->GetNamedActor(name, ns.empty() ? options_.ray_namespace : ns);
  if (!info.ok()) return info.status();
  if (!info->has_value()) return std::optional<ActorID>();
  actor_submitter_->OnActorUpdate(**info);
  return std::optional<ActorID>(ActorID::FromBinaryOrDie((*info)->actor_id()));
}

std::optional<rpc::Address> CoreWorker::ActorOwner(const ActorID& actor) {
  ObjectID handle = ObjectID::ForActorHandle(actor);
  if (auto owner = OwnerOf(handle)) return owner;
  rpc::ActorTableData data = actor_submitter_->EnsureKnown(actor);
  if (data.owner().port() == 0) return std::nullopt;
  return data.owner();
}

void CoreWorker::AddActorHandle(const ActorID& actor, const std::optional<rpc::Address>& owner) {
  ObjectID handle = ObjectID::ForActorHandle(actor);
  if (owner && owner->port() != 0 && owner->worker_id() != worker_id_.Binary()) {
    refs_->AddBorrowed(handle, *owner);
    refs_->AddLocalRef(handle);
    return;
  }
  if (!refs_->Contains(handle)) {
    // A handle that came from elsewhere (a GetActor, or a C++ handle
    // unpacked from a value): borrow it from the actor's owner.
    rpc::ActorTableData data = actor_submitter_->EnsureKnown(actor);
    if (data.owner().port() != 0 && data.owner().worker_id() != worker_id_.Binary() &&
        !data.detached()) {
      refs_->AddLocalRef(handle);
      borrows_->RegisterBorrowedRefs({OwnedRef{handle, data.owner()}});
      return;
    }
  }
  refs_->AddLocalRef(handle);
}

void CoreWorker::RemoveActorHandle(const ActorID& actor) {
  refs_->RemoveLocalRef(ObjectID::ForActorHandle(actor));
}

size_t CoreWorker::NumPendingActorCalls(const ActorID& actor) {
  return actor_submitter_->NumPendingCalls(actor);
}

absl::Status CoreWorker::ExitActor() {
  if (receiver_ == nullptr || current_actor_id().IsNil()) {
    return absl::FailedPreconditionError("ExitActor may only be called inside an actor");
  }
  receiver_->ExitAfterCurrentTask();
  return absl::OkStatus();
}

bool CoreWorker::actor_restarted() const {
  absl::MutexLock lock(&mu_);
  return actor_restarted_;
}

ActorID CoreWorker::current_actor_id() const {
  absl::MutexLock lock(&mu_);
  return current_actor_;
}

void CoreWorker::OnActorExitRequested() {
  auto s = gcs_->KillActor(current_actor_id(), /*no_restart=*/true, "the actor called ExitActor()");
  if (!s.ok()) {
    // The raylet reports this worker's exit; the GCS then restarts or ends
    // the actor by its own rules.
    PHOTON_LOG_WARN("cannot tell the GCS that the actor exits: {}",
                    std::string(s.status().message()));
  }
}

int CoreWorker::RunTaskLoop(const std::function<void()>& before_exit) {
  if (receiver_ == nullptr) return 1;
  int code = receiver_->Run();
  if (receiver_->exit_requested()) {
    if (before_exit) before_exit();
    // A graceful exit: let the replies already sent reach their callers,
    // then (an actor) have the GCS mark the actor dead (no restart).
    server_->Shutdown(config_.shutdown_rpc_timeout_ms());
    if (!current_actor_id().IsNil()) OnActorExitRequested();
  }
  return code;
}

}  // namespace photon::core
