"""photon.tune.search: search spaces, variant generation and search algorithms,
driven by hand as the Tuner's controller drives them (no cluster). Expected
configs and tags were checked against Ray Tune 2.60 with the same seeds."""
import logging
import math
import pickle
import sys

import cloudpickle
import numpy as np
import pytest

from photon.tune.search import (
    BasicVariantGenerator, ConcurrencyLimiter, Repeater, SearchGenerator, Searcher,
    create_searcher, grid_search, sample as tune)
from photon.tune.search.optuna import OptunaSearch
from photon.tune.search.variant_generator import format_vars, generate_variants

try:
    import optuna
except ImportError:
    optuna = None

needs_optuna = pytest.mark.skipif(optuna is None, reason="optuna is not installed")


def _run(alg, space, num_samples=1, complete=True):
    """(config, tag, evaluated_params) of every trial ``alg`` makes."""
    alg.add_configurations(space, num_samples)
    rows = []
    while not alg.is_finished():
        trial_id = f"t{len(rows)}"
        row = alg.next_trial(trial_id)
        assert row is not None
        rows.append(row)
        if complete:
            alg.on_trial_complete(trial_id, {})
    return rows


class ListSearcher(Searcher):
    """Suggests the given configs in order (None for a `None` item), then FINISHED."""

    def __init__(self, configs, metric="m", mode="min"):
        super().__init__(metric=metric, mode=mode)
        self.configs = list(configs)
        self.completed = []

    def suggest(self, trial_id):
        return self.configs.pop(0) if self.configs else Searcher.FINISHED

    def on_trial_complete(self, trial_id, result=None, error=False):
        self.completed.append((trial_id, result, error))


# --- domains ---------------------------------------------------------------

def _values(domain, n=3000, seed=0):
    return domain.sample(size=n, random_state=seed)


def test_float_domains_ranges_and_quantization():
    u = _values(tune.uniform(-2, 3))
    assert all(-2 <= v < 3 for v in u) and all(type(v) is float for v in u)
    assert sorted(set(_values(tune.quniform(0, 1, 0.25)))) == [0.0, 0.25, 0.5, 0.75, 1.0]
    q = _values(tune.qloguniform(1e-3, 1e-1, 5e-4))
    assert all(1e-3 - 1e-12 <= v <= 1e-1 + 1e-12 for v in q)
    assert all(math.isclose(v / 5e-4, round(v / 5e-4)) for v in q)
    n = np.array(_values(tune.randn(1, 2), n=20000))
    assert abs(n.mean() - 1) < 0.05 and abs(n.std() - 2) < 0.05
    assert set(_values(tune.qrandn(0, 1, 0.5))) <= {k * 0.5 for k in range(-20, 21)}


def test_loguniform_is_log_uniform():
    v = np.array(_values(tune.loguniform(1e-4, 1), n=8000))
    assert v.min() >= 1e-4 and v.max() < 1
    per_decade = np.histogram(np.log10(v), bins=[-4, -3, -2, -1, 0])[0] / len(v)
    assert np.allclose(per_decade, 0.25, atol=0.03)


def test_integer_domains_bounds():
    assert sorted(set(_values(tune.randint(1, 5)))) == [1, 2, 3, 4]   # upper exclusive
    assert all(type(v) is int for v in _values(tune.randint(0, 3), n=10))
    assert sorted(set(_values(tune.qrandint(0, 10, 2)))) == [0, 2, 4, 6, 8, 10]
    assert sorted(set(_values(tune.qrandint(1, 10, 3)))) == [3, 6, 9]
    assert sorted(set(_values(tune.qrandint(1, 5)))) == [1, 2, 3, 4]   # q=1: exclusive
    assert sorted(set(_values(tune.lograndint(1, 10)))) == list(range(1, 10))
    assert sorted(set(_values(tune.qlograndint(1, 64, 4)))) == list(range(4, 65, 4))


