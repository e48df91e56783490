"""Photon's exceptions, with Ray's class names (``photon.exceptions`` stands in
for ``ray.exceptions``)."""


class RayError(Exception):
    """Base of every Photon error."""


class RaySystemError(RayError):
    """An internal error of the runtime."""


class RayTaskError(RayError):
    """A task or actor method raised. Re-raised by ``get``; also an instance of
    the original exception's class when that class can be subclassed."""

    def __init__(self, function_name="", traceback_str="", cause=None, proctitle=None, pid=None,
                 ip=None, actor_repr=None, actor_id=None):
        self.function_name = function_name
        self.traceback_str = traceback_str
        self.cause = cause
        self.proctitle = proctitle
        self.pid = pid
        self.ip = ip
        self.actor_repr = actor_repr
        self._actor_id = actor_id
        super().__init__(self._message())

    def _message(self):
        header = f"{type(self.cause).__name__ if self.cause is not None else 'Exception'}"
        where = f" (pid={self.pid}, ip={self.ip})" if self.pid is not None else ""
        return (f"{header} raised in task '{self.function_name}'{where}\n"
                f"{self.traceback_str}".rstrip())

    def __str__(self):
        return self._message()

    def as_instanceof_cause(self):
        """Returns an exception that is both a RayTaskError and an instance of
        the cause's class (or self if that class cannot be subclassed)."""
        cause_cls = type(self.cause)
        if self.cause is None or issubclass(cause_cls, RayTaskError):
            return self
        try:
            name = f"RayTaskError({cause_cls.__name__})"
            cls = type(name, (RayTaskError, cause_cls), {
                "__init__": lambda s, *a, **k: None,
                "__str__": RayTaskError.__str__,
                "__getattr__": _cause_attribute,
                "__reduce__": lambda s: (_rebuild_task_error, (s.function_name, s.traceback_str,
                                                               s.cause, s.pid, s.ip)),
            })
            err = cls.__new__(cls)
            err.function_name = self.function_name
            err.traceback_str = self.traceback_str
            err.cause = self.cause
            err.pid = self.pid
            err.ip = self.ip
            err.proctitle = self.proctitle
            err.actor_repr = self.actor_repr
            err._actor_id = self._actor_id
            err.args = (self._message(),)
            return err
        except TypeError:
            return self


def _cause_attribute(self, name):
    """Attributes the dual error class lacks come from the original exception
    (``except MyError as e: e.code`` works, as in Ray)."""
    try:
        cause = object.__getattribute__(self, "cause")
    except AttributeError:
        raise AttributeError(name) from None
    if cause is None:
        raise AttributeError(name)
    return getattr(cause, name)


def _rebuild_task_error(function_name, traceback_str, cause, pid, ip):
    return RayTaskError(function_name, traceback_str, cause, pid=pid, ip=ip).as_instanceof_cause()


class RayActorError(RayError):
    """The actor is dead or unreachable."""

    def __init__(self, message="The actor died unexpectedly.", cause=None):
        self.cause = cause
        self.error_msg = message
        super().__init__(message)


class ActorDiedError(RayActorError):
    """The actor died: its constructor raised, it was killed, or its process died."""


class ActorUnavailableError(RayActorError):
    """The actor is temporarily unreachable (for example, restarting)."""


class GetTimeoutError(RayError, TimeoutError):
    """``get`` (or ``wait``) timed out."""


class TaskCancelledError(RayError):
    """The task was cancelled."""

    def __init__(self, task_id=None, error_message=None, *, message=None):
        self.task_id = task_id
        self.error_message = error_message or message
        super().__init__(self.error_message or "This task or its dependency was cancelled.")


class WorkerCrashedError(RayError):
    """The worker died while running the task (after all retries)."""


class LocalRayletDiedError(RayError):
    """The node's raylet died."""


class NodeDiedError(RayError):
    """The node running the task died."""


class ObjectLostError(RayError):
    """Every copy of the object is lost and it cannot be rebuilt."""

    def __init__(self, object_ref_hex="", owner_address=None, call_site="", *, message=None):
        self.object_ref_hex = object_ref_hex
        self.owner_address = owner_address
        self.call_site = call_site
        super().__init__(message or f"Object {object_ref_hex} is lost.")


class OwnerDiedError(ObjectLostError):
    """The object's owner died, so the object is gone."""


class ObjectFetchTimedOutError(ObjectLostError):
    """Fetching the object from another node timed out."""


class ReferenceCountingAssertionError(ObjectLostError, AssertionError):
    """The object was freed while a reference to it was still in use."""


class ObjectFreedError(ObjectLostError):
    """The object was freed explicitly."""


class ObjectReconstructionFailedError(ObjectLostError):
    """The object could not be rebuilt from its lineage."""


class ObjectReconstructionFailedMaxAttemptsExceededError(ObjectLostError):
    """Rebuilding the object ran out of attempts."""


class ObjectReconstructionFailedLineageEvictedError(ObjectLostError):
    """The lineage needed to rebuild the object is gone."""


class UserCodeException(RayError):
    """An exception raised by user code that a library ran (a Ray Data UDF);
    the user's exception is its __cause__."""


class ObjectStoreFullError(RayError):
    """The object store is full."""


class OutOfDiskError(RayError):
    """The node's disk is full (spilling failed)."""


class OutOfMemoryError(RayError):
    """The node ran out of memory."""


class TaskUnschedulableError(RayError):
    """No node can run the task."""


class ActorUnschedulableError(RayError):
    """No node can host the actor."""


class RuntimeEnvSetupError(RayError):
    """The runtime environment could not be set up."""


class PendingCallsLimitExceeded(RayError):
    """Too many calls are pending on an actor handle."""


class AsyncioActorExit(RayError):
    """Raised by exit_actor() inside an async actor to end it."""


class CrossLanguageError(RayError):
    """An error from a task in another language."""


class TaskPlacementGroupRemoved(RayError):
    """The task's placement group was removed."""


class ActorPlacementGroupRemoved(RayError):
    """The actor's placement group was removed."""


class ObjectRefStreamEndOfStreamError(RayError):
    """A streaming generator has no more items."""


__all__ = [name for name, value in list(globals().items())
           if isinstance(value, type) and issubclass(value, Exception)]
