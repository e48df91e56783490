"""Application metrics (``ray.util.metrics``): Counter, Gauge and Histogram.

Recorded in any task, actor or driver and exported, with the process's other metrics, on its
node's Prometheus endpoint (``photon.nodes()[i]["MetricsExportPort"]``) under the name
``photon_<name>`` (a Counter as ``photon_<name>_total``), labelled with the tag values and the
process (Component, WorkerId, NodeAddress, SessionName).

Semantics follow Ray's: tag keys are declared at construction, every record needs a value for
each (from ``tags=`` or ``set_default_tags``), a metric with an invalid name warns and records
nothing. A metric made again with the same name in the same process is the same metric.
"""
import re
import warnings
from typing import Any, Dict, List, Optional, Tuple, Union

from photon import _photon

__all__ = ["Counter", "Gauge", "Histogram", "Metric"]

_VALID_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_PREFIX = "photon_"


def _discarded(name: str) -> bool:
    if not isinstance(name, str):
        raise TypeError(f"metric name must be a str, got {type(name)}.")
    if len(name) == 0:
        raise ValueError("Empty name is not allowed. Please provide a metric name.")
    if not _VALID_NAME.match(name):
        warnings.warn(
            f"Invalid metric name: {name}. The metric records nothing: names are letters, "
            "digits, '_' and ':', and do not start with a digit.", UserWarning)
        return True
    return False


class Metric:
    """The base of Counter, Gauge and Histogram."""

    _kind = "gauge"

    def __init__(self, name: str, description: str = "",
                 tag_keys: Optional[Tuple[str, ...]] = None):
        self._discard = _discarded(name)
        self._name = name
        self._description = description
        self._default_tags: Dict[str, str] = {}
        self._tag_keys = tag_keys or tuple()
        if not isinstance(self._tag_keys, tuple):
            raise TypeError(f"tag_keys should be a tuple type, got: {type(self._tag_keys)}")
        for key in self._tag_keys:
            if not isinstance(key, str):
                raise TypeError(f"Tag keys must be str, got {type(key)}.")
        if ":" in name:
            warnings.warn(f"Metric name {name} contains a ':', which Prometheus reserves for "
                          "recording rules.", FutureWarning)
        self._metric = None

    def _define(self, boundaries: List[float]):
        if not self._discard:
            self._metric = _photon.metric_define(self._kind, _PREFIX + self._name,
                                                 self._description, list(self._tag_keys),
                                                 [float(b) for b in boundaries])

    def set_default_tags(self, default_tags: Dict[str, str]):
        """Tags used by every record that does not give its own; returns the metric."""
        for key, val in default_tags.items():
            if key not in self._tag_keys:
                raise ValueError(f"Unrecognized tag key {key}.")
            if not isinstance(val, str):
                raise TypeError(f"Tag values must be str, got {type(val)}.")
        self._default_tags = default_tags
        return self

    def _final_tags(self, tags: Optional[Dict[str, str]]) -> Dict[str, str]:
        if not tags:
            final = self._default_tags
        else:
            for val in tags.values():
                if not isinstance(val, str):
                    raise TypeError(f"Tag values must be str, got {type(val)}.")
            final = {**self._default_tags, **tags}
        missing = [k for k in self._tag_keys if k not in final]
        if missing:
            raise ValueError(f"Missing value for tag key(s): {','.join(missing)}.")
        return final

    def _record(self, value: Union[int, float], tags: Optional[Dict[str, str]] = None) -> None:
        if self._discard:
            return
        final = self._final_tags(tags)
        self._metric.record(float(value), [final[k] for k in self._tag_keys])

    @property
    def info(self) -> Dict[str, Any]:
        """The metric's name, description, tag keys and default tags."""
        return {"name": self._name, "description": self._description,
                "tag_keys": self._tag_keys, "default_tags": self._default_tags}


def _check_number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"value must be int or float, got {type(value)}.")


class Counter(Metric):
    """A cumulative metric that only goes up (a Prometheus counter, exported with _total)."""

    _kind = "counter"

    def __init__(self, name: str, description: str = "",
                 tag_keys: Optional[Tuple[str, ...]] = None):
        super().__init__(name, description, tag_keys)
        self._define([])

    def __reduce__(self):
        return self.__class__, (self._name, self._description, self._tag_keys)

    def inc(self, value: Union[int, float] = 1.0, tags: Dict[str, str] = None):
        """Adds `value` (> 0, default 1)."""
        _check_number(value)
        if value <= 0:
            raise ValueError(f"value must be >0, got {value}")
        self._record(value, tags)


class Gauge(Metric):
    """The last value set (a Prometheus gauge)."""

    _kind = "gauge"

    def __init__(self, name: str, description: str = "",
                 tag_keys: Optional[Tuple[str, ...]] = None):
        super().__init__(name, description, tag_keys)
        self._define([])

    def __reduce__(self):
        return Gauge, (self._name, self._description, self._tag_keys)

    def set(self, value: Optional[Union[int, float]], tags: Dict[str, str] = None):
        """Sets the gauge to `value` (None: does nothing)."""
        if value is None:
            return
        _check_number(value)
        self._record(value, tags)


class Histogram(Metric):
    """Observed values counted in buckets with the given upper `boundaries`."""

    _kind = "histogram"

    def __init__(self, name: str, description: str = "", boundaries: List[float] = None,
                 tag_keys: Optional[Tuple[str, ...]] = None):
        super().__init__(name, description, tag_keys)
        if boundaries is None or len(boundaries) == 0:
            raise ValueError("boundaries argument should be provided when using the Histogram "
                             "class. e.g., Histogram(\"name\", boundaries=[1.0, 2.0])")
        for i, boundary in enumerate(boundaries):
            if boundary <= 0:
                raise ValueError(f"Invalid `boundaries` argument at index {i}, {boundaries}. "
                                 "Use positive values for the arguments.")
        self.boundaries = boundaries
        self._define(sorted(set(boundaries)))

    def __reduce__(self):
        return Histogram, (self._name, self._description, self.boundaries, self._tag_keys)

    def observe(self, value: Union[int, float], tags: Dict[str, str] = None):
        """Counts `value` in its bucket."""
        _check_number(value)
        self._record(value, tags)

    @property
    def info(self):
        info = super().info
        info["boundaries"] = self.boundaries
        return info