def test_choice_keeps_category_types():
    cats = [1, "a", 2.5, None, (1, 2)]
    values = _values(tune.choice(cats), n=500)
    assert all(any(v == c and type(v) is type(c) for c in cats) for v in values)
    assert len({repr(v) for v in values}) == len(cats)


def test_sample_size_one_and_seeds():
    d = tune.uniform(0, 1)
    assert d.sample(random_state=0) == 0.6369616873214543   # as Ray
    assert d.sample(size=3, random_state=5) == d.sample(size=3, random_state=5)
    assert tune.randint(0, 100).sample(random_state=np.random.RandomState(0)) == 44
    assert tune.randint(0, 100).sample(random_state=np.random.default_rng(0)) == 85
    assert tune.randn(1, 2).sample(random_state=np.random.RandomState(0)) == 4.528104691935328


@pytest.mark.parametrize("make, message", [
    (lambda: tune.loguniform(0, 1), "LogUniform requires a lower bound greater than 0"),
    (lambda: tune.loguniform(1, -1), "LogUniform requires a upper bound greater than 0"),
    (lambda: tune.lograndint(0, 5), "LogUniform requires a lower bound greater than 0"),
    (lambda: tune.loguniform(1e-1, 1e-3), "`lower` must be smaller than `upper`"),
    (lambda: tune.uniform(1, 1), "`lower` must be smaller than `upper`"),
    (lambda: tune.randint(5, 1), "`lower` must be smaller than `upper`"),
    (lambda: tune.quniform(0.05, 1, 0.1), "lower variable bound 0.05 is not divisible"),
    (lambda: tune.quniform(0, 1, 0), "quantization factor q must be positive"),
    (lambda: tune.qrandint(1, 3, 5), "no multiple of the quantization factor q=5"),
    (lambda: tune.randn(0, 0), "SD has to be strictly greater than 0"),
    (lambda: tune.choice([]), "at least one category"),
    (lambda: tune.sample_from(lambda a, b: 1), "callable with either 0 or 1 parameters"),
])
def test_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# --- variant generation ----------------------------------------------------

def test_grid_times_num_samples_order_and_tags():
    space = {"a": grid_search([1, 2]), "b": grid_search(["x", "y", "z"]), "c": tune.uniform(0, 1)}
    alg = BasicVariantGenerator(random_state=1)
    rows = _run(alg, space, num_samples=2)
    assert alg.total_samples == 12 and len(rows) == 12
    # The first grid key varies fastest; each sample repeats the whole grid.
    assert [(c["a"], c["b"]) for c, _, _ in rows] == [
        (1, "x"), (2, "x"), (1, "y"), (2, "y"), (1, "z"), (2, "z")] * 2
    assert [tag for _, tag, _ in rows[:3]] == [
        "a=1,b=x,c=0.5118", "a=2,b=x,c=0.9505", "a=1,b=y,c=0.1442"]
    assert rows[0][2] == {"c": 0.5118216247002567, "a": 1, "b": "x"}
    assert rows[-1][0]["c"] == 0.5381433132192782


def test_nested_dicts_lists_and_tuples():
    space = {"lr": 0.01, "m": tune.choice([0.9, 0.99]),
             "nested": {"x": tune.loguniform(1e-4, 1e-1), "q": tune.choice(["a b", "c/d"])},
             "l": [tune.randint(0, 3), 2]}
    rows = _run(BasicVariantGenerator(random_state=1), space, num_samples=3)
    config, tag, params = rows[0]
    assert config == {"lr": 0.01, "m": 0.9, "l": [0, 2],
                      "nested": {"x": 0.07102170416433433, "q": "c/d"}}
    assert tag == "0=0,m=0.9000,q=c_d,x=0.0710"
    assert params == {"m": 0.9, "nested/x": 0.07102170416433433, "nested/q": "c/d", "l/0": 0}

    space = {"z": grid_search([10, 20]),
             "n": {"a": grid_search(["p", "q"]), "t": (tune.choice([1, 2]), 5)},
             "l": [{"k": grid_search([True, False])}]}
    rows = _run(BasicVariantGenerator(random_state=2), space)
    assert len(rows) == 8
    assert rows[0][0] == {"z": 10, "n": {"a": "p", "t": (2, 5)}, "l": [{"k": True}]}
    assert rows[0][1] == "k=True,a=p,0=2,z=10"


