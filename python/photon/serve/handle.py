"""DeploymentHandle, DeploymentResponse and DeploymentResponseGenerator:
calling a deployment from Python (a driver, another deployment, the proxy)."""
import asyncio
import concurrent.futures

import photon
from photon.serve._private import constants
from photon.serve._private import router as _router
from photon.serve.exceptions import RayServeException, RequestCancelledError

_STREAM_STEP_S = 0.5
_SYNC_IN_LOOP = ("Sync methods should not be called from within an `asyncio` event loop. "
                 "Use `await response` or `await response._to_object_ref()` instead.")


def _in_event_loop():
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        return False


class DeploymentHandle:
    """A handle to a deployment of an application: `handle.remote(...)` (or
    `handle.method.remote(...)`) calls it and returns a DeploymentResponse.
    Handles pickle, so they can be passed to tasks, actors and deployments."""

    def __init__(self, deployment_name, app_name=constants.DEFAULT_APP_NAME, *,
                 method_name="__call__", stream=False, multiplexed_model_id=""):
        self._deployment_name = deployment_name
        self._app_name = app_name
        self._method_name = method_name
        self._stream = stream
        self._multiplexed_model_id = multiplexed_model_id
        self._router = None

    @property
    def deployment_name(self):
        return self._deployment_name

    @property
    def app_name(self):
        return self._app_name

    @property
    def handle_options(self):
        return {"method_name": self._method_name, "stream": self._stream,
                "multiplexed_model_id": self._multiplexed_model_id}

    def options(self, *, method_name=None, stream=None, multiplexed_model_id=None,
                use_new_handle_api=None, _prefer_local_routing=None, **unknown):
        """A copy that calls another method, streams, or names a model."""
        if unknown:
            raise TypeError(f"DeploymentHandle.options() got unexpected option(s) "
                            f"{sorted(unknown)}; it takes method_name, stream, "
                            "multiplexed_model_id")
        if method_name is not None and not isinstance(method_name, str):
            raise TypeError(f"method_name must be a string, got {method_name!r}")
        if multiplexed_model_id is not None and not isinstance(multiplexed_model_id, str):
            raise TypeError(f"multiplexed_model_id must be a string, got "
                            f"{multiplexed_model_id!r}")
        h = DeploymentHandle(
            self._deployment_name, self._app_name,
            method_name=self._method_name if method_name is None else method_name,
            stream=self._stream if stream is None else bool(stream),
            multiplexed_model_id=(self._multiplexed_model_id if multiplexed_model_id is None
                                  else multiplexed_model_id))
        h._router = self._router
        return h

    _OWN = frozenset(("_deployment_name", "_app_name", "_method_name", "_stream",
                      "_multiplexed_model_id", "_router"))

    def __getattr__(self, name):
        # As Ray: any other attribute is a method of the deployment (private
        # ones too); its own fields are missing only before __init__ ran.
        if (name.startswith("__") and name.endswith("__")) or name in self._OWN:
            raise AttributeError(name)
        return self.options(method_name=name)

    def _get_router(self):
        if self._router is None or not self._router._process.usable():
            self._router = _router.process_routers().router(self._app_name,
                                                            self._deployment_name)
        return self._router

    def remote(self, *args, **kwargs):
        """Sends a request; returns a DeploymentResponse at once (or a
        DeploymentResponseGenerator with stream=True)."""
        router = self._get_router()
        req = _router.Request(self._method_name, args, kwargs, self._multiplexed_model_id,
                              stream=self._stream)
        pending = [a for a in list(args) + list(kwargs.values())
                   if isinstance(a, DeploymentResponse)]
        if pending and not all(p._req.sent.is_set() and p._req.ref is not None
                               for p in pending):
            # An argument is still queued: send this one once they are out.
            router._process.pool.submit(_submit_after, router, req, pending)
        else:
            if pending:
                _resolve_response_args(req)
            try:
                router.submit(req)
            except BaseException as e:  # noqa: BLE001 - as Ray: raised by result()
                router._fail(req, e)
        if self._stream:
            return DeploymentResponseGenerator(req, router)
        return DeploymentResponse(req, router)

    def __reduce__(self):
        return (_rebuild_handle, (self._deployment_name, self._app_name, self._method_name,
                                  self._stream, self._multiplexed_model_id))

    def __repr__(self):
        return (f"DeploymentHandle(deployment='{self._deployment_name}', "
                f"app='{self._app_name}')")


