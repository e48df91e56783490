"""@photon.remote on classes: actors, their handles and methods (the
caller's side; actor_host.py is the side that runs them)."""
import inspect
import warnings

from photon import _photon
from photon import exceptions
from photon._private import call_site
from photon._private import function_manager
from photon._private import options as opts
from photon._private import serialization
from photon._private import signature
from photon._private import state
from photon._private import task_args
from photon._private import worker
from photon._private.generator import ObjectRefGenerator
from photon._private.ids import ActorID
from photon._private.object_ref import ObjectRef

# A call's concurrency group given with .options(concurrency_group=...) travels
# in the method name, after this separator.
GROUP_SEPARATOR = "\x1f"
# Ends the method name of a num_returns="dynamic" call (before any group).
DYNAMIC_MARK = "\x1e"


def method(*args, **kwargs):
    """@photon.method(num_returns=...): options of one actor method."""
    def decorate(fn):
        fn.__photon_method_options__ = kwargs
        return fn

    if len(args) == 1 and callable(args[0]) and not kwargs:
        return decorate(args[0])
    if args:
        raise ValueError("photon.method takes keyword arguments only, e.g. "
                         "@photon.method(num_returns=2)")
    opts.validate(kwargs, opts.METHOD_OPTIONS, "an actor method")
    return decorate


def is_async_class(cls):
    return any(inspect.iscoroutinefunction(m) or inspect.isasyncgenfunction(m)
               for _, m in inspect.getmembers(cls, predicate=inspect.isfunction))


class ActorClass:
    """A class whose instances are actors: C.remote(*args) -> ActorHandle."""

    def __init__(self, cls, actor_options):
        opts.validate(actor_options, opts.ACTOR_OPTIONS, "an actor class")
        self._cls = cls
        function_manager.remember_name(cls)
        self._options = dict(actor_options)
        self._keys = {}  # None -> (epoch, exported key)
        self.__name__ = cls.__name__
        self.__qualname__ = cls.__qualname__
        self.__doc__ = cls.__doc__

    def __call__(self, *args, **kwargs):
        raise TypeError(f"Actors cannot be instantiated directly. Instead of "
                        f"'{self._cls.__name__}()', use '{self._cls.__name__}.remote()'.")

    def options(self, **actor_options):
        opts.validate(actor_options, opts.ACTOR_OPTIONS, "an actor class")
        parent = self

        class _Bound:
            def remote(self, *args, **kwargs):
                return parent._remote(args, kwargs, {**parent._options, **actor_options})

        return _Bound()

    def remote(self, *args, **kwargs):
        return self._remote(args, kwargs, self._options)

    def _remote(self, args, kwargs, o):
        signature.check(signature.of_method(self._cls, "__init__"), args, kwargs,
                        f"'{self._cls.__name__}.__init__'")
        state.ensure_initialized()
        name = o.get("name") or ""
        namespace = o.get("namespace") or worker.current_namespace()
        if o.get("get_if_exists") and name:
            existing = _photon.get_named_actor(name, namespace)
            if existing is not None:
                return ActorHandle(existing, self._cls, _adopt=False)
        env_vars = opts.env_vars_of(o)
        is_async = is_async_class(self._cls)
        max_concurrency = o.get("max_concurrency") or (1000 if is_async else 1)
        groups = dict(o.get("concurrency_groups") or {})
        if env_vars or groups:
            cache_key = (tuple(sorted(env_vars.items())), tuple(sorted(groups.items())),
                         max_concurrency)
            key = function_manager.export_cached(
                self._keys, cache_key,
                lambda: function_manager.ActorClassWithEnv(self._cls, env_vars, groups,
                                                           max_concurrency))
        else:
            key = function_manager.export_cached(self._keys, None, lambda: self._cls)
        # Async actors interleave calls on one event loop; a bounded set of
        # core threads hands calls to it. Concurrency groups add their limits
        # (each group's calls run on their own share of the threads).
        total = max_concurrency + sum(groups.values())
        core_concurrency = min(total, 64) if is_async else total
        try:
            resources = (opts.resources_of(o, default_cpus=0)
                         if any(o.get(k) for k in ("num_cpus", "resources", "num_gpus", "memory",
                                                   "accelerator_type")) else {})
            aid = _photon.create_actor(
                key, task_args.pack_args(args, kwargs), name, namespace, resources,
                o.get("max_restarts") or 0, o.get("max_task_retries") or 0, core_concurrency,
                o.get("lifetime") == "detached",
                opts.scheduling_of(o, resources, f"actor {self._cls.__name__}"),
                self._cls.__name__, opts.runtime_env_of(o),
                call_site.task_site("actor creation"))
        except ValueError as e:
            if o.get("get_if_exists") and "already exists" in str(e):
                existing = _photon.get_named_actor(name, namespace)
                if existing is not None:
                    return ActorHandle(existing, self._cls, _adopt=False)
            raise
        if name:
            # get_actor rebuilds the handle with the class (for method options).
            try:
                _photon.kv_put(ACTOR_CLASS_NS, aid, key.encode(), True)
            except Exception:  # noqa: BLE001 - handles then lack method options
                pass
        return ActorHandle(aid, self._cls, _adopt=True,
                           max_pending_calls=o.get("max_pending_calls") or -1)


