"""Placement groups (public as photon.util.placement_group, Ray's
ray.util.placement_group): bundles of resources reserved together across the
cluster's nodes, for tasks and actors to run in. The GCS places a group's
bundles with its strategy (PACK, SPREAD, STRICT_PACK, STRICT_SPREAD) and
reserves them on the chosen nodes; work is put in a bundle with
PlacementGroupSchedulingStrategy."""
from photon import _photon
from photon._private import scheduling_strategies
from photon._private import state
from photon._private import worker
from photon._private.ids import PlacementGroupID
from photon._private.remote_function import RemoteFunction
from photon._private.scheduling_strategies import PlacementGroupSchedulingStrategy

VALID_PLACEMENT_GROUP_STRATEGIES = {"PACK", "SPREAD", "STRICT_PACK", "STRICT_SPREAD"}


class PlacementGroup:
    """A handle to a placement group. `ready()` gives an ObjectRef that
    resolves once every bundle is reserved; `wait(timeout_seconds)` blocks
    until then (True) or the timeout (False)."""

    def __init__(self, id, bundle_cache=None):
        self.id = id
        self.bundle_cache = bundle_cache

    @staticmethod
    def empty():
        return PlacementGroup(PlacementGroupID.nil())

    def is_empty(self):
        return self.id.is_nil()

    def ready(self):
        """An ObjectRef that is ready once the group is placed (it resolves
        to this PlacementGroup). Works with photon.get and photon.wait."""
        self._fill_bundle_cache()
        return _reservation_check().options(
            scheduling_strategy=PlacementGroupSchedulingStrategy(
                self, placement_group_bundle_index=0)).remote(self)

    def wait(self, timeout_seconds=30):
        """True once every bundle is reserved, False if `timeout_seconds`
        passes first."""
        worker.ensure_initialized()
        timeout_ms = -1 if timeout_seconds is None else int(timeout_seconds * 1000)
        return _photon.pg_wait(self.id.binary(), timeout_ms)

    @property
    def bundle_specs(self):
        """The bundles, as a list of resource dicts."""
        self._fill_bundle_cache()
        return [dict(b) for b in self.bundle_cache]

    @property
    def bundle_count(self):
        self._fill_bundle_cache()
        return len(self.bundle_cache)

    def _fill_bundle_cache(self):
        if self.bundle_cache is None:
            worker.ensure_initialized()
            entry = _photon.pg_get(self.id.binary())
            if entry is None:
                raise ValueError(f"placement group {self.id.hex()} does not exist")
            self.bundle_cache = [entry["bundles"][i] for i in sorted(entry["bundles"])]

    def __eq__(self, other):
        return isinstance(other, PlacementGroup) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"PlacementGroup(id={self.id.hex()})"

    def __reduce__(self):
        return PlacementGroup, (self.id, self.bundle_cache)


def bundle_reservation_check(placement_group):
    return placement_group


_check_fn = None


def _reservation_check():
    """The no-op task whose result says a group is ready: it can only run in
    the group's bundle 0, once that is reserved (as in Ray)."""
    global _check_fn
    if _check_fn is None:
        _check_fn = RemoteFunction(bundle_reservation_check, {"num_cpus": 0})
    return _check_fn


def _validate_bundles(bundles):
    if not isinstance(bundles, (list, tuple)) or not all(isinstance(b, dict) for b in bundles):
        raise ValueError("The placement group `bundles` argument must be a list of "
                         f"dictionaries, got {bundles!r}.")
    if len(bundles) == 0:
        raise ValueError("The placement group `bundles` argument cannot be an empty list.")
    for b in bundles:
        for k, v in b.items():
            if not isinstance(k, str):
                raise ValueError(f"Bundle resource names must be strings, got {k!r} in {b}.")
            if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
                raise ValueError(f"Bundle resource amounts must be numbers >= 0, got {k}={v!r} "
                                 f"in bundle {b}.")
        if not b or all(v == 0 for v in b.values()):
            raise ValueError("Bundles cannot be an empty dictionary or resources with only 0 "
                             f"values. Bundles: {list(bundles)}")


