"""Validation of @remote and .options() arguments, with Ray's option names."""
import math

from photon import _photon
from photon._private import scheduling_strategies
from photon._private.runtime_env import resolve
from photon._private import state

# accelerator_type=X asks for this much of a node's resource accelerator_type:X (Ray's).
ACCELERATOR_RESOURCE_PREFIX = "accelerator_type:"
ACCELERATOR_REQUEST = 0.001

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


def _type_error(name, expected, value):
    # As in Ray: a value of the wrong type is a TypeError, a bad value a ValueError.
    return TypeError(f"The type of keyword '{name}' must be {expected}, but received type "
                     f"{type(value)}")


def _quantity(name, value, whole_above_one=False):
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise _type_error(name, "a number (int or float)", value)
    if math.isnan(value) or math.isinf(value) or value < 0:
        raise ValueError(f"The option '{name}' must be a number >= 0, got {value!r}.")
    if whole_above_one and value > 1 and int(value) != value:
        raise ValueError(f"The option '{name}' must be a whole number when greater than 1, "
                         f"got {value}.")
    # Ray's rule: a non-zero fraction must be at least 0.0001.
    if isinstance(value, float) and value != 0.0 and int(value * 10000) == 0:
        raise ValueError(f"The precision of the fractional quantity of resource {name} cannot "
                         f"go beyond 0.0001, got {value}.")


def _int_option(key, value, minimum):
    if not isinstance(value, int) or isinstance(value, bool):
        raise _type_error(key, "an int", value)
    if value < minimum:
        raise ValueError(f"The option '{key}' must be an int >= {minimum}, got {value!r}.")


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
                raise _type_error("resources", "a dict", value)
            for rname, qty in value.items():
                if rname in ("CPU", "GPU"):
                    raise ValueError(f"Use the 'num_cpus' and 'num_gpus' options, not "
                                     f"resources['{rname}'].")
                _quantity(f"resources['{rname}']", qty)
        elif key == "accelerator_type":
            if not isinstance(value, str) or not value:
                raise _type_error(key, "a non-empty str (see photon.util.accelerators)", value)
        elif key == "scheduling_strategy":
            scheduling_strategies.to_core(value)  # raises with the reason
        elif key == "label_selector":
            scheduling_strategies.label_selector_terms(value)  # raises with the reason
        elif key == "num_returns":
            if not isinstance(value, (int, str)) or isinstance(value, bool):
                raise _type_error(key, "an int or a str", value)
            if value not in ("streaming", "dynamic") and (not isinstance(value, int) or value < 0):
                raise ValueError(f"The option 'num_returns' must be an int >= 0, 'streaming' or "
                                 f"'dynamic', got {value!r}.")
        elif key in ("max_retries", "max_restarts", "max_task_retries"):
            _int_option(key, value, -1)
        elif key in ("max_concurrency", "max_pending_calls"):
            _int_option(key, value, 1 if key == "max_concurrency" else -1)
            if key == "max_pending_calls" and value == 0:
                raise ValueError("The option 'max_pending_calls' must be -1 (no limit) or >= 1.")
        elif key == "retry_exceptions":
            if not isinstance(value, (bool, list, tuple)):
                raise _type_error(key, "a bool or a list of exception classes", value)
            if not isinstance(value, bool) and not all(
                    isinstance(c, type) and issubclass(c, BaseException) for c in value):
                raise ValueError("The option 'retry_exceptions' must be a bool or a list of "
                                 f"exception classes, got {value!r}.")
        elif key == "lifetime":
            if not isinstance(value, str):
                raise _type_error(key, "a str", value)
            if value not in ("detached", "non_detached"):
                raise ValueError(f"The option 'lifetime' must be 'detached' or 'non_detached', "
                                 f"got {value!r}.")
        elif key in ("name", "namespace"):
            if not isinstance(value, str):
                raise _type_error(key, "a str", value)
        elif key == "get_if_exists":
            if not isinstance(value, bool):
                raise _type_error(key, "a bool", value)
        elif key == "runtime_env":
            validate_runtime_env(value)
        elif key == "max_calls":
            _int_option(key, value, 0)
        elif key == "concurrency_groups":
            if not isinstance(value, dict):
                raise _type_error(key, "a dict of group name to max concurrency", value)
            for group, limit in value.items():
                if not isinstance(group, str) or not group:
                    raise ValueError(f"concurrency group names must be non-empty strings, "
                                     f"got {group!r}")
                _int_option(f"concurrency_groups['{group}']", limit, 1)
        elif key == "concurrency_group":
            if not isinstance(value, str):
                raise _type_error(key, "a str", value)
    if options.get("get_if_exists") and not options.get("name"):
        raise ValueError("The option 'get_if_exists' requires 'name'.")


def _check_env_var(name):
    if name.startswith("PHOTON_"):
        known = {row["env_var"] for row in _photon.config_table()}
        if name not in known:
            raise ValueError(f"runtime_env['env_vars'] sets {name}, which names no Photon "
                             "setting (see docs/config.md)")


