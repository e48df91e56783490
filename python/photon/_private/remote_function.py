"""@photon.remote on functions."""
import functools

from photon import _photon
from photon._private import options as opts
from photon._private import worker
from photon._private.object_ref import ObjectRef


class RemoteFunction:
    """A function that runs as a task: f.remote(*args) -> ObjectRef."""

    def __init__(self, function, task_options):
        opts.validate(task_options, opts.TASK_OPTIONS, "a remote function")
        self._function = function
        self._options = dict(task_options)
        self._key = None
        self._keys_by_retry_list = {}
        functools.update_wrapper(self, function)

    def __call__(self, *args, **kwargs):
        raise TypeError(f"Remote functions cannot be called directly. Instead of running "
                        f"'{self._function.__name__}()', try '{self._function.__name__}.remote()'.")

    def options(self, **task_options):
        opts.validate(task_options, opts.TASK_OPTIONS, "a remote function")
        parent = self

        class _Bound:
            def remote(self, *args, **kwargs):
                return parent._remote(args, kwargs, {**parent._options, **task_options})

        return _Bound()

    def remote(self, *args, **kwargs):
        return self._remote(args, kwargs, self._options)

    def _export_key(self, retry_exceptions):
        if isinstance(retry_exceptions, (list, tuple)):
            # The core retries any application error of a task with
            # retry_exceptions; the worker reports the other exceptions as the
            # task's (non-retried) result.
            classes = tuple(retry_exceptions)
            key = self._keys_by_retry_list.get(classes)
            if key is None:
                key = worker.export(worker.RetryOnly(self._function, classes))
                self._keys_by_retry_list[classes] = key
            return key
        if self._key is None:
            self._key = worker.export(self._function)
        return self._key

    def _remote(self, args, kwargs, task_options):
        worker.ensure_initialized()
        num_returns = task_options.get("num_returns", 1)
        if num_returns in ("streaming", "dynamic"):
            raise NotImplementedError("generator tasks (num_returns='streaming') are not "
                                      "supported yet")
        max_retries = task_options.get("max_retries")
        retry_exceptions = task_options.get("retry_exceptions", False)
        key = self._export_key(retry_exceptions)
        ids = _photon.submit_task(
            key, task_options.get("name") or self._function.__qualname__,
            worker.pack_args(args, kwargs), num_returns,
            opts.resources_of(task_options, default_cpus=1),
            -2 if max_retries is None else max_retries, bool(retry_exceptions))
        refs = [ObjectRef(i, _adopt=True) for i in ids]
        if num_returns == 1:
            return refs[0]
        if num_returns == 0:
            return None
        return refs

    def bind(self, *args, **kwargs):
        raise NotImplementedError("DAG building (.bind) is not supported")
