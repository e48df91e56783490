"""Search-space domains (``ray.tune.search.sample``): ``tune.uniform``,
``tune.choice``, ``tune.sample_from`` and the rest.

A domain is a range of values (``Float``, ``Integer``, ``Categorical``) or a
function (``Function``) plus a sampler saying how to draw from it (uniform,
log-uniform, normal, optionally quantized). Search algorithms read the domain
and its sampler to build their own spaces; the default search draws with
``domain.sample()``.
"""
import copy
import inspect
import math

import numpy as np


class RecursiveDependencyError(Exception):
    """A ``sample_from`` function read a value that is not resolved yet."""


def _rng(random_state):
    """What to draw from for ``random_state``: a numpy Generator or RandomState
    as given, a new Generator for an int seed, or the global ``np.random``."""
    if random_state is None or random_state is np.random:
        return np.random
    if isinstance(random_state, (np.random.Generator, np.random.RandomState)):
        return random_state
    return np.random.default_rng(random_state)


def _integers(rng, low, high, size):
    if isinstance(rng, np.random.Generator):
        return rng.integers(low, high, size=size)
    return rng.randint(low, high, size=size)


class Sampler:
    """How a domain draws values."""

    def __str__(self):
        return type(self).__name__


class Uniform(Sampler):
    pass


class LogUniform(Sampler):
    pass


class Normal(Sampler):
    def __init__(self, mean=0.0, sd=1.0):
        if not sd > 0:
            raise ValueError(f"SD has to be strictly greater than 0, got {sd}.")
        self.mean = mean
        self.sd = sd


class Grid(Sampler):
    """Marks a ``grid_search`` domain: its values are enumerated, never drawn."""


class Quantized(Sampler):
    """Rounds the values of ``sampler`` to multiples of ``q``."""

    def __init__(self, sampler, q):
        if not q > 0:
            raise ValueError(f"The quantization factor q must be positive, got {q}.")
        self.sampler = sampler
        self.q = q

    def get_sampler(self):
        return self.sampler


class Domain:
    """A range of valid values and the sampler to draw them with."""

    sampler = None
    default_sampler_cls = Uniform

    def cast(self, value):
        return value

    def set_sampler(self, sampler, allow_override=False):
        if self.sampler and not allow_override:
            raise ValueError(
                f"You can only choose one sampler for parameter domains. Existing "
                f"sampler for parameter {type(self).__name__}: {self.sampler}. "
                f"Tried to add {sampler}")
        self.sampler = sampler

    def get_sampler(self):
        return self.sampler or self.default_sampler_cls()

    def _with_sampler(self, sampler, allow_override=False):
        new = copy.copy(self)
        new.set_sampler(sampler, allow_override)
        return new

    def sample(self, config=None, size=1, random_state=None):
        """One value (size=1) or a list of ``size`` values. ``config`` is the
        partially resolved config that ``sample_from`` functions read."""
        values = [self.cast(v) for v in self._draw(
            self.get_sampler(), config, size, _rng(random_state))]
        return values[0] if size == 1 else values

    def _draw(self, sampler, config, size, rng):
        raise NotImplementedError

    def is_grid(self):
        return isinstance(self.sampler, Grid)

    def is_function(self):
        return False

    def is_valid(self, value):
        raise NotImplementedError

    @property
    def domain_str(self):
        return "(unknown)"


def _grid_index(bound, q, round_fn):
    """``bound`` as a multiple of q, rounded inwards by ``round_fn``."""
    if not np.isfinite(bound):
        return bound
    scaled = bound / q
    return round(scaled) if math.isclose(scaled, round(scaled)) else round_fn(scaled)


def _check_log_bounds(lower, upper):
    hint = ("Did you pass a variable that has been log-transformed? If so, pass "
            "the non-transformed value instead.")
    if not lower > 0:
        raise ValueError(
            f"LogUniform requires a lower bound greater than 0. Got: {lower}. {hint}")
    if not 0 < upper < float("inf"):
        raise ValueError(
            f"LogUniform requires a upper bound greater than 0. Got: {upper}. {hint}")