ACTOR_CLASS_NS = "photon:actor_class"


def class_of_actor(actor_id):
    """The Python class of a named actor (None if unknown)."""
    try:
        key = _photon.kv_get(ACTOR_CLASS_NS, bytes(actor_id))
        if key is None:
            return None
        cls = function_manager.load(key.decode())
    except Exception:  # noqa: BLE001 - a handle without the class still works
        return None
    return getattr(cls, "cls", cls)


class ActorMethod:
    def __init__(self, handle, name, method_options):
        self._handle = handle
        self._name = name
        self._options = method_options

    def remote(self, *args, **kwargs):
        return self._handle._call(self._name, args, kwargs, self._options)

    def options(self, **method_options):
        opts.validate(method_options, opts.METHOD_OPTIONS, "an actor method")
        merged = {**self._options, **method_options}
        return ActorMethod(self._handle, self._name, merged)

    def __call__(self, *args, **kwargs):
        raise TypeError(f"Actor methods cannot be called directly. Instead of running "
                        f"'{self._name}()', try '{self._name}.remote()'.")


# Methods every actor has (Ray's): __ray_ready__ answers True once the actor
# is up; __ray_terminate__ ends it after the calls queued before.
_BUILTIN_METHODS = ("__ray_terminate__", "__ray_ready__")


