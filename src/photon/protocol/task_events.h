// Helpers over the task-event protos shared by their reporters (core
// workers) and the GCS.
#pragma once

#include <string>

#include "photon/protocol/core_worker.pb.h"
#include "photon/protocol/gcs.pb.h"

namespace photon::rpc {

// The log file of a worker (its id in binary) for stdout ("out") or stderr ("err").
std::string WorkerLogFile(const std::string& worker_id, const char* suffix);

// Adds what an executor reported of one execution (TaskExecutionReport, from
// a PushTask reply) to the attempt's task events `e`: RUNNING (if it ran) and
// its end, where it ran, its error and where its output is. `stdout_file` /
// `stderr_file`: the worker's log files (WorkerLogFile), which callers that
// add many executions of one worker compute once.
void AddExecution(const TaskExecutionReport& x, const std::string& stdout_file,
                  const std::string& stderr_file, TaskEvents* e);

}  // namespace photon::rpc
