"""A replica: the async actor that holds one instance of a deployment's class
(or its function) and runs the requests the routers send it.

Threading: the actor's methods run on the actor's event loop; user code
(constructor, methods, health checks, reconfigure) runs on a second event
loop thread, so that a slow or blocking user method does not stop health
checks and shutdown. At most max_ongoing_requests requests run at once; the
rest wait on the actor's loop.
"""
import asyncio
import inspect
import os
import threading
import time
import traceback
import uuid

import cloudpickle

import photon
from photon.serve import context
from photon.serve._private import http_util
from photon.serve.exceptions import RayServeException
from photon.serve.handle import DeploymentResponse, DeploymentResponseGenerator


def _takes_args(fn):
    fn = fn._fn if isinstance(fn, _Function) else fn
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.kind != p.VAR_KEYWORD for p in params)


class _Function:
    """A function deployment as an object with __call__."""

    def __init__(self, fn):
        self._fn = fn

    def __call__(self, *args, **kwargs):
        return self._fn(*args, **kwargs)


class _HttpExchange:
    """One HTTP request run through the user's ASGI app (or handler) on the
    user loop: the response's messages until it is known whether it streams
    (a body message with more_body), then a queue the proxy drains."""

    def __init__(self, actor_loop, body):
        self.actor_loop = actor_loop
        self.body = body
        self.messages = []
        self.streaming = False
        self.first = actor_loop.create_future()  # ("done"|"stream", messages)
        self.queue = asyncio.Queue()  # on the actor loop: message, or None at the end
        self._body_sent = False
        self._disconnected = None

    def _set_first(self, value, error=None):
        def apply():
            if not self.first.done():
                if error is not None:
                    self.first.set_exception(error)
                else:
                    self.first.set_result(value)
        self.actor_loop.call_soon_threadsafe(apply)

    async def receive(self):
        if not self._body_sent:
            self._body_sent = True
            return {"type": "http.request", "body": self.body, "more_body": False}
        if self._disconnected is None:
            self._disconnected = asyncio.Event()
        await self._disconnected.wait()
        return {"type": "http.disconnect"}

    async def send(self, message):
        if self.streaming:
            self.actor_loop.call_soon_threadsafe(self.queue.put_nowait, message)
            return
        self.messages.append(message)
        if message["type"] == "http.response.body" and message.get("more_body"):
            self.streaming = True
            self._set_first(("stream", self.messages))

    def _complete(self):
        """Whether a whole response was sent (e.g. a 500 from the app's error
        middleware before it re-raised)."""
        return any(m["type"] == "http.response.body" and not m.get("more_body")
                   for m in self.messages)

    def finished(self, error=None):
        if self.streaming:
            self.actor_loop.call_soon_threadsafe(
                self.queue.put_nowait, error if error is not None else None)
        elif error is not None and not self._complete():
            self._set_first(None, error)
        else:
            self._set_first(("done", self.messages))


