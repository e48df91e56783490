"""photon.util: ActorPool and Queue (modeled on Ray's
python/ray/tests/test_actor_pool.py and test_queue.py)."""
import asyncio
import threading
import time

import pytest

import photon as ray
from photon.util import ActorPool
from photon.util.queue import Empty, Full, Queue


@ray.remote
class Doubler:
    def double(self, x):
        return 2 * x

    def slow_double(self, x):
        time.sleep(x)
        return 2 * x

    def pair(self, x):
        return x, -x


def _ready_actors(n):
    """n Doubler actors, started (so timings do not include process startup)."""
    actors = [Doubler.remote() for _ in range(n)]
    ray.get([a.double.remote(0) for a in actors])
    return actors


# --- ActorPool ------------------------------------------------------------------------------

def test_actor_pool_map(ray_start_regular_shared):
    pool = ActorPool([Doubler.remote(), Doubler.remote()])
    assert list(pool.map(lambda a, v: a.double.remote(v), range(10))) == [2 * i for i in range(10)]
    # A pool is reusable.
    assert list(pool.map(lambda a, v: a.double.remote(v), [5])) == [10]


def test_actor_pool_map_unordered(ray_start_regular_shared):
    pool = ActorPool(_ready_actors(2))
    out = list(pool.map_unordered(lambda a, v: a.slow_double.remote(v), [1.0, 0.05, 0.1, 0.05]))
    assert sorted(out) == [0.1, 0.1, 0.2, 2.0]
    assert out[-1] == 2.0


def test_actor_pool_submit_get_next(ray_start_regular_shared):
    pool = ActorPool([Doubler.remote(), Doubler.remote()])
    assert not pool.has_next()
    for i in range(5):
        pool.submit(lambda a, v: a.double.remote(v), i)
    assert pool.has_next()
    assert not pool.has_free()  # two actors, both busy, three submissions queued
    results = [pool.get_next() for _ in range(5)]
    assert results == [0, 2, 4, 6, 8]
    assert not pool.has_next()
    with pytest.raises(StopIteration):
        pool.get_next()
    assert pool.has_free()


def test_actor_pool_get_next_unordered(ray_start_regular_shared):
    pool = ActorPool(_ready_actors(2))
    pool.submit(lambda a, v: a.slow_double.remote(v), 1.0)
    pool.submit(lambda a, v: a.slow_double.remote(v), 0.01)
    assert pool.get_next_unordered() == 0.02
    assert pool.get_next_unordered() == 2.0
    with pytest.raises(StopIteration):
        pool.get_next_unordered()


def test_actor_pool_get_next_timeout(ray_start_regular_shared):
    pool = ActorPool([Doubler.remote()])
    pool.submit(lambda a, v: a.slow_double.remote(v), 1.0)
    with pytest.raises(TimeoutError):
        pool.get_next(timeout=0.1)
    with pytest.raises(TimeoutError):
        pool.get_next_unordered(timeout=0.1)
    # The result is still there after a timeout.
    assert pool.get_next(timeout=10) == 2.0


def test_actor_pool_mixing_get_next_and_unordered(ray_start_regular_shared):
    pool = ActorPool(_ready_actors(2))
    pool.submit(lambda a, v: a.slow_double.remote(v), 1.0)
    pool.submit(lambda a, v: a.double.remote(v), 1)
    assert pool.get_next_unordered() == 2
    # The result of an earlier submission is still pending, but get_next
    # cannot return results in order any more (as in Ray).
    with pytest.raises(ValueError):
        pool.get_next()
    assert pool.get_next_unordered() == 2.0
    pool.submit(lambda a, v: a.double.remote(v), 3)
    assert pool.get_next() == 6


def test_actor_pool_pop_idle_and_push(ray_start_regular_shared):
    a, b = Doubler.remote(), Doubler.remote()
    pool = ActorPool([a])
    popped = pool.pop_idle()
    assert popped == a
    assert pool.pop_idle() is None
    assert not pool.has_free()
    pool.push(a)
    pool.push(b)
    with pytest.raises(ValueError):
        pool.push(a)
    assert list(pool.map(lambda actor, v: actor.double.remote(v), [1, 2, 3])) == [2, 4, 6]


def test_actor_pool_push_runs_pending_submit(ray_start_regular_shared):
    a = Doubler.remote()
    pool = ActorPool([a])
    busy = pool.pop_idle()
    pool.submit(lambda actor, v: actor.double.remote(v), 21)  # no idle actor: queued
    assert not pool.has_next()
    pool.push(busy)
    assert pool.get_next() == 42


