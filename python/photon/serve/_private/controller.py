"""The Serve controller: a detached async actor that holds the desired state
of every application and reconciles it (deployment_state.py does one
deployment), publishes routing tables by long poll, takes the handles'
autoscaling metrics, and runs the HTTP proxy.

Threading: the actor's methods run on its event loop; the control loop runs
on its own thread ("serve-control-loop") every CONTROL_LOOP_INTERVAL_S.
Both take self._lock around the applications' state; no method of the event
loop blocks on a remote call while holding it.
"""
import asyncio
import sys
import threading
import time
import traceback
import uuid

import photon
from photon.serve._private import constants
from photon.serve._private import deployment_state as ds_mod
from photon.serve._private.long_poll import LongPollHost
from photon.serve._private.proxy import ProxyActor
from photon.serve._private.replica import ServeReplica
from photon.serve.exceptions import RayServeException
from photon.util.placement_group import placement_group, remove_placement_group
from photon.util.scheduling_strategies import (NodeAffinitySchedulingStrategy,
                                               PlacementGroupSchedulingStrategy)

# Application statuses (Ray Serve's names).
A_NOT_STARTED = "NOT_STARTED"
A_DEPLOYING = "DEPLOYING"
A_DEPLOY_FAILED = "DEPLOY_FAILED"
A_RUNNING = "RUNNING"
A_UNHEALTHY = "UNHEALTHY"
A_DELETING = "DELETING"

ROUTES_KEY = "routes"


def replicas_key(app_name, deployment_name):
    return f"replicas:{app_name}#{deployment_name}"


_ReplicaActor = photon.remote(ServeReplica)
_ProxyActor = photon.remote(ProxyActor)


class ReplicaBackend:
    """Replica processes as detached actors (the seam deployment_state.py
    reaches them through)."""

    def __init__(self):
        self._groups = {}  # replica actor id -> its placement group

    @staticmethod
    def new_replica_id():
        return uuid.uuid4().hex[:8]

    def start(self, app_name, deployment_name, replica_id, spec, rank=0, world_size=1):
        cfg = spec["config"]
        rao = dict(cfg["ray_actor_options"] or {})
        opts = {
            "name": ds_mod.replica_actor_name(app_name, deployment_name, replica_id),
            "namespace": constants.SERVE_NAMESPACE,
            "lifetime": "detached",
            "max_restarts": 0,
            "max_concurrency": max(100, 2 * cfg["max_ongoing_requests"] + 16),
            "num_cpus": rao.pop("num_cpus", 1),
        }
        opts.update(rao)
        pg = None
        bundles = cfg.get("placement_group_bundles")
        if bundles:
            pg = placement_group(bundles, strategy=cfg.get("placement_group_strategy") or "PACK")
            opts["scheduling_strategy"] = PlacementGroupSchedulingStrategy(
                pg, placement_group_bundle_index=0, placement_group_capture_child_tasks=True)
        try:
            actor = _ReplicaActor.options(**opts).remote(
                app_name, deployment_name, replica_id, spec["serialized_def"],
                spec["serialized_args"], spec["is_function"], cfg, rank, world_size)
        except BaseException:
            if pg is not None:
                remove_placement_group(pg)
            raise
        if pg is not None:
            self._groups[actor._actor_id] = pg
        init_ref = actor.initialize.remote(cfg.get("user_config"))
        death_ref = actor.wait_until_dead.remote()
        return actor, actor, init_ref, death_ref

    @staticmethod
    def ready(ref):
        if ref is None:
            return False
        done, _ = photon.wait([ref], num_returns=1, timeout=0, fetch_local=False)
        return bool(done)

    @staticmethod
    def get(ref):
        return photon.get(ref)

    @staticmethod
    def error_text(error):
        cause = getattr(error, "cause", None)
        if cause is not None and not isinstance(cause, type(error)):
            return f"{type(cause).__name__}: {cause}\n{error}"
        return str(error)

    @staticmethod
    def check_health(actor):
        return actor.check_health.remote()

    @staticmethod
    def reconfigure(actor, user_config, config):
        return actor.reconfigure.remote(user_config, config)

    @staticmethod
    def drain(actor, timeout_s):
        return actor.prepare_for_shutdown.remote(timeout_s)

    def kill(self, actor):
        try:
            photon.kill(actor, no_restart=True)
        except Exception:  # noqa: BLE001 - already dead
            pass
        pg = self._groups.pop(getattr(actor, "_actor_id", None), None)
        if pg is not None:
            try:
                remove_placement_group(pg)
            except Exception:  # noqa: BLE001 - already removed
                pass


