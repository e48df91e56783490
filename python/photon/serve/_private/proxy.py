"""The HTTP proxy: an actor that serves HTTP with uvicorn and sends each
request to the ingress deployment of the application whose route_prefix is
the longest prefix of its path.

It answers /-/healthz and /-/routes itself; an unknown path is a 404, a full
queue (max_queued_requests) or an application with no replicas a 503, an
error in the replica a 500 with the error's text. A response the replica
streams (a body sent in parts, e.g. a StreamingResponse) is streamed on.

Threading: uvicorn runs its own event loop on the "serve-http" thread; the
routers' pool threads complete requests (their futures are awaited on that
loop with asyncio.wrap_future); the actor's methods run on the actor's
thread.
"""
import asyncio
import json
import socket
import threading

import photon
from photon import exceptions as core_exceptions
from photon.serve._private import constants
from photon.serve._private import http_util
from photon.serve._private import router as _router
from photon.serve.exceptions import (BackPressureError, DeploymentUnavailableError,
                                     RayServeException)

class _Routes:
    """route_prefix -> (app name, ingress deployment), longest match first."""

    def __init__(self):
        self._lock = threading.Lock()
        self._routes = {}
        self._order = []

    def update(self, routes):
        routes = dict(routes or {})
        with self._lock:
            self._routes = routes
            self._order = sorted(routes, key=len, reverse=True)

    def match(self, path):
        with self._lock:
            for prefix in self._order:
                if prefix == "/" or path == prefix or path.startswith(prefix + "/"):
                    return prefix, self._routes[prefix]
        return None

    def table(self):
        with self._lock:
            return {p: app for p, (app, _) in self._routes.items()}


async def _send_simple(send, status, text, content_type=b"text/plain; charset=utf-8"):
    body = text.encode() if isinstance(text, str) else text
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _with_request_id(message, request_id):
    """As Ray: every response names its request in x-request-id."""
    if message["type"] != "http.response.start":
        return message
    headers = [h for h in message.get("headers", ()) if bytes(h[0]).lower() != b"x-request-id"]
    headers.append((b"x-request-id", request_id.encode("latin-1")))
    return dict(message, headers=headers)


def _error_text(error):
    if isinstance(error, core_exceptions.RayTaskError):
        return str(error)
    return f"{type(error).__name__}: {error}"


