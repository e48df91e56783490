"""The routing side of a DeploymentHandle, one per deployment per process.

A router knows its deployment's running replicas (kept current by a long
poll on the controller), sends each request to one of them by the power of
two choices (of two replicas with room, the one with fewer requests in
flight from this process), holds requests while every replica is at its
max_ongoing_requests, and rejects them past max_queued_requests with a
BackPressureError. A request's completion is awaited on a shared thread
pool, which frees its replica's slot and sends the next queued request.

Threading: a router's state is guarded by its own lock; the long-poll thread
calls update(); the pool threads call _finish(); callers of remote() call
submit(). No lock is held while calling into the core.
"""
import atexit
import collections
import concurrent.futures
import random
import threading
import time
import uuid

import photon
from photon import exceptions as core_exceptions
from photon.serve._private import constants
from photon.serve.exceptions import (BackPressureError, DeploymentUnavailableError,
                                     RayServeException, RequestCancelledError)

_DIED = (core_exceptions.ActorDiedError, core_exceptions.ActorUnavailableError)
# The longest a router thread stays in one call into the core.
_WAIT_STEP_S = 0.5
# The long-poll thread's step: how soon it notices a new key to listen to.
_POLL_STEP_S = 0.05


class Request:
    """One call through a handle: what to call, and (once sent) where and
    its outcome. `done` holds the value (or the error)."""

    __slots__ = ("method", "args", "kwargs", "model_id", "request_id", "kind", "stream",
                 "done", "sent", "ref", "generator", "replica", "retries", "cancelled",
                 "__weakref__")

    def __init__(self, method, args, kwargs, model_id="", kind="call", stream=False,
                 request_id=None):
        self.method = method
        self.args = args
        self.kwargs = kwargs
        self.model_id = model_id
        self.request_id = request_id or str(uuid.uuid4())
        self.kind = kind  # "call" (a handle call) or "http" (from the proxy)
        self.stream = stream
        self.done = concurrent.futures.Future()
        self.sent = threading.Event()
        self.ref = None
        self.generator = None
        self.replica = None
        self.retries = 0
        self.cancelled = False

    def meta(self):
        return (self.method, self.model_id, self.request_id)


class _Replica:
    __slots__ = ("replica_id", "actor", "max_ongoing", "inflight", "models")

    def __init__(self, replica_id, actor, max_ongoing):
        self.replica_id = replica_id
        self.actor = actor
        self.max_ongoing = max_ongoing
        self.inflight = 0
        self.models = set()


