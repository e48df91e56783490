"""serve.start/run/status/delete/shutdown and the handle getters: the
driver's side of Serve, talking to the detached controller."""
import asyncio
import copyreg
import dataclasses
import importlib
import inspect
import sys
import time
from typing import Optional

import cloudpickle

import photon
from photon.serve._private import constants
from photon.serve._private import router as _router
from photon.serve._private.controller import ServeController
from photon.serve.config import HTTPOptions, ProxyLocation, gRPCOptions
from photon.serve import context
from photon.serve.context import get_replica_context  # noqa: F401 - re-exported
from photon.serve.deployment import (DEFAULT, Application, Deployment, build_application,
                                     validate_route_prefix)
from photon.serve.exceptions import RayServeException
from photon.serve.handle import DeploymentHandle
from photon.serve.schema import ServeDeploySchema, ServeStatus

_ControllerActor = photon.remote(ServeController)
# How long serve.run waits for an application to be RUNNING.
_DEPLOY_TIMEOUT_S = 600.0


def _connect():
    if not photon.is_initialized():
        photon.init()


def _existing_controller():
    try:
        return photon.get_actor(constants.CONTROLLER_NAME, namespace=constants.SERVE_NAMESPACE)
    except ValueError:
        return None


def _get_or_create_controller(http_options=None, proxy_location=None):
    _connect()
    controller = _existing_controller()
    if controller is None:
        controller = _ControllerActor.options(
            name=constants.CONTROLLER_NAME, namespace=constants.SERVE_NAMESPACE,
            lifetime="detached", num_cpus=0, max_restarts=0, max_concurrency=10000,
            get_if_exists=True).remote()
    options = HTTPOptions.coerce(http_options)
    location = proxy_location if proxy_location is not None else options.location
    location = ProxyLocation(getattr(location, "value", location))
    if location != ProxyLocation.Disabled:
        photon.get(controller.start_proxy.remote(options.dict()))
    return controller


def start(proxy_location=None, http_options=None, grpc_options=None, logging_config=None,
          tracing_config=None, controller_options=None, detached=True, **kwargs):
    """Starts Serve on the cluster (the controller and the HTTP proxy) if it
    is not running; returns at once if it is."""
    if kwargs:
        raise TypeError(f"serve.start() got unexpected argument(s) {sorted(kwargs)}")
    if grpc_options is not None and not isinstance(grpc_options, gRPCOptions):
        gRPCOptions(**dict(grpc_options))
    _get_or_create_controller(http_options, proxy_location)


def _make_handle(deployment_name, app_name):
    return DeploymentHandle(deployment_name, app_name)


def _deploy(target, name, route_prefix, controller):
    if not isinstance(name, str) or not name:
        raise RayServeException("Application name must a non-empty string.")
    if route_prefix is DEFAULT:
        own = target.deployment._options.get("route_prefix", DEFAULT)
        route_prefix = "/" if own is DEFAULT else own
    validate_route_prefix(route_prefix)
    specs = build_application(target, name, _make_handle)
    photon.get(controller.deploy_application.remote(name, route_prefix, specs))
    return specs[0]["name"]


def _wait_running(controller, name):
    status, message = photon.get(controller.wait_for_application.remote(name,
                                                                        _DEPLOY_TIMEOUT_S))
    if status == "DEPLOY_FAILED":
        raise RuntimeError(f"Deploying application {name} failed: {message}")
    if status not in ("RUNNING", "UNHEALTHY"):
        raise RuntimeError(f"Application {name} did not become RUNNING within "
                           f"{_DEPLOY_TIMEOUT_S}s (its status is {status}).")


def _check_target(target):
    if isinstance(target, Deployment):
        raise TypeError(f"serve.run expects an Application (a bound deployment): call "
                        f"{target.name}.bind() first")
    if not isinstance(target, Application):
        raise TypeError(f"Expected an Application (the result of Deployment.bind()), got "
                        f"{type(target).__name__}")


def _block_forever():
    try:
        while True:
            time.sleep(10)
    except KeyboardInterrupt:
        pass


def run(target, blocking=False, name=constants.DEFAULT_APP_NAME, route_prefix=DEFAULT,
        logging_config=None, _local_testing_mode=False, external_scaler_enabled=False,
        controller_options=None, **kwargs):
    """Deploys `target` (a bound deployment) as application `name`, waits
    until it is RUNNING, and returns a DeploymentHandle to its ingress."""
    if kwargs:
        raise TypeError(f"serve.run() got unexpected argument(s) {sorted(kwargs)}")
    _check_target(target)
    controller = _get_or_create_controller()
    ingress = _deploy(target, name, route_prefix, controller)
    _wait_running(controller, name)
    handle = DeploymentHandle(ingress, name)
    if blocking:
        _block_forever()
    return handle


@dataclasses.dataclass(frozen=True)
class RunTarget:
    """One application of serve.run_many."""
    target: Application
    name: str = constants.DEFAULT_APP_NAME
    route_prefix: Optional[str] = "/"
    logging_config: Optional[dict] = None
    external_scaler_enabled: bool = False


