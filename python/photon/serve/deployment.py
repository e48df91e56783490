"""Deployment (a class or function Serve runs as replicas) and Application
(a deployment bound to its constructor arguments, possibly other
applications), with Ray Serve's options and checks."""
import hashlib
import json
import inspect

import cloudpickle

from photon.serve._private import constants
from photon.serve.config import AutoscalingConfig


class _Default:
    """The value of an option the user did not set."""

    def __repr__(self):
        return "DEFAULT"

    def __reduce__(self):
        return (_default, ())


def _default():
    return DEFAULT


DEFAULT = _Default()

# Every option of @serve.deployment / .options(), with its default.
_OPTION_DEFAULTS = {
    "name": None,
    "version": None,
    "num_replicas": 1,
    "route_prefix": None,
    "ray_actor_options": None,
    "placement_group_bundles": None,
    "placement_group_strategy": None,
    "max_replicas_per_node": None,
    "user_config": None,
    "max_ongoing_requests": constants.DEFAULT_MAX_ONGOING_REQUESTS,
    "max_queued_requests": constants.DEFAULT_MAX_QUEUED_REQUESTS,
    "autoscaling_config": None,
    "graceful_shutdown_wait_loop_s": constants.DEFAULT_GRACEFUL_SHUTDOWN_WAIT_LOOP_S,
    "graceful_shutdown_timeout_s": constants.DEFAULT_GRACEFUL_SHUTDOWN_TIMEOUT_S,
    "health_check_period_s": constants.DEFAULT_HEALTH_CHECK_PERIOD_S,
    "health_check_timeout_s": constants.DEFAULT_HEALTH_CHECK_TIMEOUT_S,
    "logging_config": None,
    "request_router_config": None,
}
_ACTOR_OPTIONS = {"num_cpus", "num_gpus", "memory", "resources", "accelerator_type",
                  "runtime_env", "scheduling_strategy", "object_store_memory", "label_selector"}


class OptionTypeError(TypeError, ValueError):
    """An option of the wrong type. Both a TypeError and a ValueError: Ray
    Serve raises pydantic's ValidationError (a ValueError) here."""


def _check_options(opts):
    """Raises a clear TypeError/ValueError for a bad option; normalizes them."""
    unknown = set(opts) - set(_OPTION_DEFAULTS)
    if unknown:
        raise TypeError(f"unknown deployment option(s) {sorted(unknown)}; the options are "
                        f"{sorted(_OPTION_DEFAULTS)}")
    out = dict(opts)
    name = out.get("name", DEFAULT)
    if name is not DEFAULT and name is not None:
        if not isinstance(name, str) or not name:
            raise OptionTypeError(f"deployment name must be a non-empty string, got {name!r}")
        if "#" in name:
            raise ValueError(f"Deployment names must not contain the '#' character, "
                             f"got '{name}'.")
    n = out.get("num_replicas", DEFAULT)
    if n is not DEFAULT and n is not None and n != "auto":
        if isinstance(n, bool) or not isinstance(n, int):
            raise OptionTypeError(f"num_replicas must be an integer or \"auto\", got {n!r}")
        if n < 1:
            raise ValueError(f"num_replicas must be > 0 (scale to zero with "
                             f"autoscaling_config min_replicas=0), got {n}")
    for key in ("max_ongoing_requests",):
        v = out.get(key, DEFAULT)
        if v is not DEFAULT and v is not None:
            if isinstance(v, bool) or not isinstance(v, int):
                raise OptionTypeError(f"{key} must be an integer, got {v!r}")
            if v <= 0:
                raise ValueError(f"{key} must be > 0, got {v}")
    v = out.get("max_queued_requests", DEFAULT)
    if v is not DEFAULT and v is not None:
        if isinstance(v, bool) or not isinstance(v, int):
            raise OptionTypeError("max_queued_requests must be an integer.")
        if v < 1 and v != -1:
            raise ValueError("max_queued_requests must be -1 (no limit) or a positive "
                             f"integer, got {v}")
    for key in ("health_check_period_s", "health_check_timeout_s",
                "graceful_shutdown_timeout_s", "graceful_shutdown_wait_loop_s"):
        v = out.get(key, DEFAULT)
        if v is not DEFAULT and v is not None:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise OptionTypeError(f"{key} must be a number, got {v!r}")
            if v < 0 or (v == 0 and key.startswith("health")):
                raise ValueError(f"{key} must be {'> 0' if key.startswith('health') else '>= 0'}"
                                 f", got {v}")
    ac = out.get("autoscaling_config", DEFAULT)
    if ac is not DEFAULT and ac is not None:
        out["autoscaling_config"] = AutoscalingConfig.coerce(ac)
        if n not in (DEFAULT, None, "auto"):
            raise ValueError("Manually setting num_replicas is not allowed when "
                             "autoscaling_config is provided.")
    rao = out.get("ray_actor_options", DEFAULT)
    if rao is not DEFAULT and rao is not None:
        if not isinstance(rao, dict):
            raise OptionTypeError(f"ray_actor_options must be a dict, got {type(rao).__name__}")
        bad = set(rao) - _ACTOR_OPTIONS
        if bad:
            raise ValueError(f"ray_actor_options does not accept {sorted(bad)}; it accepts "
                             f"{sorted(_ACTOR_OPTIONS)}")
        for key in ("num_cpus", "num_gpus", "memory"):
            v = rao.get(key)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))
                                  or v < 0):
                raise ValueError(f"ray_actor_options {key} must be a number >= 0, got {v!r}")
    uc = out.get("user_config", DEFAULT)
    if uc is not DEFAULT and uc is not None:
        try:
            json.dumps(uc)
        except (TypeError, ValueError) as e:
            raise ValueError(f"user_config is not JSON-serializable: {e}.") from None
    rp = out.get("route_prefix", DEFAULT)
    if rp is not DEFAULT and rp is not None:
        validate_route_prefix(rp)
    return out