class DeploymentRouter:
    def __init__(self, app_name, deployment_name, process):
        self.app_name = app_name
        self.deployment_name = deployment_name
        self._process = process
        self._lock = threading.Lock()
        self._replicas = []  # guarded by _lock
        self._queue = collections.deque()  # guarded by _lock
        self._max_queued = constants.DEFAULT_MAX_QUEUED_REQUESTS
        self._status = None
        self._exists = True
        self.autoscaling = None  # {"metrics_interval_s", "look_back_period_s"} or None
        self.handle_id = uuid.uuid4().hex[:12]
        self._samples = collections.deque()  # (time, queued + in flight), for autoscaling
        self._last_push = 0.0

    # -- state from the controller ------------------------------------------
    def update(self, info):
        """The controller's view: {"replicas": [(id, actor, max_ongoing)],
        "max_queued_requests", "status", "autoscaling"}, or None if the
        deployment does not exist (any more)."""
        to_send = []
        failed = []
        with self._lock:
            if info is None:
                self._exists = False
                self._replicas = []
                failed = list(self._queue)
                self._queue.clear()
            else:
                self._exists = True
                old = {r.replica_id: r for r in self._replicas}
                replicas = []
                for replica_id, actor, max_ongoing in info["replicas"]:
                    r = old.get(replica_id)
                    if r is None:
                        r = _Replica(replica_id, actor, max_ongoing)
                    r.max_ongoing = max_ongoing
                    replicas.append(r)
                self._replicas = replicas
                self._max_queued = info.get("max_queued_requests", -1)
                self._status = info.get("status")
                self.autoscaling = info.get("autoscaling")
                if self._status == "DEPLOY_FAILED" and not replicas:
                    failed = list(self._queue)
                    self._queue.clear()
                to_send = self._dispatch_locked()
        for r, req in to_send:
            self._send(r, req)
        for req in failed:
            self._fail(req, self._unavailable())

    def _unavailable(self):
        if not self._exists:
            return RayServeException(f"Deployment '{self.deployment_name}' in application "
                                     f"'{self.app_name}' does not exist (any more).")
        return DeploymentUnavailableError(
            f"Deployment(name='{self.deployment_name}', app='{self.app_name}')")

    # -- sending ---------------------------------------------------------------
    def _choose_locked(self, req):
        free = [r for r in self._replicas if r.inflight < r.max_ongoing]
        if not free:
            return None
        if req.model_id:
            warm = [r for r in free if req.model_id in r.models]
            if warm:
                free = warm
        if len(free) == 1:
            return free[0]
        a, b = random.sample(free, 2)
        return a if a.inflight <= b.inflight else b

    def _dispatch_locked(self):
        out = []
        while self._queue:
            req = self._queue[0]
            if req.cancelled:
                self._queue.popleft()
                continue
            r = self._choose_locked(req)
            if r is None:
                break
            self._queue.popleft()
            r.inflight += 1
            out.append((r, req))
        return out

    def submit(self, req):
        """Sends `req` to a replica now, or queues it; raises
        BackPressureError if the queue is full."""
        with self._lock:
            if not self._exists:
                raise self._unavailable()
            if self._status == "DEPLOY_FAILED" and not self._replicas:
                raise self._unavailable()
            r = self._choose_locked(req) if not self._queue else None
            if r is None:
                if self._max_queued != -1 and len(self._queue) >= self._max_queued:
                    raise BackPressureError(len(self._queue), self._max_queued)
                self._queue.append(req)
                no_replicas = not self._replicas
            else:
                r.inflight += 1
        if r is not None:
            self._send(r, req)
        elif no_replicas and self.autoscaling is not None:
            self.push_metrics(force=True)  # scale up from zero at once

    def _send(self, r, req):
        req.replica = r
        actor = r.actor
        try:
            if req.stream:
                gen = actor.handle_request_streaming.options(num_returns="streaming").remote(
                    req.meta(), *req.args, **req.kwargs)
                req.generator = gen
                req.ref = gen.completed()
            elif req.kind == "http":
                req.ref = actor.handle_http.remote(req.meta(), *req.args)
            else:
                req.ref = actor.handle_request.remote(req.meta(), *req.args, **req.kwargs)
        except _DIED as e:
            self._process.pool.submit(self._finish, r, req, None, e)
            return
        except BaseException as e:  # noqa: BLE001 - e.g. an argument that does not pickle
            self._release(r)
            self._fail(req, e)
            return
        req.sent.set()
        self._process.pool.submit(self._await, r, req)

    def _await(self, r, req):
        try:
            if req.stream:
                done = self._process.wait_ready(req.ref)
                value = None
            else:
                done, value = self._process.get_bounded(req.ref)
            if not done:
                self._finish(r, req, None, RayServeException(
                    "Serve was shut down (or this process disconnected) before request "
                    f"{req.request_id} finished."))
            else:
                self._finish(r, req, value, None)
        except BaseException as e:  # noqa: BLE001 - delivered to the caller
            self._finish(r, req, None, e)

    def _release(self, r):
        with self._lock:
            r.inflight -= 1
            to_send = self._dispatch_locked()
        for nr, nreq in to_send:
            self._send(nr, nreq)

    def _finish(self, r, req, value, error):
        died = isinstance(error, _DIED) and not req.stream
        with self._lock:
            r.inflight -= 1
            if died and r in self._replicas:
                self._replicas.remove(r)  # the controller replaces it; stop using it now
            elif error is None and req.model_id:
                r.models.add(req.model_id)
            to_send = self._dispatch_locked()
        for nr, nreq in to_send:
            self._send(nr, nreq)
        if died and req.retries < constants.MAX_REPLICA_DEATH_RETRIES and not req.cancelled:
            req.retries += 1
            req.sent.clear()
            try:
                self.submit(req)
            except BaseException as e:  # noqa: BLE001
                self._fail(req, e)
            return
        if req.stream:
            if error is not None:
                req.sent.set()
            return
        if error is not None and req.cancelled:
            error = RequestCancelledError(req.request_id)
        if error is not None:
            self._fail(req, error)
        elif not req.done.done():
            req.done.set_result(value)

    def _fail(self, req, error):
        req.sent.set()
        if not req.done.done():
            req.done.set_exception(error)

    def cancel(self, req):
        """Cancels a queued request, or asks the core to cancel a sent one."""
        req.cancelled = True
        with self._lock:
            queued = req in self._queue
            if queued:
                self._queue.remove(req)
        if queued:
            self._fail(req, RequestCancelledError(req.request_id))
        elif req.ref is not None:
            try:
                photon.cancel(req.ref)
            except Exception:  # noqa: BLE001 - already finished
                pass

    # -- autoscaling metrics ---------------------------------------------------
    def load(self):
        with self._lock:
            return len(self._queue) + sum(r.inflight for r in self._replicas)

    def sample(self, now):
        self._samples.append((now, self.load()))
        cfg = self.autoscaling
        if cfg is not None and now - self._last_push >= cfg["metrics_interval_s"]:
            self.push_metrics()

    def push_metrics(self, force=False):
        now = time.time()
        cfg = self.autoscaling or {}
        window = cfg.get("metrics_interval_s", 1.0)
        while self._samples and self._samples[0][0] < now - window:
            self._samples.popleft()
        values = [v for _, v in self._samples] or [self.load()]
        value = max(values[-1], 1) if force else sum(values) / len(values)
        self._last_push = now
        try:
            self._process.controller.record_handle_metrics.remote(
                self.handle_id, self.app_name, self.deployment_name, value, now)
        except Exception:  # noqa: BLE001 - the controller is gone (serve shut down)
            pass


