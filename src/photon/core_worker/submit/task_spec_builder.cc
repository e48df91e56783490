#include "photon/core_worker/submit/task_spec_builder.h"

#include "fmt/format.h"
#include "photon/raylet/scheduling/bundle_resources.h"

namespace photon::core {

TaskSpecBuilder::TaskSpecBuilder(const SystemConfig& config, ReferenceCounter* refs,
                                 rpc::Address caller, JobID job, rpc::Language language, PutFn put)
    : max_inline_bytes_(config.max_direct_call_object_size()),
      refs_(refs),
      caller_(std::move(caller)),
      job_(std::move(job)),
      language_(language),
      put_(std::move(put)) {}

rpc::TaskSpec TaskSpecBuilder::Begin(rpc::TaskType type, const TaskID& id, const TaskID& parent,
                                     const std::string& function, const std::string& name,
                                     int num_returns) const {
  rpc::TaskSpec spec;
  spec.set_task_id(id.Binary());
  spec.set_job_id(job_.Binary());
  spec.set_parent_task_id(parent.Binary());
  spec.set_type(type);
  spec.set_language(language_);
  spec.set_function_name(function);
  spec.set_name(name.empty() ? function : name);
  spec.set_num_returns(num_returns);
  *spec.mutable_caller() = caller_;
  return spec;
}

absl::StatusOr<ArgumentRefs> TaskSpecBuilder::AddArgs(std::vector<TaskArgument> args,
                                                      rpc::TaskSpec* spec) const {
  ArgumentRefs out;
  auto owner_of = [this](const ObjectID& id) -> absl::StatusOr<rpc::Address> {
    if (refs_->IsOwned(id)) return caller_;
    if (auto owner = refs_->OwnerOf(id)) return *owner;
    return absl::InvalidArgumentError(
        fmt::format("argument object {} is unknown to this process", id.Hex()));
  };
  // Every reference is checked before anything is put.
  std::vector<rpc::Address> owners;
  for (const auto& a : args) {
    if (!a.is_ref) continue;
    auto owner = owner_of(a.ref);
    if (!owner.ok()) return owner.status();
    owners.push_back(*owner);
  }
  size_t next_owner = 0;
  for (auto& a : args) {
    rpc::TaskArg* arg = spec->add_args();
    if (a.is_ref) {
      arg->mutable_ref()->set_object_id(a.ref.Binary());
      *arg->mutable_ref()->mutable_owner() = owners[next_owner++];
      out.held.push_back(a.ref);
      continue;
    }
    out.held.insert(out.held.end(), a.nested_refs.begin(), a.nested_refs.end());
    if (static_cast<int64_t>(a.value.size()) > max_inline_bytes_) {
      // Large values go through the object store and travel by reference.
      auto put = put_(std::move(a.metadata), std::move(a.value));
      if (!put.ok()) {
        for (const ObjectID& id : out.put) refs_->RemoveLocalRef(id);
        return put.status();
      }
      out.held.push_back(*put);
      out.put.push_back(*put);
      arg->mutable_ref()->set_object_id(put->Binary());
      *arg->mutable_ref()->mutable_owner() = caller_;
      continue;
    }
    arg->mutable_value()->set_metadata(std::move(a.metadata));
    arg->mutable_value()->set_data(std::move(a.value));
  }
  return out;
}

absl::Status TaskSpecBuilder::PlaceInBundle(rpc::TaskSpec* spec) {
  const rpc::SchedulingStrategy& st = spec->scheduling();
  if (st.placement_group_id().empty()) return absl::OkStatus();
  auto pg = PlacementGroupID::FromBinary(st.placement_group_id());
  if (!pg.ok()) return absl::InvalidArgumentError("placement_group_id is not a PlacementGroupID");
  if (st.bundle_index() < -1) {
    return absl::InvalidArgumentError(fmt::format(
        "placement_group_bundle_index must be -1 or a bundle's index, got {}", st.bundle_index()));
  }
  std::map<std::string, double> request(spec->resources().begin(), spec->resources().end());
  spec->clear_resources();
  for (const auto& [k, v] : raylet::RenameIntoBundle(request, st.bundle_index(), *pg)) {
    (*spec->mutable_resources())[k] = v;
  }
  return absl::OkStatus();
}

}  // namespace photon::core