def test_actor_pool_task_error(ray_start_regular_shared):
    @ray.remote
    class Fails:
        def run(self, v):
            if v == 2:
                raise ValueError("bad value")
            return v

    pool = ActorPool([Fails.remote()])
    gen = pool.map(lambda a, v: a.run.remote(v), [1, 2, 3])
    assert next(gen) == 1
    with pytest.raises(ValueError):
        next(gen)


def test_actor_pool_multiple_returns(ray_start_regular_shared):
    pool = ActorPool([Doubler.remote()])
    pool.submit(lambda a, v: a.pair.options(num_returns=2).remote(v), 3)
    assert pool.get_next() == [3, -3]
    pool.submit(lambda a, v: a.pair.options(num_returns=2).remote(v), 4)
    assert pool.get_next_unordered() == [4, -4]


# --- Queue ------------------------------------------------------------------------------------

def test_queue_put_get(ray_start_regular_shared):
    q = Queue()
    assert q.empty() and q.qsize() == 0 and q.size() == 0 and len(q) == 0
    items = [1, "two", {"three": 3}, None]
    for item in items:
        q.put(item)
    assert q.qsize() == 4 and not q.empty() and not q.full()
    assert [q.get() for _ in items] == items
    assert q.empty()
    q.shutdown()


def test_queue_nowait(ray_start_regular_shared):
    q = Queue(maxsize=2)
    with pytest.raises(Empty):
        q.get_nowait()
    with pytest.raises(Empty):
        q.get(block=False)
    q.put_nowait(1)
    q.put(2, block=False)
    assert q.full()
    with pytest.raises(Full):
        q.put_nowait(3)
    with pytest.raises(Full):
        q.put(3, block=False)
    assert q.get_nowait() == 1
    assert q.get(block=False) == 2
    q.shutdown()


def test_queue_timeouts(ray_start_regular_shared):
    q = Queue(maxsize=1)
    start = time.monotonic()
    with pytest.raises(Empty):
        q.get(timeout=0.2)
    assert time.monotonic() - start < 5
    q.put(1)
    with pytest.raises(Full):
        q.put(2, timeout=0.2)
    with pytest.raises(ValueError):
        q.get(timeout=-1)
    with pytest.raises(ValueError):
        q.put(1, timeout=-1)
    q.shutdown()


def test_queue_batches(ray_start_regular_shared):
    q = Queue(maxsize=3)
    q.put_nowait_batch([1, 2])
    with pytest.raises(Full):
        q.put_nowait_batch([3, 4])
    assert q.qsize() == 2  # all or nothing
    q.put_nowait_batch([3])
    with pytest.raises(Empty):
        q.get_nowait_batch(4)
    assert q.get_nowait_batch(2) == [1, 2]
    assert q.get_nowait_batch(1) == [3]
    assert q.get_nowait_batch(0) == []
    with pytest.raises(TypeError):
        q.put_nowait_batch(1)
    with pytest.raises(TypeError):
        q.get_nowait_batch("1")
    with pytest.raises(ValueError):
        q.get_nowait_batch(-1)
    q.shutdown()


def test_queue_blocking_get_is_woken_by_put(ray_start_regular_shared):
    q = Queue()

    @ray.remote
    def consumer(queue):
        return queue.get(timeout=20)

    ref = consumer.remote(q)
    ready, _ = ray.wait([ref], timeout=0.5)
    assert not ready
    q.put("wake up")
    assert ray.get(ref, timeout=20) == "wake up"
    q.shutdown()


def test_queue_blocking_get_is_woken_by_put_nowait(ray_start_regular_shared):
    # put_nowait is a sync method of the (async) queue actor: it must run on
    # the actor's event loop to wake the waiting get.
    q = Queue()

    @ray.remote
    def consumer(queue):
        return queue.get(timeout=20)

    ref = consumer.remote(q)
    ready, _ = ray.wait([ref], timeout=0.5)
    assert not ready
    q.put_nowait("woken")
    assert ray.get(ref, timeout=20) == "woken"
    q.shutdown()


def test_async_actor_sync_methods_run_on_its_event_loop(ray_start_regular_shared):
    @ray.remote
    class Loop:
        async def loop_thread(self):
            return threading.get_ident()

        def sync_thread(self):
            asyncio.get_running_loop()  # raises RuntimeError off the loop
            return threading.get_ident()

    a = Loop.remote()
    assert ray.get(a.sync_thread.remote()) == ray.get(a.loop_thread.remote())


