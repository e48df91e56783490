"""Tasks and objects, written as a Ray user writes them (modeled on Ray's
python/ray/tests/test_basic.py and test_basic_2.py)."""
import collections
import os
import time

import numpy as np
import pytest

import photon as ray


# --- tasks -------------------------------------------------------------------------------

@ray.remote
def add(x, y=10):
    return x + y


def test_args_and_kwargs(ray_start_regular_shared):
    assert ray.get(add.remote(1, 2)) == 3
    assert ray.get(add.remote(1)) == 11
    assert ray.get(add.remote(1, y=5)) == 6
    assert ray.get(add.remote(x=2, y=3)) == 5

    @ray.remote
    def varargs(*args, **kwargs):
        return args, kwargs

    assert ray.get(varargs.remote()) == ((), {})
    assert ray.get(varargs.remote(1, 2, a=3)) == ((1, 2), {"a": 3})


def test_many_argument_types(ray_start_regular_shared):
    @ray.remote
    def echo(x):
        return x

    Point = collections.namedtuple("Point", ["x", "y"])
    values = [
        0, 1, -1, 2 ** 70, 1.5, float("inf"), True, None, "", "text", "ünïcode", b"", b"\x00\xff",
        [], [1, [2, [3]]], (), (1, "a"), {}, {"a": {"b": [1, 2]}}, {1, 2, 3}, frozenset({4}),
        Point(1, 2), complex(1, 2), bytearray(b"abc"), range(5),
    ]
    results = ray.get([echo.remote(v) for v in values])
    assert results == values
    assert isinstance(results[-4], Point)


def test_num_returns(ray_start_regular_shared):
    @ray.remote(num_returns=3)
    def three():
        return 1, 2, 3

    a, b, c = three.remote()
    assert ray.get([a, b, c]) == [1, 2, 3]

    @ray.remote
    def pair():
        return "x", "y"

    refs = pair.options(num_returns=2).remote()
    assert isinstance(refs, list) and len(refs) == 2
    assert ray.get(refs) == ["x", "y"]

    @ray.remote(num_returns=0)
    def nothing():
        return None

    # As in Ray, a task with num_returns=0 returns None (and still runs).
    assert nothing.remote() is None


def test_num_returns_mismatch_is_an_error(ray_start_regular_shared):
    @ray.remote(num_returns=2)
    def one():
        return 1

    with pytest.raises(Exception):
        ray.get(one.remote())


def test_nested_tasks(ray_start_regular_shared):
    @ray.remote
    def leaf(i):
        return i * 2

    @ray.remote
    def parent(n):
        return sum(ray.get([leaf.remote(i) for i in range(n)]))

    @ray.remote
    def grandparent():
        return ray.get(parent.remote(5)) + 1

    assert ray.get(parent.remote(4)) == 12
    assert ray.get(grandparent.remote()) == 21


def test_nested_fan_out_does_not_deadlock(ray_start_regular_shared):
    # More blocked parents than CPUs: a worker blocked in get gives its CPU back.
    @ray.remote
    def leaf():
        return 1

    @ray.remote
    def parent():
        return ray.get(leaf.remote())

    assert sum(ray.get([parent.remote() for _ in range(6)])) == 6


def test_top_level_refs_are_resolved_nested_refs_are_not(ray_start_regular_shared):
    @ray.remote
    def describe(x, container):
        return type(x).__name__, [type(v).__name__ for v in container]

    ref = ray.put(41)
    assert ray.get(describe.remote(ref, [ref, 1])) == ("int", ["ObjectRef", "int"])

    @ray.remote
    def get_nested(refs):
        return sum(ray.get(refs))

    refs = [ray.put(i) for i in range(4)]
    assert ray.get(get_nested.remote(refs)) == 6
    assert ray.get(get_nested.remote((refs[1], refs[2]))) == 3

    @ray.remote
    def in_dict(d):
        return ray.get(d["ref"])

    assert ray.get(in_dict.remote({"ref": ray.put("deep")})) == "deep"