class ServeReplica:
    def __init__(self, app_name, deployment_name, replica_id, serialized_def,
                 serialized_args, is_function, config, rank=0, world_size=1):
        self._rank = rank
        self._world_size = world_size
        self._app_name = app_name
        self._deployment_name = deployment_name
        self._replica_id = replica_id
        self._serialized_def = serialized_def
        self._serialized_args = serialized_args
        self._is_function = is_function
        self._config = config
        self._instance = None
        self._asgi_app = None
        self._ongoing = 0
        self._semaphore = None
        self._streams = {}
        self._idle = None
        self._shutting_down = False
        self._user_loop = asyncio.new_event_loop()
        threading.Thread(target=self._user_loop.run_forever, daemon=True,
                         name="serve-user-code").start()

    # -- running user code -------------------------------------------------
    async def _on_user_loop(self, coro):
        return await asyncio.wrap_future(
            asyncio.run_coroutine_threadsafe(coro, self._user_loop))

    @staticmethod
    async def _call(fn, *args, **kwargs):
        result = fn(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    # -- lifecycle ---------------------------------------------------------
    async def initialize(self, user_config):
        """Constructs the user's class (or wraps the function) and applies
        the user_config; raises the constructor's error."""
        self._semaphore = asyncio.Semaphore(self._config["max_ongoing_requests"])
        self._idle = asyncio.Event()
        self._idle.set()
        await self._on_user_loop(self._construct(user_config))
        ctx = photon.get_runtime_context()
        docs = getattr(self._asgi_app, "docs_url", None) if self._asgi_app is not None else None
        return {"replica_id": self._replica_id, "pid": os.getpid(),
                "node_id": ctx.get_node_id(), "actor_id": ctx.get_actor_id(),
                "worker_id": ctx.get_worker_id(), "docs_path": docs}

    async def _construct(self, user_config):
        definition = cloudpickle.loads(self._serialized_def)
        args, kwargs = cloudpickle.loads(self._serialized_args)
        deployment_id = context.DeploymentID(self._deployment_name, self._app_name)
        replica_ctx = context.ReplicaContext(
            replica_id=context.ReplicaID(self._replica_id, deployment_id),
            servable_object=None,
            rank=context.ReplicaRank(self._rank, node_rank=0, local_rank=self._rank),
            world_size=self._world_size)
        context._set_replica_context(replica_ctx)
        if self._is_function:
            instance = _Function(definition)
        else:
            instance = definition.__new__(definition)
            init = definition.__init__(instance, *args, **kwargs)
            if inspect.isawaitable(init):
                await init
        replica_ctx.servable_object = instance
        app = getattr(definition, "_serve_asgi_app", None)
        if app is not None:
            self._asgi_app = http_util.bind_asgi_app(app, definition, instance)
        self._instance = instance
        if user_config is not None:
            await self._reconfigure(user_config)

    async def _reconfigure(self, user_config):
        fn = getattr(self._instance, "reconfigure", None)
        if fn is None:
            raise RayServeException(
                "user_config specified but deployment "
                f"'{self._deployment_name}' missing `reconfigure` method.")
        await self._call(fn, user_config)

    async def reconfigure(self, user_config, config=None):
        """Applies a new user_config (and the new deployment config's
        max_ongoing_requests) without restarting."""
        if config is not None:
            if config["max_ongoing_requests"] != self._config["max_ongoing_requests"]:
                self._semaphore = asyncio.Semaphore(config["max_ongoing_requests"])
            self._config = config
        if user_config is not None:
            await self._on_user_loop(self._reconfigure(user_config))
        return True

    async def check_health(self):
        fn = getattr(self._instance, "check_health", None)
        if fn is not None and not self._is_function:
            await self._on_user_loop(self._call(fn))
        return True

    async def wait_until_dead(self):
        """Never returns: the controller holds this call to learn at once when
        the replica's process dies (the call then fails)."""
        await asyncio.Event().wait()

    def num_ongoing_requests(self):
        return self._ongoing

    async def prepare_for_shutdown(self, timeout_s):
        """Waits (up to timeout_s) for the requests in flight to finish, then
        runs the instance's __del__ (as Ray Serve does)."""
        self._shutting_down = True
        deadline = time.monotonic() + timeout_s
        while self._ongoing > 0 and time.monotonic() < deadline:
            try:
                await asyncio.wait_for(self._idle.wait(), max(0.0, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                break
        fn = getattr(type(self._instance), "__del__", None) if self._instance else None
        if fn is not None and not self._is_function:
            try:
                await asyncio.wait_for(self._on_user_loop(self._call(fn, self._instance)),
                                       max(0.1, deadline - time.monotonic()))
            except Exception:  # noqa: BLE001 - shutting down anyway
                pass
        return self._ongoing

    # -- requests ----------------------------------------------------------
    def _begin(self):
        self._ongoing += 1
        self._idle.clear()

    def _end(self):
        self._ongoing -= 1
        if self._ongoing == 0:
            self._idle.set()

    def _method(self, name):
        if self._is_function:
            if name != "__call__":
                raise RayServeException(
                    f"Tried to call a method '{name}' that does not exist. Function "
                    "deployments have only '__call__'.")
            return self._instance
        fn = getattr(self._instance, name, None)
        if fn is None or not callable(fn):
            public = sorted(m for m in dir(self._instance)
                            if callable(getattr(self._instance, m, None)) and
                            (not m.startswith("_") or m == "__call__"))
            raise RayServeException(f"Tried to call a method '{name}' that does not exist. "
                                    f"Available methods: {public}.")
        return fn

    async def _run_user(self, meta, args, kwargs):
        method, model_id, request_id = meta
        context._set_request_context(context.RequestContext(
            request_id=request_id, app_name=self._app_name, multiplexed_model_id=model_id))
        fn = self._method(method)
        result = fn(*args, **kwargs)
        if inspect.isgenerator(result) or inspect.isasyncgen(result):
            raise TypeError(f"Method '{method}' returned a generator. You must use "
                            "`handle.options(stream=True)` to call generators on a deployment.")
        if inspect.isawaitable(result):
            result = await result
        if isinstance(result, DeploymentResponse):
            result = await result
        return result

    async def handle_request(self, meta, *args, **kwargs):
        self._begin()
        try:
            async with self._semaphore:
                return await self._on_user_loop(self._run_user(meta, args, kwargs))
        finally:
            self._end()

    async def _start_stream(self, meta, args, kwargs):
        method, model_id, request_id = meta
        context._set_request_context(context.RequestContext(
            request_id=request_id, app_name=self._app_name, multiplexed_model_id=model_id))
        result = self._method(method)(*args, **kwargs)
        if inspect.isawaitable(result) and not inspect.isasyncgen(result):
            result = await result
        if isinstance(result, DeploymentResponseGenerator):
            return result
        if not (inspect.isgenerator(result) or inspect.isasyncgen(result)):
            raise TypeError(f"Method '{method}' returned a non-generator object "
                            f"({type(result).__name__}) but was called with stream=True.")
        return result

    async def _step(self, gen, meta):
        method, model_id, request_id = meta
        context._set_request_context(context.RequestContext(
            request_id=request_id, app_name=self._app_name, multiplexed_model_id=model_id))
        try:
            if inspect.isasyncgen(gen) or isinstance(gen, DeploymentResponseGenerator):
                return True, await gen.__anext__()
            return True, next(gen)
        except (StopIteration, StopAsyncIteration):
            return False, None

    async def handle_request_streaming(self, meta, *args, **kwargs):
        self._begin()
        try:
            async with self._semaphore:
                gen = await self._on_user_loop(self._start_stream(meta, args, kwargs))
                while True:
                    more, item = await self._on_user_loop(self._step(gen, meta))
                    if not more:
                        break
                    yield item
        finally:
            self._end()

    # -- HTTP --------------------------------------------------------------
    async def _run_http(self, exchange, scope, meta):
        method, model_id, request_id = meta
        context._set_request_context(context.RequestContext(
            route=scope.get("root_path", ""), request_id=request_id, app_name=self._app_name,
            multiplexed_model_id=model_id))
        if self._asgi_app is not None:
            try:
                await self._asgi_app(scope, exchange.receive, exchange.send)
            except BaseException as e:  # noqa: BLE001 - the app's error middleware answered
                exchange.finished(e)
                return
            exchange.finished()
            return
        try:
            from starlette.requests import Request
            fn = self._method("__call__")
            # As Ray: a handler that takes no arguments gets no Request.
            args = (Request(scope, exchange.receive),) if _takes_args(fn) else ()
            result = fn(*args)
            if inspect.isawaitable(result):
                result = await result
            if isinstance(result, DeploymentResponse):
                result = await result
            response = http_util.to_response(result)
        except Exception:  # noqa: BLE001 - as Ray: a 500, the traceback in the log
            traceback.print_exc()
            response = http_util.internal_error()
        try:
            await response(scope, exchange.receive, exchange.send)
        except BaseException as e:  # noqa: BLE001 - e.g. a streamed generator raised
            traceback.print_exc()
            exchange.finished(e)
            return
        exchange.finished()

    async def handle_http(self, meta, scope, body):
        """Runs one HTTP request: ("done", messages), or ("stream", id,
        messages) when the response streams (then stream_http(id))."""
        self._begin()
        streaming = False
        try:
            async with self._semaphore:
                exchange = _HttpExchange(asyncio.get_running_loop(), body)
                asyncio.run_coroutine_threadsafe(self._run_http(exchange, scope, meta),
                                                 self._user_loop)
                kind, messages = await exchange.first
                if kind == "done":
                    return ("done", messages)
                stream_id = uuid.uuid4().hex
                self._streams[stream_id] = exchange
                streaming = True
                return ("stream", stream_id, messages)
        finally:
            if not streaming:
                self._end()

    async def stream_http(self, stream_id):
        """The rest of a streaming response's messages, in batches."""
        exchange = self._streams.pop(stream_id, None)
        if exchange is None:
            raise RayServeException(f"no HTTP stream {stream_id} on this replica")
        try:
            while True:
                item = await exchange.queue.get()
                batch = []
                end = None
                while True:
                    if item is None or isinstance(item, BaseException):
                        end = item if item is not None else True
                        break
                    batch.append(item)
                    if exchange.queue.empty():
                        break
                    item = exchange.queue.get_nowait()
                if batch:
                    yield batch
                if isinstance(end, BaseException):
                    raise end
                if end:
                    return
        finally:
            self._end()