def validate_runtime_env(runtime_env):
    """Checks a runtime_env's fields (photon/_private/runtime_env/resolve.py)."""
    resolve.validate(runtime_env, _check_env_var)


def env_vars_of(options):
    """The runtime_env env_vars of a task's or actor's options ({} if none)."""
    return dict((options.get("runtime_env") or {}).get("env_vars") or {})


def runtime_env_of(options):
    """TaskSpec.runtime_env of a task or actor: its runtime_env (beyond
    env_vars, which the worker applies per call) resolved and merged over the
    one it inherits (the job's, or the running task's); "" for none."""
    own = options.get("runtime_env")
    inherited = state.inherited_runtime_env()
    if own:
        own = {k: v for k, v in own.items() if k != "env_vars"}
    if not own:
        return resolve.encode(inherited)
    return resolve.encode(resolve.merge(inherited,
                                        resolve.resolve(own, state.connection.epoch)))


def resources_of(options, default_cpus):
    """The resource request of a task or actor from its options."""
    res = dict(options.get("resources") or {})
    num_cpus = options.get("num_cpus")
    res["CPU"] = default_cpus if num_cpus is None else num_cpus
    if options.get("num_gpus"):
        res["GPU"] = options["num_gpus"]
    if options.get("memory"):
        res["memory"] = options["memory"]  # bytes; nodes offer their RAM as "memory"
    accelerator = options.get("accelerator_type")
    if accelerator is not None:
        # As Ray: a sliver of the node's accelerator_type:<name> resource.
        res[ACCELERATOR_RESOURCE_PREFIX + accelerator] = ACCELERATOR_REQUEST
    # Amounts are kept to Ray's precision of 0.0001 (0.50005 CPUs becomes 0.5).
    # CPU stays even at 0: the core reads an empty request as "1 CPU".
    return {k: round(float(v), 4) for k, v in res.items() if v or k == "CPU"}


def scheduling_of(options, resources=None, what="the task"):
    """The core's (node_id, soft, spread, placement_group_id, bundle_index,
    capture_child_tasks) from the scheduling_strategy option, the older
    placement_group* options, or the running task's group when it captures
    its children. A request that fits no bundle of its group is refused
    here, as in Ray."""
    strategy = options.get("scheduling_strategy")
    pg = options.get("placement_group", "default")
    if pg not in ("default", None) and strategy not in (None, "DEFAULT"):
        raise ValueError("Placement groups should be specified via the scheduling_strategy "
                         "option; 'placement_group' cannot be combined with it.")
    if pg not in ("default", None):
        strategy = scheduling_strategies.PlacementGroupSchedulingStrategy(
            pg, options.get("placement_group_bundle_index", -1),
            options.get("placement_group_capture_child_tasks"))
    elif strategy in (None, "DEFAULT") and pg == "default":
        task = state.current_task()
        if task is not None and task.placement_group_id and task.capture_child_tasks:
            return (b"", False, False, task.placement_group_id, -1, True, [])
    core = scheduling_strategies.to_core(strategy)
    if isinstance(strategy, scheduling_strategies.PlacementGroupSchedulingStrategy) and core[3]:
        group = strategy.placement_group
        _check_placement_group_index(group, strategy.placement_group_bundle_index)
        _validate_fits(group, strategy.placement_group_bundle_index, resources or {}, what)
    selector = scheduling_strategies.label_selector_terms(options.get("label_selector"))
    if selector:
        # Ray 2.49's label_selector: hard label terms, with the default or a
        # NodeLabelSchedulingStrategy (whose terms it adds to).
        if core[0] or core[3]:
            raise ValueError("label_selector cannot be combined with a NodeAffinity or "
                             "PlacementGroup scheduling_strategy (use bundle_label_selector on "
                             "the placement group instead).")
        core = core[:6] + (list(core[6]) + selector,)
    return core


def _check_placement_group_index(placement_group, bundle_index):
    if placement_group.is_empty():
        if bundle_index != -1:
            raise ValueError("If placement_group is not set, the value of bundle_index must "
                             "be -1.")
    elif bundle_index >= placement_group.bundle_count or bundle_index < -1:
        raise ValueError(f"placement group bundle index {bundle_index} is invalid. Valid "
                         f"placement group indexes: 0-{placement_group.bundle_count}")


def _validate_fits(placement_group, bundle_index, resources, what):
    """Ray's submission-time check: the request must fit the chosen bundle
    (or, with -1, some bundle); a request no bundle can hold would wait
    forever."""
    request = {k: v for k, v in resources.items() if v > 0}
    if not request:
        return
    bundles = placement_group.bundle_specs
    chosen = bundles if bundle_index == -1 else [bundles[bundle_index]]
    for b in chosen:
        if all(b.get(k, 0) >= v for k, v in request.items()):
            return
    raise ValueError(f"Cannot schedule {what} with the placement group because the resource "
                     f"request {request} cannot fit into any bundles for the placement group, "
                     f"{bundles}.")