def test_ref_from_task_as_argument(ray_start_regular_shared):
    @ray.remote
    def slow_value():
        time.sleep(0.2)
        return 5

    assert ray.get(add.remote(slow_value.remote(), y=slow_value.remote())) == 10
    assert ray.get(add.remote(add.remote(add.remote(1)))) == 31


def test_remote_function_cannot_be_called_directly(ray_start_regular_shared):
    with pytest.raises(TypeError, match="remote"):
        add(1, 2)


def test_task_name_option(ray_start_regular_shared):
    @ray.remote
    def f():
        return 1

    assert ray.get(f.options(name="custom-name").remote()) == 1


def test_closures_and_classes_defined_in_the_driver(ray_start_regular_shared):
    factor = 3

    class Box:
        def __init__(self, v):
            self.v = v

    @ray.remote
    def scale(box):
        return Box(box.v * factor)

    out = ray.get(scale.remote(Box(4)))
    assert out.v == 12


def test_many_tasks(ray_start_regular_shared):
    @ray.remote
    def ident(i):
        return i

    assert ray.get([ident.remote(i) for i in range(200)]) == list(range(200))


def test_tasks_run_in_other_processes(ray_start_regular_shared):
    @ray.remote
    def pid():
        return os.getpid()

    assert os.getpid() not in set(ray.get([pid.remote() for _ in range(4)]))


# --- objects ------------------------------------------------------------------------------

def _mapping_of(address):
    """The file mapped at `address` in this process ('' if anonymous)."""
    with open("/proc/self/maps") as f:
        for line in f:
            fields = line.split()
            lo, hi = (int(x, 16) for x in fields[0].split("-"))
            if lo <= address < hi:
                return fields[5] if len(fields) > 5 else ""
    return ""


class _Custom:
    def __init__(self, a):
        self.a = a

    def __eq__(self, other):
        return isinstance(other, _Custom) and other.a == self.a


@pytest.mark.parametrize("value", [
    1, 3.25, "hello", b"bytes", None, True, [1, "two", 3.0], (1, 2), {"k": [1, {"n": None}]},
    {1, 2}, _Custom([1, 2]), list(range(10000)), "x" * 200_000, b"\x01" * 300_000,
])
def test_put_get_roundtrip(ray_start_regular_shared, value):
    assert ray.get(ray.put(value)) == value


def test_put_get_numpy(ray_start_regular_shared):
    for arr in [np.arange(10), np.zeros((3, 4), dtype=np.float32), np.array([], dtype=np.int8),
                np.array(["a", "bc"]), np.random.rand(100, 100)]:
        out = ray.get(ray.put(arr))
        assert out.dtype == arr.dtype and out.shape == arr.shape
        np.testing.assert_array_equal(out, arr)


def test_large_numpy_is_zero_copy_and_read_only(ray_start_regular_shared):
    arr = np.arange(4_000_000, dtype=np.int64)  # 32 MB
    ref = ray.put(arr)
    a = ray.get(ref)
    b = ray.get(ref)
    np.testing.assert_array_equal(a, arr)
    assert not a.flags.writeable
    with pytest.raises(ValueError):
        a[0] = 1
    # Both gets read the node's shared memory: no copy was made.
    for out in (a, b):
        assert not out.flags.owndata
        assert "photon-object-store" in _mapping_of(out.__array_interface__["data"][0])

    @ray.remote
    def total(x):
        assert not x.flags.writeable
        return int(x.sum())

    assert ray.get(total.remote(ref)) == int(arr.sum())


def test_large_numpy_is_aligned(ray_start_regular_shared):
    a = ray.get(ray.put(np.arange(1_000_000, dtype=np.int64)))
    assert a.__array_interface__["data"][0] % 64 == 0
    assert a.flags.aligned


def test_large_numpy_returned_from_task(ray_start_regular_shared):
    @ray.remote
    def make(n):
        return np.ones(n, dtype=np.float64)

    out = ray.get(make.remote(2_000_000))
    assert out.shape == (2_000_000,) and out.sum() == 2_000_000
    assert not out.flags.writeable


