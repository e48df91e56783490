"""Scheduling strategies, with Ray's names (re-exported as
photon.util.scheduling_strategies, Ray's ray.util.scheduling_strategies).

Pass one as ``scheduling_strategy=`` in ``@photon.remote`` or ``.options()``;
the strings "DEFAULT" and "SPREAD" are accepted too."""
from photon._private.ids import PlacementGroupID


class NodeAffinitySchedulingStrategy:
    """Run on the node with id `node_id` (hex, as get_runtime_context().get_node_id()
    returns). With soft=False the task fails with TaskUnschedulableError (an actor
    dies) if that node is dead or can never fit it; with soft=True it then runs
    wherever the default policy puts it."""

    def __init__(self, node_id, soft, _spill_on_unavailable=False, _fail_on_unavailable=False):
        if not isinstance(node_id, str):
            raise ValueError(f"node_id must be a hex string, got {type(node_id).__name__}")
        try:
            bytes.fromhex(node_id)
        except ValueError:
            raise ValueError(f"node_id must be a hex node id, got {node_id!r}") from None
        self.node_id = node_id
        self.soft = bool(soft)
        self._spill_on_unavailable = _spill_on_unavailable
        self._fail_on_unavailable = _fail_on_unavailable

    def __repr__(self):
        return f"NodeAffinitySchedulingStrategy(node_id={self.node_id!r}, soft={self.soft})"


class PlacementGroupSchedulingStrategy:
    """Run in `placement_group`: in its bundle `placement_group_bundle_index`
    (-1: any bundle with room). With placement_group_capture_child_tasks, the
    tasks and actors this one starts run in the group too unless they say
    otherwise."""

    def __init__(self, placement_group, placement_group_bundle_index=-1,
                 placement_group_capture_child_tasks=None):
        self.placement_group = placement_group
        self.placement_group_bundle_index = placement_group_bundle_index
        self.placement_group_capture_child_tasks = placement_group_capture_child_tasks


class _LabelOperator:
    op = None


class In(_LabelOperator):
    """The label's value is one of `values`."""
    op = "IN"

    def __init__(self, *values):
        _check_values("In", values)
        self.values = list(values)


class NotIn(_LabelOperator):
    """The label is absent, or its value is none of `values`."""
    op = "NOT_IN"

    def __init__(self, *values):
        _check_values("NotIn", values)
        self.values = list(values)


class Exists(_LabelOperator):
    """The node has the label (any value)."""
    op = "EXISTS"
    values = ()


class DoesNotExist(_LabelOperator):
    """The node does not have the label."""
    op = "DOES_NOT_EXIST"
    values = ()


def _check_values(name, values):
    if not values or not all(isinstance(v, str) and v for v in values):
        raise ValueError(f"The variadic parameter of {name} must be a non-empty tuple of "
                         f"non-empty strings, got {values!r}.")


class NodeLabelSchedulingStrategy:
    """Run on a node whose labels match every `hard` expression
    ({key: In(...)|NotIn(...)|Exists()|DoesNotExist()}), preferring nodes that
    also match `soft`. Node labels come from `photon start --labels`,
    Cluster.add_node(labels=...), and ray.io/node-id on every node."""

    def __init__(self, hard, *, soft=None):
        self.hard = _check_expressions("hard", hard)
        self.soft = _check_expressions("soft", soft)
        if not self.hard and not self.soft:
            raise ValueError("The `hard` and `soft` parameter of NodeLabelSchedulingStrategy "
                             "cannot both be empty.")


def _check_expressions(name, expressions):
    if expressions is None:
        return {}
    if not isinstance(expressions, dict):
        raise ValueError(f"The {name} parameter must be a map (dict), got {type(expressions)}.")
    for key, op in expressions.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"The keys of the {name} parameter must be non-empty strings, "
                             f"got {key!r}.")
        if isinstance(op, type) and issubclass(op, (Exists, DoesNotExist)):
            expressions[key] = op = op()
        if not isinstance(op, _LabelOperator):
            raise ValueError(f"The values of the {name} parameter must be In, NotIn, Exists "
                             f"or DoesNotExist, got {op!r} for {key!r}.")
    return dict(expressions)


def label_selector_terms(selector, name="label_selector"):
    """Hard label terms [(key, op, values, True)] of a Ray label selector:
    {"key": "value"} (equals), "!value" (differs or is missing), "in(a, b)"
    (one of) or "!in(a, b)" (none of). Raises ValueError naming what is wrong."""
    if selector is None:
        return []
    if not isinstance(selector, dict):
        raise ValueError(f"The {name} must be a dict of label key to selector string, got "
                         f"{type(selector)}.")
    terms = []
    for key, value in selector.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"The keys of the {name} must be non-empty strings, got {key!r}.")
        if not isinstance(value, str):
            raise ValueError(f"The value of {name}[{key!r}] must be a string such as 'v', '!v', "
                             f"'in(a,b)' or '!in(a,b)', got {value!r}.")
        negated = value.startswith("!")
        body = value[1:] if negated else value
        if body.startswith("in(") or body.startswith("in ("):
            if not body.endswith(")"):
                raise ValueError(f"{name}[{key!r}] = {value!r}: 'in(' needs a closing ')'.")
            values = [v.strip() for v in body[body.index("(") + 1:-1].split(",")]
            if not values or any(not v for v in values):
                raise ValueError(f"{name}[{key!r}] = {value!r}: in(...) needs one or more "
                                 "non-empty values separated by commas.")
        else:
            values = [body]
        terms.append((key, "NOT_IN" if negated else "IN", values, True))
    return terms


def _label_terms(strategy):
    return ([(k, op.op, list(op.values), True) for k, op in strategy.hard.items()] +
            [(k, op.op, list(op.values), False) for k, op in strategy.soft.items()])


def to_core(strategy):
    """(node_id bytes, soft, spread, placement_group_id bytes, bundle_index,
    capture_child_tasks, label terms [(key, op, values, hard)]) for the core,
    or a clear error."""
    if strategy is None or strategy == "DEFAULT":
        return (b"", False, False, b"", -1, False, [])
    if strategy == "SPREAD":
        return (b"", False, True, b"", -1, False, [])
    if isinstance(strategy, NodeAffinitySchedulingStrategy):
        return (bytes.fromhex(strategy.node_id), strategy.soft, False, b"", -1, False, [])
    if isinstance(strategy, PlacementGroupSchedulingStrategy):
        pg = strategy.placement_group
        if pg is None:
            return (b"", False, False, b"", -1, False, [])
        if not isinstance(getattr(pg, "id", None), PlacementGroupID):
            raise TypeError("placement_group must be a PlacementGroup (from "
                            f"photon.util.placement_group), got {type(pg)}")
        index = strategy.placement_group_bundle_index
        if not isinstance(index, int) or isinstance(index, bool):
            raise TypeError(f"placement_group_bundle_index must be an int, got {type(index)}")
        if pg.is_empty():
            return (b"", False, False, b"", -1, False, [])
        return (b"", False, False, pg.id.binary(), index,
                bool(strategy.placement_group_capture_child_tasks), [])
    if isinstance(strategy, NodeLabelSchedulingStrategy):
        return (b"", False, False, b"", -1, False, _label_terms(strategy))
    raise ValueError(f"scheduling_strategy must be 'DEFAULT', 'SPREAD', a "
                     f"NodeAffinitySchedulingStrategy, a PlacementGroupSchedulingStrategy or a "
                     f"NodeLabelSchedulingStrategy, got {strategy!r}")