class _Range(Domain):
    def __init__(self, lower, upper):
        self.lower = lower
        self.upper = upper

    def uniform(self):
        return self._with_sampler(Uniform())

    def loguniform(self):
        _check_log_bounds(self.lower, self.upper)
        return self._with_sampler(LogUniform())

    def is_valid(self, value):
        return self.lower <= value <= self.upper

    @property
    def domain_str(self):
        return f"({self.lower}, {self.upper})"


class Float(_Range):
    """Floats between ``lower`` and ``upper`` (None: unbounded)."""

    def __init__(self, lower, upper):
        super().__init__(float("-inf") if lower is None else lower,
                         float("inf") if upper is None else upper)

    def cast(self, value):
        return float(value)

    def uniform(self):
        if not (np.isfinite(self.lower) and np.isfinite(self.upper)):
            raise ValueError("Uniform requires finite `lower` and `upper` bounds.")
        return super().uniform()

    def normal(self, mean=0.0, sd=1.0):
        return self._with_sampler(Normal(mean, sd))

    def quantized(self, q):
        sampler = Quantized(self.get_sampler(), q)
        for name, bound in (("lower", self.lower), ("upper", self.upper)):
            if np.isfinite(bound) and not math.isclose(bound / q, round(bound / q)):
                raise ValueError(f"Your {name} variable bound {bound} is not "
                                 f"divisible by quantization factor {q}.")
        return self._with_sampler(sampler, allow_override=True)

    def _draw(self, sampler, config, size, rng):
        if isinstance(sampler, Quantized):
            q = sampler.q
            inner = copy.copy(self)
            inner.lower = _grid_index(self.lower, q, math.ceil) * q
            inner.upper = _grid_index(self.upper, q, math.floor) * q
            values = inner._draw(sampler.sampler, config, size, rng)
            return np.round(np.divide(values, q)) * q
        if isinstance(sampler, LogUniform):
            return np.exp(rng.uniform(np.log(self.lower), np.log(self.upper), size=size))
        if isinstance(sampler, Normal):
            return rng.normal(sampler.mean, sampler.sd, size=size)
        return rng.uniform(self.lower, self.upper, size=size)


class Integer(_Range):
    """Integers from ``lower`` (inclusive) to ``upper`` (exclusive)."""

    def cast(self, value):
        return int(value)

    def quantized(self, q):
        sampler = Quantized(self.get_sampler(), q)
        low = _grid_index(self.lower, q, math.ceil)
        high = _grid_index(self.upper, q, math.floor)
        if high < low:
            raise ValueError(
                f"There is no multiple of the quantization factor q={q} between the "
                f"bounds {self.lower} and {self.upper} of this domain, so it has no "
                f"values to sample.")
        return self._with_sampler(sampler, allow_override=True)

    def _draw(self, sampler, config, size, rng):
        if isinstance(sampler, Quantized):
            # Draw the index k of k * q; the upper bound is inclusive unless q == 1.
            q = sampler.q
            index = copy.copy(self)
            index.lower = int(_grid_index(self.lower, q, math.ceil))
            index.upper = int(_grid_index(self.upper, q, math.floor)) + (0 if q == 1 else 1)
            return np.multiply(index._draw(sampler.sampler, config, size, rng), q)
        if isinstance(sampler, LogUniform):
            values = np.exp(rng.uniform(np.log(self.lower), np.log(self.upper), size=size))
            return np.floor(values).astype(int)
        return _integers(rng, self.lower, self.upper, size)


class Categorical(Domain):
    """One of ``categories``, drawn uniformly."""

    def __init__(self, categories):
        self.categories = list(categories)

    def uniform(self):
        return self._with_sampler(Uniform())

    def grid(self):
        return self._with_sampler(Grid())

    def __len__(self):
        return len(self.categories)

    def __getitem__(self, index):
        return self.categories[index]

    def _draw(self, sampler, config, size, rng):
        # Indices, so that numpy does not coerce mixed categories to one dtype.
        indices = rng.choice(np.arange(len(self.categories)), size=size)
        return [self.categories[i] for i in indices]

    def is_valid(self, value):
        return value in self.categories

    @property
    def domain_str(self):
        return f"{self.categories}"


def _is_unresolved(value):
    return isinstance(value, Domain) or (
        isinstance(value, dict) and len(value) == 1 and "grid_search" in value)


