// The exceptions the C++ API throws. Every one derives from photon::Error.
#pragma once

#include <stdexcept>
#include <string>

namespace photon {

// Base of every Photon error.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// The remote function threw. exception_type() is the C++ type of what it threw
// (e.g. "std::invalid_argument"), message() its what(), where() the task and
// process it ran in. what() combines the three.
class TaskError : public Error {
 public:
  TaskError(std::string exception_type, std::string message, std::string where)
      : Error(exception_type + ": " + message + " (in " + where + ")"),
        exception_type_(std::move(exception_type)),
        message_(std::move(message)),
        where_(std::move(where)) {}
  const std::string& exception_type() const { return exception_type_; }
  const std::string& message() const { return message_; }
  const std::string& where() const { return where_; }

 private:
  std::string exception_type_;
  std::string message_;
  std::string where_;
};

// Get or Wait did not see the object within its timeout.
class GetTimeoutError : public Error {
 public:
  using Error::Error;
};

// The worker running the task died, and so did every retry.
class WorkerCrashedError : public Error {
 public:
  using Error::Error;
};

// The node running the task died (its raylet failed its health checks), and
// no retries were left. As in Ray, not a WorkerCrashedError.
class NodeDiedError : public Error {
 public:
  using Error::Error;
};

// The node ran low on memory and its raylet killed the worker running the
// task (out-of-memory prevention), and no retries were left.
class OutOfMemoryError : public Error {
 public:
  using Error::Error;
};

// The task was cancelled before it finished.
class TaskCancelledError : public Error {
 public:
  using Error::Error;
};

// Every copy of the object is gone and it cannot be rebuilt.
class ObjectLostError : public Error {
 public:
  using Error::Error;
};

// The object's node is alive but did not send it within object_pull_timeout_ms.
class ObjectFetchTimedOutError : public ObjectLostError {
 public:
  using ObjectLostError::ObjectLostError;
};

// Every copy of the object was lost, and it cannot be rebuilt: an argument of
// its task is lost too, without lineage to rebuild it from.
class ObjectReconstructionFailedError : public ObjectLostError {
 public:
  using ObjectLostError::ObjectLostError;
};

// Every copy of the object was lost, and running its task again (lineage
// reconstruction) already happened max_retries times.
class ObjectReconstructionFailedMaxAttemptsExceededError : public ObjectLostError {
 public:
  using ObjectLostError::ObjectLostError;
};

// Every copy of the object was lost, and its lineage was dropped to keep the
// owner within max_lineage_bytes.
class ObjectReconstructionFailedLineageEvictedError : public ObjectLostError {
 public:
  using ObjectLostError::ObjectLostError;
};

// The owner of the object died, so the object is gone.
class OwnerDiedError : public ObjectLostError {
 public:
  using ObjectLostError::ObjectLostError;
};

// No function is registered under the name the task asked for.
class FunctionNotFoundError : public Error {
 public:
  using Error::Error;
};

// The actor is dead (its constructor threw, it was killed, or it died and may
// not restart).
class ActorDiedError : public Error {
 public:
  using Error::Error;
};

// The object store has no room for the object, even after spilling.
class ObjectStoreFullError : public Error {
 public:
  using Error::Error;
};

// The task can never be scheduled (no node can ever satisfy its resources).
class TaskUnschedulableError : public Error {
 public:
  using Error::Error;
};

}  // namespace photon