def test_queue_blocking_put_waits_for_space(ray_start_regular_shared):
    q = Queue(maxsize=1)
    q.put("first")

    @ray.remote
    def producer(queue):
        queue.put("second", timeout=20)
        return "done"

    ref = producer.remote(q)
    ready, _ = ray.wait([ref], timeout=0.5)
    assert not ready
    assert q.get() == "first"
    assert ray.get(ref, timeout=20) == "done"
    assert q.get() == "second"
    q.shutdown()


def test_queue_producers_and_consumers(ray_start_regular_shared):
    q = Queue(maxsize=5)

    @ray.remote
    def produce(queue, start, n):
        for i in range(start, start + n):
            queue.put(i)

    @ray.remote
    class Consumer:
        def __init__(self, queue):
            self.queue = queue

        def take(self, n):
            return [self.queue.get(timeout=20) for _ in range(n)]

    consumer = Consumer.remote(q)
    taken = consumer.take.remote(20)
    ray.get([produce.remote(q, 0, 10), produce.remote(q, 100, 10)])
    assert sorted(ray.get(taken)) == list(range(10)) + list(range(100, 110))
    q.shutdown()


def test_queue_async_api(ray_start_regular_shared):
    q = Queue()

    async def main():
        await q.put_async(1)
        await q.put_async(2, block=False)
        first = await q.get_async()
        second = await q.get_async(block=False)
        with pytest.raises(Empty):
            await q.get_async(block=False)
        with pytest.raises(Empty):
            await q.get_async(timeout=0.1)
        return first, second

    assert asyncio.run(main()) == (1, 2)
    q.shutdown()


def test_queue_actor_options_and_shutdown(ray_start_regular_shared):
    q = Queue(actor_options={"name": "my-queue", "num_cpus": 0})
    q.put(1)
    assert ray.get(ray.get_actor("my-queue").qsize.remote()) == 1
    q.shutdown()
    assert q.actor is None
    q2 = Queue()
    q2.put(1)
    q2.shutdown(force=True)
    assert q2.actor is None


def test_util_exports_match_ray():
    import photon.util
    import photon.util.queue

    assert ray.util.ActorPool is ActorPool
    assert photon.util.queue.Queue is Queue
    assert ray.util.queue.Empty is Empty and ray.util.queue.Full is Full
    import queue as std_queue
    assert issubclass(Empty, std_queue.Empty) and issubclass(Full, std_queue.Full)
    assert callable(ray.util.as_completed) and callable(ray.util.map_unordered)


def test_runtime_context_names_and_omp_threads(ray_start_regular_shared):
    import os

    @ray.remote
    def f():
        c = ray.get_runtime_context()
        return c.get_task_name(), c.get_task_function_name(), os.environ.get("OMP_NUM_THREADS")

    @ray.remote(num_cpus=2)
    def two():
        return os.environ.get("OMP_NUM_THREADS")

    @ray.remote(num_cpus=0.5)
    def half():
        return os.environ.get("OMP_NUM_THREADS")

    @ray.remote
    class Named:
        def m(self):
            c = ray.get_runtime_context()
            return c.get_task_name(), c.get_task_function_name()

    local = f"{__name__}.test_runtime_context_names_and_omp_threads.<locals>"
    assert ray.get(f.remote()) == (f.__qualname__, f"{local}.f", "1")
    assert ray.get(f.options(name="custom").remote())[:2] == ("custom", f"{local}.f")
    assert ray.get(two.remote()) == "2"
    assert ray.get(half.remote()) == "1"
    assert ray.get(Named.remote().m.remote()) == ("Named.m", f"{local}.Named.m")
    # The user's own value wins.
    assert ray.get(f.options(runtime_env={"env_vars": {"OMP_NUM_THREADS": "7"}})
                      .remote())[2] == "7"
    assert ray.get_runtime_context().get_task_function_name() is None
    assert ray.ObjectID is ray.ObjectRef


def test_oversized_function_is_refused_with_its_size(ray_start_regular_shared):
    big = b"x" * (110 * 1000 * 1000)

    @ray.remote
    def captures():
        return len(big)

    with pytest.raises(ValueError, match="too large .* FUNCTION_SIZE_ERROR_THRESHOLD"):
        captures.remote()