def test_choice_of_sub_spaces_is_resolved():
    space = {"opt": tune.choice([{"name": "sgd", "lr": tune.uniform(0, 1)},
                                 {"name": "adam", "beta": grid_search([0.9, 0.99])}])}
    for _, config in generate_variants(space, random_state=0):
        opt = config["opt"]
        assert isinstance(opt.get("lr", 0.5), float) and opt.get("beta", 0.9) in (0.9, 0.99)


def test_seeds_give_repeatable_configs():
    space = {"u": tune.uniform(-1, 1), "ri": tune.randint(0, 10), "ch": tune.choice([1, 2, 3])}

    def configs(random_state):
        return [c for c, _, _ in _run(BasicVariantGenerator(random_state=random_state), space, 3)]

    assert configs(3) == configs(3) != configs(4)
    assert configs(np.random.RandomState(3))[0] == {"u": 0.10159580514915101, "ri": 9, "ch": 1}
    assert configs(np.random.default_rng(5)) == configs(np.random.default_rng(5))
    np.random.seed(3)   # None: the global np.random, as Ray
    unseeded = configs(None)
    np.random.seed(3)
    assert configs(None) == unseeded


def test_constant_grid_search_shares_random_values():
    space = {"a": grid_search([1, 2, 3]), "b": tune.uniform(0, 1)}
    rows = _run(BasicVariantGenerator(constant_grid_search=True, random_state=0), space, 2)
    assert [c["b"] for c, _, _ in rows] == [0.6369616873214543] * 3 + [0.2697867137638703] * 3


def test_sample_from_reads_other_values():
    space = {
        "d": tune.sample_from(lambda spec: spec.config["b"] + spec.config.c),   # needs b first
        "a": tune.randint(5, 10),
        "b": tune.sample_from(lambda spec: spec.config.a * 2),
        "c": grid_search([0, 1]),
        "e": tune.sample_from(lambda config: config["a"] + 1),
        "f": tune.sample_from(lambda: 7),
        "n": {"g": tune.sample_from(lambda spec: spec.config.n.h * 10), "h": tune.choice([1, 2])},
    }
    rows = _run(BasicVariantGenerator(random_state=3), space, num_samples=2)
    assert len(rows) == 4
    for config, _, _ in rows:
        assert config["b"] == 2 * config["a"] and config["d"] == config["b"] + config["c"]
        assert config["e"] == config["a"] + 1 and config["f"] == 7
        assert config["n"]["g"] == 10 * config["n"]["h"]
    assert rows[0][1] == "a=9,b=18,c=0,d=18,e=10,f=7,g=10,h=1"


def test_sample_from_errors():
    cycle = {"a": tune.sample_from(lambda spec: spec.config.b),
             "b": tune.sample_from(lambda spec: spec.config.a)}
    with pytest.raises(ValueError, match="Could not resolve a, b"):
        list(generate_variants(cycle))
    with pytest.raises(ValueError, match="Failed to evaluate expression: x"):
        list(generate_variants({"x": tune.sample_from(lambda spec: 1 / 0)}))


