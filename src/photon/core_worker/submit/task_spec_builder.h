// Builds the TaskSpec of what this process submits: the fields every task
// shares (normal tasks, actor calls and actor creation) and its arguments.
//
// Threading: thread-safe (it holds no state of its own besides the config).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "photon/common/config.h"
#include "photon/common/id.h"
#include "photon/core_worker/reference_counter.h"
#include "photon/protocol/common.pb.h"

namespace photon::core {

// One argument of a task as the front end gives it.
struct TaskArgument {
  bool is_ref = false;
  ObjectID ref;          // is_ref: the object passed by reference
  std::string metadata;  // else: the serialized value
  std::string value;
  // References serialized inside `value`: the pending task holds them until
  // it has finished, so their objects outlive the caller's own handles.
  std::vector<ObjectID> nested_refs;
};

// The references a task's arguments hold while it is pending.
struct ArgumentRefs {
  // Every object the task references (top-level refs, values put because
  // they were too large to travel inline, refs nested in values), once per
  // occurrence: each counts as a submitted reference.
  std::vector<ObjectID> held;
  // The values put here: their creator's local reference passes to the task.
  std::vector<ObjectID> put;
};

class TaskSpecBuilder {
 public:
  // Stores a value too large to travel inline as an owned object (one local
  // reference held) and returns its id.
  using PutFn = std::function<absl::StatusOr<ObjectID>(std::string metadata, std::string data)>;

  TaskSpecBuilder(const SystemConfig& config, ReferenceCounter* refs, rpc::Address caller,
                  JobID job, rpc::Language language, PutFn put);

  // The fields every task has.
  rpc::TaskSpec Begin(rpc::TaskType type, const TaskID& id, const TaskID& parent,
                      const std::string& function, const std::string& name, int num_returns) const;

  // Appends `args` to `spec`. Values over max_direct_call_object_size are put
  // into the object store and passed by reference. InvalidArgument if an
  // argument refers to an object this process does not know; on any error
  // nothing is held (values put so far are released).
  absl::StatusOr<ArgumentRefs> AddArgs(std::vector<TaskArgument> args, rpc::TaskSpec* spec) const;

  const rpc::Address& caller() const { return caller_; }

  // A spec scheduled into a placement group (scheduling.placement_group_id)
  // asks for its bundle's resources instead of the node's: CPU becomes
  // CPU_group_<i>_<pgid> (CPU_group_<pgid> for any bundle), plus the bundle's
  // marker. InvalidArgument for a malformed group id or bundle index.
  static absl::Status PlaceInBundle(rpc::TaskSpec* spec);

 private:
  const int64_t max_inline_bytes_;
  ReferenceCounter* const refs_;
  const rpc::Address caller_;
  const JobID job_;
  const rpc::Language language_;
  const PutFn put_;
};

}  // namespace photon::core
