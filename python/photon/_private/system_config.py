"""Ray's `_system_config` on Photon: Ray's system-config names mapped onto
Photon's settings (src/photon/common/config_def.h) where Photon has the same
knob, Photon's own names accepted as they are, and every other key refused
with the Photon setting that comes closest (docs/system-config.md is the table).

The mapping is one table: Ray name -> (Photon name, how the value converts).
"""
import difflib

from photon import _photon


def _same(v):
    return v


def _seconds_to_ms(v):
    return int(float(v) * 1000)


def _lineage_pinning(v):
    # Ray's switch for keeping lineage: off is Photon's max_lineage_bytes = 0;
    # on keeps Photon's default budget.
    return None if _truthy(v) else 0


def _truthy(v):
    return v if isinstance(v, bool) else str(v).strip().lower() in ("1", "true", "yes", "on")


# Ray's name -> (Photon's setting, converter). A converter returning None
# leaves the setting at its value (the Ray key asks for Photon's behaviour).
RAY_TO_PHOTON = {
    "health_check_period_ms": ("health_check_period_ms", _same),
    "health_check_timeout_ms": ("health_check_timeout_ms", _same),
    "health_check_failure_threshold": ("health_check_failure_threshold", _same),
    "num_heartbeats_timeout": ("health_check_failure_threshold", _same),
    "task_events_report_interval_ms": ("task_events_report_interval_ms", _same),
    "task_events_max_num_task_in_gcs": ("task_events_max_num_task_in_gcs", _same),
    "enable_timeline": ("enable_task_events", _same),
    "record_ref_creation_sites": ("record_ref_creation_sites", _same),
    "enable_metrics_collection": ("enable_metrics_collection", _same),
    "scheduler_spread_threshold": ("scheduler_spread_threshold", _same),
    "scheduler_top_k_fraction": ("scheduler_top_k_fraction", _same),
    "scheduler_top_k_absolute": ("scheduler_top_k_absolute", _same),
    "max_lineage_bytes": ("max_lineage_bytes", _same),
    "lineage_pinning_enabled": ("max_lineage_bytes", _lineage_pinning),
    "memory_usage_threshold": ("memory_usage_threshold", _same),
    "memory_monitor_refresh_ms": ("memory_monitor_refresh_ms", _same),
    "max_direct_call_object_size": ("max_direct_call_object_size", _same),
    "task_rpc_inlined_bytes_limit": ("task_rpc_inlined_bytes_limit", _same),
    "object_spilling_threshold": ("object_spilling_threshold", _same),
    "worker_register_timeout_seconds": ("worker_register_timeout_ms", _seconds_to_ms),
    "worker_maximum_startup_concurrency": ("worker_maximum_startup_concurrency", _same),
    "idle_worker_killing_time_threshold_ms": ("idle_worker_kill_ms", _same),
    "gcs_rpc_server_reconnect_timeout_s": ("gcs_rpc_retry_deadline_ms", _seconds_to_ms),
    "gcs_server_request_timeout_seconds": ("gcs_rpc_timeout_ms", _seconds_to_ms),
    "raylet_report_resources_period_milliseconds": ("resource_report_period_ms", _same),
    "object_manager_pull_timeout_ms": ("object_pull_timeout_ms", _same),
    "object_manager_default_chunk_size": ("object_chunk_size", _same),
    "log_rotation_max_bytes": ("log_rotation_max_bytes", _same),
    "log_rotation_backup_count": ("log_rotation_backup_count", _same),
}


def _photon_names():
    return {row["name"] for row in _photon.config_table()}


def _text(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def translate(system_config, where="_system_config"):
    """{Photon setting: value as text} for a Ray `_system_config`; ValueError
    naming the first key Photon has no knob for, and the closest it has."""
    if system_config is None:
        return {}
    if not isinstance(system_config, dict):
        raise TypeError(f"{where} must be a dict, got {type(system_config).__name__}")
    photon_names = _photon_names()
    out = {}
    for key, value in system_config.items():
        if not isinstance(key, str):
            raise TypeError(f"{where} keys must be str, got {key!r}")
        if key in RAY_TO_PHOTON:
            name, convert = RAY_TO_PHOTON[key]
            converted = convert(value)
            if converted is not None:
                out[name] = _text(converted)
        elif key in photon_names:
            out[key] = _text(value)
        else:
            close = difflib.get_close_matches(key, sorted(photon_names | set(RAY_TO_PHOTON)),
                                              n=1, cutoff=0.5)
            hint = ""
            if close:
                target = RAY_TO_PHOTON.get(close[0], (close[0], None))[0]
                hint = f"; the closest Photon setting is {target!r}"
            raise ValueError(f"{where} key {key!r} is not a setting Photon has{hint} "
                             "(docs/system-config.md maps Ray's names; docs/config.md lists "
                             "Photon's settings)")
    return out


def environment(settings):
    """The PHOTON_* environment variables that carry `settings` to daemons."""
    return {"PHOTON_" + k.upper(): v for k, v in settings.items()}