class _App:
    def __init__(self, name):
        self.name = name
        self.route_prefix = None
        self.ingress = None
        self.deployments = {}  # name -> DeploymentState
        self.status = A_DEPLOYING
        self.message = ""
        self.deployed_at = time.time()
        self.deleting = False
        self._was_running = False

    def update_status(self):
        if self.deleting:
            self.status = A_DELETING
            return
        statuses = [d.status for d in self.deployments.values()]
        failed = [d for d in self.deployments.values() if d.status == ds_mod.S_DEPLOY_FAILED]
        if failed:
            self.status = A_DEPLOY_FAILED
            self.message = "\n".join(f"Deployment '{d.name}': {d.message}" for d in failed)
        elif ds_mod.S_UNHEALTHY in statuses and self._was_running:
            self.status = A_UNHEALTHY
            self.message = "\n".join(d.message for d in self.deployments.values()
                                     if d.status == ds_mod.S_UNHEALTHY)
        elif ds_mod.S_UPDATING in statuses or ds_mod.S_UNHEALTHY in statuses or \
                (not self._was_running and any(s != ds_mod.S_HEALTHY for s in statuses)):
            self.status = A_DEPLOYING
            self.message = ""
        else:
            self.status = A_RUNNING
            self.message = ""
            self._was_running = True


