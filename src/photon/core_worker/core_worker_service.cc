#include "photon/core_worker/core_worker_service.h"

#include "fmt/format.h"
#include "photon/rpc/server.h"

namespace photon::core {
namespace {

grpc::Status NotReady() {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the worker is starting or stopping");
}

}  // namespace

grpc::Status CoreWorkerServiceImpl::CheckIntended(const rpc::PushTaskRequest& req,
                                                  const std::string& worker_id) {
  if (req.intended_worker_id().empty() || req.intended_worker_id() == worker_id) {
    return grpc::Status::OK;
  }
  return grpc::Status(
      grpc::StatusCode::FAILED_PRECONDITION,
      fmt::format("this task was meant for worker {}, not {}",
                  WorkerID::FromBinary(req.intended_worker_id()).value_or(WorkerID()).Hex(),
                  WorkerID::FromBinary(worker_id).value_or(WorkerID()).Hex()));
}

void CoreWorkerServiceImpl::Attach(Handlers handlers) {
  std::deque<EarlyPush> early;
  {
    absl::MutexLock lock(&mu_);
    handlers_ = handlers;
    attached_ = true;
    early.swap(early_);
  }
  for (const auto& p : early) {
    if (handlers.receiver == nullptr) {
      p.reactor->Finish(
          grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "a driver does not execute tasks"));
    } else if (auto s = CheckIntended(*p.request, handlers.worker_id); !s.ok()) {
      p.reactor->Finish(s);
    } else {
      handlers.receiver->HandlePushTask(p.reactor, p.request, p.reply);
    }
  }
}

void CoreWorkerServiceImpl::Detach() {
  std::deque<EarlyPush> early;
  {
    absl::MutexLock lock(&mu_);
    detached_ = true;
    early.swap(early_);
  }
  for (const auto& p : early) p.reactor->Finish(NotReady());
}

bool CoreWorkerServiceImpl::Ready(Handlers* out) {
  absl::MutexLock lock(&mu_);
  if (!attached_ || detached_) return false;
  *out = handlers_;
  return true;
}

grpc::ServerUnaryReactor* CoreWorkerServiceImpl::PushTask(grpc::CallbackServerContext* ctx,
                                                          const rpc::PushTaskRequest* req,
                                                          rpc::PushTaskReply* reply) {
  auto* reactor = ctx->DefaultReactor();
  Handlers h;
  {
    absl::MutexLock lock(&mu_);
    if (detached_) {
      reactor->Finish(NotReady());
      return reactor;
    }
    if (!attached_) {
      // Pushed before this process finished starting: runs once it has.
      early_.push_back(EarlyPush{reactor, req, reply});
      return reactor;
    }
    h = handlers_;
  }
  if (h.receiver == nullptr) {
    reactor->Finish(
        grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "a driver does not execute tasks"));
    return reactor;
  }
  if (auto s = CheckIntended(*req, h.worker_id); !s.ok()) {
    reactor->Finish(s);
    return reactor;
  }
  h.receiver->HandlePushTask(reactor, req, reply);
  return reactor;
}

grpc::ServerUnaryReactor* CoreWorkerServiceImpl::GetObjectStatus(
    grpc::CallbackServerContext* ctx, const rpc::GetObjectStatusRequest* req,
    rpc::GetObjectStatusReply* reply) {
  Handlers h;
  if (!Ready(&h)) return rpc::FinishNow(ctx, NotReady());
  auto id = ObjectID::FromBinary(req->object_id());
  if (!id.ok()) {
    return rpc::FinishNow(ctx, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad object id"));
  }
  if (!h.refs->IsOwned(*id) && !h.memory_store->Contains(*id)) {
    reply->set_status(rpc::GetObjectStatusReply::OUT_OF_SCOPE);
    return rpc::FinishNow(ctx);
  }
  if (!req->lost_on_node().empty() && h.refs->IsOwned(*id) && h.reconstruct) {
    // A borrower lost the copy: rebuild it if that copy is still the one.
    auto current = h.memory_store->GetIfReady(*id);
    if (current != nullptr && current->in_plasma &&
        current->plasma_node.Binary() == req->lost_on_node()) {
      rpc::ErrorInfo why;
      if (!h.reconstruct(*id, &why)) {
        reply->set_status(rpc::GetObjectStatusReply::CREATED);
        reply->mutable_value()->set_metadata(std::string(kErrorMetadata));
        reply->mutable_value()->set_data(why.SerializeAsString());
        return rpc::FinishNow(ctx);
      }
    }
  }
  auto* reactor = ctx->DefaultReactor();
  h.memory_store->OnReady(*id, [reactor, reply](std::shared_ptr<ObjectValue> v) {
    reply->set_status(rpc::GetObjectStatusReply::CREATED);
    reply->set_size(v->Size());
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

grpc::ServerUnaryReactor* CoreWorkerServiceImpl::CancelTask(grpc::CallbackServerContext* ctx,
                                                            const rpc::CancelTaskRequest* req,
                                                            rpc::CancelTaskReply* reply) {
  Handlers h;
  if (!Ready(&h)) return rpc::FinishNow(ctx, NotReady());
  reply->set_attempted(false);
  auto task = TaskID::FromBinary(req->task_id());
  if (!task.ok()) {
    return rpc::FinishNow(ctx, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad task id"));
  }
  if (h.receiver != nullptr) reply->set_attempted(h.receiver->Cancel(*task, req->recursive()));
  return rpc::FinishNow(ctx);
}

grpc::ServerUnaryReactor* CoreWorkerServiceImpl::Exit(grpc::CallbackServerContext* ctx,
                                                      const rpc::ExitRequest*, rpc::ExitReply*) {
  Handlers h;
  if (Ready(&h) && h.receiver != nullptr) {
    // As the actor's own ExitActor: no restart, after its shutdown hooks.
    h.receiver->ExitAfterCurrentTask();
    h.receiver->Exit(0);
  }
  return rpc::FinishNow(ctx);
}

grpc::ServerUnaryReactor* CoreWorkerServiceImpl::ReportGeneratorItem(
    grpc::CallbackServerContext* ctx, const rpc::ReportGeneratorItemRequest* req,
    rpc::ReportGeneratorItemReply*) {
  Handlers h;
  if (!Ready(&h)) return rpc::FinishNow(ctx, NotReady());
  h.streams->OnItem(*req);
  return rpc::FinishNow(ctx);
}

grpc::ServerUnaryReactor* CoreWorkerServiceImpl::UpdateObjectBorrowers(
    grpc::CallbackServerContext* ctx, const rpc::ObjectBorrowRequest* req,
    rpc::ObjectBorrowReply*) {
  Handlers h;
  if (!Ready(&h)) return rpc::FinishNow(ctx, NotReady());
  h.borrows->HandleUpdate(*req);
  return rpc::FinishNow(ctx);
}

grpc::ServerUnaryReactor* CoreWorkerServiceImpl::GetCoreWorkerStats(
    grpc::CallbackServerContext* ctx, const rpc::GetCoreWorkerStatsRequest* req,
    rpc::GetCoreWorkerStatsReply* reply) {
  Handlers h;
  if (!Ready(&h)) return rpc::FinishNow(ctx, NotReady());
  if (h.stats) h.stats(*req, reply);
  return rpc::FinishNow(ctx);
}

}  // namespace photon::core
