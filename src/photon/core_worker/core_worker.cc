#include "photon/core_worker/core_worker.h"

#include <unistd.h>

#include <cstdio>

#include "fmt/format.h"
#include "photon/common/logging.h"
#include "photon/core_worker/task_receiver.h"
#include "photon/core_worker/task_submitter.h"
#include "photon/rpc/client.h"

namespace photon::core {

// The CoreWorkerService this process serves. Forwards to the CoreWorker.
class CoreWorkerServiceImpl : public rpc::CoreWorkerService::CallbackService {
 public:
  CoreWorkerServiceImpl(CoreWorker* worker, TaskReceiver* receiver)
      : worker_(worker), receiver_(receiver) {}

  grpc::ServerUnaryReactor* PushTask(grpc::CallbackServerContext* ctx,
                                     const rpc::PushTaskRequest* req,
                                     rpc::PushTaskReply* reply) override {
    auto* reactor = ctx->DefaultReactor();
    if (receiver_ == nullptr) {
      reactor->Finish(
          grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "a driver does not execute tasks"));
      return reactor;
    }
    if (!req->intended_worker_id().empty() &&
        req->intended_worker_id() != worker_->worker_id().Binary()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                   "this task was meant for another worker"));
      return reactor;
    }
    receiver_->HandlePushTask(reactor, req, reply);
    return reactor;
  }

  grpc::ServerUnaryReactor* GetObjectStatus(grpc::CallbackServerContext* ctx,
                                            const rpc::GetObjectStatusRequest* req,
                                            rpc::GetObjectStatusReply* reply) override {
    auto* reactor = ctx->DefaultReactor();
    auto id = ObjectID::FromBinary(req->object_id());
    if (!id.ok()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad object id"));
      return reactor;
    }
    if (!worker_->references().IsOwned(*id) && !worker_->memory_store().Contains(*id)) {
      reply->set_status(rpc::GetObjectStatusReply::OUT_OF_SCOPE);
      reactor->Finish(grpc::Status::OK);
      return reactor;
    }
    NodeID local = worker_->node_id();
    worker_->memory_store().OnReady(*id, [reactor, reply, local](std::shared_ptr<ObjectValue> v) {
      reply->set_status(rpc::GetObjectStatusReply::CREATED);
      if (v->in_plasma) {
        reply->add_node_ids(v->plasma_node.Binary());
      } else {
        reply->mutable_value()->set_metadata(v->metadata);
        reply->mutable_value()->set_data(std::string(v->data));
      }
      reactor->Finish(grpc::Status::OK);
    });
    return reactor;
  }

  grpc::ServerUnaryReactor* CancelTask(grpc::CallbackServerContext* ctx,
                                       const rpc::CancelTaskRequest*,
                                       rpc::CancelTaskReply* reply) override {
    reply->set_attempted(false);
    auto* r = ctx->DefaultReactor();
    r->Finish(grpc::Status::OK);
    return r;
  }

  grpc::ServerUnaryReactor* Exit(grpc::CallbackServerContext* ctx, const rpc::ExitRequest*,
                                 rpc::ExitReply*) override {
    if (receiver_ != nullptr) receiver_->Exit(0);
    auto* r = ctx->DefaultReactor();
    r->Finish(grpc::Status::OK);
    return r;
  }

  grpc::ServerUnaryReactor* WaitForRefRemoved(grpc::CallbackServerContext* ctx,
                                              const rpc::RefRemovedRequest*,
                                              rpc::RefRemovedReply*) override {
    auto* r = ctx->DefaultReactor();
    r->Finish(
        grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "borrower tracking is not implemented"));
    return r;
  }

 private:
  CoreWorker* worker_;
  TaskReceiver* receiver_;
};

namespace {
std::unique_ptr<CoreWorkerServiceImpl>& ServiceSlot(CoreWorker* w) {
  static absl::Mutex mu;
  static auto* slots =
      new absl::flat_hash_map<CoreWorker*, std::unique_ptr<CoreWorkerServiceImpl>>();
  absl::MutexLock lock(&mu);
  return (*slots)[w];
}
}  // namespace

