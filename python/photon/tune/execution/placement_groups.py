"""PlacementGroupFactory: the bundles a trial reserves (the first one for the trial's own actor)."""

_STRATEGIES = ("PACK", "SPREAD", "STRICT_PACK", "STRICT_SPREAD")


class PlacementGroupFactory:
    def __init__(self, bundles, strategy="PACK", *args, **kwargs):
        if not bundles or not all(isinstance(b, dict) for b in bundles):
            raise ValueError("PlacementGroupFactory needs a non-empty list of resource dicts "
                             f"(bundles), got {bundles!r}.")
        if strategy not in _STRATEGIES:
            raise ValueError(f"Invalid placement group strategy {strategy!r}: expected one of "
                             f"{', '.join(_STRATEGIES)}.")
        for b in bundles:
            for k, v in b.items():
                if not isinstance(v, (int, float)) or v < 0:
                    raise ValueError(f"Bundle {b!r}: resource {k!r} must be a number >= 0.")
        self.bundles = [{k: v for k, v in b.items() if v} for b in bundles]
        self.strategy = strategy

    @property
    def head_bundle_is_empty(self):
        return not self.bundles[0]

    @property
    def required_resources(self):
        total = {}
        for b in self.bundles:
            for k, v in b.items():
                total[k] = total.get(k, 0) + v
        return total

    def __eq__(self, other):
        return (isinstance(other, PlacementGroupFactory) and self.bundles == other.bundles
                and self.strategy == other.strategy)

    def __repr__(self):
        return f"<PlacementGroupFactory (_bound={self.bundles}, strategy={self.strategy})>"


def resource_dict_to_pg_factory(spec):
    """A PlacementGroupFactory from {"cpu"|"CPU": n, "gpu"|"GPU": n, "memory": m, other: n}."""
    if spec is None:
        return PlacementGroupFactory([{"CPU": 1}])
    if isinstance(spec, PlacementGroupFactory):
        return spec
    if not isinstance(spec, dict):
        raise ValueError(f"Trial resources must be a dict or a PlacementGroupFactory, got {spec!r}.")
    bundle = {}
    for k, v in spec.items():
        key = {"cpu": "CPU", "gpu": "GPU"}.get(k, k)
        if key in ("extra_cpu", "extra_gpu", "custom_resources"):
            raise ValueError(f"Trial resource key {k!r} is not supported; use a PlacementGroupFactory.")
        bundle[key] = v
    return PlacementGroupFactory([bundle])