class ProxyActor:
    def __init__(self, http_options, node_id):
        self._options = dict(http_options)
        self._node_id = node_id
        self._routes = _Routes()
        self._routers = _router.process_routers()
        version, routes = photon.get(
            self._routers.controller.get_long_poll_value.remote("routes"))
        self._routes.update(routes)
        self._routers.listen("routes", version, self._routes.update)
        host = self._options.get("host") or constants.DEFAULT_HTTP_HOST
        port = int(self._options.get("port", constants.DEFAULT_HTTP_PORT))
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as e:
            sock.close()
            raise RuntimeError(f"Failed to bind to address '{host}:{port}': {e}.") from None
        # Accepted connections inherit it: a response's head and body go out
        # at once (not 40 ms apart, the client's delayed ACK, under Nagle).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.listen(2048)
        self._sock = sock
        self._host = host
        self._port = sock.getsockname()[1]
        self._timeout = self._options.get("request_timeout_s")
        self._root_path = self._options.get("root_path") or ""
        self._started = threading.Event()
        self._server = None
        self._error = None
        self._thread = threading.Thread(target=self._serve, daemon=True, name="serve-http")
        self._thread.start()

    # -- uvicorn ---------------------------------------------------------------
    def _serve(self):
        try:
            import uvicorn
            config = uvicorn.Config(
                self._app, lifespan="off", access_log=False, log_level="warning",
                timeout_keep_alive=int(self._options.get("keep_alive_timeout_s") or 90),
                loop="auto", http="auto", interface="asgi3")
            self._server = uvicorn.Server(config)
            self._server.install_signal_handlers = lambda: None  # not the main thread
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            self._started.set()
            loop.run_until_complete(self._server.serve(sockets=[self._sock]))
        except BaseException as e:  # noqa: BLE001 - reported by ready()
            self._error = e
            self._started.set()

    def ready(self):
        self._started.wait(30)
        if self._error is not None:
            raise RuntimeError(f"the Serve HTTP proxy failed to start: {self._error}")
        return {"host": self._host, "port": self._port, "node_id": self._node_id}

    def shutdown(self):
        if self._server is not None:
            self._server.should_exit = True
        self._thread.join(5)
        return True

    # -- the ASGI app ------------------------------------------------------------
    async def _app(self, scope, receive, send):
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1003})
            return
        path = scope.get("path", "/")
        if self._root_path and path.startswith(self._root_path):
            path = path[len(self._root_path):] or "/"
        if path == "/-/healthz":
            return await _send_simple(send, 200, "success")
        if path == "/-/routes":
            return await _send_simple(send, 200, json.dumps(self._routes.table()),
                                      b"application/json")
        match = self._routes.match(path)
        if match is None:
            return await _send_simple(
                send, 404, f"Path '{path}' not found. Ping http://.../-/routes for available "
                "routes.")
        prefix, (app_name, ingress) = match
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        root_path = self._root_path + ("" if prefix == "/" else prefix)
        inner_scope = http_util.sanitize_scope(scope, root_path)
        model_id = ""
        request_id = None
        for k, v in scope.get("headers", ()):
            name = k.decode("latin-1").lower().replace("-", "_")
            if name == constants.MULTIPLEXED_MODEL_ID_HEADER:
                model_id = v.decode("latin-1")
            elif name == "x_request_id":
                request_id = v.decode("latin-1")
        try:
            router = self._routers.existing(app_name, ingress)
            if router is None:
                router = await asyncio.get_running_loop().run_in_executor(
                    self._routers.pool, self._routers.router, app_name, ingress)
            req = _router.Request("__call__", (inner_scope, body), {}, model_id, kind="http",
                                  request_id=request_id)
            router.submit(req)
        except BackPressureError as e:
            return await _send_simple(send, 503, str(e))
        except (DeploymentUnavailableError, RayServeException) as e:
            return await _send_simple(send, 503, str(e))
        try:
            fut = asyncio.wrap_future(req.done)
            if self._timeout:
                result = await asyncio.wait_for(fut, self._timeout)
            else:
                result = await fut
        except asyncio.TimeoutError:
            router.cancel(req)
            return await _send_simple(send, 408, f"Request {req.request_id} timed out after "
                                      f"{self._timeout}s.")
        except BackPressureError as e:
            return await _send_simple(send, 503, str(e))
        except DeploymentUnavailableError as e:
            return await _send_simple(send, 503, str(e))
        except BaseException as e:  # noqa: BLE001 - the replica's error
            return await _send_simple(send, 500, _error_text(e))
        if result[0] == "done":
            for message in result[1]:
                await send(_with_request_id(message, req.request_id))
            return
        _, stream_id, messages = result
        for message in messages:
            await send(_with_request_id(message, req.request_id))
        await self._stream(req.replica.actor, stream_id, send)

    async def _stream(self, actor, stream_id, send):
        loop = asyncio.get_running_loop()
        gen = actor.stream_http.options(num_returns="streaming").remote(stream_id)
        pool = self._routers.pool

        def next_batch():
            ref = gen._next_sync(None)
            if ref is None:
                return None
            return photon.get(ref)

        while True:
            try:
                batch = await loop.run_in_executor(pool, next_batch)
            except BaseException:  # noqa: BLE001 - the stream broke: end the body
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            if batch is None:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            ended = False
            for message in batch:
                await send(message)
                if message["type"] == "http.response.body" and not message.get("more_body"):
                    ended = True
            if ended:
                # Drain the generator's end.
                await loop.run_in_executor(pool, next_batch)
                return
