#include "photon/protocol/task_events.h"

#include "absl/strings/escaping.h"
#include "fmt/format.h"

namespace photon::rpc {

std::string WorkerLogFile(const std::string& worker_id, const char* suffix) {
  return fmt::format("worker-{}.{}", absl::BytesToHexString(worker_id), suffix);
}

void AddExecution(const TaskExecutionReport& x, const std::string& stdout_file,
                  const std::string& stderr_file, TaskEvents* e) {
  if (x.start_ns() != 0) {
    TaskStateTransition* t = e->add_transitions();
    t->set_state(RUNNING);
    t->set_time_ns(x.start_ns());
  }
  TaskStateTransition* end = e->add_transitions();
  end->set_state(x.failed() ? FAILED : FINISHED);
  end->set_time_ns(x.end_ns());
  e->set_node_id(x.node_id());
  e->set_worker_id(x.worker_id());
  e->set_worker_pid(x.pid());
  if (x.failed()) {
    e->set_error_type(ErrorType_Name(x.error().type()));
    e->set_error_message(x.error().message());
  }
  if (x.stdout_start() >= 0 || x.stderr_start() >= 0) {
    TaskLogInfo* l = e->mutable_task_log_info();
    l->set_stdout_file(stdout_file);
    l->set_stderr_file(stderr_file);
    if (x.stdout_start() >= 0) {
      l->set_stdout_start(x.stdout_start());
      l->set_stdout_end(x.stdout_end());
    }
    if (x.stderr_start() >= 0) {
      l->set_stderr_start(x.stderr_start());
      l->set_stderr_end(x.stderr_end());
    }
  }
}

}  // namespace photon::rpc
