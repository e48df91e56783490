"""Turns a search space into concrete configs
(``ray.tune.search.variant_generator``).

``grid_search`` values combine as a cross product (the first grid key, in
sorted order, varies fastest), domains are sampled once per grid variant, and
``sample_from`` functions run after the other values so they can read them.
Domains and grids may sit anywhere in nested dicts, lists and tuples.
"""
import copy
import itertools
import logging
import math
import re

from photon.tune.search.sample import (  # noqa: F401  (grid_search: Ray's home for it)
    Categorical, Domain, RecursiveDependencyError, _is_unresolved, _rng, grid_search)

logger = logging.getLogger(__name__)


def _as_domain(value):
    """The domain that ``value`` stands for, or None for a plain value."""
    if not _is_unresolved(value):
        return None
    return value if isinstance(value, Domain) else Categorical(value["grid_search"]).grid()


def _split(value, path, resolved, unresolved):
    for key, item in (value.items() if isinstance(value, dict) else enumerate(value)):
        domain = _as_domain(item)
        if domain is not None:
            unresolved.append((path + (key,), domain))
        elif isinstance(item, (dict, list, tuple)):
            _split(item, path + (key,), resolved, unresolved)
        else:
            resolved.append((path + (key,), item))


def parse_spec_vars(spec):
    """``(resolved_vars, domain_vars, grid_vars)``: lists of ``(path, value)``
    for the plain values, the domains to sample and the grid searches (as
    grid ``Categorical`` domains, sorted by path) of ``spec``."""
    resolved, unresolved = [], []
    _split(spec, (), resolved, unresolved)
    domain_vars = [(path, d) for path, d in unresolved if not d.is_grid()]
    grid_vars = sorted(((path, d) for path, d in unresolved if d.is_grid()),
                       key=lambda item: item[0])
    return resolved, domain_vars, grid_vars


def _get_value(spec, path):
    for key in path:
        spec = spec[key]
    return spec


def assign_value(spec, path, value):
    """Sets ``spec[path[0]][path[1]]... = value``, rebuilding a tuple on the way."""
    parent = _get_value(spec, path[:-1])
    if not isinstance(parent, tuple):
        parent[path[-1]] = value
        return
    if len(path) < 2:
        raise ValueError("Cannot assign value to a tuple.")
    index = path[-1]
    _get_value(spec, path[:-2])[path[-2]] = parent[:index] + (value,) + parent[index + 1:]


def _path_str(path):
    return "/".join(str(key) for key in path)


def _resolve_domain_vars(spec, domain_vars, rng, allow_fail=False):
    """Samples ``domain_vars`` into ``spec`` (functions last, in as many passes
    as their dependencies need); returns ``{path: value}``. With allow_fail,
    the ones that depend on values not resolved yet are left out."""
    resolved = {}
    pending = sorted(domain_vars, key=lambda item: item[1].is_function())
    while pending:
        blocked, error = [], None
        for path, domain in pending:
            try:
                value = domain.sample(spec, random_state=rng)
            except RecursiveDependencyError as exc:
                blocked.append((path, domain))
                error = exc
                continue
            except Exception as exc:
                raise ValueError(f"Failed to evaluate expression: {_path_str(path)}: "
                                 f"{type(domain).__name__}{domain.domain_str}") from exc
            assign_value(spec, path, value)
            resolved[path] = value
        if len(blocked) == len(pending):
            if allow_fail:
                break
            raise ValueError(
                "Could not resolve " + ", ".join(_path_str(p) for p, _ in blocked) +
                ": their sample_from functions depend on each other") from error
        pending = blocked
    return resolved


def _grid_variants(spec, grid_vars):
    if not grid_vars:
        yield spec
        return
    paths = [path for path, _ in reversed(grid_vars)]
    for values in itertools.product(*(d.categories for _, d in reversed(grid_vars))):
        variant = copy.deepcopy(spec)
        for path, value in zip(paths, values):
            assign_value(variant, path, value)
        yield variant


def _generate(spec, constant_grid_search, rng):
    spec = copy.deepcopy(spec)
    _, domain_vars, grid_vars = parse_spec_vars(spec)
    if not domain_vars and not grid_vars:
        yield {}, spec
        return
    fixed = {}
    if constant_grid_search:
        fixed = _resolve_domain_vars(spec, domain_vars, rng, allow_fail=True)
    remaining = [(path, d) for path, d in domain_vars if path not in fixed]
    for variant in _grid_variants(spec, grid_vars):
        resolved = {**fixed, **_resolve_domain_vars(variant, remaining, rng)}
        resolved.update((path, _get_value(variant, path)) for path, _ in grid_vars)
        # A sampled value may itself hold domains (e.g. a choice of sub-spaces).
        for inner, config in _generate(variant, constant_grid_search, rng):
            yield {**resolved, **inner}, config


def generate_variants(spec, constant_grid_search=False, random_state=None):
    """Yields ``(resolved_vars, config)`` for each variant of the search space
    ``spec``: ``resolved_vars`` maps the path (a tuple of keys) of each
    sampled or grid value to its value, ``config`` is fully resolved.

    With constant_grid_search, the random values are drawn once and shared by
    all grid variants instead of drawn again for each of them."""
    yield from _generate(spec, constant_grid_search, _rng(random_state))


def _count_grid_variants(spec):
    return math.prod(len(d) for _, d in parse_spec_vars(spec)[2])


def _apply_preset(spec, point):
    """A copy of ``spec`` with the values of the (partial) config ``point`` set;
    warns when a value is outside its domain."""
    spec = copy.deepcopy(spec)
    for path, value in parse_spec_vars(point)[0]:
        name = _path_str(path)
        try:
            current = _get_value(spec, path)
        except (KeyError, IndexError, TypeError) as exc:
            raise ValueError(
                f"Pre-set config key `{name}` does not correspond to a valid key in "
                f"the search space definition. Please add this path to the "
                f"`param_space` variable passed to `tune.Tuner()`.") from exc
        domain = _as_domain(current)
        if domain is not None and not domain.is_valid(value):
            logger.warning(f"Pre-set value `{value}` is not within valid values of "
                           f"parameter `{name}`: {domain.domain_str}")
        elif domain is None and not isinstance(current, dict) and current != value:
            logger.warning(f"Pre-set value `{value}` is not equal to the value of "
                           f"parameter `{name}`: {current}")
        assign_value(spec, path, value)
    return spec


def _resolve_nested_dict(nested):
    """``{path tuple: value}`` for the leaves of nested dicts."""
    flat = {}
    for key, value in nested.items():
        if isinstance(value, dict):
            flat.update({(key,) + path: v for path, v in _resolve_nested_dict(value).items()})
        else:
            flat[(key,)] = value
    return flat


def _flatten_resolved_vars(resolved_vars):
    """``{"a/b": value}`` for ``{("a", "b"): value}``."""
    return {_path_str(path): value for path, value in resolved_vars.items()}


def _clean_value(value):
    if isinstance(value, float):
        return f"{value:.4f}"
    return re.sub(r"[^a-zA-Z0-9_-]+", "_", str(value)).strip("_")


def format_vars(resolved_vars):
    """The experiment tag of a trial: ``key=value`` for each resolved variable
    (the last key of its path), sorted by path, floats with 4 decimals and
    characters that are not safe in a folder name replaced by ``_``."""
    return ",".join(f"{_clean_value(path[-1])}={_clean_value(value)}"
                    for path, value in sorted(resolved_vars.items(), key=lambda kv: kv[0]))