class ProcessRouters:
    """This process's routers, long-poll client and waiting pool, for one
    Serve controller."""

    def __init__(self, controller):
        self.controller = controller
        self.pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=512, thread_name_prefix="serve-request")
        self._lock = threading.Lock()
        self._routers = {}  # (app, deployment) -> DeploymentRouter; guarded by _lock
        self._listeners = {}  # long-poll key -> (version, callback); guarded by _lock
        self._stopped = False
        self._connection = _connection_id()
        self._new_keys = threading.Event()
        self._poller = None
        self._sampler = None

    def usable(self):
        """False once Serve stopped or this process reconnected (shutdown and
        init again: the routers belong to the old connection)."""
        if self._stopped:
            return False
        if self._connection != _connection_id():
            self._stopped = True
            return False
        return True

    def existing(self, app_name, deployment_name):
        """The router of a deployment if this process made it already."""
        with self._lock:
            return self._routers.get((app_name, deployment_name))

    def router(self, app_name, deployment_name):
        key = (app_name, deployment_name)
        with self._lock:
            r = self._routers.get(key)
            if r is not None:
                return r
        r = DeploymentRouter(app_name, deployment_name, self)
        poll_key = f"replicas:{app_name}#{deployment_name}"
        version, value = photon.get(self.controller.get_long_poll_value.remote(poll_key))
        r.update(value)
        with self._lock:
            if key in self._routers:
                return self._routers[key]
            self._routers[key] = r
        self.listen(poll_key, version, r.update)
        return r

    def listen(self, key, version, callback):
        """Calls callback(value) each time the controller's `key` changes."""
        with self._lock:
            self._listeners[key] = (version, callback)
            self._new_keys.set()
            if self._poller is None:
                self._poller = threading.Thread(target=self._poll, daemon=True,
                                                name="serve-long-poll")
                self._poller.start()
                self._sampler = threading.Thread(target=self._sample, daemon=True,
                                                 name="serve-metrics")
                self._sampler.start()

    def wait_ready(self, ref, step_s=_WAIT_STEP_S, abandon=None):
        """Waits for `ref` in bounded steps (a thread blocked in the core when
        the interpreter exits would abort it); False if Serve stopped or this
        process disconnected first, or abandon() became true."""
        while True:
            if self._stopped or not photon.is_initialized():
                return False
            if abandon is not None and abandon():
                return False
            done, _ = photon.wait([ref], num_returns=1, timeout=step_s, fetch_local=False)
            if done:
                return True

    def get_bounded(self, ref):
        """(True, value) of `ref`, fetched in bounded steps as wait_ready
        waits (one call into the core when the value is there in time);
        (False, None) if Serve stopped or this process disconnected first."""
        while True:
            if self._stopped or not photon.is_initialized():
                return False, None
            try:
                return True, photon.get(ref, timeout=_WAIT_STEP_S)
            except core_exceptions.GetTimeoutError as e:
                if isinstance(e, core_exceptions.RayTaskError):
                    raise  # the call itself raised a timeout: its answer
                continue

    def _poll(self):
        while not self._stopped:
            with self._lock:
                snapshot = {k: v for k, (v, _) in self._listeners.items()}
            try:
                self._new_keys.clear()
                ref = self.controller.listen_for_change.remote(snapshot)
                # A key added meanwhile (a new router) is not in this call's
                # snapshot: start another call at once rather than after it.
                if not self.wait_ready(ref, _POLL_STEP_S, self._new_keys.is_set):
                    if self._stopped or not photon.is_initialized():
                        self._stopped = True
                        return
                    continue
                changes = photon.get(ref)
            except Exception:  # noqa: BLE001 - the controller is gone or restarting
                if self._stopped or not photon.is_initialized() or self._controller_replaced():
                    self._stopped = True
                    return
                time.sleep(0.5)
                continue
            for key, (version, value) in changes.items():
                with self._lock:
                    entry = self._listeners.get(key)
                    if entry is None:
                        continue
                    self._listeners[key] = (version, entry[1])
                try:
                    entry[1](value)
                except Exception:  # noqa: BLE001 - keep polling
                    pass

    def _controller_replaced(self):
        """Whether Serve was shut down (or restarted) by another process."""
        try:
            current = photon.get_actor(constants.CONTROLLER_NAME,
                                       namespace=constants.SERVE_NAMESPACE)
        except ValueError:
            return True
        except Exception:  # noqa: BLE001 - cannot tell: keep trying
            return False
        return current._actor_id != self.controller._actor_id

    def _sample(self):
        while not self._stopped and photon.is_initialized():
            time.sleep(constants.HANDLE_METRICS_SAMPLE_S)
            now = time.time()
            with self._lock:
                routers = list(self._routers.values())
            for r in routers:
                if r.autoscaling is not None:
                    r.sample(now)

    def stop(self):
        self._stopped = True
        self.pool.shutdown(wait=False)
        for t in (self._poller, self._sampler):
            if t is not None and t is not threading.current_thread():
                t.join(2 * _WAIT_STEP_S + 1)


