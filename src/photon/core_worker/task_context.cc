#include "photon/core_worker/task_context.h"

namespace photon::core {
namespace {

// The innermost scope of this thread (of any TaskContexts) and its owner.
thread_local TaskContexts::Scope* t_scope = nullptr;
thread_local TaskContexts* t_owner = nullptr;

}  // namespace

TaskContexts::Scope::Scope(TaskContexts* contexts, const TaskID& task)
    : task_(task), previous_(t_scope), previous_owner_(t_owner) {
  t_scope = this;
  t_owner = contexts;
}

TaskContexts::Scope::~Scope() {
  t_scope = previous_;
  t_owner = previous_owner_;
}

TaskContexts::Scope* TaskContexts::ThreadScope() const {
  return t_owner == this ? t_scope : nullptr;
}

TaskID TaskContexts::Current() const {
  if (Scope* s = ThreadScope()) return s->task_;
  absl::MutexLock lock(&mu_);
  return process_task_;
}

void TaskContexts::SetProcessTask(const TaskID& task) {
  absl::MutexLock lock(&mu_);
  process_task_ = task;
}

std::pair<TaskID, uint64_t> TaskContexts::NextChild() {
  if (Scope* s = ThreadScope()) return {s->task_, ++s->tasks_};
  absl::MutexLock lock(&mu_);
  return {process_task_, ++process_tasks_};
}

TaskID TaskContexts::NextTaskId() {
  auto [parent, n] = NextChild();
  return TaskID::ForNormalTask(job_, parent, n);
}

TaskID TaskContexts::NextActorTaskId(const ActorID& actor) {
  auto [parent, n] = NextChild();
  return TaskID::ForActorTask(job_, parent, n, actor);
}

ActorID TaskContexts::NextActorId() {
  auto [parent, n] = NextChild();
  return ActorID::Of(job_, parent, n);
}

ObjectID TaskContexts::NextPutId() {
  if (Scope* s = ThreadScope()) return ObjectID::ForPut(s->task_, ++s->puts_);
  absl::MutexLock lock(&mu_);
  return ObjectID::ForPut(process_task_, ++process_puts_);
}

}  // namespace photon::core