CoreWorker::CoreWorker(SystemConfig config, CoreWorkerOptions options)
    : config_(std::move(config)),
      options_(std::move(options)),
      refs_([this](const ObjectID& id, bool owned) { OnObjectFreed(id, owned); }) {}

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
  auto gcs = GcsClient::Connect(options_.gcs_address, config_.gcs_connect_timeout_ms());
  if (!gcs.ok()) return gcs.status();
  gcs_ = std::move(*gcs);
  raylet_ = rpc::NodeManagerService::NewStub(rpc::GetChannel(options_.raylet_address));
  if (!options_.is_driver) receiver_ = std::make_unique<TaskReceiver>(this, options_.executor);
  auto& service = ServiceSlot(this);
  service = std::make_unique<CoreWorkerServiceImpl>(this, receiver_.get());
  server_ =
      std::make_unique<rpc::GrpcServer>(options_.is_driver ? "driver" : "worker", options_.host, 0);
  server_->RegisterService(service.get());
  if (auto s = server_->Start(); !s.ok()) return s;

  rpc::RegisterWorkerRequest req;
  req.set_pid(getpid());
  req.set_is_driver(options_.is_driver);
  req.set_job_id(options_.job_id.Binary());
  req.set_language(options_.language);
  if (!options_.is_driver) req.set_worker_id(options_.worker_id.Binary());
  req.mutable_address()->set_ip(options_.host);
  req.mutable_address()->set_port(server_->port());
  rpc::RegisterWorkerReply reply;
  auto s = rpc::CallSync(raylet_.get(), &rpc::NodeManagerService::Stub::RegisterWorker, req, &reply,
                         config_.gcs_connect_timeout_ms());
  if (!s.ok()) {
    return absl::UnavailableError(fmt::format("cannot register with the raylet at {}: {}",
                                              options_.raylet_address, std::string(s.message())));
  }
  node_id_ = NodeID::FromBinaryOrDie(reply.node_id());
  worker_id_ = options_.is_driver ? WorkerID::FromRandom(node_id_) : options_.worker_id;
  address_.set_ip(options_.host);
  address_.set_port(server_->port());
  address_.set_node_id(node_id_.Binary());
  address_.set_worker_id(worker_id_.Binary());
  auto store = ObjectStore::Open(reply.store_socket());
  if (!store.ok()) return store.status();
  store_ = std::move(*store);
  {
    absl::MutexLock lock(&mu_);
    current_task_ = options_.is_driver ? TaskID::ForDriverTask(options_.job_id) : TaskID::Nil();
  }
  submitter_ = std::make_unique<TaskSubmitter>(this);
  submitter_->Start();
  if (options_.is_driver && config_.log_to_driver()) StartLogSubscriber();
  return absl::OkStatus();
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
  if (submitter_) submitter_->Stop();
  if (options_.is_driver && gcs_) gcs_->MarkJobFinished(options_.job_id).IgnoreError();
  if (server_) server_->Shutdown(200);
  gcs_.reset();
  ServiceSlot(this).reset();
}

TaskID CoreWorker::current_task_id() const {
  absl::MutexLock lock(&mu_);
  return current_task_;
}

TaskID CoreWorker::NextTaskId() {
  absl::MutexLock lock(&mu_);
  return TaskID::ForNormalTask(options_.job_id, current_task_, ++task_counter_);
}

void CoreWorker::SetCurrentTask(const TaskID& id) {
  absl::MutexLock lock(&mu_);
  current_task_ = id;
  task_counter_ = 0;
  put_counter_ = 0;
}

void CoreWorker::NotifyBlocked(bool blocked) {
  if (options_.is_driver) return;
  rpc::NotifyBlockedRequest req;
  req.set_worker_id(worker_id_.Binary());
  req.set_blocked(blocked);
  rpc::NotifyBlockedReply reply;
  rpc::CallSync(raylet_.get(), &rpc::NodeManagerService::Stub::NotifyBlocked, req, &reply, 5000)
      .IgnoreError();
}

