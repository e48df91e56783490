"""Search spaces and search algorithms of photon.tune (``ray.tune.search``)."""
import inspect

from photon.tune.search import sample
from photon.tune.search.basic_variant import BasicVariantGenerator
from photon.tune.search.concurrency_limiter import ConcurrencyLimiter
from photon.tune.search.optuna import OptunaSearch
from photon.tune.search.repeater import Repeater
from photon.tune.search.search_algorithm import SearchAlgorithm
from photon.tune.search.search_generator import SearchGenerator
from photon.tune.search.searcher import (
    UNDEFINED_METRIC_MODE, UNDEFINED_SEARCH_SPACE, UNRESOLVED_SEARCH_SPACE, Searcher)
from photon.tune.search.variant_generator import grid_search

_SEARCH_ALGS = {
    "variant_generator": BasicVariantGenerator,
    "random": BasicVariantGenerator,
    "optuna": OptunaSearch,
}


def create_searcher(search_alg, **kwargs):
    """The search algorithm named ``search_alg`` ("variant_generator",
    "random" or "optuna"), built with the keyword arguments it accepts
    (the others are dropped)."""
    name = search_alg.lower()
    if name not in _SEARCH_ALGS:
        raise ValueError(f"The `search_alg` argument must be one of "
                         f"{list(_SEARCH_ALGS)}. Got: {search_alg}")
    cls = _SEARCH_ALGS[name]
    accepted = inspect.signature(cls).parameters
    return cls(**{k: v for k, v in kwargs.items() if k in accepted})


__all__ = [
    "BasicVariantGenerator", "ConcurrencyLimiter", "OptunaSearch", "Repeater",
    "SearchAlgorithm", "SearchGenerator", "Searcher", "create_searcher",
    "grid_search", "sample", "UNDEFINED_METRIC_MODE", "UNDEFINED_SEARCH_SPACE",
    "UNRESOLVED_SEARCH_SPACE",
]
