"""Serve's configuration objects: AutoscalingConfig, HTTPOptions, ProxyLocation
(Ray Serve's names, fields and defaults; validated when made)."""
import enum
import math

from photon.serve._private import constants


def _number(name, value, *, minimum=None, above=None, integer=False, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            (integer and not float(value).is_integer()):
        kind = "an integer" if integer else "a number"
        raise TypeError(f"{name} must be {kind}, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if above is not None and value <= above:
        raise ValueError(f"{name} must be > {above}, got {value}")
    return int(value) if integer else float(value)


class AutoscalingConfig:
    """How a deployment's replica count follows its load: the ongoing
    requests (queued at handles plus running on replicas), averaged over
    `look_back_period_s`, divided by `target_ongoing_requests`, kept within
    [min_replicas, max_replicas]; a new count is applied once it has been
    wanted for `upscale_delay_s` (up) or `downscale_delay_s` (down)."""

    _FIELDS = ("min_replicas", "initial_replicas", "max_replicas", "target_ongoing_requests",
               "metrics_interval_s", "look_back_period_s", "smoothing_factor",
               "upscale_smoothing_factor", "downscale_smoothing_factor", "upscaling_factor",
               "downscaling_factor", "upscale_delay_s", "downscale_delay_s",
               "downscale_to_zero_delay_s")

    def __init__(self, min_replicas=1, initial_replicas=None, max_replicas=1,
                 target_ongoing_requests=2, metrics_interval_s=10.0, look_back_period_s=30.0,
                 smoothing_factor=1.0, upscale_smoothing_factor=None,
                 downscale_smoothing_factor=None, upscaling_factor=None, downscaling_factor=None,
                 upscale_delay_s=30.0, downscale_delay_s=600.0, downscale_to_zero_delay_s=None,
                 **unknown):
        if unknown:
            raise TypeError(f"AutoscalingConfig got unknown field(s): {sorted(unknown)}; "
                            f"its fields are {list(self._FIELDS)}")
        self.min_replicas = _number("min_replicas", min_replicas, minimum=0, integer=True)
        self.initial_replicas = _number("initial_replicas", initial_replicas, minimum=0,
                                        integer=True, allow_none=True)
        self.max_replicas = _number("max_replicas", max_replicas, minimum=1, integer=True)
        self.target_ongoing_requests = _number("target_ongoing_requests",
                                               target_ongoing_requests, above=0)
        self.metrics_interval_s = _number("metrics_interval_s", metrics_interval_s, above=0)
        self.look_back_period_s = _number("look_back_period_s", look_back_period_s, above=0)
        self.smoothing_factor = _number("smoothing_factor", smoothing_factor, above=0)
        self.upscale_smoothing_factor = _number("upscale_smoothing_factor",
                                                upscale_smoothing_factor, above=0,
                                                allow_none=True)
        self.downscale_smoothing_factor = _number("downscale_smoothing_factor",
                                                  downscale_smoothing_factor, above=0,
                                                  allow_none=True)
        self.upscaling_factor = _number("upscaling_factor", upscaling_factor, above=0,
                                        allow_none=True)
        self.downscaling_factor = _number("downscaling_factor", downscaling_factor, above=0,
                                          allow_none=True)
        self.upscale_delay_s = _number("upscale_delay_s", upscale_delay_s, minimum=0)
        self.downscale_delay_s = _number("downscale_delay_s", downscale_delay_s, minimum=0)
        self.downscale_to_zero_delay_s = _number("downscale_to_zero_delay_s",
                                                 downscale_to_zero_delay_s, minimum=0,
                                                 allow_none=True)
        if self.max_replicas < self.min_replicas:
            raise ValueError(f"max_replicas ({self.max_replicas}) must be greater than or "
                             f"equal to min_replicas ({self.min_replicas})!")
        if self.initial_replicas is not None and not (
                self.min_replicas <= self.initial_replicas <= self.max_replicas):
            raise ValueError(f"initial_replicas ({self.initial_replicas}) must be between "
                             f"min_replicas ({self.min_replicas}) and max_replicas "
                             f"({self.max_replicas})!")

    @classmethod
    def coerce(cls, value):
        """An AutoscalingConfig from one, a dict of its fields, or None."""
        if value is None or isinstance(value, AutoscalingConfig):
            return value
        if isinstance(value, dict):
            return cls(**value)
        raise TypeError(f"autoscaling_config must be a dict or an AutoscalingConfig, "
                        f"got {type(value).__name__}")

    @classmethod
    def default(cls):
        """What num_replicas="auto" means (as in Ray Serve)."""
        return cls(min_replicas=1, max_replicas=100, target_ongoing_requests=2)

    def initial(self):
        """The replica count to start with."""
        if self.initial_replicas is not None:
            return self.initial_replicas
        return self.min_replicas

    def desired(self, current, total_ongoing):
        """The replica count the load asks for (before delays), given the
        current count and the total ongoing requests."""
        raw = total_ongoing / self.target_ongoing_requests
        if current == 0:
            return max(self.min_replicas, math.ceil(raw))
        if raw > current:
            factor = self.upscaling_factor or self.upscale_smoothing_factor or \
                self.smoothing_factor
        else:
            factor = self.downscaling_factor or self.downscale_smoothing_factor or \
                self.smoothing_factor
        wanted = current + factor * (raw - current)
        wanted = math.ceil(wanted - 1e-9)
        if total_ongoing > 0:
            wanted = max(wanted, 1)
        return max(self.min_replicas, min(self.max_replicas, wanted))

    def dict(self):
        return {k: getattr(self, k) for k in self._FIELDS}

    model_dump = dict

    def __eq__(self, other):
        return isinstance(other, AutoscalingConfig) and self.dict() == other.dict()

    def __repr__(self):
        return "AutoscalingConfig(" + ", ".join(f"{k}={v!r}" for k, v in self.dict().items()) + ")"


class ProxyLocation(str, enum.Enum):
    """Where Serve runs HTTP proxies."""
    Disabled = "Disabled"
    HeadOnly = "HeadOnly"
    EveryNode = "EveryNode"


class HTTPOptions:
    """The HTTP proxy's options."""

    _FIELDS = ("host", "port", "root_path", "request_timeout_s", "keep_alive_timeout_s",
               "location")

    def __init__(self, host=constants.DEFAULT_HTTP_HOST, port=constants.DEFAULT_HTTP_PORT,
                 root_path="", request_timeout_s=None, keep_alive_timeout_s=5,
                 location=ProxyLocation.HeadOnly, **unknown):
        if unknown:
            raise TypeError(f"HTTPOptions got unknown field(s): {sorted(unknown)}; "
                            f"its fields are {list(self._FIELDS)}")
        if not isinstance(host, str) or not host:
            raise TypeError(f"http_options host must be a non-empty string, got {host!r}")
        self.host = host
        self.port = _number("http_options port", port, minimum=0, integer=True)
        if self.port > 65535:
            raise ValueError(f"http_options port must be <= 65535, got {port}")
        if root_path and not root_path.startswith("/"):
            raise ValueError(f"http_options root_path must start with '/', got {root_path!r}")
        self.root_path = root_path or ""
        self.request_timeout_s = _number("request_timeout_s", request_timeout_s, above=0,
                                         allow_none=True)
        self.keep_alive_timeout_s = _number("keep_alive_timeout_s", keep_alive_timeout_s,
                                            minimum=0)
        if location is None:
            location = ProxyLocation.HeadOnly
        try:
            self.location = ProxyLocation(getattr(location, "value", location))
        except ValueError:
            raise ValueError(f"http_options location must be one of "
                             f"{[p.value for p in ProxyLocation]}, got {location!r}") from None

    @classmethod
    def coerce(cls, value):
        if value is None:
            return cls()
        if isinstance(value, HTTPOptions):
            return value
        if isinstance(value, dict):
            return cls(**value)
        raise TypeError(f"http_options must be a dict or an HTTPOptions, "
                        f"got {type(value).__name__}")

    def dict(self):
        out = {k: getattr(self, k) for k in self._FIELDS}
        out["location"] = self.location.value
        return out

    model_dump = dict

    def __repr__(self):
        return "HTTPOptions(" + ", ".join(f"{k}={v!r}" for k, v in self.dict().items()) + ")"


class gRPCOptions:  # noqa: N801 - Ray's name
    """Accepted for Ray compatibility; Photon's Serve has no gRPC proxy."""

    def __init__(self, port=9000, grpc_servicer_functions=()):
        if grpc_servicer_functions:
            raise ValueError("photon.serve has no gRPC proxy: grpc_servicer_functions is not "
                             "supported (serve over HTTP or with a DeploymentHandle)")
        self.port = port
        self.grpc_servicer_functions = list(grpc_servicer_functions)
