"""Streaming generators (num_returns="streaming", the default for generator
functions and actor methods): items reach the caller while the task runs."""
import asyncio
import os
import time

import numpy as np
import pytest

import photon
import photon as ray
from photon import _photon


def test_items_come_in_order_and_end(ray_start_regular_shared):
    @ray.remote
    def gen(n):
        for i in range(n):
            yield i * i

    g = gen.remote(5)
    assert isinstance(g, ray.ObjectRefGenerator)
    refs = list(g)
    assert all(isinstance(r, ray.ObjectRef) for r in refs)
    assert ray.get(refs) == [0, 1, 4, 9, 16]
    assert g.is_finished()
    assert ray.get(g.completed()) == 5
    with pytest.raises(StopIteration):
        next(g)


def test_an_item_arrives_while_the_task_still_runs(ray_start_regular_shared, tmp_path):
    go = tmp_path / "go"

    @ray.remote
    def gen(path):
        yield "first"
        deadline = time.time() + 30
        while not os.path.exists(path) and time.time() < deadline:
            time.sleep(0.01)
        yield "second"

    g = gen.remote(str(go))
    assert ray.get(next(g), timeout=20) == "first"  # the task is still blocked
    go.touch()
    assert ray.get(next(g), timeout=20) == "second"
    assert list(g) == []


def test_an_exception_ends_the_stream_with_an_erroring_ref(ray_start_regular_shared):
    @ray.remote
    def gen():
        yield 1
        yield 2
        raise ValueError("broken stream")

    g = gen.remote()
    assert ray.get(next(g)) == 1
    assert ray.get(next(g)) == 2
    bad = next(g)
    with pytest.raises(ValueError, match="broken stream"):
        ray.get(bad)
    with pytest.raises(ray.exceptions.RayTaskError):
        ray.get(bad)
    with pytest.raises(StopIteration):
        next(g)


def test_large_items_go_through_the_object_store(ray_start_regular_shared):
    @ray.remote
    def gen():
        for i in range(4):
            yield np.full(500_000, i, dtype=np.int64)

    arrays = [ray.get(r) for r in gen.remote()]
    assert [int(a[0]) for a in arrays] == [0, 1, 2, 3]
    assert all(not a.flags.writeable for a in arrays)


def test_explicit_streaming_option_and_empty_generator(ray_start_regular_shared):
    @ray.remote(num_returns="streaming")
    def nothing():
        return
        yield  # noqa: unreachable - makes this a generator

    assert list(nothing.remote()) == []

    @ray.remote
    def gen(n):
        yield from range(n)

    assert [ray.get(r) for r in gen.options(num_returns="streaming").remote(3)] == [0, 1, 2]


def test_actor_generator_methods(ray_start_regular_shared):
    @ray.remote
    class Counter:
        def __init__(self):
            self.base = 100

        def count(self, n):
            for i in range(n):
                yield self.base + i

    c = Counter.remote()
    assert [ray.get(r) for r in c.count.remote(3)] == [100, 101, 102]

    @ray.remote
    class AsyncCounter:
        async def count(self, n):
            for i in range(n):
                await asyncio.sleep(0)
                yield i

    a = AsyncCounter.remote()
    assert [ray.get(r) for r in a.count.remote(4)] == [0, 1, 2, 3]


def test_async_iteration_in_the_driver(ray_start_regular_shared):
    @ray.remote
    def gen(n):
        yield from range(n)

    async def consume():
        return [await ref async for ref in gen.remote(4)]

    assert asyncio.run(consume()) == [0, 1, 2, 3]


def test_dropping_a_generator_releases_its_items(ray_start_regular_shared):
    @ray.remote
    def gen(n):
        for i in range(n):
            yield np.full(100_000, i)

    baseline = _photon.num_tracked_objects()
    g = gen.remote(10)
    first = next(g)
    ray.get(g.completed())  # every item has reached this process
    assert _photon.num_tracked_objects() > baseline
    del g, first
    deadline = time.time() + 10
    while _photon.num_tracked_objects() > baseline and time.time() < deadline:
        time.sleep(0.05)
    assert _photon.num_tracked_objects() == baseline


def test_a_generator_cannot_be_passed_to_a_task(ray_start_regular_shared):
    @ray.remote
    def gen():
        yield 1

    @ray.remote
    def take(g):
        return 0

    g = gen.remote()
    with pytest.raises(TypeError, match="ObjectRefGenerator"):
        take.remote(g)
    list(g)