def run_many(targets, blocking=False, wait_for_ingress_deployment_creation=True,
             wait_for_applications_running=True, _local_testing_mode=False,
             controller_options=None):
    """Deploys several applications at once; returns their ingress handles."""
    targets = list(targets)
    for t in targets:
        if not isinstance(t, RunTarget):
            raise TypeError(f"serve.run_many expects RunTarget objects, got "
                            f"{type(t).__name__}")
        _check_target(t.target)
    controller = _get_or_create_controller()
    handles = [DeploymentHandle(_deploy(t.target, t.name, t.route_prefix, controller), t.name)
               for t in targets]
    if wait_for_applications_running:
        for t in targets:
            _wait_running(controller, t.name)
    if blocking:
        _block_forever()
    return handles


def _controller_or_raise():
    _connect()
    controller = _existing_controller()
    if controller is None:
        raise RayServeException("There is no Serve instance running on this cluster: call "
                                "serve.start() or serve.run() first.")
    return controller


def status():
    """The state of every application and deployment (a ServeStatus)."""
    _connect()
    controller = _existing_controller()
    if controller is None:
        return ServeStatus()
    return ServeStatus.from_controller(photon.get(controller.get_serve_status.remote()))


def delete(name, _blocking=True):
    """Deletes application `name` (its replicas finish their requests and
    stop); waits until it is gone."""
    controller = _existing_controller() if photon.is_initialized() else None
    if controller is None:
        _connect()
        controller = _existing_controller()
        if controller is None:
            return
    photon.get(controller.delete_application.remote(name))
    if _blocking:
        photon.get(controller.wait_for_deleted.remote([name], _DEPLOY_TIMEOUT_S))


def shutdown():
    """Deletes every application and stops Serve (controller and proxy)."""
    if not photon.is_initialized():
        return
    controller = _existing_controller()
    if controller is None:
        _router.reset()
        return
    try:
        photon.get(controller.graceful_shutdown.remote())
    except Exception:  # noqa: BLE001 - the controller died: kill what is left
        pass
    try:
        photon.kill(controller)
    except Exception:  # noqa: BLE001
        pass
    _router.reset()
    # Wait until the name is free, so that a serve.start() right after works.
    deadline = time.monotonic() + 10
    while _existing_controller() is not None and time.monotonic() < deadline:
        time.sleep(0.05)


async def shutdown_async():
    """serve.shutdown() for a caller on an event loop."""
    await asyncio.get_running_loop().run_in_executor(None, shutdown)


def get_app_handle(name):
    """A handle to application `name`'s ingress deployment."""
    controller = _controller_or_raise()
    ingress = photon.get(controller.get_ingress.remote(name))
    if ingress is None:
        raise RayServeException(f"Application '{name}' does not exist.")
    return DeploymentHandle(ingress[0], name)


def get_deployment_handle(deployment_name, app_name=None, _check_exists=True,
                          _record_telemetry=True):
    """A handle to deployment `deployment_name` of application `app_name`
    (inside a replica, its own application by default)."""
    if app_name is None:
        ctx = context.get_internal_replica_context()
        if ctx is None:
            raise RayServeException("Please specify an application name when getting a "
                                    "deployment handle outside of a Serve application.")
        app_name = ctx.app_name
    if _check_exists:
        controller = _controller_or_raise()
        raw = photon.get(controller.get_serve_status.remote())
        app = raw["applications"].get(app_name)
        if app is None or deployment_name not in app["deployments"]:
            raise KeyError(f"Deployment(name='{deployment_name}', app='{app_name}') does not "
                           "exist.")
    return DeploymentHandle(deployment_name, app_name)


def ingress(app):
    """@serve.ingress(fastapi_app) on a deployment class: the class serves
    `app`'s routes (its methods may be routes) over HTTP."""
    def decorate(cls):
        if not inspect.isclass(cls):
            raise ValueError("@serve.ingress must be used with a class.")
        if isinstance(cls, Deployment):
            raise ValueError("@serve.ingress must be applied before @serve.deployment "
                             "(put @serve.deployment on top).")
        if not callable(app):
            raise TypeError(f"@serve.ingress expects an ASGI app (e.g. FastAPI()), got "
                            f"{type(app).__name__}")
        _make_asgi_app_picklable()
        cls._serve_asgi_app = app
        return cls
    return decorate


def _reduce_state(state):
    return type(state), (dict(state._state),)


def _make_asgi_app_picklable():
    """Starlette's State (app.state) loops forever when unpickled (its
    __getattr__ reads its own dict before it exists): pickle it by its dict."""
    try:
        from starlette.datastructures import State
    except ImportError:
        return
    copyreg.pickle(State, _reduce_state)


