// The C++ API's runtime on the core worker: carries out the type-erased calls
// of internal::Runtime and turns failures into the exceptions of errors.h
// (the one place where core errors become C++ API exceptions).
#pragma once

#include <memory>

#include "photon/core_worker/core_worker.h"
#include "photon/internal/runtime.h"

namespace photon::internal {

class CoreWorkerRuntime : public Runtime {
 public:
  explicit CoreWorkerRuntime(core::CoreWorker* worker) : worker_(worker) {}

  std::string SubmitTask(const std::string& function_name, std::vector<TaskArg> args,
                         const CallOptions& options) override;
  std::string Put(std::string value, const std::vector<std::string>& nested_actor_ids) override;
  std::vector<ObjectBuffer> Get(const std::vector<std::string>& object_ids,
                                int64_t timeout_ms) override;
  std::vector<bool> Wait(const std::vector<std::string>& object_ids, int num_objects,
                         int64_t timeout_ms) override;
  void Cancel(const std::string& object_id) override;
  void AddLocalReference(const std::string& object_id) override;
  void RemoveLocalReference(const std::string& object_id) override;

  std::string CreateActor(const std::string& factory_name, std::vector<TaskArg> args,
                          const ActorOptions& options) override;
  std::string SubmitActorTask(const std::string& actor_id, const std::string& method_name,
                              std::vector<TaskArg> args, const CallOptions& options) override;
  std::string CreatePlacementGroup(
      const std::string& name, const std::vector<std::unordered_map<std::string, double>>& bundles,
      int strategy, bool detached) override;
  void RemovePlacementGroup(const std::string& id) override;
  bool WaitPlacementGroupReady(const std::string& id, int64_t timeout_ms) override;
  std::optional<PlacementGroupData> GetPlacementGroup(const std::string& id,
                                                      const std::string& name) override;
  std::vector<PlacementGroupData> GetAllPlacementGroups() override;
  void KillActor(const std::string& actor_id, bool no_restart) override;
  std::string GetNamedActor(const std::string& name, const std::string& ray_namespace) override;
  void AddActorHandleReference(const std::string& actor_id) override;
  void RemoveActorHandleReference(const std::string& actor_id) override;
  void ExitActor() override;
  bool WasCurrentActorRestarted() override;
  size_t NumTrackedObjects() const override { return worker_->NumTrackedObjects(); }
  std::map<std::string, double> LocalObjectStoreStats() const override {
    return worker_->LocalStoreStats();
  }
  std::map<std::string, double> LocalObjectInfo(const std::string& object_id) const override {
    return worker_->LocalObjectInfo(object_id);
  }

 private:
  core::CoreWorker* worker_;
};

// Throws the photon::Error subclass that matches `error`.
[[noreturn]] void ThrowError(const rpc::ErrorInfo& error);

}  // namespace photon::internal