// ---- objects ------------------------------------------------------------------

absl::StatusOr<ObjectID> CoreWorker::Put(std::string metadata, std::string data) {
  ObjectID id;
  {
    absl::MutexLock lock(&mu_);
    id = ObjectID::ForPut(current_task_, ++put_counter_);
  }
  if (static_cast<int64_t>(data.size()) > config_.max_direct_call_object_size()) {
    absl::Status s = store_->Put(id, metadata, data);
    if (!s.ok()) return s;
    memory_store_.Put(id, ObjectValue::InPlasma(node_id_));
  } else {
    memory_store_.Put(id, ObjectValue::FromBytes(std::move(metadata), std::move(data)));
  }
  refs_.AddOwned(id, 1);
  return id;
}

void CoreWorker::FetchFromOwner(const ObjectID& id, const rpc::Address& owner) {
  if (memory_store_.Contains(id)) return;
  auto stub = std::shared_ptr<rpc::CoreWorkerService::Stub>(rpc::CoreWorkerService::NewStub(
      rpc::GetChannel(fmt::format("{}:{}", owner.ip(), owner.port()))));
  rpc::GetObjectStatusRequest req;
  req.set_object_id(id.Binary());
  rpc::CallAsync(stub->async(), &rpc::CoreWorkerService::Stub::async::GetObjectStatus, req, -1,
                 [this, id, stub](const absl::Status& s, rpc::GetObjectStatusReply&& reply) {
                   std::shared_ptr<ObjectValue> v;
                   if (!s.ok()) {
                     v = ObjectValue::FromError(MakeError(
                         rpc::OWNER_DIED, fmt::format("the owner of object {} is unreachable: {}",
                                                      id.Hex(), std::string(s.message()))));
                   } else if (reply.status() != rpc::GetObjectStatusReply::CREATED) {
                     v = ObjectValue::FromError(MakeError(
                         rpc::OBJECT_LOST,
                         fmt::format("object {} is gone: its owner no longer has it", id.Hex())));
                   } else if (reply.node_ids_size() > 0) {
                     v = ObjectValue::InPlasma(NodeID::FromBinaryOrDie(reply.node_ids(0)));
                   } else {
                     v = ObjectValue::FromBytes(reply.value().metadata(), reply.value().data());
                   }
                   memory_store_.Put(id, v);
                 });
}

absl::StatusOr<rpc::Address> CoreWorker::NodeAddress(const NodeID& node) {
  {
    absl::MutexLock lock(&mu_);
    auto it = node_addresses_.find(node);
    if (it != node_addresses_.end()) return it->second;
  }
  auto nodes = gcs_->GetAllNodes();
  if (!nodes.ok()) return nodes.status();
  absl::MutexLock lock(&mu_);
  for (const auto& n : *nodes) {
    rpc::Address a;
    a.set_ip(n.ip());
    a.set_port(n.raylet_port());
    a.set_node_id(n.node_id());
    node_addresses_[NodeID::FromBinaryOrDie(n.node_id())] = a;
  }
  auto it = node_addresses_.find(node);
  if (it == node_addresses_.end()) {
    return absl::NotFoundError(fmt::format("node {} is not in the cluster", node.Hex()));
  }
  return it->second;
}