def test_generate_variants_and_format_vars():
    variants = list(generate_variants({"a": grid_search([1, 2]), "n": {"b": 3}}))
    assert variants == [({("a",): 1}, {"a": 1, "n": {"b": 3}}),
                        ({("a",): 2}, {"a": 2, "n": {"b": 3}})]
    assert format_vars({("a",): 1e-5, ("b",): True, ("c",): None, ("d",): [1, 2.5],
                        ("e",): "a b/c", ("f",): -0.5, ("h",): np.int64(3),
                        ("x", "y"): "..", ("z",): {"k": 1}, ("l", 0): (1, 2)}) == (
        "a=0.0000,b=True,c=None,d=1_2_5,e=a_b_c,f=-0.5000,h=3,0=1_2,y=,z=k_1")


# --- BasicVariantGenerator -------------------------------------------------

def test_points_to_evaluate_fill_from_the_space():
    space = {"a": grid_search([1, 2]), "b": tune.randint(0, 3)}
    alg = BasicVariantGenerator(random_state=0,
                                points_to_evaluate=[{"a": 2, "b": 2}, {"a": 1}, {"b": 2}])
    rows = _run(alg, space, num_samples=4)
    assert alg.total_samples == len(rows) == 6
    assert [(c, tag) for c, tag, _ in rows] == [
        ({"a": 2, "b": 2}, ""), ({"a": 1, "b": 2}, "b=2"), ({"a": 1, "b": 2}, "a=1"),
        ({"a": 2, "b": 2}, "a=2"), ({"a": 1, "b": 1}, "a=1,b=1"), ({"a": 2, "b": 1}, "a=2,b=1")]


def test_points_to_evaluate_nested_and_invalid(caplog):
    space = {"a": grid_search([1, 2]), "n": {"x": tune.uniform(0, 1), "y": 3}}
    alg = BasicVariantGenerator(random_state=0, points_to_evaluate=[
        {"n": {"x": 0.5}}, {"a": 7}, {"n": {"y": 4}}])
    with caplog.at_level(logging.WARNING):
        rows = _run(alg, space, num_samples=1)
    assert alg.total_samples == len(rows) == 5
    assert rows[0][0] == {"a": 1, "n": {"x": 0.5, "y": 3}}
    assert rows[2][0]["a"] == 7 and rows[2][1] == "x=0.6370"
    assert "Pre-set value `7` is not within valid values of parameter `a`" in caplog.text
    assert "Pre-set value `4` is not equal to the value of parameter `n/y`: 3" in caplog.text
    with pytest.raises(ValueError, match="Pre-set config key `zz` does not correspond"):
        BasicVariantGenerator(points_to_evaluate=[{"zz": 1}]).add_configurations(space, 1)


def test_max_concurrent():
    alg = BasicVariantGenerator(max_concurrent=2, random_state=0)
    alg.add_configurations({"a": tune.uniform(0, 1)}, 5)
    assert alg.next_trial("t0") and alg.next_trial("t1")
    assert alg.next_trial("t2") is None and not alg.is_finished()
    alg.on_trial_complete("t0")
    assert alg.next_trial("t2") is not None and alg.next_trial("t3") is None


def test_basic_variant_state_resumes():
    space = {"a": grid_search([1, 2, 3]), "b": tune.uniform(0, 1)}
    whole = _run(BasicVariantGenerator(random_state=4), space, num_samples=3)
    alg = BasicVariantGenerator(random_state=4)
    alg.add_configurations(space, 3)
    first = [alg.next_trial(f"t{i}") for i in range(4)]
    resumed = BasicVariantGenerator()
    resumed.set_state(pickle.loads(pickle.dumps(alg.get_state())))
    rest = []
    while not resumed.is_finished():
        rest.append(resumed.next_trial(f"r{len(rest)}"))
    assert first + rest == whole
    lambdas = {"a": tune.randint(0, 9), "b": tune.sample_from(lambda spec: spec.config.a)}
    alg = BasicVariantGenerator()
    alg.add_configurations(lambdas, 2)
    assert cloudpickle.loads(cloudpickle.dumps(alg.get_state()))["_samples_left"] == 2


# --- SearchGenerator, ConcurrencyLimiter, Repeater ---------------------------

