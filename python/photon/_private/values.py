"""Object values as Python sees them: a value's bytes back to the value, and
an error value back to the exception it stands for (Ray's classes)."""
import cloudpickle

from photon import _photon
from photon import exceptions
from photon._private import serialization


def error_from(info_bytes):
    """The exception a failed object stands for."""
    e = _photon.parse_error(bytes(info_bytes))
    kind, msg = e["type"], e["message"]
    if kind == "TASK_EXECUTION_EXCEPTION":
        if e["serialized_exception"]:
            try:
                err = cloudpickle.loads(e["serialized_exception"])
                if isinstance(err, exceptions.RayTaskError):
                    return err.as_instanceof_cause()
                return err
            except Exception:  # noqa: BLE001 - fall back to the text
                pass
        return exceptions.RayTaskError(e["where"], msg, None)
    if kind in _ERRORS_BY_MESSAGE:
        return _ERRORS_BY_MESSAGE[kind](message=msg)
    if kind in _ERRORS:
        return _ERRORS[kind](msg)
    return exceptions.RayError(msg)


# Error types (rpc::ErrorType names) and the exception each becomes: those
# whose classes take the text as `message=`, and those that take it first.
_ERRORS_BY_MESSAGE = {
    "TASK_CANCELLED": exceptions.TaskCancelledError,
    "OWNER_DIED": exceptions.OwnerDiedError,
    "OBJECT_LOST": exceptions.ObjectLostError,
    "OBJECT_RECONSTRUCTION_FAILED_MAX_ATTEMPTS":
        exceptions.ObjectReconstructionFailedMaxAttemptsExceededError,
    "OBJECT_RECONSTRUCTION_FAILED_LINEAGE_EVICTED":
        exceptions.ObjectReconstructionFailedLineageEvictedError,
    "OBJECT_RECONSTRUCTION_FAILED": exceptions.ObjectReconstructionFailedError,
    "OBJECT_FETCH_TIMED_OUT": exceptions.ObjectFetchTimedOutError,
}
_ERRORS = {
    "ACTOR_DIED": exceptions.ActorDiedError,
    "WORKER_DIED": exceptions.WorkerCrashedError,
    "NODE_DIED": exceptions.NodeDiedError,
    "OUT_OF_MEMORY": exceptions.OutOfMemoryError,
    "OBJECT_STORE_FULL": exceptions.ObjectStoreFullError,
    "TASK_UNSCHEDULABLE": exceptions.TaskUnschedulableError,
    "FUNCTION_NOT_FOUND": exceptions.RaySystemError,
}


def value_of(meta, buf):
    """The value of an object (metadata, bytes); raises the error it holds."""
    if meta == _photon.ERROR_METADATA:
        raise error_from(memoryview(buf))
    return serialization.deserialize(meta, buf)
