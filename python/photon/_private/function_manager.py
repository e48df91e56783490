"""Functions and classes shipped to the cluster: pickled once per definition
into the GCS key-value store (by content hash) and cached by the workers
that load them. Wrappers carry the options the core does not (applied in the
worker)."""
import hashlib
import logging
import os
import sys

import cloudpickle

from photon import _photon
from photon import exceptions
from photon._private import state

FUNCTION_NS = "photon:functions"
# The driver's module.qualname of a function or class, kept on it so that a
# worker that unpickles a script's function by value still names it as Ray does.
NAME_ATTR = "__photon_qualified_name__"

logger = logging.getLogger(__name__)

_exported = set()   # keys already in the GCS (this connection)
_functions = {}     # key -> function or class (cache)
_lock = state.connection.lock


# Ray's limits on a pickled function or class (ray_constants): above the
# first a warning, above the second a ValueError before anything is shipped.
FUNCTION_SIZE_WARN_THRESHOLD = 10**7
FUNCTION_SIZE_ERROR_THRESHOLD = 10**8


def _described(obj):
    inner = getattr(obj, "function", None) or getattr(obj, "cls", None) or obj
    kind = "actor class" if isinstance(inner, type) else "remote function"
    return kind, qualified_name(inner)


def qualified_name(obj):
    """module.qualname, as Ray names functions and classes (a script's
    __main__ by the script's name, as the driver saw it)."""
    recorded = getattr(obj, "__dict__", {}).get(NAME_ATTR)
    if recorded:
        return recorded
    module = getattr(obj, "__module__", None) or "__main__"
    if module == "__main__":
        main = sys.modules.get("__main__")
        path = getattr(main, "__file__", None)
        if path:
            module = os.path.splitext(os.path.basename(path))[0]
    return f"{module}.{getattr(obj, '__qualname__', getattr(obj, '__name__', '?'))}"


def remember_name(obj):
    """Records qualified_name on a function or class before it is shipped."""
    try:
        setattr(obj, NAME_ATTR, qualified_name(obj))
    except (AttributeError, TypeError):  # a builtin or a slotted object: named where it runs
        pass


def _check_size(obj, size):
    if size <= FUNCTION_SIZE_WARN_THRESHOLD:
        return
    kind, name = _described(obj)
    mib = size // (1024 * 1024)
    if size > FUNCTION_SIZE_ERROR_THRESHOLD:
        raise ValueError(
            f"The {kind} {name} is too large ({mib} MiB > FUNCTION_SIZE_ERROR_THRESHOLD="
            f"{FUNCTION_SIZE_ERROR_THRESHOLD // (1024 * 1024)} MiB): its pickled definition "
            "holds that much, usually a large array or object it captures from its scope. "
            "Put such objects in the object store with photon.put() and pass the ref instead.")
    logger.warning("The %s %s is very large (%d MiB): its definition probably captures a large "
                   "object; photon.put() it and pass the ref instead.", kind, name, mib)


def export(obj):
    """Ships a function or class to the cluster once; returns its key."""
    pickled = cloudpickle.dumps(obj)
    _check_size(obj, len(pickled))
    key = hashlib.sha1(pickled).hexdigest()
    with _lock:
        if key in _exported:
            return key
    _photon.kv_put(FUNCTION_NS, key.encode(), pickled, False)
    with _lock:
        _exported.add(key)
        _functions[key] = obj
    return key


def export_cached(cache, cache_key, make):
    """export(make()) once per connection; `cache` maps cache_key to
    (epoch, key) so a function is exported again to a new cluster."""
    hit = cache.get(cache_key)
    if hit is not None and hit[0] == state.connection.epoch:
        return hit[1]
    key = export(make())
    cache[cache_key] = (state.connection.epoch, key)
    return key


def load(key):
    with _lock:
        obj = _functions.get(key)
    if obj is not None:
        return obj
    pickled = _photon.kv_get(FUNCTION_NS, key.encode())
    if pickled is None:
        raise exceptions.RaySystemError(f"function {key} is not in the cluster's function table")
    obj = cloudpickle.loads(pickled)
    with _lock:
        _functions[key] = obj
    return obj


def forget():
    """At disconnect: exports belong to the cluster that is left."""
    with _lock:
        _exported.clear()
        _functions.clear()


class TaskFunction:
    """A task function with options the core does not carry, applied in the
    worker: retry_exceptions=[classes] (only exceptions of those classes are
    reported to the core as retryable failures), runtime_env env_vars (set for
    the duration of the call) and max_calls (the worker exits after that many
    calls of the function, as in Ray)."""

    def __init__(self, function, retry_classes=None, env_vars=None, max_calls=0,
                 dynamic=False):
        self.function = function
        self.dynamic = dynamic  # num_returns="dynamic": returns a DynamicObjectRefGenerator
        self.retry_classes = None if retry_classes is None else tuple(retry_classes)
        self.env_vars = dict(env_vars or {})
        self.max_calls = max_calls or 0
        self.calls = 0


class ActorClassWithEnv:
    """An actor class with what its worker applies: runtime_env env_vars (set
    before __init__) and concurrency groups (name -> limit; `default_limit`
    for methods outside every group)."""

    def __init__(self, cls, env_vars, concurrency_groups=None, default_limit=1):
        self.cls = cls
        self.env_vars = dict(env_vars)
        self.concurrency_groups = dict(concurrency_groups or {})
        self.default_limit = default_limit


class EnvVars:
    """Sets environment variables, restoring the old values on exit."""

    def __init__(self, env_vars):
        self.env_vars = env_vars
        self.saved = {}

    def __enter__(self):
        for k, v in self.env_vars.items():
            self.saved[k] = os.environ.get(k)
            os.environ[k] = v

    def __exit__(self, *exc):
        for k, old in self.saved.items():
            if old is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = old