def test_search_generator_caps_and_tags():
    searcher = ListSearcher([{"x": 0.5, "nested": {"y": 1}}, None, {"x": 1.0, "nested": {"y": 2}}])
    alg = SearchGenerator(searcher)
    alg.add_configurations({"lr": 0.1, "x": tune.uniform(0, 1), "nested": {"z": "k"}}, 5)
    assert alg.total_samples == 5
    config, tag, params = alg.next_trial("a")
    assert config == {"lr": 0.1, "x": 0.5, "nested": {"z": "k", "y": 1}}
    assert tag == "lr=0.1000,y=1,z=k,x=0.5000" and params == {"x": 0.5, "nested/y": 1}
    assert alg.next_trial("b") is None and not alg.is_finished()   # None: not now
    assert alg.next_trial("c")[0]["x"] == 1.0
    assert alg.next_trial("d") is None and alg.is_finished()       # FINISHED
    alg.on_trial_complete("a", {"m": 3})
    assert searcher.completed == [("a", {"m": 3}, False)]

    capped = SearchGenerator(ListSearcher([{"x": i} for i in range(10)]))
    assert len(_run(capped, {}, num_samples=3)) == 3


def test_concurrency_limiter():
    limiter = ConcurrencyLimiter(ListSearcher([{"x": i} for i in range(5)]), max_concurrent=2)
    assert [limiter.suggest(t) for t in "abc"] == [{"x": 0}, {"x": 1}, None]
    limiter.on_trial_complete("a", {"m": 1})
    assert limiter.suggest("c") == {"x": 2} and limiter.suggest("d") is None
    assert [t for t, _, _ in limiter.searcher.completed] == ["a"]


def test_concurrency_limiter_batch():
    limiter = ConcurrencyLimiter(ListSearcher([{"x": i} for i in range(5)]), 2, batch=True)
    assert [limiter.suggest(t) for t in "abc"] == [{"x": 0}, {"x": 1}, None]
    limiter.on_trial_complete("a", {"m": 1})
    assert limiter.suggest("c") is None and limiter.searcher.completed == []
    limiter.on_trial_complete("b", {"m": 2})
    assert limiter.suggest("c") == {"x": 2}
    assert limiter.searcher.completed == [("a", {"m": 1}, False), ("b", {"m": 2}, False)]


def test_concurrency_limiter_bad_arguments():
    with pytest.raises(ValueError, match="positive integer"):
        ConcurrencyLimiter(ListSearcher([]), max_concurrent=0)
    with pytest.raises(RuntimeError, match="only works with `Searcher` objects"):
        ConcurrencyLimiter(BasicVariantGenerator(), max_concurrent=2)


def test_repeater_indexes_and_averages():
    searcher = ListSearcher([{"x": 0.5, "nested": {"y": 1}}, {"x": 1.0, "nested": {"y": 2}}])
    alg = SearchGenerator(Repeater(searcher, repeat=3))
    rows = _run(alg, {"lr": 0.1, "nested": {"z": "k"}}, num_samples=6, complete=False)
    assert [c["__trial_index__"] for c, _, _ in rows] == [0, 1, 2, 0, 1, 2]
    assert [c["x"] for c, _, _ in rows] == [0.5] * 3 + [1.0] * 3
    assert rows[0][1] == "trial_index=0,lr=0.1000,y=1,z=k,x=0.5000"
    for i, score in enumerate([1.0, 2.0, 6.0]):
        alg.on_trial_complete(f"t{i}", {"m": score})
    alg.on_trial_complete("t3", {"m": 4.0})
    alg.on_trial_complete("t4", None)           # no metric: left out of the mean
    assert searcher.completed == [("t0", {"m": 3.0}, False)]
    alg.on_trial_complete("t5", {"m": 8.0})
    assert searcher.completed[1] == ("t3", {"m": 6.0}, False)


