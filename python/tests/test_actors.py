"""Actors: state, ordering, handles, named actors, threaded and async actors
(modeled on Ray's python/ray/tests/test_actor.py, test_named_actors.py,
test_asyncio.py and test_threaded_actor.py)."""
import asyncio
import os
import threading
import time

import pytest

import photon as ray


@ray.remote
class Counter:
    def __init__(self, start=0, step=1):
        self.value = start
        self.step = step

    def incr(self, by=None):
        self.value += self.step if by is None else by
        return self.value

    def get(self):
        return self.value

    def pid(self):
        return os.getpid()

    @ray.method(num_returns=2)
    def two(self):
        return self.value, -self.value


def test_actor_state(ray_start_regular_shared):
    c = Counter.remote()
    assert ray.get(c.incr.remote()) == 1
    assert ray.get(c.incr.remote()) == 2
    assert ray.get(c.get.remote()) == 2
    d = Counter.remote(10, step=5)
    assert ray.get(d.incr.remote()) == 15
    assert ray.get(d.incr.remote(by=1)) == 16
    assert ray.get(c.get.remote()) == 2


def test_actor_calls_run_in_order(ray_start_regular_shared):
    c = Counter.remote()
    refs = [c.incr.remote() for _ in range(100)]
    assert ray.get(refs) == list(range(1, 101))


def test_actor_runs_in_its_own_process(ray_start_regular_shared):
    a, b = Counter.remote(), Counter.remote()
    pa, pb = ray.get([a.pid.remote(), b.pid.remote()])
    assert pa != pb and os.getpid() not in (pa, pb)
    assert ray.get(a.pid.remote()) == pa


def test_method_num_returns(ray_start_regular_shared):
    c = Counter.remote(3)
    x, y = c.two.remote()
    assert ray.get([x, y]) == [3, -3]
    refs = c.get.options(num_returns=1).remote()
    assert ray.get(refs) == 3


def test_actor_args_are_resolved(ray_start_regular_shared):
    c = Counter.remote(ray.put(100))
    assert ray.get(c.incr.remote(ray.put(5))) == 105


def test_actor_handle_passed_to_tasks_and_actors(ray_start_regular_shared):
    c = Counter.remote()

    @ray.remote
    def bump(counter, n):
        return ray.get([counter.incr.remote() for _ in range(n)])[-1]

    assert ray.get(bump.remote(c, 3)) == 3
    assert ray.get(c.get.remote()) == 3

    @ray.remote
    class Caller:
        def __init__(self, counter):
            self.counter = counter

        def call(self):
            return ray.get(self.counter.incr.remote(by=10))

    caller = Caller.remote(c)
    assert ray.get(caller.call.remote()) == 13


def test_actor_method_cannot_be_called_directly(ray_start_regular_shared):
    c = Counter.remote()
    with pytest.raises(TypeError):
        c.incr()
    with pytest.raises(AttributeError):
        c.no_such_method


def test_actor_handle_identity(ray_start_regular_shared):
    c = Counter.remote()
    assert c == c
    assert c != Counter.remote()
    assert "Counter" in repr(c)


def test_actor_inheritance(ray_start_regular_shared):
    class Base:
        def base(self):
            return "base"

    @ray.remote
    class Child(Base):
        def child(self):
            return "child"

    a = Child.remote()
    assert ray.get([a.base.remote(), a.child.remote()]) == ["base", "child"]


def test_actor_options_override(ray_start_regular_shared):
    c = Counter.options(num_cpus=0, name=None).remote(7)
    assert ray.get(c.get.remote()) == 7


def test_runtime_context_in_actor(ray_start_regular_shared):
    @ray.remote
    class Who:
        def ids(self):
            ctx = ray.get_runtime_context()
            return ctx.get_actor_id(), ctx.get_job_id(), ctx.get_node_id(), ctx.get_task_id()

        def me(self):
            return ray.get_runtime_context().current_actor

    a = Who.remote()
    actor_id, job_id, node_id, task_id = ray.get(a.ids.remote())
    ctx = ray.get_runtime_context()
    assert actor_id is not None and actor_id == a._actor_id.hex()
    assert job_id == ctx.get_job_id()
    assert node_id == ctx.get_node_id()
    assert task_id is not None
    assert ray.get(a.me.remote()) == a


# --- named actors ----------------------------------------------------------------------