def _rebuild_handle(deployment_name, app_name, method_name, stream, model_id):
    return DeploymentHandle(deployment_name, app_name, method_name=method_name, stream=stream,
                            multiplexed_model_id=model_id)


def _resolve_response_args(req):
    """Replaces the DeploymentResponses among req's arguments by their
    ObjectRefs (the replica receives their values)."""
    req.args = tuple(a._req.ref if isinstance(a, DeploymentResponse) else a for a in req.args)
    req.kwargs = {k: (v._req.ref if isinstance(v, DeploymentResponse) else v)
                  for k, v in req.kwargs.items()}


def _submit_after(router, req, pending):
    try:
        for p in pending:
            p._req.sent.wait()
            if p._req.ref is None:  # it failed before it was sent
                p._req.done.result()
        _resolve_response_args(req)
        router.submit(req)
    except BaseException as e:  # noqa: BLE001 - delivered to the caller
        router._fail(req, e)


class _ResponseBase:
    def __init__(self, req, router):
        self._req = req
        self._router = router

    @property
    def request_id(self):
        return self._req.request_id

    def cancel(self):
        """Cancels the request (queued: dropped; running: the replica's call
        is cancelled). Waiting on it then raises RequestCancelledError."""
        self._router.cancel(self._req)

    def cancelled(self):
        return self._req.cancelled


class DeploymentResponse(_ResponseBase):
    """The future result of a handle call: `.result(timeout_s=)` blocks,
    `await response` does not; passed to another handle call it is sent
    there as its ObjectRef without being resolved here."""

    def result(self, *, timeout_s=None, _skip_asyncio_check=False):
        if not _skip_asyncio_check and _in_event_loop():
            raise RuntimeError(_SYNC_IN_LOOP)
        try:
            return self._req.done.result(timeout_s)
        except concurrent.futures.TimeoutError:
            raise photon.exceptions.GetTimeoutError(
                f"Timed out waiting for the result of request {self._req.request_id} after "
                f"{timeout_s}s.") from None
        except concurrent.futures.CancelledError:
            raise RequestCancelledError(self._req.request_id) from None

    def __await__(self):
        return asyncio.wrap_future(self._req.done).__await__()

    async def _to_object_ref(self, _record_telemetry=True):
        """The ObjectRef the result is stored under (once sent to a replica)."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._router._process.pool, self._req.sent.wait)
        if self._req.ref is None:
            await self
        return self._req.ref

    def _to_object_ref_sync(self, _record_telemetry=True, _allow_running_in_asyncio_loop=False):
        if not _allow_running_in_asyncio_loop and _in_event_loop():
            raise RuntimeError(_SYNC_IN_LOOP)
        self._req.sent.wait()
        if self._req.ref is None:
            self._req.done.result()
        return self._req.ref

    def __repr__(self):
        return f"DeploymentResponse(request_id={self._req.request_id})"


class DeploymentResponseGenerator(_ResponseBase):
    """The items a streaming call yields, as they come: iterate it (sync) or
    `async for` over it."""

    def __init__(self, req, router):
        super().__init__(req, router)
        self._finished = False

    def _next_value(self):
        req = self._req
        req.sent.wait()
        if req.generator is None:
            req.done.result()  # raises why it was never sent
            raise StopIteration
        while True:
            # In bounded steps: a thread blocked in the core when the
            # interpreter exits would abort it.
            try:
                ref = req.generator._next_sync(_STREAM_STEP_S)
                break
            except photon.exceptions.GetTimeoutError:
                if not self._router._process.usable():
                    raise RayServeException("Serve was shut down (or this process "
                                            "disconnected) during a streaming request.")
        if ref is None:
            self._finished = True
            raise StopIteration
        return photon.get(ref)

    def __iter__(self):
        return self

    def __next__(self):
        if _in_event_loop():
            raise RuntimeError(_SYNC_IN_LOOP)
        if self._finished:
            raise StopIteration
        return self._next_value()

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self._finished:
            raise StopAsyncIteration
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._router._process.pool, _step, self)
        except _Stop:
            raise StopAsyncIteration from None

    def __repr__(self):
        return f"DeploymentResponseGenerator(request_id={self._req.request_id})"


class _Stop(Exception):
    pass


def _step(gen):
    try:
        return gen._next_value()
    except StopIteration:
        raise _Stop() from None
