"""Details of Ray's API that programs and Ray's own tests rely on: error types
of get/wait, signatures checked at .remote(), exception attributes,
exit_actor, built-in actor methods, ids, runtime context, resources, nodes."""
import os
import time

import pytest

import photon as ray
from photon import exceptions


def test_get_of_a_list_with_a_non_ref_is_a_type_error(ray_start_regular_shared):
    with pytest.raises(TypeError, match="not an ObjectRef"):
        ray.get([ray.put(1), 1])
    with pytest.raises(ValueError):
        ray.get(1)


def test_wait_edge_cases(ray_start_regular_shared):
    assert ray.wait([]) == ([], [])
    r = ray.put(1)
    with pytest.raises(TypeError):
        ray.wait((r,))
    with pytest.raises(TypeError):
        ray.wait(r)


def test_wait_on_a_generator(ray_start_regular_shared):
    @ray.remote
    def gen():
        yield 1
        time.sleep(30)
        yield 2

    g = gen.remote()
    ready, not_ready = ray.wait([g], timeout=20)
    assert ready == [g] and not_ready == []
    assert ray.get(next(g)) == 1  # the item wait saw
    ready, _ = ray.wait([g], timeout=0.2)
    assert ready == []
    ray.cancel(g)


def test_arguments_are_checked_at_remote(ray_start_regular_shared):
    @ray.remote
    def f(a, b):
        return a + b

    @ray.remote
    class A:
        def __init__(self, x):
            self.x = x

        def m(self, y, *, z=0):
            return self.x + y + z

        @staticmethod
        def s(v):
            return v

    with pytest.raises(TypeError):
        f.remote(1, 2, 3)
    with pytest.raises(TypeError):
        f.remote(1, c=2)
    with pytest.raises(TypeError):
        A.remote()
    a = A.remote(1)
    with pytest.raises(TypeError):
        a.m.remote()
    assert ray.get(a.m.remote(2, z=3)) == 6
    assert ray.get(a.s.remote(5)) == 5


def test_task_error_exposes_the_original_exceptions_attributes(ray_start_regular_shared):
    class MyError(Exception):
        def __init__(self, code):
            super().__init__(f"code {code}")
            self.code = code

    @ray.remote
    def fail():
        raise MyError(7)

    with pytest.raises(MyError) as info:
        ray.get(fail.remote())
    assert info.value.code == 7
    assert isinstance(info.value, exceptions.RayTaskError)
    err = exceptions.RayTaskError("f", "tb", ValueError("x"), proctitle="p", pid=1, ip="h",
                                  actor_repr="A()", actor_id="ab")
    assert err.pid == 1
    assert str(exceptions.TaskCancelledError(task_id=None, error_message="m")) == "m"


def test_exit_actor_ends_the_call(ray_start_regular_shared, tmp_path):
    marker = str(tmp_path / "after-exit")

    @ray.remote
    class A:
        def die(self, path):
            ray.actor.exit_actor()
            open(path, "w").close()

        def ping(self):
            return 1

    a = A.remote()
    assert ray.get(a.ping.remote()) == 1
    with pytest.raises(exceptions.RayActorError):
        ray.get(a.die.remote(marker), timeout=20)
    assert not os.path.exists(marker)
    with pytest.raises(exceptions.RayActorError):
        ray.get(a.ping.remote(), timeout=20)


def test_builtin_actor_methods_and_ids(ray_start_regular_shared):
    @ray.remote
    class A:
        def f(self):
            return ray.get_runtime_context().get_actor_id()

    a = A.options(name="compat-named").remote()
    assert ray.get(a.__ray_ready__.remote()) is True
    assert isinstance(a._ray_actor_id, ray.ActorID)
    assert a._ray_actor_id.hex() == ray.get(a.f.remote())
    assert "compat-named" in ray.util.list_named_actors()
    assert {"name": "compat-named", "namespace": ray.get_runtime_context().namespace} in \
        ray.util.list_named_actors(all_namespaces=True)
    assert isinstance(ray.actor.ActorHandle, type) and isinstance(a, ray.actor.ActorHandle)
    ref = ray.put(1)
    assert isinstance(ref.task_id(), ray.TaskID)


