"""@serve.multiplexed: a per-replica LRU cache of models loaded by id, and
serve.get_multiplexed_model_id() for the model the current request names
(the handle's multiplexed_model_id option, or the HTTP header
`serve_multiplexed_model_id`). Requests for a model go to a replica that has
served it before when one has room."""
import asyncio
import collections
import functools
import inspect

from photon.serve import context
from photon.serve._private import constants


class _ModelCache:
    def __init__(self, load, max_models):
        self._load = load
        self._max = max_models
        self._models = collections.OrderedDict()  # model id -> model
        self._loading = {}  # model id -> asyncio.Future
        self._lock = None

    async def get(self, owner, model_id):
        if not isinstance(model_id, str) or not model_id:
            raise ValueError(f"a multiplexed model id must be a non-empty string, got "
                             f"{model_id!r}")
        if model_id in self._models:
            self._models.move_to_end(model_id)
            return self._models[model_id]
        if model_id in self._loading:
            return await asyncio.shield(self._loading[model_id])
        fut = asyncio.get_running_loop().create_future()
        self._loading[model_id] = fut
        try:
            while len(self._models) >= self._max:
                _, old = self._models.popitem(last=False)
                await _unload(old)
            args = (owner, model_id) if owner is not None else (model_id,)
            model = self._load(*args)
            if inspect.isawaitable(model):
                model = await model
            self._models[model_id] = model
            fut.set_result(model)
            return model
        except BaseException as e:
            fut.set_exception(e)
            fut.exception()  # retrieved: no "never retrieved" warning
            raise
        finally:
            del self._loading[model_id]

    def model_ids(self):
        return list(self._models)


async def _unload(model):
    """Ray calls a model's __del__ when it leaves the cache; drop our reference
    (and await an async __del__ if the model has one)."""
    delete = getattr(model, "__del__", None)
    if delete is not None and inspect.iscoroutinefunction(delete):
        await delete()


def multiplexed(func=None, *, max_num_models_per_replica=constants.DEFAULT_MAX_MODELS_PER_REPLICA):
    """Wraps a model-loading function `load(model_id)` (or method) so that
    each replica keeps up to `max_num_models_per_replica` loaded models,
    dropping the least recently used."""
    if isinstance(max_num_models_per_replica, bool) or \
            not isinstance(max_num_models_per_replica, int) or \
            (max_num_models_per_replica < 1 and max_num_models_per_replica != -1):
        raise ValueError("max_num_models_per_replica must be a positive integer or -1, got "
                         f"{max_num_models_per_replica!r}")
    limit = float("inf") if max_num_models_per_replica == -1 else max_num_models_per_replica

    def decorate(load):
        if not callable(load):
            raise TypeError("@serve.multiplexed must wrap a function or method")
        params = list(inspect.signature(load).parameters)
        is_method = bool(params) and params[0] == "self"
        caches = {}  # id(owner) -> _ModelCache (one per replica instance)

        @functools.wraps(load)
        async def wrapper(*args):
            owner = args[0] if is_method else None
            rest = args[1:] if is_method else args
            if len(rest) != 1:
                raise TypeError(f"{load.__name__}() takes one model id argument")
            cache = caches.get(id(owner))
            if cache is None:
                cache = caches[id(owner)] = _ModelCache(load, limit)
            return await cache.get(owner, rest[0])

        wrapper._serve_model_caches = caches
        return wrapper

    if func is not None:
        return decorate(func)
    return decorate


def get_multiplexed_model_id():
    """The model id the current request names ("" if none)."""
    return context._get_serve_request_context().multiplexed_model_id
