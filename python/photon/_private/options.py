"""Validation of @remote and .options() arguments, with Ray's option names."""
import math

_COMMON = {"num_cpus", "num_gpus", "resources", "memory", "name", "runtime_env",
           "scheduling_strategy", "accelerator_type", "label_selector", "enable_task_events",
           "_metadata", "placement_group", "placement_group_bundle_index",
           "placement_group_capture_child_tasks", "object_store_memory"}
TASK_OPTIONS = _COMMON | {"num_returns", "max_retries", "retry_exceptions", "max_calls",
                          "_generator_backpressure_num_objects"}
ACTOR_OPTIONS = _COMMON | {"max_restarts", "max_task_retries", "max_concurrency", "lifetime",
                           "namespace", "get_if_exists", "max_pending_calls",
                           "concurrency_groups", "_max_retries"}
METHOD_OPTIONS = {"num_returns", "concurrency_group", "max_task_retries", "retry_exceptions",
                  "name", "enable_task_events", "_generator_backpressure_num_objects"}


def _quantity(name, value, whole_above_one=False):
    if not isinstance(value, (int, float)) or isinstance(value, bool) or math.isnan(value) \
            or math.isinf(value) or value < 0:
        raise ValueError(f"The option '{name}' must be a number >= 0, got {value!r}.")
    if whole_above_one and value > 1 and int(value) != value:
        raise ValueError(f"The option '{name}' must be a whole number when greater than 1, "
                         f"got {value}.")
    if round(value * 10000) != value * 10000 and abs(round(value * 10000) - value * 10000) > 1e-6:
        raise ValueError(f"The option '{name}' has more precision than 0.0001: {value}.")


def validate(options, allowed, kind):
    for key, value in options.items():
        if key not in allowed:
            raise ValueError(f"Invalid option keyword '{key}' for {kind}. "
                             f"Valid ones are {sorted(k for k in allowed if not k.startswith('_'))}.")
        if value is None:
            continue
        if key in ("num_cpus", "memory", "object_store_memory"):
            _quantity(key, value)
        elif key == "num_gpus":
            _quantity(key, value, whole_above_one=True)
        elif key == "resources":
            if not isinstance(value, dict):
                raise ValueError(f"The option 'resources' must be a dict, got {value!r}.")
            for rname, qty in value.items():
                if rname in ("CPU", "GPU"):
                    raise ValueError(f"Use the 'num_cpus' and 'num_gpus' options, not "
                                     f"resources['{rname}'].")
                _quantity(f"resources['{rname}']", qty)
        elif key == "scheduling_strategy":
            from photon.util import scheduling_strategies
            scheduling_strategies.to_core(value)  # raises with the reason
        elif key == "num_returns":
            if value not in ("streaming", "dynamic") and (
                    not isinstance(value, int) or isinstance(value, bool) or value < 0):
                raise ValueError(f"The option 'num_returns' must be an int >= 0, 'streaming' or "
                                 f"'dynamic', got {value!r}.")
        elif key in ("max_retries", "max_restarts", "max_task_retries"):
            if not isinstance(value, int) or isinstance(value, bool) or value < -1:
                raise ValueError(f"The option '{key}' must be an int >= -1, got {value!r}.")
        elif key == "max_concurrency":
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"The option 'max_concurrency' must be an int >= 1, "
                                 f"got {value!r}.")
        elif key == "retry_exceptions":
            if not isinstance(value, bool) and not (
                    isinstance(value, (list, tuple)) and
                    all(isinstance(c, type) and issubclass(c, BaseException) for c in value)):
                raise ValueError("The option 'retry_exceptions' must be a bool or a list of "
                                 f"exception classes, got {value!r}.")
        elif key == "lifetime":
            if value not in ("detached", "non_detached"):
                raise ValueError(f"The option 'lifetime' must be 'detached' or 'non_detached', "
                                 f"got {value!r}.")
        elif key in ("name", "namespace"):
            if not isinstance(value, str):
                raise ValueError(f"The option '{key}' must be a string, got {value!r}.")
        elif key == "get_if_exists":
            if not isinstance(value, bool):
                raise ValueError(f"The option 'get_if_exists' must be a bool, got {value!r}.")
        elif key == "runtime_env":
            validate_runtime_env(value)
        elif key == "max_calls":
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"The option 'max_calls' must be an int >= 0, got {value!r}.")
    if options.get("get_if_exists") and not options.get("name"):
        raise ValueError("The option 'get_if_exists' requires 'name'.")


def validate_runtime_env(runtime_env):
    """Photon supports the env_vars field of runtime_env (str -> str)."""
    if not isinstance(runtime_env, dict):
        raise TypeError(f"runtime_env must be a dict, got {type(runtime_env).__name__}")
    unsupported = set(runtime_env) - {"env_vars"}
    if unsupported:
        raise ValueError(f"runtime_env fields {sorted(unsupported)} are not supported "
                         "(only env_vars)")
    env_vars = runtime_env.get("env_vars") or {}
    if not isinstance(env_vars, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in env_vars.items()):
        raise TypeError("runtime_env['env_vars'] must map str to str")
    from photon import _photon
    known = None
    for k in env_vars:
        if k.startswith("PHOTON_"):
            known = known or {row["env_var"] for row in _photon.config_table()}
            if k not in known:
                raise ValueError(f"runtime_env['env_vars'] sets {k}, which names no Photon "
                                 "setting (see docs/config.md)")


def env_vars_of(options):
    """The runtime_env env_vars of a task's or actor's options ({} if none)."""
    return dict((options.get("runtime_env") or {}).get("env_vars") or {})


def resources_of(options, default_cpus):
    """The resource request of a task or actor from its options."""
    res = dict(options.get("resources") or {})
    num_cpus = options.get("num_cpus")
    res["CPU"] = default_cpus if num_cpus is None else num_cpus
    if options.get("num_gpus"):
        res["GPU"] = options["num_gpus"]
    # `memory` is accepted but not a scheduling resource: nodes do not
    # advertise memory, so requesting it would make every such task infeasible.
    return {k: float(v) for k, v in res.items() if v}


def scheduling_of(options):
    """The core's (node_id, soft, spread) for the scheduling_strategy option."""
    from photon.util import scheduling_strategies
    return scheduling_strategies.to_core(options.get("scheduling_strategy"))