def _stop_at_exit():
    """Takes this process's router threads out of the core before the
    interpreter exits (a daemon thread blocked in the core while Python
    finalizes would abort the process). Registered with threading's exit
    hooks, which run before concurrent.futures joins its pool threads."""
    with _process_lock:
        process = _process
    if process is not None:
        process.stop()


_register_exit = getattr(threading, "_register_atexit", None) or atexit.register
_register_exit(_stop_at_exit)

_process_lock = threading.Lock()
_process = None  # ProcessRouters of the current controller; guarded by _process_lock


def get_controller():
    """The Serve controller's actor handle; RayServeException if Serve is not
    running."""
    try:
        return photon.get_actor(constants.CONTROLLER_NAME, namespace=constants.SERVE_NAMESPACE)
    except ValueError:
        raise RayServeException("There is no Serve instance running on this cluster: "
                                "call serve.start() or serve.run() first.") from None


def _connection_id():
    """Which connection to a cluster this process has now (a new init, even
    of the same cluster, is a new job)."""
    return photon.get_runtime_context().get_job_id() if photon.is_initialized() else None


def process_routers(controller=None):
    global _process
    with _process_lock:
        if _process is not None and _process.usable():
            return _process
    controller = controller or get_controller()
    with _process_lock:
        if _process is None or not _process.usable():
            if _process is not None:
                _process._stopped = True
            _process = ProcessRouters(controller)
        return _process


def reset():
    """Forgets this process's routers (Serve was shut down)."""
    global _process
    with _process_lock:
        if _process is not None:
            _process.stop()
        _process = None