def validate_route_prefix(route_prefix):
    """Ray Serve's rules for a route prefix (None: not served over HTTP)."""
    if route_prefix is None or route_prefix is DEFAULT:
        return
    if not isinstance(route_prefix, str):
        raise OptionTypeError(f"route_prefix must be a string or None, got {route_prefix!r}")
    if not route_prefix.startswith("/"):
        raise ValueError(f"Invalid route_prefix '{route_prefix}', "
                         "must start with a forward slash ('/').")
    if route_prefix != "/" and route_prefix.endswith("/"):
        raise ValueError(f"Invalid route_prefix '{route_prefix}', "
                         "may not end with a trailing '/'.")
    if "{" in route_prefix or "}" in route_prefix:
        raise ValueError(f"Invalid route_prefix '{route_prefix}', may not contain wildcards.")


class Deployment:
    """A class or function with its deployment options; `.bind(...)` makes it
    an Application, `.options(...)` a copy with other options."""

    def __init__(self, func_or_class, options):
        self._func_or_class = func_or_class
        self._options = dict(options)  # only what the user set
        if self._options.get("name") in (None, DEFAULT):
            self._options["name"] = func_or_class.__name__

    # The effective value of each option.
    def _get(self, key):
        v = self._options.get(key, DEFAULT)
        return _OPTION_DEFAULTS[key] if v is DEFAULT else v

    @property
    def name(self):
        return self._options["name"]

    @property
    def func_or_class(self):
        return self._func_or_class

    @property
    def version(self):
        return self._get("version")

    @property
    def num_replicas(self):
        return self._get("num_replicas")

    @property
    def max_ongoing_requests(self):
        return self._get("max_ongoing_requests")

    @property
    def max_queued_requests(self):
        return self._get("max_queued_requests")

    @property
    def user_config(self):
        return self._get("user_config")

    @property
    def ray_actor_options(self):
        return self._get("ray_actor_options")

    @property
    def autoscaling_config(self):
        return self._get("autoscaling_config")

    @property
    def route_prefix(self):
        return self._get("route_prefix")

    def options(self, _func_or_class=None, **kwargs):
        """A copy with the given options changed."""
        kwargs = {k: v for k, v in kwargs.items() if v is not DEFAULT}
        merged = dict(self._options)
        if "num_replicas" in kwargs and "autoscaling_config" not in kwargs:
            merged.pop("autoscaling_config", None)
        if "autoscaling_config" in kwargs and "num_replicas" not in kwargs:
            merged.pop("num_replicas", None)
        merged.update(kwargs)
        merged = _check_options(merged)
        return Deployment(_func_or_class or self._func_or_class, merged)

    def bind(self, *args, **kwargs):
        """This deployment with its constructor's arguments: an Application.
        A bound deployment among the arguments reaches the constructor as a
        DeploymentHandle."""
        if not inspect.isclass(self._func_or_class) and (args or kwargs):
            raise ValueError("init_args not supported for function deployments."
                             if args else "init_kwargs not supported for function deployments.")
        return Application(self, args, kwargs)

    def __call__(self, *args, **kwargs):
        raise RuntimeError("Deployments cannot be constructed directly. Use `.bind()` instead.")

    def deployment_config(self):
        """The options the controller acts on (a plain dict)."""
        num = self._get("num_replicas")
        auto = self._get("autoscaling_config")
        if num == "auto":
            auto = auto or AutoscalingConfig.default()
        return {
            "num_replicas": None if auto is not None else num,
            "autoscaling_config": auto.dict() if auto is not None else None,
            "max_ongoing_requests": self._get("max_ongoing_requests"),
            "max_queued_requests": self._get("max_queued_requests"),
            "user_config": self._get("user_config"),
            "health_check_period_s": float(self._get("health_check_period_s")),
            "health_check_timeout_s": float(self._get("health_check_timeout_s")),
            "graceful_shutdown_timeout_s": float(self._get("graceful_shutdown_timeout_s")),
            "graceful_shutdown_wait_loop_s": float(self._get("graceful_shutdown_wait_loop_s")),
            "ray_actor_options": dict(self._get("ray_actor_options") or {}),
            "placement_group_bundles": self._get("placement_group_bundles"),
            "placement_group_strategy": self._get("placement_group_strategy"),
            "max_replicas_per_node": self._get("max_replicas_per_node"),
            "version": self._get("version"),
        }

    def __repr__(self):
        return f"Deployment(name={self.name})"


