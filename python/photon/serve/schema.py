"""What serve.status() returns, and the YAML config `serve deploy` takes
(Ray Serve's schema: http_options and a list of applications, each an
import_path with args and per-deployment option overrides)."""
import dataclasses
import enum
from typing import Any, Dict, List, Optional

from photon.serve.config import HTTPOptions
from photon.serve.deployment import _OPTION_DEFAULTS, validate_route_prefix


class ApplicationStatus(str, enum.Enum):
    NOT_STARTED = "NOT_STARTED"
    DEPLOYING = "DEPLOYING"
    DEPLOY_FAILED = "DEPLOY_FAILED"
    RUNNING = "RUNNING"
    UNHEALTHY = "UNHEALTHY"
    DELETING = "DELETING"


class DeploymentStatus(str, enum.Enum):
    UPDATING = "UPDATING"
    HEALTHY = "HEALTHY"
    UNHEALTHY = "UNHEALTHY"
    DEPLOY_FAILED = "DEPLOY_FAILED"
    UPSCALING = "UPSCALING"
    DOWNSCALING = "DOWNSCALING"


class DeploymentStatusTrigger(str, enum.Enum):
    UNSPECIFIED = "UNSPECIFIED"
    CONFIG_UPDATE_STARTED = "CONFIG_UPDATE_STARTED"
    CONFIG_UPDATE_COMPLETED = "CONFIG_UPDATE_COMPLETED"
    UPSCALE_COMPLETED = "UPSCALE_COMPLETED"
    DOWNSCALE_COMPLETED = "DOWNSCALE_COMPLETED"
    AUTOSCALING = "AUTOSCALING"
    REPLICA_STARTUP_FAILED = "REPLICA_STARTUP_FAILED"
    HEALTH_CHECK_FAILED = "HEALTH_CHECK_FAILED"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    DELETING = "DELETING"


class ReplicaState(str, enum.Enum):
    STARTING = "STARTING"
    UPDATING = "UPDATING"
    RECOVERING = "RECOVERING"
    RUNNING = "RUNNING"
    STOPPING = "STOPPING"
    PENDING_MIGRATION = "PENDING_MIGRATION"


class ProxyStatus(str, enum.Enum):
    STARTING = "STARTING"
    HEALTHY = "HEALTHY"
    UNHEALTHY = "UNHEALTHY"
    DRAINING = "DRAINING"
    DRAINED = "DRAINED"


def _value(v):
    return v.value if isinstance(v, enum.Enum) else v


@dataclasses.dataclass
class DeploymentStatusOverview:
    status: DeploymentStatus
    status_trigger: DeploymentStatusTrigger
    replica_states: Dict[str, int]
    message: str = ""


@dataclasses.dataclass
class ApplicationStatusOverview:
    status: ApplicationStatus
    message: str
    last_deployed_time_s: float
    deployments: Dict[str, DeploymentStatusOverview]


@dataclasses.dataclass
class ServeStatus:
    proxies: Dict[str, ProxyStatus] = dataclasses.field(default_factory=dict)
    applications: Dict[str, ApplicationStatusOverview] = dataclasses.field(default_factory=dict)
    target_capacity: Optional[float] = None

    @classmethod
    def from_controller(cls, raw):
        apps = {}
        for name, a in raw["applications"].items():
            deployments = {
                dname: DeploymentStatusOverview(
                    status=DeploymentStatus(d["status"]),
                    status_trigger=DeploymentStatusTrigger(d["status_trigger"]),
                    replica_states=dict(d["replica_states"]),
                    message=d["message"])
                for dname, d in a["deployments"].items()}
            apps[name] = ApplicationStatusOverview(
                status=ApplicationStatus(a["status"]), message=a["message"],
                last_deployed_time_s=a["last_deployed_time_s"], deployments=deployments)
        return cls(proxies={k: ProxyStatus(v) for k, v in raw["proxies"].items()},
                   applications=apps)

    def to_dict(self):
        """Plain types, in the layout `serve status` prints."""
        return {
            "proxies": {k: _value(v) for k, v in self.proxies.items()},
            "applications": {
                name: {
                    "status": _value(a.status),
                    "message": a.message,
                    "last_deployed_time_s": a.last_deployed_time_s,
                    "deployments": {
                        dname: {"status": _value(d.status),
                                "status_trigger": _value(d.status_trigger),
                                "replica_states": {_value(k): v
                                                   for k, v in d.replica_states.items()},
                                "message": d.message}
                        for dname, d in a.deployments.items()},
                } for name, a in self.applications.items()},
            "target_capacity": self.target_capacity,
        }