def placement_group(bundles, strategy="PACK", name="", lifetime=None,
                    _max_cpu_fraction_per_node=None, _soft_target_node_id=None,
                    bundle_label_selector=None):
    """Reserves `bundles` (a list of resource dicts) across the cluster with
    `strategy`. Returns at once; the group is placed in the background (see
    PlacementGroup.ready/wait). `lifetime="detached"` keeps it after its job
    ends; `name` makes it findable with get_placement_group."""
    worker.ensure_initialized()
    _validate_bundles(bundles)
    if strategy not in VALID_PLACEMENT_GROUP_STRATEGIES:
        raise ValueError(f"Invalid placement group strategy {strategy}. Supported strategies "
                         f"are: {sorted(VALID_PLACEMENT_GROUP_STRATEGIES)}.")
    if lifetime not in (None, "detached"):
        raise ValueError("Placement group `lifetime` argument must be either `None` or "
                         f"'detached'. Got {lifetime}.")
    if not isinstance(name, str):
        raise TypeError(f"The placement group `name` must be a string, got {type(name)}")
    if _soft_target_node_id is not None:
        raise NotImplementedError("_soft_target_node_id (a private, experimental Ray option) is "
                                  "not supported by Photon")
    selectors = []
    if bundle_label_selector is not None:
        if not isinstance(bundle_label_selector, (list, tuple)):
            raise ValueError("bundle_label_selector must be a list of label selectors (dicts), "
                             f"one per bundle, got {type(bundle_label_selector)}.")
        if len(bundle_label_selector) != len(bundles):
            raise ValueError("The length of `bundle_label_selector` should equal the length of "
                             f"`bundles`: got {len(bundle_label_selector)} selectors for "
                             f"{len(bundles)} bundles.")
        selectors = [scheduling_strategies.label_selector_terms(
            sel, f"bundle_label_selector[{i}]") for i, sel in enumerate(bundle_label_selector)]
    clean = [{k: float(v) for k, v in b.items() if v > 0} for b in bundles]
    pg_id = _photon.pg_create(clean, strategy, name, worker.current_namespace(),
                              lifetime == "detached", selectors)
    return PlacementGroup(PlacementGroupID(pg_id), bundle_cache=clean)


def remove_placement_group(placement_group):
    """Removes the group: its bundles are freed, its actors killed and its
    tasks fail."""
    if not isinstance(placement_group, PlacementGroup):
        raise TypeError("remove_placement_group expects a PlacementGroup, got "
                        f"{type(placement_group)}")
    worker.ensure_initialized()
    _photon.pg_remove(placement_group.id.binary())


def get_placement_group(placement_group_name):
    """The live placement group named so in the current namespace."""
    worker.ensure_initialized()
    if not placement_group_name:
        raise ValueError("Please supply a non-empty value to get_placement_group")
    entry = _photon.pg_get_named(placement_group_name, worker.current_namespace())
    if entry is None or entry["state"] == "REMOVED":
        raise ValueError(f"Failed to look up placement group with name: {placement_group_name}")
    return PlacementGroup(PlacementGroupID.from_hex(entry["placement_group_id"]))


def placement_group_table(placement_group=None):
    """The state of one group (a dict), or of every group (a dict by id)."""
    worker.ensure_initialized()
    if placement_group is not None:
        entry = _photon.pg_get(placement_group.id.binary())
        return _public(entry) if entry is not None else {}
    return {e["placement_group_id"]: _public(e) for e in _photon.pg_all()}


def _public(entry):
    e = dict(entry)
    e.pop("namespace", None)
    return e


def get_current_placement_group():
    """The placement group the running task or actor is in, or None (on the
    driver, or outside any group)."""
    task = state.current_task()
    pg = getattr(task, "placement_group_id", None) if task is not None else None
    if not pg:
        pg = state.connection.actor_placement_group_id
    if not pg:
        return None
    return PlacementGroup(PlacementGroupID(pg))
