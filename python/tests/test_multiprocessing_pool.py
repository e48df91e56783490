"""photon.util.multiprocessing.Pool as Ray's test_multiprocessing.py uses
ray.util.multiprocessing.Pool: the standard library's methods on a pool of
actors, initializers, errors, callbacks, timeouts and the pool's lifecycle."""
import multiprocessing
import os
import time

import pytest

import photon as ray
from photon.util.multiprocessing import Pool, TimeoutError


def square(x):
    return x * x


def add(a, b):
    return a + b


def fail_on_3(x):
    if x == 3:
        raise ValueError("three")
    return x


def pid_of(_):
    return os.getpid()


_STATE = {}


def remember(value):
    _STATE["v"] = value


def recall(_):
    return _STATE.get("v")


def test_map_apply_starmap_imap(ray_start_regular_shared):
    with Pool(processes=2) as pool:
        assert pool.map(square, range(10)) == [x * x for x in range(10)]
        assert pool.map(square, range(10), chunksize=3) == [x * x for x in range(10)]
        assert pool.map_async(square, range(5)).get(timeout=30) == [0, 1, 4, 9, 16]
        assert pool.apply(add, (1, 2)) == 3
        assert pool.apply(add, (), {"a": 3, "b": 4}) == 7
        r = pool.apply_async(square, (6,))
        assert r.get(timeout=30) == 36 and r.ready() and r.successful()
        assert pool.starmap(add, [(1, 2), (3, 4)]) == [3, 7]
        assert pool.starmap_async(add, [(5, 6)]).get() == [11]
        assert list(pool.imap(square, range(6))) == [0, 1, 4, 9, 16, 25]
        assert sorted(pool.imap_unordered(square, range(6), chunksize=2)) == [0, 1, 4, 9, 16, 25]
        # The work runs in the pool's actors, not here.
        pids = set(pool.map(pid_of, range(20), chunksize=1))
        assert os.getpid() not in pids and 1 <= len(pids) <= 2


def test_initializer_runs_in_every_actor(ray_start_regular_shared):
    with Pool(processes=2, initializer=remember, initargs=("hello",)) as pool:
        assert pool.map(recall, range(8), chunksize=1) == ["hello"] * 8


def test_errors_and_callbacks(ray_start_regular_shared):
    with Pool(processes=2) as pool:
        with pytest.raises(ValueError, match="three"):
            pool.map(fail_on_3, range(6))
        with pytest.raises(ValueError, match="three"):
            pool.apply(fail_on_3, (3,))
        r = pool.apply_async(fail_on_3, (3,))
        r.wait(timeout=30)
        assert r.ready() and not r.successful()
        it = pool.imap(fail_on_3, range(5))
        assert [next(it), next(it), next(it)] == [0, 1, 2]
        with pytest.raises(ValueError, match="three"):
            next(it)
        got, errors = [], []
        pool.map_async(square, [1, 2], callback=got.append).wait(timeout=30)
        pool.apply_async(fail_on_3, (3,), error_callback=errors.append).wait(timeout=30)
        deadline = time.monotonic() + 10
        while (not got or not errors) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert got == [[1, 4]]
        assert isinstance(errors[0], ValueError)


def test_timeouts(ray_start_regular_shared):
    with Pool(processes=1) as pool:
        r = pool.apply_async(time.sleep, (3,))
        with pytest.raises(TimeoutError):
            r.get(timeout=0.2)
        assert TimeoutError is multiprocessing.TimeoutError
        with pytest.raises(ValueError, match="not ready"):
            r.successful()
        r.get(timeout=30)


def test_lifecycle_and_bad_input(ray_start_regular_shared):
    pool = Pool(processes=1)
    with pytest.raises(ValueError, match="still running"):
        pool.join()
    r = pool.map_async(square, range(4))
    pool.close()
    with pytest.raises(ValueError, match="Pool not running"):
        pool.map(square, [1])
    pool.join()  # waits for what was submitted
    assert r.get() == [0, 1, 4, 9]
    with pytest.raises(ValueError, match="at least 1"):
        Pool(processes=0)
    with pytest.raises(TypeError, match="initializer"):
        Pool(processes=1, initializer=5)
    with Pool(processes=1) as p:
        pass
    with pytest.raises(ValueError, match="Pool not running"):
        p.apply(square, (2,))


def test_maxtasksperchild_replaces_actors(ray_start_regular_shared):
    with Pool(processes=1, maxtasksperchild=2) as pool:
        pids = [pool.apply(pid_of, (i,)) for i in range(6)]
    assert len(set(pids)) == 3, pids


def test_default_size_and_remote_args(ray_start_regular_shared):
    with Pool() as pool:
        assert pool._processes == int(ray.cluster_resources()["CPU"])
    with Pool(processes=2, ray_remote_args={"num_cpus": 0.5}) as pool:
        assert pool.map(square, [3]) == [9]


def test_joblib_backend(ray_start_regular_shared):
    joblib = pytest.importorskip("joblib")
    from photon.util.joblib import register_ray

    register_ray()
    with joblib.parallel_backend("ray"):
        out = joblib.Parallel(n_jobs=2)(joblib.delayed(square)(i) for i in range(20))
    assert out == [i * i for i in range(20)]
    with joblib.parallel_backend("ray", n_jobs=-1):
        pids = joblib.Parallel()(joblib.delayed(pid_of)(i) for i in range(8))
    assert os.getpid() not in pids
    with joblib.parallel_backend("ray"):
        with pytest.raises(ValueError, match="three"):
            joblib.Parallel(n_jobs=2)(joblib.delayed(fail_on_3)(i) for i in range(6))


def test_scikit_learn_on_the_ray_backend(ray_start_regular_shared):
    joblib = pytest.importorskip("joblib")
    pytest.importorskip("sklearn")
    from sklearn.datasets import make_classification
    from sklearn.model_selection import cross_val_score
    from sklearn.tree import DecisionTreeClassifier

    from photon.util.joblib import register_ray

    register_ray()
    X, y = make_classification(n_samples=200, n_features=8, random_state=0)
    with joblib.parallel_backend("ray", n_jobs=2):
        scores = cross_val_score(DecisionTreeClassifier(random_state=0), X, y, cv=4)
    expected = cross_val_score(DecisionTreeClassifier(random_state=0), X, y, cv=4)
    assert list(scores) == list(expected)