class Application:
    """A deployment bound to its arguments: what serve.run deploys."""

    def __init__(self, deployment, args, kwargs):
        self._deployment = deployment
        self._args = tuple(args)
        self._kwargs = dict(kwargs)

    @property
    def deployment(self):
        return self._deployment

    def __repr__(self):
        return f"Application(deployment={self._deployment.name})"


def _replace_apps(value, convert):
    """`value` with every Application in it (nested in lists, tuples, dicts)
    replaced by convert(app)."""
    if isinstance(value, Application):
        return convert(value)
    if isinstance(value, list):
        return [_replace_apps(v, convert) for v in value]
    if isinstance(value, tuple):
        return tuple(_replace_apps(v, convert) for v in value)
    if isinstance(value, dict):
        return {k: _replace_apps(v, convert) for k, v in value.items()}
    return value


def build_application(app, app_name, make_handle):
    """The deployments of an application, ingress first, as the specs the
    controller takes: name, serialized definition and arguments, config and
    code version. make_handle(deployment_name, app_name) makes the handle an
    Application argument becomes."""
    if not isinstance(app, Application):
        if isinstance(app, Deployment):
            raise TypeError(f"serve.run expects an Application (a bound deployment): call "
                            f"{app.name}.bind() first")
        raise TypeError(f"Expected an Application (the result of Deployment.bind()), got "
                        f"{type(app).__name__}")
    specs = []
    names = {}  # id(Application) -> its unique deployment name
    used = set()

    def visit(node):
        if id(node) in names:
            return names[id(node)]
        base = node.deployment.name
        name, i = base, 1
        while name in used:
            name = f"{base}_{i}"
            i += 1
        used.add(name)
        names[id(node)] = name
        spec = {"name": name}
        specs.append(spec)

        def convert(child):
            return make_handle(visit(child), app_name)

        args = _replace_apps(node._args, convert)
        kwargs = _replace_apps(node._kwargs, convert)
        fc = node.deployment.func_or_class
        serialized_def = cloudpickle.dumps(fc)
        serialized_args = cloudpickle.dumps((args, kwargs))
        config = node.deployment.deployment_config()
        if config["version"] is not None:
            code_version = str(config["version"])
        else:
            h = hashlib.sha1(serialized_def)
            h.update(serialized_args)
            h.update(repr(sorted(config["ray_actor_options"].items())).encode())
            h.update(repr((config["placement_group_bundles"],
                           config["placement_group_strategy"])).encode())
            code_version = h.hexdigest()[:16]
        spec.update({
            "serialized_def": serialized_def,
            "serialized_args": serialized_args,
            "is_function": not inspect.isclass(fc),
            "config": config,
            "code_version": code_version,
            "route_prefix": node.deployment.route_prefix,
        })
        return name

    visit(app)
    specs[0]["ingress"] = True
    return specs


def deployment(_func_or_class=None, name=DEFAULT, version=DEFAULT, num_replicas=DEFAULT,
               route_prefix=DEFAULT, ray_actor_options=DEFAULT, placement_group_bundles=DEFAULT,
               placement_group_strategy=DEFAULT, max_replicas_per_node=DEFAULT,
               user_config=DEFAULT, max_ongoing_requests=DEFAULT, max_queued_requests=DEFAULT,
               autoscaling_config=DEFAULT, graceful_shutdown_wait_loop_s=DEFAULT,
               graceful_shutdown_timeout_s=DEFAULT, health_check_period_s=DEFAULT,
               health_check_timeout_s=DEFAULT, logging_config=DEFAULT,
               request_router_config=DEFAULT):
    """@serve.deployment, on a class or a function, with or without options."""
    opts = {k: v for k, v in dict(
        name=name, version=version, num_replicas=num_replicas, route_prefix=route_prefix,
        ray_actor_options=ray_actor_options, placement_group_bundles=placement_group_bundles,
        placement_group_strategy=placement_group_strategy,
        max_replicas_per_node=max_replicas_per_node, user_config=user_config,
        max_ongoing_requests=max_ongoing_requests, max_queued_requests=max_queued_requests,
        autoscaling_config=autoscaling_config,
        graceful_shutdown_wait_loop_s=graceful_shutdown_wait_loop_s,
        graceful_shutdown_timeout_s=graceful_shutdown_timeout_s,
        health_check_period_s=health_check_period_s,
        health_check_timeout_s=health_check_timeout_s, logging_config=logging_config,
        request_router_config=request_router_config).items() if v is not DEFAULT}
    opts = _check_options(opts)

    def decorate(func_or_class):
        if not (inspect.isclass(func_or_class) or inspect.isfunction(func_or_class)
                or callable(func_or_class)):
            raise TypeError("@serve.deployment must be called on a class or function.")
        return Deployment(func_or_class, opts)

    if _func_or_class is not None:
        if not callable(_func_or_class):
            raise TypeError("@serve.deployment must be called on a class or function.")
        return decorate(_func_or_class)
    return decorate