def test_named_actor(ray_start_regular_shared):
    c = Counter.options(name="named-counter").remote()
    ray.get(c.incr.remote())
    same = ray.get_actor("named-counter")
    assert ray.get(same.incr.remote()) == 2
    assert same == c

    @ray.remote
    def from_task():
        return ray.get(ray.get_actor("named-counter").incr.remote())

    assert ray.get(from_task.remote()) == 3


def test_get_actor_handle_keeps_method_options(ray_start_regular_shared):
    # (As in Ray, a non-detached named actor lives while a handle to it does.)
    creator = Counter.options(name="with-options").remote(4)  # noqa: F841
    handle = ray.get_actor("with-options")
    x, y = handle.two.remote()
    assert ray.get([x, y]) == [4, -4]
    with pytest.raises(AttributeError):
        handle.no_such_method


def test_named_actor_created_in_a_task(ray_start_regular_shared):
    @ray.remote
    def create():
        Counter.options(name="made-in-task", lifetime="detached").remote(40)
        return ray.get_runtime_context().namespace

    assert ray.get(create.remote()) == ray.get_runtime_context().namespace
    handle = ray.get_actor("made-in-task")
    assert ray.get(handle.incr.remote()) == 41
    ray.kill(handle)


def test_named_actor_name_taken(ray_start_regular_shared):
    first = Counter.options(name="taken").remote()  # noqa: F841
    with pytest.raises(ValueError):
        b = Counter.options(name="taken").remote()
        ray.get(b.get.remote())


def test_get_actor_missing(ray_start_regular_shared):
    with pytest.raises(ValueError):
        ray.get_actor("no-such-actor")
    with pytest.raises(ValueError):
        ray.get_actor("")


def test_named_actors_in_namespaces(ray_start_regular_shared):
    a = Counter.options(name="shared-name", namespace="ns1").remote(1)
    b = Counter.options(name="shared-name", namespace="ns2").remote(2)
    assert ray.get(ray.get_actor("shared-name", namespace="ns1").get.remote()) == 1
    assert ray.get(ray.get_actor("shared-name", namespace="ns2").get.remote()) == 2
    # The job's own namespace is the default, and it has no such actor.
    with pytest.raises(ValueError):
        ray.get_actor("shared-name")
    del a, b


def test_get_if_exists(ray_start_regular_shared):
    a = Counter.options(name="singleton", get_if_exists=True).remote(5)
    ray.get(a.incr.remote())
    b = Counter.options(name="singleton", get_if_exists=True).remote(100)
    assert ray.get(b.get.remote()) == 6
    assert a == b


def test_namespace_of_job(ray_start_regular_shared):
    ns = ray.get_runtime_context().namespace
    assert isinstance(ns, str) and ns


# --- threaded actors ---------------------------------------------------------------------

def test_threaded_actor_runs_calls_concurrently(ray_start_regular_shared):
    @ray.remote(max_concurrency=4)
    class Threaded:
        def __init__(self):
            self.lock = threading.Lock()
            self.active = 0
            self.peak = 0

        def work(self):
            with self.lock:
                self.active += 1
                self.peak = max(self.peak, self.active)
            time.sleep(0.3)
            with self.lock:
                self.active -= 1
            return threading.get_ident()

        def peak_concurrency(self):
            return self.peak

    a = Threaded.remote()
    ray.get(a.peak_concurrency.remote())  # the actor is up
    start = time.monotonic()
    threads = ray.get([a.work.remote() for _ in range(8)])
    elapsed = time.monotonic() - start
    assert ray.get(a.peak_concurrency.remote()) > 1
    assert len(set(threads)) > 1
    assert elapsed < 2.0  # one at a time would take 2.4 s


def test_threaded_actor_barrier(ray_start_regular_shared):
    # Deadlocks unless both calls run at the same time.
    @ray.remote(max_concurrency=2)
    class Rendezvous:
        def __init__(self):
            self.barrier = threading.Barrier(2, timeout=10)

        def meet(self):
            return self.barrier.wait()

    a = Rendezvous.remote()
    assert sorted(ray.get([a.meet.remote(), a.meet.remote()], timeout=20)) == [0, 1]


def test_sync_actor_runs_one_call_at_a_time(ray_start_regular_shared):
    @ray.remote
    class Serial:
        def __init__(self):
            self.active = 0
            self.peak = 0

        def work(self):
            self.active += 1
            self.peak = max(self.peak, self.active)
            time.sleep(0.05)
            self.active -= 1

        def peak_concurrency(self):
            return self.peak

    a = Serial.remote()
    ray.get([a.work.remote() for _ in range(5)])
    assert ray.get(a.peak_concurrency.remote()) == 1