std::shared_ptr<ObjectValue> CoreWorker::MaterializePlasma(const ObjectID& id,
                                                           const ObjectValue& marker) {
  if (marker.plasma_node != node_id_ && !store_->Contains(id)) {
    auto from = NodeAddress(marker.plasma_node);
    absl::Status s = from.status();
    if (s.ok()) {
      rpc::PullObjectRequest req;
      req.set_object_id(id.Binary());
      *req.mutable_from() = *from;
      rpc::PullObjectReply reply;
      s = rpc::CallSync(raylet_.get(), &rpc::NodeManagerService::Stub::PullObject, req, &reply,
                        600000);
    }
    if (!s.ok()) {
      return ObjectValue::FromError(MakeError(
          rpc::OBJECT_LOST, fmt::format("cannot fetch object {} from node {}: {}", id.Hex(),
                                        marker.plasma_node.Hex(), std::string(s.message()))));
    }
  }
  auto obj = store_->Get(id);
  if (!obj.ok()) {
    return ObjectValue::FromError(
        MakeError(rpc::OBJECT_LOST,
                  fmt::format("object {} is not in the store of node {}: {}", id.Hex(),
                              marker.plasma_node.Hex(), std::string(obj.status().message()))));
  }
  auto v = std::make_shared<ObjectValue>();
  v->metadata = std::string(obj->metadata);
  v->data = obj->data;
  v->holder = obj->holder;
  return v;
}

absl::StatusOr<std::vector<std::shared_ptr<ObjectValue>>> CoreWorker::Get(
    const std::vector<ObjectID>& ids, int64_t timeout_ms) {
  for (const ObjectID& id : ids) {
    if (!memory_store_.Contains(id) && !refs_.IsOwned(id)) {
      auto owner = refs_.OwnerOf(id);
      if (!owner) {
        return absl::NotFoundError(fmt::format("object {} is unknown to this process", id.Hex()));
      }
      FetchFromOwner(id, *owner);
    }
  }
  absl::Time deadline =
      timeout_ms < 0 ? absl::InfiniteFuture() : absl::Now() + absl::Milliseconds(timeout_ms);
  auto values = memory_store_.Wait(ids, ids.size(), absl::Now());
  bool all = std::all_of(values.begin(), values.end(), [](const auto& v) { return v != nullptr; });
  if (!all) {
    NotifyBlocked(true);
    values = memory_store_.Wait(ids, ids.size(), deadline);
    NotifyBlocked(false);
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    if (values[i] == nullptr) {
      return absl::DeadlineExceededError(
          fmt::format("get timed out after {} ms waiting for object {}", timeout_ms, ids[i].Hex()));
    }
    if (values[i]->in_plasma) values[i] = MaterializePlasma(ids[i], *values[i]);
  }
  return values;
}

absl::StatusOr<std::vector<bool>> CoreWorker::Wait(const std::vector<ObjectID>& ids,
                                                   int num_objects, int64_t timeout_ms) {
  if (num_objects < 0 || static_cast<size_t>(num_objects) > ids.size()) {
    return absl::InvalidArgumentError(
        fmt::format("num_objects must be between 0 and the number of refs ({}), got {}", ids.size(),
                    num_objects));
  }
  for (const ObjectID& id : ids) {
    if (!memory_store_.Contains(id) && !refs_.IsOwned(id)) {
      if (auto owner = refs_.OwnerOf(id)) FetchFromOwner(id, *owner);
    }
  }
  absl::Time deadline =
      timeout_ms < 0 ? absl::InfiniteFuture() : absl::Now() + absl::Milliseconds(timeout_ms);
  auto values = memory_store_.Wait(ids, static_cast<size_t>(num_objects), deadline);
  std::vector<bool> ready(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) ready[i] = values[i] != nullptr;
  return ready;
}

void CoreWorker::AddLocalReference(const ObjectID& id) { refs_.AddLocalRef(id); }
void CoreWorker::RemoveLocalReference(const ObjectID& id) { refs_.RemoveLocalRef(id); }
size_t CoreWorker::NumTrackedObjects() const { return refs_.NumObjects(); }