def test_numpy_inside_containers(ray_start_regular_shared):
    value = {"a": np.arange(1000), "b": [np.ones((10, 10)), "text"]}
    out = ray.get(ray.put(value))
    np.testing.assert_array_equal(out["a"], value["a"])
    np.testing.assert_array_equal(out["b"][0], value["b"][0])
    assert out["b"][1] == "text"


def test_put_of_object_ref_is_rejected(ray_start_regular_shared):
    with pytest.raises(TypeError):
        ray.put(ray.put(1))


def test_ref_inside_put_value(ray_start_regular_shared):
    inner = ray.put("inner")
    outer = ray.put([inner])
    (got,) = ray.get(outer)
    assert isinstance(got, ray.ObjectRef)
    assert ray.get(got) == "inner"


def test_ref_returned_from_task(ray_start_regular_shared):
    @ray.remote
    def make():
        return ray.put("made in a task"), [ray.put(i) for i in range(3)]

    one, many = ray.get(make.remote())
    assert ray.get(one) == "made in a task"
    assert ray.get(many) == [0, 1, 2]


def test_get_list_preserves_order(ray_start_regular_shared):
    @ray.remote
    def sleepy(i):
        time.sleep(0.05 * (5 - i))
        return i

    refs = [sleepy.remote(i) for i in range(5)]
    assert ray.get(refs) == [0, 1, 2, 3, 4]
    assert ray.get(tuple(refs[::-1])) == [4, 3, 2, 1, 0]
    assert ray.get([]) == []


def test_get_rejects_non_refs(ray_start_regular_shared):
    with pytest.raises((TypeError, ValueError)):
        ray.get(1)
    with pytest.raises((TypeError, ValueError)):
        ray.get([ray.put(1), 2])


def test_get_timeout(ray_start_regular_shared):
    @ray.remote
    def sleeper(t):
        time.sleep(t)
        return t

    ref = sleeper.remote(1.5)
    start = time.monotonic()
    with pytest.raises(ray.exceptions.GetTimeoutError) as info:
        ray.get(ref, timeout=0.2)
    assert time.monotonic() - start < 1.4
    assert isinstance(info.value, TimeoutError)
    with pytest.raises(TimeoutError):
        ray.get([ray.put(1), ref], timeout=0)
    assert ray.get(ray.put(7), timeout=0) == 7
    # The object is still there after a timed-out get.
    assert ray.get(ref) == 1.5


def test_object_ref_api(ray_start_regular_shared):
    ref = ray.put(1)
    assert isinstance(ref, ray.ObjectRef)
    assert len(ref.hex()) == 2 * len(ref.binary())
    assert ref == ray.ObjectRef(ref.binary())
    assert hash(ref) == hash(ray.ObjectRef(ref.binary()))
    assert ref.hex() in repr(ref)
    assert ref.future().result(timeout=10) == 1


def test_object_ref_await(ray_start_regular_shared):
    import asyncio

    async def main():
        return await add.remote(1, 1), await asyncio.gather(ray.put(1), ray.put(2))

    assert asyncio.run(main()) == (2, [1, 2])


# --- wait -------------------------------------------------------------------------------

@ray.remote
def delayed(value, seconds):
    time.sleep(seconds)
    return value


def test_wait_num_returns_and_ordering(ray_start_regular_shared):
    done = [ray.put(i) for i in range(3)]
    ready, not_ready = ray.wait(done, num_returns=3)
    assert ready == done and not_ready == []
    ready, not_ready = ray.wait(done, num_returns=2)
    assert ready == done[:2] and not_ready == done[2:]
    ready, not_ready = ray.wait(done)
    assert ready == done[:1] and not_ready == done[1:]

    slow = delayed.remote("slow", 1.5)
    mixed = [slow] + done
    ready, not_ready = ray.wait(mixed, num_returns=3, timeout=5)
    assert ready == done and not_ready == [slow]
    assert ray.get(slow) == "slow"  # leave no task running for the next test


def test_wait_timeout(ray_start_regular_shared):
    slow = delayed.remote(1, 1.5)
    start = time.monotonic()
    ready, not_ready = ray.wait([slow], timeout=0.2)
    assert time.monotonic() - start < 1.4
    assert ready == [] and not_ready == [slow]
    ready, not_ready = ray.wait([slow, ray.put(2)], num_returns=2, timeout=0.1)
    assert len(ready) == 1 and not_ready == [slow]
    ready, not_ready = ray.wait([slow], timeout=10)
    assert ready == [slow] and not_ready == []