def test_a_retried_generator_does_not_repeat_items(ray_start_regular_shared, tmp_path):
    marker = tmp_path / "crashed-once"

    @ray.remote(max_retries=1)
    def gen(path):
        for i in range(5):
            if i == 3 and not os.path.exists(path):
                open(path, "w").close()
                os._exit(1)  # the worker dies mid-stream, the task is retried
            yield i

    assert [ray.get(r) for r in gen.remote(str(marker))] == [0, 1, 2, 3, 4]
    assert marker.exists()


def test_a_generator_whose_worker_dies_raises_on_the_next_item(ray_start_regular_shared):
    @ray.remote(max_retries=0)
    def gen():
        yield 1
        os._exit(1)

    g = gen.remote()
    assert ray.get(next(g)) == 1
    with pytest.raises(ray.exceptions.WorkerCrashedError):
        ray.get(next(g))


def test_non_generator_with_streaming_option_is_a_clear_error(ray_start_regular_shared):
    @ray.remote(num_returns="streaming")
    def not_gen():
        return 3

    g = not_gen.remote()
    with pytest.raises(TypeError, match="not a generator"):
        ray.get(next(g))


# --- num_returns=N and num_returns="dynamic" on generators (Ray's semantics) ---

@ray.remote(num_returns=3)
def _three(n, fail_at=None):
    for i in range(n):
        if i == fail_at:
            raise KeyError("boom")
        yield i


def test_generator_with_fixed_num_returns(ray_start_regular_shared):
    assert ray.get(list(_three.remote(3))) == [0, 1, 2]
    # Fewer values than refs: the refs left over raise Ray's error at get.
    refs = _three.remote(2)
    assert ray.get(refs[:2]) == [0, 1]
    with pytest.raises(ray.exceptions.RayTaskError,
                       match=r"Task returned 2 objects, but num_returns=3\."):
        ray.get(refs[2])
    # More: the first three, the rest dropped.
    assert ray.get(list(_three.remote(5))) == [0, 1, 2]
    # An error part-way: the refs not yet filled raise it.
    refs = _three.remote(3, fail_at=1)
    assert ray.get(refs[0]) == 0
    for r in refs[1:]:
        with pytest.raises(KeyError):
            ray.get(r)


def test_tuple_of_the_wrong_length_raises_rays_error_at_get(ray_start_regular_shared):
    @ray.remote(num_returns=2)
    def three_values():
        return 1, 2, 3

    a, b = three_values.remote()
    with pytest.raises(ray.exceptions.RayTaskError,
                       match=r"Task returned 3 objects, but num_returns=2\."):
        ray.get(a)


def test_num_returns_dynamic(ray_start_regular_shared):
    with pytest.warns(DeprecationWarning):
        @ray.remote(num_returns="dynamic")
        def tens(n):
            for i in range(n):
                yield i * 10

    ref = tens.remote(3)
    assert isinstance(ref, ray.ObjectRef)
    gen = ray.get(ref)
    assert isinstance(gen, ray.DynamicObjectRefGenerator) and len(gen) == 3
    assert [ray.get(r) for r in gen] == [0, 10, 20]
    # Passed to another task, the refs resolve there too.

    @ray.remote
    def total(g):
        return sum(ray.get(list(g)))

    assert ray.get(total.remote(gen)) == 30
    with pytest.warns(DeprecationWarning):
        ref = tens.options(num_returns="dynamic").remote(0)
    assert len(ray.get(ref)) == 0


def test_num_returns_dynamic_error_and_bad_use(ray_start_regular_shared):
    with pytest.warns(DeprecationWarning):
        @ray.remote(num_returns="dynamic")
        def one_then_fail():
            yield 1
            raise ValueError("part-way")

    refs = list(ray.get(one_then_fail.remote()))
    assert len(refs) == 2 and ray.get(refs[0]) == 1
    with pytest.raises(ValueError, match="part-way"):
        ray.get(refs[1])
    with pytest.raises(ValueError, match="only for generator functions"):
        @ray.remote(num_returns="dynamic")
        def not_a_generator():
            return 1


def test_num_returns_dynamic_on_actor_methods(ray_start_regular_shared):
    @ray.remote
    class Producer:
        def values(self, n):
            for i in range(n):
                yield i + 100

        def plain(self):
            return 1

    p = Producer.remote()
    with pytest.warns(DeprecationWarning):
        ref = p.values.options(num_returns="dynamic").remote(3)
    gen = ray.get(ref)
    assert isinstance(gen, ray.DynamicObjectRefGenerator)
    assert [ray.get(r) for r in gen] == [100, 101, 102]
    with pytest.raises(ValueError, match="only for generator methods"):
        p.plain.options(num_returns="dynamic").remote()
    # The actor carries on with normal calls.
    assert ray.get(p.plain.remote()) == 1