# -- the config file of `serve deploy` ------------------------------------------
_APP_KEYS = {"name", "route_prefix", "import_path", "args", "deployments", "runtime_env",
             "logging_config", "external_scaler_enabled"}
_TOP_KEYS = {"proxy_location", "http_options", "grpc_options", "logging_config",
             "applications", "target_capacity"}
_DEPLOYMENT_KEYS = set(_OPTION_DEFAULTS) - {"route_prefix"}


@dataclasses.dataclass
class DeploymentSchema:
    name: str
    options: Dict[str, Any]


@dataclasses.dataclass
class ServeApplicationSchema:
    import_path: str
    name: str = "default"
    route_prefix: Optional[str] = "/"
    args: Dict[str, Any] = dataclasses.field(default_factory=dict)
    runtime_env: Dict[str, Any] = dataclasses.field(default_factory=dict)
    deployments: List[DeploymentSchema] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class ServeDeploySchema:
    applications: List[ServeApplicationSchema]
    http_options: HTTPOptions = dataclasses.field(default_factory=HTTPOptions)
    proxy_location: str = "HeadOnly"

    @classmethod
    def parse(cls, raw, source="the config"):
        """Validates a loaded YAML/JSON config; ValueError names what is
        wrong and where."""
        if not isinstance(raw, dict):
            raise ValueError(f"{source} must be a mapping with an 'applications' list, got "
                             f"{type(raw).__name__}")
        unknown = set(raw) - _TOP_KEYS
        if unknown:
            raise ValueError(f"{source}: unknown field(s) {sorted(unknown)}; the fields are "
                             f"{sorted(_TOP_KEYS)}")
        apps_raw = raw.get("applications")
        if not isinstance(apps_raw, list) or not apps_raw:
            raise ValueError(f"{source}: 'applications' must be a non-empty list")
        http = raw.get("http_options") or {}
        if not isinstance(http, dict):
            raise ValueError(f"{source}: 'http_options' must be a mapping")
        try:
            http_options = HTTPOptions(**http)
        except TypeError as e:
            raise ValueError(f"{source}: http_options: {e}") from None
        apps = []
        names = set()
        prefixes = {}
        for i, a in enumerate(apps_raw):
            where = f"{source}: applications[{i}]"
            if not isinstance(a, dict):
                raise ValueError(f"{where} must be a mapping")
            unknown = set(a) - _APP_KEYS
            if unknown:
                raise ValueError(f"{where}: unknown field(s) {sorted(unknown)}; the fields are "
                                 f"{sorted(_APP_KEYS)}")
            if not isinstance(a.get("import_path"), str) or not a["import_path"]:
                raise ValueError(f"{where}: 'import_path' (module:attribute) is required")
            name = a.get("name", "default")
            if not isinstance(name, str) or not name:
                raise ValueError(f"{where}: 'name' must be a non-empty string")
            if name in names:
                raise ValueError(f"{source}: application names must be unique; '{name}' "
                                 "appears twice")
            names.add(name)
            prefix = a.get("route_prefix", "/")
            validate_route_prefix(prefix)
            if prefix is not None:
                if prefix in prefixes:
                    raise ValueError(f"{source}: applications '{prefixes[prefix]}' and "
                                     f"'{name}' both have route_prefix '{prefix}'")
                prefixes[prefix] = name
            args = a.get("args") or {}
            if not isinstance(args, dict):
                raise ValueError(f"{where}: 'args' must be a mapping")
            deployments = []
            for j, d in enumerate(a.get("deployments") or []):
                if not isinstance(d, dict) or not isinstance(d.get("name"), str):
                    raise ValueError(f"{where}.deployments[{j}] must be a mapping with a "
                                     "'name'")
                options = {k: v for k, v in d.items() if k != "name"}
                bad = set(options) - _DEPLOYMENT_KEYS
                if bad:
                    raise ValueError(f"{where}.deployments[{j}] ('{d['name']}'): unknown "
                                     f"field(s) {sorted(bad)}")
                deployments.append(DeploymentSchema(d["name"], options))
            apps.append(ServeApplicationSchema(
                import_path=a["import_path"], name=name, route_prefix=prefix, args=args,
                runtime_env=a.get("runtime_env") or {}, deployments=deployments))
        return cls(applications=apps, http_options=http_options,
                   proxy_location=raw.get("proxy_location", "HeadOnly"))
