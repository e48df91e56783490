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
    if kind == "ACTOR_DIED":
        return exceptions.ActorDiedError(msg)
    if kind == "WORKER_DIED":
        return exceptions.WorkerCrashedError(msg)
    if kind == "OUT_OF_MEMORY":
        return exceptions.OutOfMemoryError(msg)
    if kind == "TASK_CANCELLED":
        return exceptions.TaskCancelledError(message=msg)
    if kind == "OWNER_DIED":
        return exceptions.OwnerDiedError(message=msg)
    if kind == "OBJECT_LOST":
        return exceptions.ObjectLostError(message=msg)
    if kind == "OBJECT_RECONSTRUCTION_FAILED_MAX_ATTEMPTS":
        return exceptions.ObjectReconstructionFailedMaxAttemptsExceededError(message=msg)
    if kind == "OBJECT_RECONSTRUCTION_FAILED_LINEAGE_EVICTED":
        return exceptions.ObjectReconstructionFailedLineageEvictedError(message=msg)
    if kind == "OBJECT_RECONSTRUCTION_FAILED":
        return exceptions.ObjectReconstructionFailedError(message=msg)
    if kind == "OBJECT_FETCH_TIMED_OUT":
        return exceptions.ObjectFetchTimedOutError(message=msg)
    if kind == "OBJECT_STORE_FULL":
        return exceptions.ObjectStoreFullError(msg)
    if kind == "TASK_UNSCHEDULABLE":
        return exceptions.TaskUnschedulableError(msg)
    if kind == "FUNCTION_NOT_FOUND":
        return exceptions.RaySystemError(msg)
    return exceptions.RayError(msg)


def value_of(meta, buf):
    """The value of an object (metadata, bytes); raises the error it holds."""
    if meta == _photon.ERROR_METADATA:
        raise error_from(memoryview(buf))
    return serialization.deserialize(meta, buf)