def test_runtime_context(ray_start_regular_shared):
    ctx = ray.get_runtime_context()
    assert ctx.get_task_id() is None  # in a driver, as in Ray
    assert ctx.get_assigned_resources() == {}

    @ray.remote(num_cpus=1, resources={"custom_thing": 0.5})
    def inside():
        c = ray.get_runtime_context()
        return c.get_task_id(), c.get_assigned_resources(), c.get_task_name()

    ray_start = ray.cluster_resources()
    if ray_start.get("custom_thing"):
        task_id, resources, name = ray.get(inside.remote())
        assert resources == {"CPU": 1.0, "custom_thing": 0.5}

    @ray.remote
    def plain():
        c = ray.get_runtime_context()
        return c.get_task_id(), c.get_assigned_resources(), c.get_task_name()

    task_id, resources, name = ray.get(plain.remote())
    assert task_id is not None and resources == {"CPU": 1.0} and name.endswith("plain")

    @ray.remote(num_cpus=1)
    class Holder:
        def res(self):
            return ray.get_runtime_context().get_assigned_resources()

    assert ray.get(Holder.remote().res.remote()) == {"CPU": 1.0}


def test_cluster_resources_and_nodes(ray_start_regular_shared):
    total = ray.cluster_resources()
    assert total["memory"] > 0 and total["object_store_memory"] > 0
    node = ray.nodes()[0]
    for key in ("NodeID", "Alive", "alive", "NodeManagerAddress", "NodeManagerHostname",
                "NodeManagerPort", "ObjectManagerPort", "ObjectStoreSocketName",
                "RayletSocketName", "MetricsExportPort", "NodeName", "Resources", "Labels"):
        assert key in node, key

    @ray.remote(memory=100 * 1024 * 1024)
    def small():
        return 1

    assert ray.get(small.remote()) == 1


def test_runtime_env_class(ray_start_regular_shared):
    from photon.runtime_env import RuntimeEnv

    @ray.remote(runtime_env=RuntimeEnv(env_vars={"COMPAT_VAR": "yes"}))
    def read():
        return os.environ.get("COMPAT_VAR")

    assert ray.get(read.remote()) == "yes"


def test_max_calls_retires_the_worker(ray_start_regular_shared):
    @ray.remote(max_calls=1)
    def pid():
        return os.getpid()

    first = ray.get(pid.remote())
    second = ray.get(pid.remote())
    assert first != second  # each call ran in a fresh worker
    assert len({ray.get(pid.remote()) for _ in range(3)}) == 3


def test_max_pending_calls(ray_start_regular_shared):
    @ray.remote(max_pending_calls=2)
    class Slow:
        def work(self):
            time.sleep(0.5)
            return 1

    a = Slow.remote()
    refs = [a.work.remote(), a.work.remote()]
    with pytest.raises(exceptions.PendingCallsLimitExceeded):
        a.work.remote()
    assert ray.get(refs) == [1, 1]
    assert ray.get(a.work.remote()) == 1  # room again


def test_object_ref_nil_random_and_round_trips(ray_start_regular_shared):
    from photon.types import ObjectRef

    assert ObjectRef is ray.ObjectRef
    nil = ray.ObjectRef.nil()
    assert nil.is_nil() and isinstance(nil, ray.ObjectRef)
    assert len(nil.binary()) == ray.ObjectRef.size()
    a, b = ray.ObjectRef.from_random(), ray.ObjectRef.from_random()
    assert a != b and not a.is_nil()
    assert ray.ObjectRef(bytes.fromhex(a.hex())) == a
    ref = ray.put(5)
    again = ray.ObjectRef(ref.binary())
    assert again == ref and hash(again) == hash(ref) and again.hex() == ref.hex()
    assert ray.get(again) == 5
    del a, b, nil  # untracked: dropping them tells the core nothing