# --- async actors ----------------------------------------------------------------------

def test_async_actor(ray_start_regular_shared):
    @ray.remote
    class AsyncActor:
        def __init__(self):
            self.count = 0

        async def slow(self, t):
            await asyncio.sleep(t)
            self.count += 1
            return t

        def sync_count(self):
            return self.count

    a = AsyncActor.remote()
    ray.get(a.sync_count.remote())  # the actor is up
    start = time.monotonic()
    assert ray.get([a.slow.remote(0.5) for _ in range(10)]) == [0.5] * 10
    # The calls interleave on the actor's event loop.
    assert time.monotonic() - start < 3
    assert ray.get(a.sync_count.remote()) == 10


def test_async_actor_event(ray_start_regular_shared):
    # wait() blocks until set() runs: only possible if calls interleave.
    @ray.remote
    class Signal:
        def __init__(self):
            self.event = asyncio.Event()

        async def wait(self):
            await self.event.wait()
            return "released"

        def send(self):
            self.event.set()

    s = Signal.remote()
    waiting = s.wait.remote()
    ready, _ = ray.wait([waiting], timeout=0.3)
    assert not ready
    ray.get(s.send.remote())
    assert ray.get(waiting, timeout=10) == "released"


def test_async_actor_max_concurrency(ray_start_regular_shared):
    @ray.remote(max_concurrency=2)
    class Limited:
        def __init__(self):
            self.active = 0
            self.peak = 0

        async def work(self):
            self.active += 1
            self.peak = max(self.peak, self.active)
            await asyncio.sleep(0.2)
            self.active -= 1

        async def peak_concurrency(self):
            return self.peak

    a = Limited.remote()
    ray.get([a.work.remote() for _ in range(6)])
    assert ray.get(a.peak_concurrency.remote()) == 2


def test_async_actor_exception(ray_start_regular_shared):
    @ray.remote
    class Raiser:
        async def fail(self):
            await asyncio.sleep(0)
            raise KeyError("async failure")

    with pytest.raises(KeyError) as info:
        ray.get(Raiser.remote().fail.remote())
    assert "async failure" in str(info.value)


def test_async_actor_awaits_object_refs(ray_start_regular_shared):
    @ray.remote
    def value(x):
        return x * 2

    @ray.remote
    class Awaiter:
        async def run(self, other):
            a = await value.remote(1)
            b = await other.get.remote()
            c = await asyncio.gather(value.remote(2), value.remote(3))
            return a, b, c

    c = Counter.remote(9)
    assert ray.get(Awaiter.remote().run.remote(c), timeout=30) == (2, 9, [4, 6])


def test_await_actor_call_from_driver(ray_start_regular_shared):
    c = Counter.remote(1)

    async def main():
        return await c.incr.remote()

    assert asyncio.run(main()) == 2


def test_concurrency_groups(ray_start_regular_shared):
    """Ray's concurrency groups: each group runs up to its limit of calls at once,
    apart from the default group (max_concurrency)."""
    import threading as _threading

    @ray.remote(concurrency_groups={"io": 2, "compute": 1})
    class Grouped:
        def __init__(self):
            self.barrier = _threading.Barrier(2, timeout=10)

        @ray.method(concurrency_group="io")
        def meet(self):
            self.barrier.wait()  # needs two io calls running at once
            return "met"

        @ray.method(concurrency_group="compute")
        def compute(self):
            return "computed"

        def plain(self):
            return "plain"

    g = Grouped.remote()
    assert ray.get([g.meet.remote(), g.meet.remote()], timeout=30) == ["met", "met"]
    assert ray.get(g.compute.remote()) == "computed"
    assert ray.get(g.plain.remote()) == "plain"
    # A group chosen at the call.
    assert ray.get(g.plain.options(concurrency_group="io").remote()) == "plain"
    with pytest.raises(ValueError):
        ray.get(g.plain.options(concurrency_group="nope").remote())

    @ray.remote(concurrency_groups={"io": 2})
    class AsyncGrouped:
        def __init__(self):
            self.event = None

        @ray.method(concurrency_group="io")
        async def meet(self):
            import asyncio as _asyncio
            if self.event is None:
                self.event = _asyncio.Event()
                await _asyncio.wait_for(self.event.wait(), 10)
            else:
                self.event.set()
            return "met"

    a = AsyncGrouped.remote()
    assert ray.get([a.meet.remote(), a.meet.remote()], timeout=30) == ["met", "met"]