def test_wait_returns_when_ready(ray_start_regular_shared):
    refs = [delayed.remote(i, 0.1 * i) for i in range(3)]
    ready, not_ready = ray.wait(refs, num_returns=3, timeout=20)
    assert set(ready) == set(refs) and not_ready == []
    # Order of the input is preserved within the lists.
    assert ready == refs


def test_wait_errors(ray_start_regular_shared):
    r = ray.put(1)
    with pytest.raises(TypeError):
        ray.wait(r)
    with pytest.raises(ValueError):
        ray.wait([r, r])
    with pytest.raises(ValueError):
        ray.wait([r], num_returns=2)
    with pytest.raises((TypeError, ValueError)):
        ray.wait([r], num_returns=0)
    with pytest.raises(TypeError):
        ray.wait([1])


def test_wait_on_failed_task_counts_as_ready(ray_start_regular_shared):
    @ray.remote
    def fail():
        raise ValueError("x")

    ref = fail.remote()
    ready, _ = ray.wait([ref], timeout=20)
    assert ready == [ref]


# --- helpers of ray.util --------------------------------------------------------------------

def test_as_completed(ray_start_regular_shared):
    refs = [delayed.remote(0, 1.5), delayed.remote(1, 0), ray.put(2), delayed.remote(3, 0)]
    out = list(ray.util.as_completed(refs, chunk_size=1))
    assert sorted(out) == [0, 1, 2, 3]
    assert out[-1] == 0
    got_refs = list(ray.util.as_completed(refs, chunk_size=2, yield_obj_refs=True))
    assert set(got_refs) == set(refs)


def test_map_unordered(ray_start_regular_shared):
    @ray.remote
    def sq(x):
        return x * x

    out = list(ray.util.map_unordered(sq, range(10), backpressure_size=3, chunk_size=2))
    assert sorted(out) == [x * x for x in range(10)]


# --- per-task options ---------------------------------------------------------------------

def test_runtime_env_per_task_and_actor(ray_start_regular_shared):
    @ray.remote
    def read(name):
        return os.environ.get(name)

    @ray.remote
    class Reader:
        def read(self, name):
            return os.environ.get(name)

    env = {"env_vars": {"PER_TASK_SETTING": "on"}}
    assert ray.get(read.options(runtime_env=env).remote("PER_TASK_SETTING")) == "on"
    # Not leaked into later tasks without it.
    assert ray.get(read.remote("PER_TASK_SETTING")) is None
    assert ray.get(ray.remote(runtime_env=env)(lambda: os.environ["PER_TASK_SETTING"])
                   .remote()) == "on"
    actor = Reader.options(runtime_env=env).remote()
    assert ray.get(actor.read.remote("PER_TASK_SETTING")) == "on"
    with pytest.raises(ValueError):
        read.options(runtime_env={"conda": "my-env"})
    with pytest.raises(TypeError):
        read.options(runtime_env={"env_vars": {"A": 1}})


def test_memory_option_does_not_block_scheduling(ray_start_regular_shared):
    @ray.remote(memory=100 * 1024 * 1024)
    def f():
        return "scheduled"

    assert ray.get(f.remote(), timeout=20) == "scheduled"


def test_large_numpy_argument_by_value(ray_start_regular_shared):
    @ray.remote
    def total(x):
        return float(x.sum()), x.flags.writeable

    assert ray.get(total.remote(np.ones(2_000_000))) == (2_000_000.0, False)


def test_generator_with_fixed_num_returns(ray_start_regular_shared):
    @ray.remote(num_returns=3)
    def gen():
        for i in range(3):
            yield i * 10

    assert ray.get(gen.remote()) == [0, 10, 20]


def test_streaming_generator(ray_start_regular_shared):
    @ray.remote
    def gen(n):
        for i in range(n):
            yield i

    assert [ray.get(ref) for ref in gen.remote(3)] == [0, 1, 2]
