// Which task this process is running, per thread, and the ids that task
// derives for what it creates (child tasks, actors, puts).
//
// A thread that runs a task (the receiver's threads) sets its task with a
// Scope for the task's duration; each scope counts its own children from
// zero, so a re-executed task derives the same ids (lineage), and concurrent
// calls of a threaded actor never share a counter. A thread without a scope
// (a driver's threads, an async actor's event loop, threads the user starts)
// derives from the process's task (the driver task, or an actor's creation
// task) with one counter that never resets.
//
// Threading: thread-safe; Scope is used on the thread it was made on.
#pragma once

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "photon/common/id.h"

namespace photon::core {

class TaskContexts {
 public:
  explicit TaskContexts(JobID job) : job_(std::move(job)) {}

  // Makes `task` the current task of this thread until the scope ends.
  class Scope {
   public:
    Scope(TaskContexts* contexts, const TaskID& task);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    friend class TaskContexts;
    TaskID task_;
    uint64_t tasks_ = 0;
    uint32_t puts_ = 0;
    Scope* previous_;
    TaskContexts* previous_owner_;
  };

  // The task of the calling thread's scope, else the process's task.
  TaskID Current() const;
  // The process's task: threads without a scope derive from it.
  void SetProcessTask(const TaskID& task);

  TaskID NextTaskId();
  TaskID NextActorTaskId(const ActorID& actor);
  ActorID NextActorId();
  ObjectID NextPutId();

 private:
  // The calling thread's scope, if it belongs to this object.
  Scope* ThreadScope() const;
  // (parent, next counter value) of the calling thread.
  std::pair<TaskID, uint64_t> NextChild();

  const JobID job_;
  mutable absl::Mutex mu_;
  TaskID process_task_ ABSL_GUARDED_BY(mu_);
  uint64_t process_tasks_ ABSL_GUARDED_BY(mu_) = 0;
  uint32_t process_puts_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace photon::core