class ServeController:
    def __init__(self):
        self._lock = threading.RLock()
        self._long_poll = LongPollHost()
        self._backend = ReplicaBackend()
        self._apps = {}  # name -> _App; guarded by _lock
        self._metrics = {}  # (app, deployment) -> {handle_id: [(time, value)]}; _lock
        self._proxy = None
        self._proxy_info = None
        self._http_options = None
        self._stop = threading.Event()
        self._thread = None
        self._long_poll.set(ROUTES_KEY, {})

    # -- the control loop -------------------------------------------------
    def _ensure_running(self):
        self._long_poll.bind(asyncio.get_running_loop())
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, daemon=True,
                                            name="serve-control-loop")
            self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                with self._lock:
                    self._step(time.time())
            except Exception:  # noqa: BLE001 - keep reconciling
                traceback.print_exc(file=sys.stderr)
            self._stop.wait(constants.CONTROL_LOOP_INTERVAL_S)

    def _step(self, now):
        routes_changed = False
        for app in list(self._apps.values()):
            for name, state in list(app.deployments.items()):
                auto = state.autoscaling()
                if auto is not None:
                    samples = self._metrics.setdefault((app.name, name), {})
                    total = ds_mod.total_ongoing_from(samples, now, auto.look_back_period_s)
                    state.autoscale(total, now)
                state.reconcile(now)
                if state.done_deleting():
                    del app.deployments[name]
                    self._metrics.pop((app.name, name), None)
                    self._long_poll.set(replicas_key(app.name, name), None)
                else:
                    self._publish(app.name, state)
            app.update_status()
            if app.deleting and not app.deployments:
                del self._apps[app.name]
                routes_changed = True
        if routes_changed:
            self._publish_routes()

    def _publish(self, app_name, state):
        self._long_poll.set(replicas_key(app_name, state.name), state.routing_info(),
                            compare_key=state.routing_key())

    def _publish_routes(self):
        routes = {app.route_prefix: (app.name, app.ingress) for app in self._apps.values()
                  if app.route_prefix is not None and not app.deleting}
        self._long_poll.set(ROUTES_KEY, routes)

    # -- long poll --------------------------------------------------------------
    async def get_long_poll_value(self, key):
        self._ensure_running()
        return self._long_poll.get(key)

    async def listen_for_change(self, snapshot):
        self._ensure_running()
        return await self._long_poll.listen(snapshot, constants.LONG_POLL_TIMEOUT_S)

    async def record_handle_metrics(self, handle_id, app_name, deployment_name, value,
                                    timestamp):
        self._ensure_running()
        with self._lock:
            samples = self._metrics.setdefault((app_name, deployment_name), {})
            samples.setdefault(handle_id, []).append((time.time(), float(value)))

    # -- applications ------------------------------------------------------------
    async def deploy_application(self, name, route_prefix, specs):
        """Sets the desired state of application `name` (a new one, or a
        redeploy); raises RayServeException on a route prefix another app uses."""
        self._ensure_running()
        now = time.time()
        with self._lock:
            if route_prefix is not None:
                for other in self._apps.values():
                    if other.name != name and other.route_prefix == route_prefix and \
                            not other.deleting:
                        raise RayServeException(f'Prefix {route_prefix} is being used by application '
                                         f'"{other.name}". Failed to deploy application '
                                         f'"{name}".')
            app = self._apps.get(name)
            if app is None or app.deleting:
                if app is not None:  # being deleted: its replicas go, new ones come
                    for state in app.deployments.values():
                        state.stop_all_now()
                        self._long_poll.set(replicas_key(name, state.name), None)
                app = _App(name)
                self._apps[name] = app
            app.deployed_at = now
            app.status = A_DEPLOYING
            app._was_running = False
            wanted = {s["name"] for s in specs}
            for spec in specs:
                state = app.deployments.get(spec["name"])
                if state is None:
                    app.deployments[spec["name"]] = ds_mod.DeploymentState(
                        name, spec["name"], spec, self._backend, now)
                else:
                    state.deploy(spec, now)
            for dname, state in app.deployments.items():
                if dname not in wanted:
                    state.delete()
            app.ingress = specs[0]["name"]
            app.route_prefix = route_prefix
            for state in app.deployments.values():
                self._publish(name, state)
            self._publish_routes()

    async def delete_application(self, name):
        self._ensure_running()
        with self._lock:
            app = self._apps.get(name)
            if app is None:
                return False
            app.deleting = True
            app.status = A_DELETING
            for state in app.deployments.values():
                state.delete()
            self._publish_routes()
        return True

    async def wait_for_application(self, name, timeout_s):
        """Waits until application `name` is RUNNING or failed (or gone);
        returns (status, message)."""
        self._ensure_running()
        deadline = time.monotonic() + timeout_s
        while True:
            with self._lock:
                app = self._apps.get(name)
                status = (app.status, app.message) if app is not None else (A_NOT_STARTED, "")
            if status[0] in (A_RUNNING, A_DEPLOY_FAILED, A_NOT_STARTED, A_UNHEALTHY) or \
                    time.monotonic() >= deadline:
                return status
            await asyncio.sleep(0.02)

    async def wait_for_deleted(self, names, timeout_s):
        self._ensure_running()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if not any(n in self._apps for n in names):
                    return True
            await asyncio.sleep(0.05)
        return False

    async def list_applications(self):
        self._ensure_running()
        with self._lock:
            return list(self._apps)

    async def get_ingress(self, name):
        """(ingress deployment name, route prefix) of application `name`, or
        None."""
        self._ensure_running()
        with self._lock:
            app = self._apps.get(name)
            return None if app is None or app.deleting else (app.ingress, app.route_prefix)

    async def get_serve_status(self):
        self._ensure_running()
        with self._lock:
            apps = {}
            for app in self._apps.values():
                deployments = {}
                for state in app.deployments.values():
                    deployments[state.name] = {
                        "status": state.status,
                        "status_trigger": state.trigger,
                        "message": state.message,
                        "replica_states": state.replica_states(),
                        "target_num_replicas": state.target_num,
                    }
                apps[app.name] = {
                    "status": app.status,
                    "message": app.message,
                    "last_deployed_time_s": app.deployed_at,
                    "route_prefix": app.route_prefix,
                    "ingress": app.ingress,
                    "deployments": deployments,
                }
        proxies = {}
        if self._proxy_info is not None:
            proxies[self._proxy_info["node_id"]] = "HEALTHY"
        return {"applications": apps, "proxies": proxies, "http": self._proxy_info}

    async def get_serve_details(self):
        """Everything the dashboard's Serve API shows (Ray's
        ServeInstanceDetails fields)."""
        self._ensure_running()
        ctx = photon.get_runtime_context()
        with self._lock:
            apps = {}
            for app in self._apps.values():
                ingress = app.deployments.get(app.ingress)
                apps[app.name] = {
                    "name": app.name,
                    "route_prefix": app.route_prefix,
                    "docs_path": ingress.docs_path() if ingress is not None else None,
                    "status": app.status,
                    "message": app.message,
                    "last_deployed_time_s": app.deployed_at,
                    "deployed_app_config": None,
                    "source": "imperative",
                    "deployments": {d.name: d.details() for d in app.deployments.values()},
                }
        proxies = {}
        if self._proxy_info is not None:
            node_id = self._proxy_info["node_id"]
            proxies[node_id] = {"node_id": node_id, "status": "HEALTHY",
                                "actor_name": f"{constants.PROXY_NAME_PREFIX}-{node_id}"}
        return {
            "controller_info": {"node_id": ctx.get_node_id(), "actor_id": ctx.get_actor_id(),
                                "actor_name": constants.CONTROLLER_NAME,
                                "worker_id": ctx.get_worker_id()},
            "proxy_location": "HeadOnly" if self._proxy_info is not None else "Disabled",
            "http_options": self._http_options,
            "grpc_options": None,
            "proxies": proxies,
            "applications": apps,
            "target_capacity": None,
        }

    # -- HTTP proxy --------------------------------------------------------------
    async def start_proxy(self, http_options):
        """Starts the HTTP proxy on this node (once); returns its address."""
        self._ensure_running()
        if self._proxy_info is not None:
            return self._proxy_info
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self._start_proxy, http_options)

    def _start_proxy(self, http_options):
        with self._lock:
            if self._proxy_info is not None:
                return self._proxy_info
            node_id = photon.get_runtime_context().get_node_id()
            proxy = _ProxyActor.options(
                name=f"{constants.PROXY_NAME_PREFIX}-{node_id}",
                namespace=constants.SERVE_NAMESPACE, lifetime="detached", num_cpus=0,
                max_restarts=0, max_concurrency=8,
                scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False),
            ).remote(http_options, node_id)
            try:
                info = photon.get(proxy.ready.remote())
            except Exception as e:  # noqa: BLE001 - e.g. the port is taken
                try:
                    photon.kill(proxy)
                except Exception:  # noqa: BLE001
                    pass
                cause = getattr(e, "cause", None) or e
                raise RuntimeError(
                    f"Failed to start the Serve HTTP proxy on {http_options.get('host')}:"
                    f"{http_options.get('port')}: {cause}") from None
            self._proxy = proxy
            self._http_options = http_options
            self._proxy_info = info
            return info

    async def get_http_info(self):
        return self._proxy_info

    # -- shutdown ------------------------------------------------------------------
    async def graceful_shutdown(self, timeout_s=30.0):
        """Deletes every application (replicas drain), stops the proxy."""
        self._ensure_running()
        with self._lock:
            names = list(self._apps)
        for name in names:
            await self.delete_application(name)
        await self.wait_for_deleted(names, timeout_s)
        with self._lock:
            for app in self._apps.values():
                for state in app.deployments.values():
                    state.stop_all_now()
            self._apps.clear()
            self._stop.set()
            proxy, self._proxy, self._proxy_info = self._proxy, None, None
        if proxy is not None:
            loop = asyncio.get_running_loop()
            try:
                await loop.run_in_executor(None, photon.get, proxy.shutdown.remote())
            except Exception:  # noqa: BLE001 - already gone
                pass
            try:
                photon.kill(proxy)
            except Exception:  # noqa: BLE001
                pass
        return True