def test_repeater_without_index_and_leftover_warning(caplog):
    alg = SearchGenerator(Repeater(ListSearcher([{"x": 1}, {"x": 2}]), repeat=2, set_index=False))
    with caplog.at_level(logging.WARNING):
        rows = _run(alg, {}, num_samples=3)
    assert [c for c, _, _ in rows] == [{"x": 1}, {"x": 1}, {"x": 2}]
    assert "Any leftover trials (num_samples mod repeat) will be ignored" in caplog.text


def test_searcher_state_and_save(tmp_path):
    limiter = ConcurrencyLimiter(ListSearcher([{"x": i} for i in range(6)]), 2)
    alg = SearchGenerator(limiter)
    alg.add_configurations({}, 4)
    alg.next_trial("a")
    alg.next_trial("b")
    state = pickle.loads(pickle.dumps(alg.get_state()))
    resumed = SearchGenerator(ConcurrencyLimiter(ListSearcher([]), 2))
    resumed.set_state(state)
    assert resumed.next_trial("c") is None            # two still live
    resumed.on_trial_complete("a", {"m": 1})
    assert resumed.next_trial("c")[0] == {"x": 2}
    assert resumed.searcher.searcher.completed == [("a", {"m": 1}, False)]

    searcher = ListSearcher([{"x": 1}, {"x": 2}])
    searcher.suggest("a")
    searcher.save_to_dir(str(tmp_path))
    restored = ListSearcher([])
    restored.restore_from_dir(str(tmp_path))
    assert restored.configs == [{"x": 2}]


def test_searcher_mode_validation():
    with pytest.raises(ValueError, match="'min' or 'max'"):
        ListSearcher([], metric="m", mode="minimize")


def test_create_searcher():
    alg = create_searcher("random", max_concurrent=3, metric="ignored")
    assert isinstance(alg, BasicVariantGenerator) and alg.max_concurrent == 3
    with pytest.raises(ValueError, match="must be one of"):
        create_searcher("hyperopt")


# --- OptunaSearch ----------------------------------------------------------

def _drive(alg, objective, n):
    losses = []
    for i in range(n):
        config, _, _ = alg.next_trial(f"t{i}")
        losses.append(objective(config))
        alg.on_trial_result(f"t{i}", {"loss": losses[-1], "training_iteration": 1})
        alg.on_trial_complete(f"t{i}", {"loss": losses[-1]})
    return losses


def _optuna_generator(space, num_samples, **kwargs):
    alg = SearchGenerator(OptunaSearch(**kwargs))
    assert alg.set_search_properties("loss", "min", space)
    alg.add_configurations(space, num_samples)
    return alg


@needs_optuna
def test_optuna_converges_on_a_quadratic():
    alg = _optuna_generator({"x": tune.uniform(-10, 10)}, 30, seed=0)
    losses = _drive(alg, lambda c: (c["x"] - 3) ** 2, 30)
    assert alg.is_finished() and alg.next_trial("extra") is None
    assert min(losses) < 0.05
    assert np.median(losses[20:]) < np.median(losses[:10])


@needs_optuna
def test_optuna_seed_is_repeatable_and_state_resumes():
    space = {"x": tune.uniform(-10, 10), "n": {"k": tune.choice(["a", "b"])}, "c": 1}
    objective = lambda c: (c["x"] - 3) ** 2  # noqa: E731
    whole = _drive(_optuna_generator(space, 20, seed=1), objective, 20)
    alg = _optuna_generator(space, 20, seed=1)
    first = _drive(alg, objective, 12)
    resumed = SearchGenerator(OptunaSearch())
    resumed.set_state(pickle.loads(pickle.dumps(alg.get_state())))
    rest = []
    for i in range(12, 20):
        config, tag, params = resumed.next_trial(f"t{i}")
        assert config["c"] == 1 and set(params) == {"x", "n/k"}
        rest.append(objective(config))
        resumed.on_trial_complete(f"t{i}", {"loss": rest[-1]})
    assert first + rest == whole


