"""@photon.remote on functions."""
import functools
import inspect
import warnings

from photon import _photon
from photon._private import call_site
from photon._private import function_manager
from photon._private import options as opts
from photon._private import signature
from photon._private import state
from photon._private import task_args
from photon._private.generator import ObjectRefGenerator
from photon._private.object_ref import ObjectRef


class RemoteFunction:
    """A function that runs as a task: f.remote(*args) -> ObjectRef."""

    def __init__(self, function, task_options):
        opts.validate(task_options, opts.TASK_OPTIONS, "a remote function")
        _check_dynamic(function, task_options)
        self._function = function
        function_manager.remember_name(function)
        self._options = dict(task_options)
        self._keys = {}  # None or retry_exceptions classes -> (epoch, exported key)
        self._signature = signature.of_function(function)
        functools.update_wrapper(self, function)

    def __call__(self, *args, **kwargs):
        raise TypeError(f"Remote functions cannot be called directly. Instead of running "
                        f"'{self._function.__name__}()', try '{self._function.__name__}.remote()'.")

    def options(self, **task_options):
        opts.validate(task_options, opts.TASK_OPTIONS, "a remote function")
        _check_dynamic(self._function, task_options)
        parent = self

        class _Bound:
            def remote(self, *args, **kwargs):
                return parent._remote(args, kwargs, {**parent._options, **task_options})

        return _Bound()

    def remote(self, *args, **kwargs):
        return self._remote(args, kwargs, self._options)

    def _export_key(self, task_options):
        retry = task_options.get("retry_exceptions")
        # The core retries any application error of a task with
        # retry_exceptions; with a list of classes the worker reports the
        # other exceptions as the task's (non-retried) result.
        retry_classes = tuple(retry) if isinstance(retry, (list, tuple)) else None
        env_vars = opts.env_vars_of(task_options)
        max_calls = task_options.get("max_calls") or 0
        dynamic = task_options.get("num_returns") == "dynamic"
        if retry_classes is None and not env_vars and not max_calls and not dynamic:
            return function_manager.export_cached(self._keys, None, lambda: self._function)
        cache_key = (retry_classes, tuple(sorted(env_vars.items())), max_calls, dynamic)
        return function_manager.export_cached(
            self._keys, cache_key,
            lambda: function_manager.TaskFunction(self._function, retry_classes, env_vars,
                                                  max_calls, dynamic))

    def _remote(self, args, kwargs, task_options):
        signature.check(self._signature, args, kwargs, f"'{self._function.__qualname__}'")
        state.ensure_initialized()
        num_returns = task_options.get("num_returns")
        if num_returns is None:
            # Ray's default for a generator function is "streaming".
            num_returns = "streaming" if inspect.isgeneratorfunction(self._function) else 1
        if num_returns == "dynamic":
            # One return: the DynamicObjectRefGenerator of the yielded values
            # (the worker puts each one; the caller borrows them).
            num_returns = 1
        streaming = num_returns == "streaming"
        if streaming:
            num_returns = 1  # the completion; items are reported as they come
        max_retries = task_options.get("max_retries")
        retry_exceptions = task_options.get("retry_exceptions", False)
        key = self._export_key(task_options)
        resources = opts.resources_of(task_options, default_cpus=1)
        name = task_options.get("name") or self._function.__qualname__
        scheduling = opts.scheduling_of(task_options, resources, name)
        ids = _photon.submit_task(
            key, name, task_args.pack_args(args, kwargs), num_returns, resources,
            -2 if max_retries is None else max_retries, bool(retry_exceptions), streaming,
            scheduling, opts.runtime_env_of(task_options), call_site.task_site("task call"))
        call_site.record(ids, "task call")
        refs = [ObjectRef(i, _adopt=True) for i in ids]
        if streaming:
            return ObjectRefGenerator(refs[0])
        if num_returns == 1:
            return refs[0]
        if num_returns == 0:
            return None
        return refs

    def bind(self, *args, **kwargs):
        raise NotImplementedError("DAG building (.bind) is not supported")


def _check_dynamic(function, task_options):
    if task_options.get("num_returns") != "dynamic":
        return
    if not inspect.isgeneratorfunction(function):
        raise ValueError("num_returns='dynamic' is only for generator functions (functions "
                         f"that yield); '{function.__qualname__}' is not one.")
    warnings.warn("num_returns='dynamic' is deprecated (as in Ray): use "
                  "num_returns='streaming', the default for generator functions",
                  DeprecationWarning, stacklevel=3)

