#include "photon/core_worker/core_worker.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "fmt/format.h"
#include "photon/common/logging.h"
#include "photon/common/status.h"
#include "photon/core_worker/actor_submitter.h"
#include "photon/core_worker/task_receiver.h"
#include "photon/core_worker/task_submitter.h"
#include "photon/object_store/copy.h"
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
      reactor->Finish(grpc::Status(
          grpc::StatusCode::FAILED_PRECONDITION,
          fmt::format("this task was meant for worker {}, not {}",
                      WorkerID::FromBinary(req->intended_worker_id()).value_or(WorkerID()).Hex(),
                      worker_->worker_id().Hex())));
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
                                       const rpc::CancelTaskRequest* req,
                                       rpc::CancelTaskReply* reply) override {
    reply->set_attempted(false);
    worker_->HandleCancelTask(*req, reply);
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

  grpc::ServerUnaryReactor* UpdateActorBorrower(grpc::CallbackServerContext* ctx,
                                                const rpc::ActorBorrowRequest* req,
                                                rpc::ActorBorrowReply*) override {
    auto id = ActorID::FromBinary(req->actor_id());
    if (id.ok()) {
      worker_->UpdateActorBorrower(*id, req->borrower_worker_id(), req->borrower_node_id(),
                                   req->borrowing());
    }
    auto* r = ctx->DefaultReactor();
    r->Finish(id.ok() ? grpc::Status::OK
                      : grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad actor id"));
    return r;
  }

  grpc::ServerUnaryReactor* ReportGeneratorItem(grpc::CallbackServerContext* ctx,
                                                const rpc::ReportGeneratorItemRequest* req,
                                                rpc::ReportGeneratorItemReply*) override {
    worker_->OnStreamItem(*req);
    auto* r = ctx->DefaultReactor();
    r->Finish(grpc::Status::OK);
    return r;
  }

  grpc::ServerUnaryReactor* UpdateObjectBorrowers(grpc::CallbackServerContext* ctx,
                                                  const rpc::ObjectBorrowRequest* req,
                                                  rpc::ObjectBorrowReply*) override {
    std::vector<ObjectID> ids;
    for (const auto& b : req->object_ids()) {
      auto id = ObjectID::FromBinary(b);
      if (id.ok()) ids.push_back(*id);
    }
    if (req->borrowing()) worker_->WatchBorrowers();
    worker_->references().AddBorrowers(ids, req->borrower_worker_id(), req->borrower_node_id(),
                                       req->borrowing() ? 1 : -1);
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
// How often a wait(fetch_local) that is waiting on pulls looks again.
constexpr absl::Duration kPullPoll = absl::Milliseconds(20);

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
      refs_([this](const ReferenceCounter::Freed& f) { OnObjectFreed(f); }) {}

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
  if (!options_.is_driver) {
    // Known before serving: a task may be pushed as soon as the raylet sees
    // our registration, before its reply reaches us.
    worker_id_ = options_.worker_id;
    node_id_ = options_.worker_id.NodeId();
    receiver_ = std::make_unique<TaskReceiver>(this, options_.executor);
  }
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
  auto store = object_store::StoreClient::Connect(reply.store_socket());
  if (!store.ok()) return store.status();
  store_ = std::move(*store);
  {
    absl::MutexLock lock(&mu_);
    current_task_ = options_.is_driver ? TaskID::ForDriverTask(options_.job_id) : TaskID::Nil();
  }
  submitter_ = std::make_unique<TaskSubmitter>(this);
  submitter_->Start();
  actor_submitter_ = std::make_unique<ActorSubmitter>(this);
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
  StopBorrowFlusher();  // tells owners about the borrows this process drops
  // From here on, late RPC callbacks leave this worker alone.
  guard_->Close();
  if (options_.is_driver && gcs_) gcs_->MarkJobFinished(options_.job_id).IgnoreError();
  if (server_) server_->Shutdown(50);
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
    absl::Status s = store_->Put(id, metadata, data, config_.object_store_full_grace_ms());
    if (!s.ok()) return s;
    memory_store_.Put(id, ObjectValue::InPlasma(node_id_));
  } else {
    memory_store_.Put(id, ObjectValue::FromBytes(std::move(metadata), std::move(data)));
  }
  refs_.AddOwned(id, 1);
  return id;
}

absl::StatusOr<ObjectID> CoreWorker::PutParts(std::string metadata,
                                              const std::vector<std::string_view>& parts) {
  size_t total = 0;
  for (auto p : parts) total += p.size();
  if (static_cast<int64_t>(total) <= config_.max_direct_call_object_size()) {
    std::string data;
    data.reserve(total);
    for (auto p : parts) data.append(p);
    return Put(std::move(metadata), std::move(data));
  }
  ObjectID id;
  {
    absl::MutexLock lock(&mu_);
    id = ObjectID::ForPut(current_task_, ++put_counter_);
  }
  absl::Status s = PutPartsToStore(id, metadata, parts, total);
  if (!s.ok()) return s;
  memory_store_.Put(id, ObjectValue::InPlasma(node_id_));
  refs_.AddOwned(id, 1);
  return id;
}

absl::Status CoreWorker::PutPartsToStore(const ObjectID& id, const std::string& metadata,
                                         const std::vector<std::string_view>& parts, size_t total) {
  return store_->PutWith(
      id, metadata, total,
      [&](char* dst) {
        for (auto p : parts) {
          object_store::CopyToStore(dst, p.data(), p.size());
          dst += p.size();
        }
      },
      config_.object_store_full_grace_ms());
}

std::optional<rpc::Address> CoreWorker::OwnerOf(const ObjectID& id) const {
  if (refs_.IsOwned(id)) return address_;
  return refs_.OwnerOf(id);
}

void CoreWorker::FetchFromOwner(const ObjectID& id, const rpc::Address& owner) {
  if (memory_store_.Contains(id)) return;
  auto stub = std::shared_ptr<rpc::CoreWorkerService::Stub>(rpc::CoreWorkerService::NewStub(
      rpc::GetChannel(fmt::format("{}:{}", owner.ip(), owner.port()), owner.worker_id())));
  rpc::GetObjectStatusRequest req;
  req.set_object_id(id.Binary());
  rpc::CallAsync(
      stub->async(), &rpc::CoreWorkerService::Stub::async::GetObjectStatus, req, -1,
      [this, id, stub, g = guard_](const absl::Status& s, rpc::GetObjectStatusReply&& reply) {
        auto token = g->Enter();
        if (!token) return;
        std::shared_ptr<ObjectValue> v;
        if (!s.ok()) {
          v = ObjectValue::FromError(
              MakeError(rpc::OWNER_DIED, fmt::format("the owner of object {} is unreachable: {}",
                                                     id.Hex(), std::string(s.message()))));
        } else if (reply.status() != rpc::GetObjectStatusReply::CREATED) {
          v = ObjectValue::FromError(
              MakeError(rpc::OBJECT_LOST,
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

void CoreWorker::PrefetchAsync(const ObjectID& id, const NodeID& from,
                               std::function<void(const absl::Status&)> done) {
  auto addr = NodeAddress(from);
  if (!addr.ok()) {
    if (done) done(addr.status());
    return;
  }
  rpc::PullObjectRequest req;
  req.set_object_id(id.Binary());
  *req.mutable_from() = *addr;
  req.set_priority(rpc::PullObjectRequest::WAIT);
  rpc::CallAsync(raylet_->async(), &rpc::NodeManagerService::Stub::async::PullObject, req, 600000,
                 [done = std::move(done)](const absl::Status& s, rpc::PullObjectReply&&) {
                   if (done) done(s);
                 });
}

absl::Status CoreWorker::PullToLocal(const ObjectID& id, const NodeID& from,
                                     rpc::PullObjectRequest::Priority priority) {
  auto addr = NodeAddress(from);
  if (!addr.ok()) return addr.status();
  rpc::PullObjectRequest req;
  req.set_object_id(id.Binary());
  *req.mutable_from() = *addr;
  req.set_priority(priority);
  rpc::PullObjectReply reply;
  return rpc::CallSync(raylet_.get(), &rpc::NodeManagerService::Stub::PullObject, req, &reply,
                       600000);
}

std::shared_ptr<ObjectValue> CoreWorker::MaterializePlasma(
    const ObjectID& id, const ObjectValue& marker, rpc::PullObjectRequest::Priority priority) {
  const int64_t grace = config_.object_store_full_grace_ms();
  absl::StatusOr<object_store::StoredObject> obj = absl::NotFoundError("not fetched yet");
  // A pulled copy is a secondary: under memory pressure it may be evicted
  // before we map it, so pull again once if it is gone.
  for (int attempt = 0; attempt < 3 && absl::IsNotFound(obj.status()); ++attempt) {
    if (marker.plasma_node != node_id_ || attempt > 0) {
      if (!store_->Contains(id)) {
        absl::Status s = PullToLocal(id, marker.plasma_node, priority);
        if (!s.ok()) {
          return ObjectValue::FromError(MakeError(
              rpc::OBJECT_LOST, fmt::format("cannot fetch object {} from node {}: {}", id.Hex(),
                                            marker.plasma_node.Hex(), std::string(s.message()))));
        }
      }
    }
    obj = store_->Get(id, grace);
  }
  if (!obj.ok()) {
    return ObjectValue::FromError(MakeError(
        absl::IsResourceExhausted(obj.status()) ? rpc::OBJECT_STORE_FULL : rpc::OBJECT_LOST,
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
    const std::vector<ObjectID>& ids, int64_t timeout_ms,
    rpc::PullObjectRequest::Priority priority) {
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
    if (values[i]->in_plasma) values[i] = MaterializePlasma(ids[i], *values[i], priority);
  }
  return values;
}

absl::StatusOr<std::vector<bool>> CoreWorker::Wait(const std::vector<ObjectID>& ids,
                                                   int num_objects, int64_t timeout_ms,
                                                   bool fetch_local) {
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
  if (!fetch_local) {
    auto values = memory_store_.Wait(ids, static_cast<size_t>(num_objects), deadline);
    std::vector<bool> ready(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) ready[i] = values[i] != nullptr;
    return ready;
  }
  return WaitFetchLocal(ids, static_cast<size_t>(num_objects), deadline);
}

absl::StatusOr<std::vector<bool>> CoreWorker::WaitFetchLocal(const std::vector<ObjectID>& ids,
                                                             size_t num_objects,
                                                             absl::Time deadline) {
  // An object counts as ready once its value is known and, when it lives in a
  // store, a copy is on this node. Ready remote objects are pulled at WAIT
  // priority; a failed pull also counts as ready (get then reports the loss).
  struct Pulls {
    absl::Mutex mu;
    absl::CondVar cv;
    std::vector<char> finished ABSL_GUARDED_BY(mu);
  };
  auto pulls = std::make_shared<Pulls>();
  {
    absl::MutexLock lock(&pulls->mu);
    pulls->finished.assign(ids.size(), 0);
  }
  std::vector<char> started(ids.size(), 0);
  std::vector<bool> ready(ids.size());
  while (true) {
    // Returns at once when num_objects values are known (the common case:
    // then they are usually local too); else wakes now and then to start
    // pulls of the values known so far.
    auto values = memory_store_.Wait(ids, num_objects, std::min(deadline, absl::Now() + kPullPoll));
    size_t known = 0;
    size_t local = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
      ready[i] = false;
      if (values[i] == nullptr) continue;
      ++known;
      if (!values[i]->in_plasma || values[i]->plasma_node == node_id_) {
        ready[i] = true;
      } else {
        if (!started[i]) {
          started[i] = 1;
          if (store_->Contains(ids[i])) {
            absl::MutexLock lock(&pulls->mu);
            pulls->finished[i] = 1;
          } else {
            PrefetchAsync(ids[i], values[i]->plasma_node, [pulls, i](const absl::Status&) {
              absl::MutexLock lock(&pulls->mu);
              pulls->finished[i] = 1;
              pulls->cv.SignalAll();
            });
          }
        }
        absl::MutexLock lock(&pulls->mu);
        ready[i] = pulls->finished[i] != 0;
      }
      local += ready[i];
    }
    if (local >= num_objects || absl::Now() >= deadline) return ready;
    if (known >= num_objects) {
      absl::MutexLock lock(&pulls->mu);
      pulls->cv.WaitWithDeadline(&pulls->mu, std::min(deadline, absl::Now() + kPullPoll));
    }
  }
}

void CoreWorker::AddLocalReference(const ObjectID& id) { refs_.AddLocalRef(id); }
void CoreWorker::RemoveLocalReference(const ObjectID& id) { refs_.RemoveLocalRef(id); }
size_t CoreWorker::NumTrackedObjects() const { return refs_.NumObjects(); }

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

void CoreWorker::AddContainedRefs(const ObjectID& outer, const std::vector<ObjectID>& inner) {
  for (const auto& id : inner) refs_.AddLocalRef(id);
  absl::MutexLock lock(&mu_);
  auto& v = contained_[outer];
  v.insert(v.end(), inner.begin(), inner.end());
}

void CoreWorker::OnObjectFreed(const ReferenceCounter::Freed& freed) {
  const ObjectID& id = freed.id;
  const bool owned = freed.owned;
  if (!owned && freed.registered && freed.owner) QueueUnborrow(*freed.owner, id);
  std::vector<ObjectID> inner;
  {
    absl::MutexLock lock(&mu_);
    auto it = contained_.find(id);
    if (it != contained_.end()) {
      inner = std::move(it->second);
      contained_.erase(it);
    }
  }
  for (const auto& i : inner) refs_.RemoveLocalRef(i);
  auto v = memory_store_.GetIfReady(id);
  memory_store_.Erase(id);
  if (!owned || v == nullptr || !v->in_plasma || shut_down_) return;
  FreePlasmaCopy(id, v->plasma_node);
}

std::optional<rpc::ErrorInfo> CoreWorker::InlineReadyArgs(rpc::TaskSpec* spec) {
  for (auto& arg : *spec->mutable_args()) {
    if (!arg.has_ref()) continue;
    auto v = memory_store_.GetIfReady(ObjectID::FromBinaryOrDie(arg.ref().object_id()));
    if (v == nullptr || v->in_plasma) continue;
    if (v->IsError()) return v->Error();
    rpc::SerializedObject* value = arg.mutable_value();  // replaces the ref
    value->set_metadata(v->metadata);
    value->set_data(std::string(v->data));
  }
  return std::nullopt;
}

void CoreWorker::StoreReturn(const ObjectID& id, std::shared_ptr<ObjectValue> value) {
  if (!refs_.Contains(id)) {
    // Every reference was dropped before the task finished: nobody can ask
    // for this value, so free it instead of keeping it.
    if (value->in_plasma) FreePlasmaCopy(id, value->plasma_node);
    return;
  }
  memory_store_.Put(id, std::move(value));
}

void CoreWorker::FreePlasmaCopy(const ObjectID& id, const NodeID& node) {
  if (node == node_id_) {
    // Over the store socket: ordered before this process's next create, so a
    // put right after a drop reuses the same (already faulted) memory.
    store_->Delete({id});
    return;
  }
  auto addr = NodeAddress(node);
  if (!addr.ok()) return;
  std::string target = fmt::format("{}:{}", addr->ip(), addr->port());
  auto stub = std::shared_ptr<rpc::NodeManagerService::Stub>(
      rpc::NodeManagerService::NewStub(rpc::GetChannel(target)));
  rpc::FreeObjectsRequest req;
  req.add_object_ids(id.Binary());
  rpc::CallAsync(stub->async(), &rpc::NodeManagerService::Stub::async::FreeObjects, req, 5000,
                 [stub](const absl::Status&, rpc::FreeObjectsReply&&) {});
}

// ---- tasks -----------------------------------------------------------------------

absl::Status CoreWorker::BuildArgs(std::vector<TaskArgument>& args, rpc::TaskSpec* spec,
                                   std::vector<ObjectID>* ref_ids) {
  std::vector<ObjectID> user_refs;  // the refs the caller passed (not auto-put)
  for (auto& a : args) {
    rpc::TaskArg* arg = spec->add_args();
    if (!a.is_ref && static_cast<int64_t>(a.value.size()) > config_.max_direct_call_object_size()) {
      // Large values go through the object store and travel by reference.
      auto put = Put(std::move(a.metadata), std::move(a.value));
      if (!put.ok()) return put.status();
      refs_.AddSubmittedRefs({*put});
      refs_.RemoveLocalRef(*put);  // the task's reference keeps it alive
      ref_ids->push_back(*put);
      arg->mutable_ref()->set_object_id(put->Binary());
      *arg->mutable_ref()->mutable_owner() = address_;
      continue;
    }
    if (!a.is_ref) {
      arg->mutable_value()->set_metadata(std::move(a.metadata));
      arg->mutable_value()->set_data(std::move(a.value));
      continue;
    }
    arg->mutable_ref()->set_object_id(a.ref.Binary());
    if (refs_.IsOwned(a.ref)) {
      *arg->mutable_ref()->mutable_owner() = address_;
    } else if (auto owner = refs_.OwnerOf(a.ref)) {
      *arg->mutable_ref()->mutable_owner() = *owner;
    } else {
      return absl::InvalidArgumentError(
          fmt::format("argument object {} is unknown to this process", a.ref.Hex()));
    }
    ref_ids->push_back(a.ref);
    user_refs.push_back(a.ref);
  }
  // The pending task holds its arguments until it finishes.
  refs_.AddSubmittedRefs(user_refs);
  return absl::OkStatus();
}

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
  spec.set_streaming(options.streaming);
  *spec.mutable_scheduling() = options.scheduling;
  spec.set_max_retries(options.max_retries == -2 ? static_cast<int>(config_.task_max_retries())
                                                 : options.max_retries);
  spec.set_retry_exceptions(options.retry_exceptions);
  *spec.mutable_caller() = address_;
  for (const auto& [k, v] : options.resources) (*spec.mutable_resources())[k] = v;
  if (options.resources.empty()) (*spec.mutable_resources())["CPU"] = 1;
  std::vector<ObjectID> ref_ids;
  PHOTON_RETURN_IF_ERROR(BuildArgs(args, &spec, &ref_ids));
  std::vector<ObjectID> returns;
  for (int i = 1; i <= options.num_returns; ++i) {
    ObjectID rid = ObjectID::FromIndex(task_id, i);
    refs_.AddOwned(rid, 1);
    returns.push_back(rid);
  }
  if (options.streaming) OpenStream(task_id, options.num_returns);
  submitter_->Submit(std::move(spec), std::move(ref_ids));
  return returns;
}

// ---- actors --------------------------------------------------------------------

absl::StatusOr<ActorID> CoreWorker::CreateActor(std::vector<TaskArgument> args,
                                                const ActorCreationOptions& options) {
  if (options.max_restarts < -1 || options.max_task_retries < -1 || options.max_concurrency < 1) {
    return absl::InvalidArgumentError(
        "max_restarts and max_task_retries must be >= -1 and max_concurrency >= 1");
  }
  TaskID parent = current_task_id();
  ActorID actor_id;
  {
    absl::MutexLock lock(&mu_);
    actor_id = ActorID::Of(options_.job_id, current_task_, ++task_counter_);
  }
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
  data.set_class_name(options.factory_name);
  actor_submitter_->EnsureSubscribed();  // before the actor can change state
  PHOTON_RETURN_IF_ERROR(gcs_->RegisterActor(data));

  rpc::TaskSpec spec;
  TaskID task_id = TaskID::ForActorCreationTask(actor_id);
  spec.set_task_id(task_id.Binary());
  spec.set_job_id(options_.job_id.Binary());
  spec.set_parent_task_id(parent.Binary());
  spec.set_type(rpc::ACTOR_CREATION_TASK);
  spec.set_language(options_.language);
  *spec.mutable_scheduling() = options.scheduling;
  spec.set_function_name(options.factory_name);
  spec.set_name(options.factory_name);
  spec.set_num_returns(1);
  *spec.mutable_caller() = address_;
  for (const auto& [k, v] : options.resources) (*spec.mutable_resources())[k] = v;
  spec.set_actor_id(actor_id.Binary());
  spec.set_max_restarts(options.max_restarts);
  spec.set_max_task_retries(options.max_task_retries);
  spec.set_max_concurrency(options.max_concurrency);
  spec.set_actor_name(options.name);
  spec.set_ray_namespace(data.ray_namespace());
  spec.set_detached(options.detached);
  std::vector<ObjectID> ref_ids;
  PHOTON_RETURN_IF_ERROR(BuildArgs(args, &spec, &ref_ids));
  actor_submitter_->AddOwnedActor(actor_id, data);

  // Wait for the constructor's ObjectRef arguments, inline the small ones,
  // then hand the creation task to the GCS.
  auto pending = std::make_shared<std::pair<rpc::TaskSpec, std::atomic<int>>>();
  pending->first = std::move(spec);
  pending->second = static_cast<int>(ref_ids.size()) + 1;
  auto ready = [this, pending, ref_ids] {
    if (--pending->second > 0) return;
    InlineReadyArgs(&pending->first);  // a failed argument fails the constructor
    rpc::CreateActorRequest req;
    *req.mutable_creation_task() = pending->first;
    for (const auto& c : options_.worker_command) req.add_worker_command(c);
    for (const auto& [k, v] : options_.worker_env) (*req.mutable_worker_env())[k] = v;
    gcs_->CreateActorAsync(req, [this, ref_ids, g = guard_](const absl::Status& s) {
      auto token = g->Enter();
      if (!token) return;
      if (!s.ok()) PHOTON_LOG_ERROR("cannot create actor: {}", std::string(s.message()));
      refs_.RemoveSubmittedRefs(ref_ids);
    });
  };
  for (const ObjectID& dep : ref_ids) {
    if (!refs_.IsOwned(dep)) {
      if (auto owner = refs_.OwnerOf(dep)) FetchFromOwner(dep, *owner);
    }
    memory_store_.OnReady(dep, [ready, g = guard_](std::shared_ptr<ObjectValue>) {
      auto token = g->Enter();
      if (token) ready();
    });
  }
  ready();
  return actor_id;
}

absl::StatusOr<std::vector<ObjectID>> CoreWorker::SubmitActorTask(const ActorID& actor,
                                                                  std::vector<TaskArgument> args,
                                                                  const TaskOptions& options) {
  TaskID task_id;
  TaskID parent;
  {
    absl::MutexLock lock(&mu_);
    parent = current_task_;
    task_id = TaskID::ForActorTask(options_.job_id, current_task_, ++task_counter_, actor);
  }
  rpc::TaskSpec spec;
  spec.set_task_id(task_id.Binary());
  spec.set_job_id(options_.job_id.Binary());
  spec.set_parent_task_id(parent.Binary());
  spec.set_type(rpc::ACTOR_TASK);
  spec.set_language(options_.language);
  spec.set_function_name(options.function_name);
  spec.set_name(options.name.empty() ? options.function_name : options.name);
  spec.set_num_returns(options.num_returns);
  spec.set_streaming(options.streaming);
  spec.set_actor_id(actor.Binary());
  *spec.mutable_caller() = address_;
  std::vector<ObjectID> ref_ids;
  PHOTON_RETURN_IF_ERROR(BuildArgs(args, &spec, &ref_ids));
  std::vector<ObjectID> returns;
  for (int i = 1; i <= options.num_returns; ++i) {
    ObjectID rid = ObjectID::FromIndex(task_id, i);
    refs_.AddOwned(rid, 1);
    returns.push_back(rid);
  }
  if (options.streaming) OpenStream(task_id, options.num_returns);
  actor_submitter_->Submit(actor, std::move(spec), std::move(ref_ids));
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
  return std::optional<ActorID>(ActorID::FromBinaryOrDie((*info)->actor_id()));
}

void CoreWorker::AddActorHandle(const ActorID& actor) { actor_submitter_->AddHandle(actor); }
void CoreWorker::UpdateActorBorrower(const ActorID& actor, const std::string& borrower,
                                     const std::string& node, bool borrowing) {
  if (borrowing) WatchBorrowers();
  actor_submitter_->UpdateBorrower(actor, borrower, node, borrowing);
}
void CoreWorker::RemoveActorHandle(const ActorID& actor) { actor_submitter_->RemoveHandle(actor); }

absl::Status CoreWorker::ExitActor() {
  if (receiver_ == nullptr || current_actor_id().IsNil()) {
    return absl::FailedPreconditionError("ExitActor may only be called inside an actor");
  }
  receiver_->ExitAfterCurrentTask();
  return absl::OkStatus();
}

void CoreWorker::ExitAfterCurrentTask() {
  if (receiver_ != nullptr) receiver_->ExitAfterCurrentTask();
}

size_t CoreWorker::NumPendingActorCalls(const ActorID& actor) {
  return actor_submitter_->NumPendingCalls(actor);
}

bool CoreWorker::actor_restarted() const {
  absl::MutexLock lock(&mu_);
  return actor_restarted_;
}

ActorID CoreWorker::current_actor_id() const {
  absl::MutexLock lock(&mu_);
  return current_actor_;
}

void CoreWorker::SetCurrentActor(const ActorID& id, bool restarted) {
  absl::MutexLock lock(&mu_);
  current_actor_ = id;
  actor_restarted_ = restarted;
}

void CoreWorker::OnActorExitRequested() {
  gcs_->KillActor(current_actor_id(), /*no_restart=*/true, "the actor called ExitActor()")
      .status()
      .IgnoreError();
}

absl::Status CoreWorker::Cancel(const ObjectID& id, bool force, bool recursive) {
  TaskID task = id.TaskId();
  if (!task.ActorId().IsNilActor()) {
    if (force) return absl::InvalidArgumentError("force=True is not supported for actor tasks.");
    return actor_submitter_->Cancel(task);
  }
  return submitter_->Cancel(task, force, recursive);
}

void CoreWorker::HandleCancelTask(const rpc::CancelTaskRequest& req, rpc::CancelTaskReply* reply) {
  auto task = TaskID::FromBinary(req.task_id());
  if (!task.ok() || receiver_ == nullptr) return;
  reply->set_attempted(receiver_->Cancel(*task));
  if (req.recursive()) submitter_->CancelChildrenOf(*task);
}

int CoreWorker::RunTaskLoop() {
  if (receiver_ == nullptr) return 1;
  int code = receiver_->Run();
  if (receiver_->exit_requested()) {
    // A graceful exit: let the replies already sent reach their callers,
    // then (an actor) have the GCS mark the actor dead (no restart).
    server_->Shutdown(1000);
    if (!current_actor_id().IsNil()) OnActorExitRequested();
  }
  return code;
}

}  // namespace photon::core
