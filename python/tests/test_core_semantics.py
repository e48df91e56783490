"""Core Ray semantics, checked as a Ray user sees them: references nested in
arguments, return values and generator items stay alive as long as someone
can still use them; actor lifetimes follow their handles; per-task state in
concurrent actors; many actors at once; and all of it under injected RPC
failures (Ray's testing_rpc_failure)."""
import asyncio
import gc
import os
import threading
import time

import numpy as np
import psutil
import pytest

import photon as ray
from photon import _photon
from photon._private.test_utils import wait_for_condition


def _process_gone(pid):
    """True once `pid` no longer runs (a zombie waiting to be reaped counts as gone)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _named_actor_gone(name):
    try:
        ray.get_actor(name)
    except ValueError:
        return True
    return False


# --- 1. nested refs in task arguments ----------------------------------------------

# Ray: a ref nested in a task argument (not a top-level arg, so not resolved)
# stays alive while the task is pending or running, even when the caller keeps
# no handle of its own.
def test_nested_refs_in_task_args_survive_while_the_task_is_pending(shutdown_only):
    ray.init(num_cpus=1)

    @ray.remote(num_cpus=1)
    def slow():
        time.sleep(0.5)
        return 42

    @ray.remote(num_cpus=1)
    def wait_for(refs):
        return ray.get(refs[0])

    # Both need the one CPU: wait_for queues behind slow; the driver never
    # holds the ref of slow.
    assert ray.get(wait_for.remote([slow.remote()]), timeout=60) == 42

    @ray.remote(num_cpus=1)
    def g(d):
        time.sleep(0.3)
        return ray.get(d["x"])

    r = g.remote({"x": ray.put(7)})  # the put ref's only driver handle is gone now
    gc.collect()
    assert ray.get(r, timeout=60) == 7

    # The same with an object in the shared store rather than in the owner's memory.
    r = g.remote({"x": ray.put(np.arange(500_000))})
    gc.collect()
    assert int(ray.get(r, timeout=60).sum()) == int(np.arange(500_000).sum())


# --- 2. nested refs in actor-call and actor-creation arguments ----------------------

# Ray: refs nested in actor-method and actor-constructor arguments stay alive
# for the actor although the caller dropped its own handles.
def test_nested_refs_in_actor_call_and_creation_args_survive(ray_start_regular):
    @ray.remote(num_cpus=0)
    class Reader:
        def __init__(self, d):
            self.d = d  # kept unresolved; read later

        def read_init(self):
            return ray.get(self.d["x"])

        def read(self, refs):
            time.sleep(0.3)
            return ray.get(refs[0])

    a = Reader.remote({"x": ray.put("from-init")})
    gc.collect()
    time.sleep(0.3)
    # An actor call whose nested refs have no driver handle at all.
    r1 = a.read.remote([ray.put(123)])
    r2 = a.read.remote([ray.put(np.ones(300_000))])
    gc.collect()
    assert ray.get(r1, timeout=60) == 123
    assert float(ray.get(r2, timeout=60).sum()) == 300_000.0
    assert ray.get(a.read_init.remote(), timeout=60) == "from-init"

    # A store-sized object in the constructor's arguments, read after a while.
    b = Reader.remote({"x": ray.put(np.full(300_000, 2.0))})
    gc.collect()
    time.sleep(0.5)
    gc.collect()
    assert float(ray.get(b.read_init.remote(), timeout=60).sum()) == 600_000.0


# --- 3. refs nested in a task's return value ----------------------------------------

# Ray: a ref nested in a task's return value is borrowed by the caller: it
# resolves even after the task's worker dropped it, and the caller's count of
# tracked objects goes back to its baseline once the caller drops everything.
def test_refs_nested_in_a_return_value(ray_start_regular):
    @ray.remote
    def make():
        return [ray.put(b"x" * (1024 * 1024))]

    @ray.remote
    def make_array():
        return [ray.put(np.arange(1024 * 1024 // 8))]

    gc.collect()
    baseline = _photon.num_tracked_objects()
    outer = make.remote()
    outer2 = make_array.remote()
    inner = ray.get(outer, timeout=60)
    inner2 = ray.get(outer2, timeout=60)
    assert isinstance(inner, list) and isinstance(inner[0], ray.ObjectRef)
    del outer, outer2
    gc.collect()
    time.sleep(0.5)
    value = ray.get(inner[0], timeout=60)
    assert value == b"x" * (1024 * 1024)
    assert int(ray.get(inner2[0], timeout=60)[-1]) == 1024 * 1024 // 8 - 1
    del value, inner, inner2
    gc.collect()
    wait_for_condition(lambda: _photon.num_tracked_objects() <= baseline, timeout=30)


# --- 4. refs in streaming generator items --------------------------------------------

# Ray: refs nested in the items a streaming generator yields are borrowed by
# the caller and resolve, while the generator runs and after it finished.
def test_refs_in_streaming_generator_items(ray_start_regular):
    @ray.remote
    def gen(n):
        for i in range(n):
            yield [ray.put(i)]

    items = []
    for item_ref in gen.remote(10):
        boxed = ray.get(item_ref, timeout=60)
        assert isinstance(boxed[0], ray.ObjectRef)
        items.append(boxed)
    assert [ray.get(b[0], timeout=60) for b in items] == list(range(10))

    @ray.remote
    def gen_big(n):
        for i in range(n):
            yield [ray.put(np.full(200_000, i))]

    item_refs = list(gen_big.remote(5))
    gc.collect()
    time.sleep(0.3)
    inner = [ray.get(r, timeout=60)[0] for r in item_refs]
    del item_refs
    gc.collect()
    assert [int(ray.get(r, timeout=60)[0]) for r in inner] == list(range(5))


# --- 5. actor handles held only by borrowers -----------------------------------------

# Ray (microbenchmark pattern): an actor whose only handle is held by another
# actor (the creator never stored it) stays alive and serves calls.
def test_actor_handles_held_only_by_borrowers_keep_the_actor_alive(ray_start_regular):
    @ray.remote(num_cpus=0)
    class Server:
        def ping(self):
            return "pong"

    @ray.remote(num_cpus=0)
    class Caller:
        def __init__(self, server):
            self.server = server

        def call(self):
            return ray.get(self.server.ping.remote())

    callers = [Caller.remote(Server.remote()) for _ in range(4)]
    gc.collect()
    assert ray.get([c.call.remote() for c in callers], timeout=120) == ["pong"] * 4
    time.sleep(0.5)
    assert ray.get([c.call.remote() for c in callers], timeout=120) == ["pong"] * 4


# --- 6. non-detached actors go with their last handle --------------------------------

# Ray: a non-detached actor (named or not) is destroyed once its last handle is
# gone; a handle held by another actor keeps it alive until that actor goes.
def test_non_detached_actors_are_destroyed_with_their_last_handle(ray_start_regular):
    @ray.remote(num_cpus=0)
    class Target:
        def pid(self):
            return os.getpid()

    @ray.remote(num_cpus=0)
    class Holder:
        def hold(self, target):
            self.target = target
            return True

        def call(self):
            return ray.get(self.target.pid.remote())

        def pid(self):
            return os.getpid()

    # Named.
    name = "core-semantics-named-non-detached"
    named = Target.options(name=name).remote()
    named_pid = ray.get(named.pid.remote(), timeout=60)
    assert ray.get(ray.get_actor(name).pid.remote(), timeout=60) == named_pid
    gc.collect()
    del named
    gc.collect()
    wait_for_condition(lambda: _named_actor_gone(name), timeout=30, retry_interval_ms=500)
    wait_for_condition(lambda: _process_gone(named_pid), timeout=30)

    # Anonymous.
    anon = Target.remote()
    anon_pid = ray.get(anon.pid.remote(), timeout=60)
    assert not _process_gone(anon_pid)
    del anon
    gc.collect()
    wait_for_condition(lambda: _process_gone(anon_pid), timeout=30)

    # Kept alive by a handle inside another actor.
    target = Target.remote()
    target_pid = ray.get(target.pid.remote(), timeout=60)
    holder = Holder.remote()
    assert ray.get(holder.hold.remote(target), timeout=60)
    holder_pid = ray.get(holder.pid.remote(), timeout=60)
    del target
    gc.collect()
    time.sleep(1.0)
    assert not _process_gone(target_pid)
    assert ray.get(holder.call.remote(), timeout=60) == target_pid
    del holder
    gc.collect()
    wait_for_condition(lambda: _process_gone(holder_pid), timeout=30)
    wait_for_condition(lambda: _process_gone(target_pid), timeout=30)


# --- 7. detached actors outlive their handles ----------------------------------------

# Ray: a detached named actor survives the deletion of every handle; only
# ray.kill ends it.
def test_detached_named_actor_survives_all_handles(ray_start_regular):
    @ray.remote(num_cpus=0)
    class Keeper:
        def __init__(self):
            self.n = 0

        def incr(self):
            self.n += 1
            return self.n

        def pid(self):
            return os.getpid()

    name = "core-semantics-detached"
    k = Keeper.options(name=name, lifetime="detached").remote()
    assert ray.get(k.incr.remote(), timeout=60) == 1
    pid = ray.get(k.pid.remote(), timeout=60)
    del k
    gc.collect()
    time.sleep(1.5)
    handle = ray.get_actor(name)
    assert ray.get(handle.incr.remote(), timeout=60) == 2  # same instance, state kept
    assert not _process_gone(pid)
    ray.kill(handle)
    del handle
    wait_for_condition(lambda: _named_actor_gone(name), timeout=30, retry_interval_ms=500)
    wait_for_condition(lambda: _process_gone(pid), timeout=30)


# --- 8. per-task state in concurrent actors -----------------------------------------

def _check_each_call_sees_its_own_task(actor, prefix):
    """Four overlapping calls of actor.who, each named: every call saw its own
    task id and name both before and after the others ran."""
    names = [f"{prefix}-{i}" for i in range(4)]
    refs = [actor.who.options(name=n).remote() for n in names]
    results = ray.get(refs, timeout=120)
    assert len({after[0] for _, after in results}) == 4
    for ref, name, (before, after) in zip(refs, names, results):
        assert before == after
        assert after[0] == ref.task_id().hex()
        assert after[1] == name


# Ray: in a threaded actor (max_concurrency > 1) each running call sees its own
# task id and task name from the runtime context, even while they all overlap.
def test_per_task_state_in_a_threaded_actor(ray_start_regular):
    @ray.remote(num_cpus=0, max_concurrency=4)
    class Threaded:
        def __init__(self):
            self.barrier = threading.Barrier(4)

        def who(self):
            ctx = ray.get_runtime_context()
            before = (ctx.get_task_id(), ctx.get_task_name())
            self.barrier.wait(timeout=60)  # all 4 calls are running at once
            time.sleep(0.5)
            after = (ctx.get_task_id(), ctx.get_task_name())
            return before, after

    _check_each_call_sees_its_own_task(Threaded.remote(), "who")


# Ray: the same for an async actor: each coroutine sees its own task id and name.
def test_per_task_state_in_an_async_actor(ray_start_regular):
    @ray.remote(num_cpus=0)
    class Async:
        def __init__(self):
            self.arrived = 0
            self.all_in = None

        async def who(self):
            if self.all_in is None:
                self.all_in = asyncio.Event()
            ctx = ray.get_runtime_context()
            before = (ctx.get_task_id(), ctx.get_task_name())
            self.arrived += 1
            if self.arrived == 4:
                self.all_in.set()
            await asyncio.wait_for(self.all_in.wait(), 60)  # all 4 calls overlap
            await asyncio.sleep(0.5)
            after = (ctx.get_task_id(), ctx.get_task_name())
            return before, after

    _check_each_call_sees_its_own_task(Async.remote(), "async-who")


# --- 9. many actors at once ---------------------------------------------------------

# Overload acceptance check: 200 tiny actors created at once, each called once,
# all answer (Ray's many_actors pattern). It may take a couple of minutes here.
@pytest.mark.timeout(900, method="thread")
def test_200_tiny_actors_created_at_once(shutdown_only):
    ray.init(num_cpus=2)

    @ray.remote
    class A:
        def ping(self):
            return 1

    actors = [A.options(num_cpus=0).remote() for _ in range(200)]
    assert ray.get([a.ping.remote() for a in actors], timeout=600) == [1] * 200


# --- 10. injected RPC failures -------------------------------------------------------

_FAULTS = ("PushTask=0.2:0.2,RequestWorkerLease=0.2:0.2,GetObjectStatus=0.2:0.2,"
           "UpdateObjectBorrowers=0.2:0.2,PullObject=0.2:0.2")


# Ray (testing_rpc_failure): transient RPC failures are retried below the API:
# tasks without retries, actor calls without retries (exactly once, in order)
# and tasks reading store objects all give the right results.
@pytest.mark.timeout(600, method="thread")
def test_results_are_right_under_injected_rpc_failures(shutdown_only):
    ray.init(num_cpus=2, _system_config={"testing_rpc_failure": _FAULTS})

    @ray.remote(max_retries=0)
    def square(x):
        return x * x

    assert ray.get([square.remote(i) for i in range(50)], timeout=300) == [
        i * i for i in range(50)]

    @ray.remote(num_cpus=0, max_task_retries=0)
    class Counter:
        def __init__(self):
            self.n = 0

        def incr(self):
            self.n += 1
            return self.n

    c = Counter.remote()
    assert ray.get([c.incr.remote() for _ in range(50)], timeout=300) == list(range(1, 51))

    @ray.remote(max_retries=0)
    def total(arr):
        return int(arr.sum())

    big = ray.put(np.ones(2 * 1024 * 1024 // 8, dtype=np.int64))
    assert ray.get(total.remote(big), timeout=300) == 2 * 1024 * 1024 // 8

    # Nested, so that the task fetches it itself.
    @ray.remote(max_retries=0)
    def total_nested(refs):
        return int(ray.get(refs[0]).sum())

    assert ray.get(total_nested.remote([big]), timeout=300) == 2 * 1024 * 1024 // 8


# --- 11. injected failures of object transfers between nodes -----------------------

# Ray (testing_rpc_failure): transfers of objects between nodes survive
# transient RPC failures: an object made on another node reaches the driver
# and a task on the head node.
@pytest.mark.timeout(600, method="thread")
def test_object_transfers_between_nodes_under_injected_rpc_failures(monkeypatch,
                                                                    ray_start_cluster):
    # Every Photon process reads this at start; set before any node exists.
    monkeypatch.setenv("PHOTON_TESTING_RPC_FAILURE",
                       "Pull=0.3:0.3,GetObjectInfo=0.3:0.3,PullObject=0.2:0.2")
    cluster = ray_start_cluster
    head = cluster.add_node(num_cpus=1, resources={"head": 1})
    cluster.add_node(num_cpus=1, resources={"b": 1})
    cluster.wait_for_nodes()
    cluster.connect()
    cluster.wait_for_nodes()

    n = 5 * 1024 * 1024 // 8

    @ray.remote(resources={"b": 1})
    def produce(v):
        return np.full(n, v, dtype=np.int64)

    @ray.remote(resources={"head": 1})
    def consume(arr):
        return int(arr.sum()), ray.get_runtime_context().get_node_id()

    for i in range(1, 6):
        ref = produce.remote(i)
        got = ray.get(ref, timeout=300)  # pulled from node b to the driver's node
        assert got.shape == (n,) and int(got[0]) == i and int(got[-1]) == i
        del got
        total, consumer_node = ray.get(consume.remote(ref), timeout=300)
        assert total == n * i
        assert consumer_node == head.node_id
        # Consumed on the head before the driver has a copy there.
        ref = produce.remote(10 + i)
        total, consumer_node = ray.get(consume.remote(ref), timeout=300)
        assert total == n * (10 + i)
        assert consumer_node == head.node_id
        assert int(ray.get(ref, timeout=300)[-1]) == 10 + i