# -- applications from import paths and config files -------------------------
def import_attr(import_path):
    """The object at 'module:attr' or 'module.attr' (the current directory
    is importable, as for `serve run`)."""
    if not isinstance(import_path, str) or not import_path:
        raise ValueError(f"import_path must be 'module:attribute', got {import_path!r}")
    if ":" in import_path:
        module_name, _, attr = import_path.partition(":")
    else:
        module_name, _, attr = import_path.rpartition(".")
    if not module_name or not attr:
        raise ValueError(f"import_path must be 'module:attribute', got '{import_path}'")
    if "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, "")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise ImportError(f"Failed to import module '{module_name}' of import_path "
                          f"'{import_path}': {e}") from None
    # Replicas may not see this module's folder: send its code with it.
    if getattr(module, "__file__", None) and not module_name.startswith("photon."):
        try:
            cloudpickle.register_pickle_by_value(module)
        except (ValueError, TypeError):
            pass
    obj = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise AttributeError(f"Module '{module_name}' has no attribute '{attr}' (from "
                                 f"import_path '{import_path}')") from None
    return obj


def build_app_from_import_path(import_path, args=None):
    """The Application an import path names: an Application, a Deployment
    (bound with no arguments), or a builder function called with `args`."""
    obj = import_attr(import_path)
    if isinstance(obj, Application):
        if args:
            raise ValueError(f"args were given, but '{import_path}' is an Application, not an "
                             "application builder function")
        return obj
    if isinstance(obj, Deployment):
        return obj.bind()
    if callable(obj):
        app = obj(dict(args or {}))
        if not isinstance(app, Application):
            raise TypeError(f"The application builder '{import_path}' returned "
                            f"{type(app).__name__}, not an Application")
        return app
    raise TypeError(f"'{import_path}' is a {type(obj).__name__}, not an Application, a "
                    "Deployment or an application builder")


def _applications(app):
    """Every bound deployment of an application graph (each once): `app` and
    those among its arguments, nested in lists, tuples and dicts."""
    seen, stack = {}, [app]
    while stack:
        node = stack.pop()
        if isinstance(node, Application):
            if id(node) not in seen:
                seen[id(node)] = node
                stack.extend(list(node._args) + list(node._kwargs.values()))
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
        elif isinstance(node, dict):
            stack.extend(node.values())
    return list(seen.values())


def apply_overrides(app, overrides):
    """Applies the config's per-deployment options to the deployments of
    `app` (a name that is not in the app is an error)."""
    by_name = {}
    for node in _applications(app):
        by_name.setdefault(node.deployment.name, []).append(node)
    for d in overrides:
        nodes = by_name.get(d.name)
        if not nodes:
            raise ValueError(f"The config names deployment '{d.name}', but the application "
                             f"has only {sorted(by_name)}.")
        for node in nodes:
            node._deployment = node.deployment.options(**d.options)
    return app


def _inherit_runtime_env(app, runtime_env):
    """Gives the application's runtime_env to its deployments that set none
    (as Ray Serve does for a config's applications)."""
    if not runtime_env:
        return app
    for node in _applications(app):
        rao = dict(node.deployment.ray_actor_options or {})
        if "runtime_env" not in rao:
            rao["runtime_env"] = dict(runtime_env)
            node._deployment = node.deployment.options(ray_actor_options=rao)
    return app


def deploy_app_config(app_cfg, controller=None):
    """Builds one application of a config (its import path, args and
    deployment overrides) and deploys it; returns its name."""
    controller = controller or _controller_or_raise()
    app = build_app_from_import_path(app_cfg.import_path, app_cfg.args)
    apply_overrides(app, app_cfg.deployments)
    _inherit_runtime_env(app, app_cfg.runtime_env)
    _deploy(app, app_cfg.name, app_cfg.route_prefix, controller)
    return app_cfg.name


@photon.remote(num_cpus=0, max_retries=0)
def _deploy_app_task(app_cfg):
    return deploy_app_config(app_cfg)


def deploy_config(config, in_tasks=False):
    """Deploys every application of a ServeDeploySchema (or its dict) and
    deletes the running ones it does not name; does not wait for them to be
    RUNNING (as `serve deploy`). With in_tasks, each application is built
    in a task with its runtime_env (the dashboard's PUT)."""
    if not isinstance(config, ServeDeploySchema):
        config = ServeDeploySchema.parse(config)
    controller = _get_or_create_controller(config.http_options, config.proxy_location)
    for app_cfg in config.applications:
        if in_tasks:
            opts = {"runtime_env": app_cfg.runtime_env} if app_cfg.runtime_env else {}
            photon.get(_deploy_app_task.options(**opts).remote(app_cfg))
        else:
            deploy_app_config(app_cfg, controller)
    wanted = {a.name for a in config.applications}
    for other in photon.get(controller.list_applications.remote()):
        if other not in wanted:
            photon.get(controller.delete_application.remote(other))
    return [a.name for a in config.applications]


def serve_details():
    """The dashboard's view of Serve (Ray's ServeInstanceDetails fields);
    empty when Serve is not running."""
    _connect()
    controller = _existing_controller()
    if controller is None:
        return {"controller_info": {}, "proxy_location": None, "http_options": None,
                "grpc_options": None, "proxies": {}, "applications": {},
                "target_capacity": None}
    return photon.get(controller.get_serve_details.remote(), timeout=30)


def http_address():
    """(host, port) of the running HTTP proxy, or None."""
    controller = _existing_controller() if photon.is_initialized() else None
    if controller is None:
        return None
    info = photon.get(controller.get_http_info.remote())
    return None if info is None else (info["host"], info["port"])