@needs_optuna
def test_optuna_converts_domains():
    dist = optuna.distributions
    converted = OptunaSearch.convert_search_space({
        "u": tune.uniform(0, 1), "qu": tune.quniform(0, 1, 0.1), "lu": tune.loguniform(1e-4, 1),
        "ri": tune.randint(0, 10), "qri": tune.qrandint(0, 10, 2), "lri": tune.lograndint(1, 100),
        "n": {"c": tune.choice(["a", "b"])}, "const": 3})
    assert converted == {
        "u": dist.FloatDistribution(0, 1), "qu": dist.FloatDistribution(0, 1, step=0.1),
        "lu": dist.FloatDistribution(1e-4, 1, log=True), "ri": dist.IntDistribution(0, 9),
        "qri": dist.IntDistribution(0, 10, step=2), "lri": dist.IntDistribution(1, 99, log=True),
        "n/c": dist.CategoricalDistribution(["a", "b"])}
    with pytest.raises(ValueError, match="Grid search parameters cannot be automatically"):
        OptunaSearch.convert_search_space({"a": grid_search([1, 2])})
    with pytest.raises(ValueError, match="does not support parameters of type `Function`"):
        OptunaSearch.convert_search_space({"a": tune.sample_from(lambda: 1)})
    with pytest.raises(ValueError, match="Grid search parameters"):
        OptunaSearch(metric="loss", mode="min").set_search_properties(
            None, None, {"a": grid_search([1, 2])})


@needs_optuna
def test_optuna_space_of_distributions_and_points():
    dist = optuna.distributions
    searcher = OptunaSearch(
        space={"x": dist.FloatDistribution(-1, 1), "n": {"k": dist.IntDistribution(0, 4)}},
        metric="loss", mode="max", seed=0, points_to_evaluate=[{"x": 0.25, "n": {"k": 3}}])
    assert not searcher.set_search_properties("loss", "max", {"y": tune.uniform(0, 1)})
    assert searcher.suggest("a") == {"x": 0.25, "n": {"k": 3}}
    second = searcher.suggest("b")
    assert -1 <= second["x"] <= 1 and second["n"]["k"] in range(5)
    searcher.on_trial_complete("a", {"loss": 1.0})
    searcher.on_trial_complete("b", error=True)
    states = [t.state for t in searcher._ot_study.trials]
    assert states == [optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL]

    warm = OptunaSearch(space={"x": dist.FloatDistribution(-1, 1)}, metric="loss", mode="min",
                        points_to_evaluate=[{"x": 0.5}, {"x": -0.5}], evaluated_rewards=[2.0, 1.0])
    assert [t.value for t in warm._ot_study.trials] == [2.0, 1.0]
    with pytest.raises(ValueError, match="Dim of evaluated_rewards"):
        OptunaSearch(space={"x": dist.FloatDistribution(-1, 1)}, metric="loss", mode="min",
                     points_to_evaluate=[{"x": 0.5}], evaluated_rewards=[1.0, 2.0])


@needs_optuna
def test_optuna_needs_space_metric_and_mode():
    with pytest.raises(RuntimeError, match="no search space has been defined"):
        OptunaSearch(metric="loss", mode="min").suggest("a")
    searcher = OptunaSearch()
    searcher.set_search_properties(None, None, {"x": tune.uniform(0, 1)})
    with pytest.raises(RuntimeError, match="`mode` \\(None\\) parameters have not been set"):
        searcher.suggest("a")


def test_optuna_missing_gives_a_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(ImportError, match="pip install optuna"):
        OptunaSearch()
    assert isinstance(create_searcher("random"), BasicVariantGenerator)


@needs_optuna
def test_create_optuna_searcher():
    searcher = create_searcher("optuna", metric="loss", mode="min", max_concurrent=4)
    assert isinstance(searcher, OptunaSearch) and searcher.metric == "loss"