class _ConfigView(dict):
    """A partially resolved config, with item and attribute access; reading a
    value that is still a domain raises RecursiveDependencyError."""

    def __getitem__(self, key):
        value = super().__getitem__(key)
        if _is_unresolved(value):
            raise RecursiveDependencyError(f"`{key}` recursively depends on {value}")
        return _ConfigView(value) if isinstance(value, dict) else value

    def __getattr__(self, key):
        if key in self:
            return self[key]
        raise AttributeError(key)


class Function(Domain):
    """Values computed by ``func(spec)`` (``spec.config`` is the partially
    resolved config) or by ``func()``."""

    default_sampler_cls = Sampler

    def __init__(self, func):
        signature = inspect.signature(func)
        try:
            signature.bind(None)
            self.pass_config = True
        except TypeError:
            try:
                signature.bind()
            except TypeError as exc:
                raise ValueError(
                    "The function passed to a `Function` parameter must be callable "
                    "with either 0 or 1 parameters.") from exc
            self.pass_config = False
        self.func = func

    def _call(self, config):
        if not self.pass_config:
            return self.func()
        view = _ConfigView(config or {})
        try:
            return self.func(_ConfigView(config=view))
        except (AttributeError, KeyError) as spec_error:
            # Also take a function of the config itself: lambda config: config["a"].
            try:
                return self.func(view)
            except (AttributeError, KeyError):
                raise spec_error from None

    def _draw(self, sampler, config, size, rng):
        return [self._call(config) for _ in range(size)]

    def is_function(self):
        return True

    def is_valid(self, value):
        return True

    @property
    def domain_str(self):
        return f"{self.func}()"


def _check_order(lower, upper):
    if not lower < upper:
        raise ValueError(
            f"`lower` must be smaller than `upper`, got lower={lower}, upper={upper}.")


def uniform(lower, upper):
    """A float drawn uniformly from [lower, upper)."""
    _check_order(lower, upper)
    return Float(lower, upper).uniform()


def quniform(lower, upper, q):
    """A float drawn uniformly from [lower, upper] and rounded to a multiple of q."""
    _check_order(lower, upper)
    return Float(lower, upper).uniform().quantized(q)


def loguniform(lower, upper, base=10):
    """A float drawn log-uniformly from [lower, upper) (``base`` does not change
    the distribution)."""
    _check_log_bounds(lower, upper)
    _check_order(lower, upper)
    return Float(lower, upper).loguniform()


def qloguniform(lower, upper, q, base=10):
    """``loguniform`` rounded to a multiple of q (upper bound inclusive)."""
    return loguniform(lower, upper).quantized(q)


def randn(mean=0.0, sd=1.0):
    """A float drawn from the normal distribution N(mean, sd)."""
    return Float(None, None).normal(mean, sd)


def qrandn(mean, sd, q):
    """``randn`` rounded to a multiple of q."""
    return randn(mean, sd).quantized(q)


def randint(lower, upper):
    """An integer drawn uniformly from [lower, upper) (upper exclusive)."""
    _check_order(lower, upper)
    return Integer(lower, upper).uniform()


def qrandint(lower, upper, q=1):
    """A multiple of q drawn uniformly between lower and upper; upper is
    inclusive, except for q=1 where it is exclusive (as ``randint``)."""
    _check_order(lower, upper)
    return Integer(lower, upper).uniform().quantized(q)


def lograndint(lower, upper, base=10):
    """An integer drawn log-uniformly from [lower, upper)."""
    _check_log_bounds(lower, upper)
    _check_order(lower, upper)
    return Integer(lower, upper).loguniform()


def qlograndint(lower, upper, q, base=10):
    """A multiple of q drawn log-uniformly between lower and upper (upper
    inclusive, except for q=1)."""
    return lograndint(lower, upper).quantized(q)


def choice(categories):
    """One of ``categories``, drawn uniformly."""
    categories = list(categories)
    if not categories:
        raise ValueError("`choice` needs at least one category.")
    return Categorical(categories).uniform()


def sample_from(func):
    """A value computed by ``func(spec)`` for each trial, after the other values
    of the config: ``spec.config`` (or ``spec["config"]``) is the config
    resolved so far. A function of no arguments works too."""
    return Function(func)


def grid_search(values):
    """Every value of ``values`` is tried; several grid searches combine as their
    cross product."""
    return {"grid_search": values}