void CoreWorker::OnObjectFreed(const ObjectID& id, bool owned) {
  auto v = memory_store_.GetIfReady(id);
  memory_store_.Erase(id);
  if (!owned || v == nullptr || !v->in_plasma || shut_down_) return;
  auto addr =
      v->plasma_node == node_id_ ? absl::StatusOr<rpc::Address>() : NodeAddress(v->plasma_node);
  std::string target = options_.raylet_address;
  if (v->plasma_node != node_id_) {
    if (!addr.ok()) return;
    target = fmt::format("{}:{}", addr->ip(), addr->port());
  }
  auto stub = std::shared_ptr<rpc::NodeManagerService::Stub>(
      rpc::NodeManagerService::NewStub(rpc::GetChannel(target)));
  rpc::FreeObjectsRequest req;
  req.add_object_ids(id.Binary());
  rpc::CallAsync(stub->async(), &rpc::NodeManagerService::Stub::async::FreeObjects, req, 5000,
                 [stub](const absl::Status&, rpc::FreeObjectsReply&&) {});
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
  TaskID task_id = NextTaskId();
  rpc::TaskSpec spec;
  spec.set_task_id(task_id.Binary());
  spec.set_job_id(options_.job_id.Binary());
  spec.set_parent_task_id(current_task_id().Binary());
  spec.set_type(rpc::NORMAL_TASK);
  spec.set_language(options_.language);
  spec.set_function_name(options.function_name);
  spec.set_name(options.name.empty() ? options.function_name : options.name);
  spec.set_num_returns(options.num_returns);
  spec.set_max_retries(options.max_retries == -2 ? static_cast<int>(config_.task_max_retries())
                                                 : options.max_retries);
  spec.set_retry_exceptions(options.retry_exceptions);
  *spec.mutable_caller() = address_;
  for (const auto& [k, v] : options.resources) (*spec.mutable_resources())[k] = v;
  if (options.resources.empty()) (*spec.mutable_resources())["CPU"] = 1;

  std::vector<ObjectID> ref_ids;    // every ObjectRef argument
  std::vector<ObjectID> user_refs;  // the ones the caller passed (not auto-put)
  for (auto& a : args) {
    rpc::TaskArg* arg = spec.add_args();
    if (!a.is_ref && static_cast<int64_t>(a.value.size()) > config_.max_direct_call_object_size()) {
      // Large values go through the object store and travel by reference.
      auto put = Put(std::move(a.metadata), std::move(a.value));
      if (!put.ok()) return put.status();
      a.is_ref = true;
      a.ref = *put;
      refs_.AddSubmittedRefs({*put});
      refs_.RemoveLocalRef(*put);  // the task's reference keeps it alive
      ref_ids.push_back(*put);
      arg->mutable_ref()->set_object_id(put->Binary());
      *arg->mutable_ref()->mutable_owner() = address_;
      continue;
    }
    if (a.is_ref) {
      arg->mutable_ref()->set_object_id(a.ref.Binary());
      if (refs_.IsOwned(a.ref)) {
        *arg->mutable_ref()->mutable_owner() = address_;
      } else if (auto owner = refs_.OwnerOf(a.ref)) {
        *arg->mutable_ref()->mutable_owner() = *owner;
      } else {
        return absl::InvalidArgumentError(
            fmt::format("argument object {} is unknown to this process", a.ref.Hex()));
      }
      ref_ids.push_back(a.ref);
      user_refs.push_back(a.ref);
    } else {
      arg->mutable_value()->set_metadata(std::move(a.metadata));
      arg->mutable_value()->set_data(std::move(a.value));
    }
  }
  std::vector<ObjectID> returns;
  for (int i = 1; i <= options.num_returns; ++i) {
    ObjectID rid = ObjectID::FromIndex(task_id, i);
    refs_.AddOwned(rid, 1);
    returns.push_back(rid);
  }
  // The pending task holds its arguments until it finishes.
  refs_.AddSubmittedRefs(user_refs);
  submitter_->Submit(std::move(spec), std::move(ref_ids));
  return returns;
}

absl::Status CoreWorker::Cancel(const ObjectID& id) { return submitter_->Cancel(id.TaskId()); }

int CoreWorker::RunTaskLoop() {
  if (receiver_ == nullptr) return 1;
  return receiver_->Run();
}

}  // namespace photon::core