class ActorHandle:
    """A reference to an actor: handle.method.remote(*args) -> ObjectRef.

    Handles are counted like object references (as references to the actor's
    handle object): a non-detached actor lives while a handle to it exists in
    any process, and is destroyed once the last one is gone. A weak handle
    (an actor's handle to itself, get_runtime_context().current_actor) does
    not count, so an actor that keeps one is still collected."""

    @property
    def _ray_actor_id(self):
        return ActorID(self._actor_id)

    def __init__(self, actor_id, cls, _adopt=False, max_pending_calls=-1, _owner=b"",
                 _weak=False):
        self._actor_id = bytes(actor_id)
        self._cls = cls
        self._max_pending_calls = max_pending_calls
        self._counted = not _weak
        if not _adopt and not _weak and state.is_connected():
            _photon.add_actor_handle(self._actor_id, _owner)

    def __del__(self):
        try:
            if self._counted and state.is_connected():
                _photon.remove_actor_handle(self._actor_id)
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def __getattr__(self, name):
        if name.startswith("__") and name not in _BUILTIN_METHODS:
            raise AttributeError(name)
        if self._cls is not None:
            attr = getattr(self._cls, name, None)
            if attr is None and name not in _BUILTIN_METHODS:
                raise AttributeError(f"'{self._cls.__name__}' actor has no method '{name}'")
            method_options = getattr(attr, "__photon_method_options__", {}) if attr else {}
        else:
            method_options = {}
        return ActorMethod(self, name, method_options)

    def _task_name(self, method):
        # Ray's name of an actor call: "Class.method".
        return f"{self._cls.__name__}.{method}" if self._cls is not None else method

    def _call(self, name, args, kwargs, method_options):
        if self._cls is not None:
            signature.check(signature.of_method(self._cls, name), args, kwargs,
                            f"'{self._cls.__name__}.{name}'")
        if self._max_pending_calls > 0 and \
                _photon.actor_pending_calls(self._actor_id) >= self._max_pending_calls:
            raise exceptions.PendingCallsLimitExceeded(
                f"The actor {self._actor_id.hex()} has {self._max_pending_calls} pending calls "
                f"(max_pending_calls={self._max_pending_calls}); wait for some to finish.")
        num_returns = method_options.get("num_returns")
        if num_returns is None:
            # As for functions, a generator method streams by default.
            attr = getattr(self._cls, name, None) if self._cls is not None else None
            is_gen = attr is not None and (inspect.isgeneratorfunction(attr)
                                           or inspect.isasyncgenfunction(attr))
            num_returns = "streaming" if is_gen else 1
        dynamic = num_returns == "dynamic"
        if dynamic:
            attr = getattr(self._cls, name, None) if self._cls is not None else None
            if attr is not None and not inspect.isgeneratorfunction(attr):
                raise ValueError("num_returns='dynamic' is only for generator methods (that "
                                 f"yield); '{self._cls.__name__}.{name}' is not one.")
            warnings.warn("num_returns='dynamic' is deprecated (as in Ray): use "
                          "num_returns='streaming', the default for generator methods",
                          DeprecationWarning, stacklevel=3)
            num_returns = 1  # the DynamicObjectRefGenerator
        streaming = num_returns == "streaming"
        group = method_options.get("concurrency_group")
        function = name + (DYNAMIC_MARK if dynamic else "")
        if group:
            function = f"{function}{GROUP_SEPARATOR}{group}"
        ids = _photon.submit_actor_task(self._actor_id, function,
                                        task_args.pack_args(args, kwargs),
                                        1 if streaming else num_returns,
                                        method_options.get("name") or self._task_name(name),
                                        streaming, call_site.task_site("actor call"))
        call_site.record(ids, "actor call")
        refs = [ObjectRef(i, _adopt=True) for i in ids]
        if streaming:
            return ObjectRefGenerator(refs[0])
        if num_returns == 0:
            return None
        return refs[0] if num_returns == 1 else refs

    def __reduce__(self):
        # A handle travels as a reference to the actor's handle object: the
        # value holding it keeps the actor alive until the receiver has
        # borrowed it from the owner.
        owner = b""
        if state.is_connected():
            serialization.note_serialized_ref(_photon.actor_handle_object_id(self._actor_id))
            owner = _photon.actor_owner(self._actor_id)
        return _rebuild_handle, (self._actor_id, self._cls, self._max_pending_calls, owner)

    def __repr__(self):
        name = self._cls.__name__ if self._cls is not None else "Actor"
        return f"Actor({name}, {self._actor_id.hex()})"

    def __eq__(self, other):
        return isinstance(other, ActorHandle) and other._actor_id == self._actor_id

    def __hash__(self):
        return hash(self._actor_id)


def _rebuild_handle(actor_id, cls, max_pending_calls=-1, owner=b""):
    handle = ActorHandle(actor_id, cls, max_pending_calls=max_pending_calls, _owner=owner)
    if owner and state.is_connected():
        oid = _photon.actor_handle_object_id(actor_id)
        if not serialization.note_deserialized_ref(oid, owner):
            _photon.register_borrowed_refs([(oid, owner)])
    return handle


