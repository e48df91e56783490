"""init/shutdown, resources, runtime context, runtime_env and cancel
(modeled on Ray's python/ray/tests/test_basic_3.py, test_runtime_context.py,
test_cancel.py)."""
import os
import subprocess
import sys
import textwrap
import time

import pytest

import photon as ray


def test_init_and_shutdown(shutdown_only):
    assert not ray.is_initialized()
    info = ray.init(num_cpus=1)
    assert ray.is_initialized()
    assert "session_dir" in info and info.address_info is info
    ray.shutdown()
    assert not ray.is_initialized()
    ray.shutdown()  # a second shutdown is harmless


def test_init_twice_raises(shutdown_only):
    ray.init(num_cpus=1)
    with pytest.raises(RuntimeError, match="ignore_reinit_error"):
        ray.init(num_cpus=1)
    ray.init(num_cpus=1, ignore_reinit_error=True)
    assert ray.is_initialized()


def test_init_as_context_manager(shutdown_only):
    with ray.init(num_cpus=1):
        assert ray.get(ray.put(5)) == 5
    assert not ray.is_initialized()


def test_reinit_after_shutdown(shutdown_only):
    @ray.remote
    def f():
        return "ok"

    for _ in range(2):
        ray.init(num_cpus=1)
        assert ray.get(f.remote()) == "ok"
        ray.shutdown()


def test_init_rejects_bad_arguments(shutdown_only):
    with pytest.raises(RuntimeError, match="no_such_argument"):  # Ray's error
        ray.init(num_cpus=1, no_such_argument=1)
    with pytest.raises(ValueError):
        ray.init(num_cpus=-1)
    assert not ray.is_initialized()


def test_auto_init_on_first_use(shutdown_only):
    # Ray >= 1.5 starts a cluster on the first API call.
    assert not ray.is_initialized()
    assert ray.get(ray.put(3)) == 3
    assert ray.is_initialized()


def test_cluster_resources(shutdown_only):
    ray.init(num_cpus=2, resources={"custom": 3})
    total = ray.cluster_resources()
    assert total["CPU"] == 2 and total["custom"] == 3
    nodes = ray.nodes()
    assert len(nodes) == 1
    node = nodes[0]
    assert node["Alive"] and node["Resources"]["CPU"] == 2
    assert node["NodeID"] == ray.get_runtime_context().get_node_id()

    @ray.remote(num_cpus=0, resources={"custom": 2})
    class Holder:
        def ping(self):
            return 1

    h = Holder.remote()
    ray.get(h.ping.remote())

    def custom_available():
        return ray.available_resources().get("custom", 0)

    deadline = time.monotonic() + 10
    while custom_available() != 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert custom_available() == 1
    ray.kill(h)
    deadline = time.monotonic() + 10
    while custom_available() != 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert custom_available() == 3


def test_exhausted_resource_left_out_of_available(shutdown_only):
    ray.init(num_cpus=1, resources={"token": 1})

    @ray.remote(num_cpus=0, resources={"token": 1})
    class Holder:
        def ping(self):
            return 1

    h = Holder.remote()
    ray.get(h.ping.remote())
    deadline = time.monotonic() + 10
    while "token" in ray.available_resources() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "token" not in ray.available_resources()
    assert ray.cluster_resources()["token"] == 1


def test_runtime_context_ids(ray_start_regular):
    ctx = ray.get_runtime_context()
    job_id, node_id, worker_id = ctx.get_job_id(), ctx.get_node_id(), ctx.get_worker_id()
    assert all(isinstance(x, str) and x for x in (job_id, node_id, worker_id))
    assert ctx.get_actor_id() is None

    @ray.remote
    def task_ids():
        c = ray.get_runtime_context()
        return c.get_job_id(), c.get_node_id(), c.get_worker_id(), c.get_task_id(), \
            c.get_actor_id()

    t_job, t_node, t_worker, t_task, t_actor = ray.get(task_ids.remote())
    assert t_job == job_id and t_node == node_id
    assert t_worker != worker_id
    assert t_task is not None and t_actor is None
    other_task = ray.get(task_ids.remote())[3]
    assert other_task != t_task

    with pytest.raises(RuntimeError):
        ctx.current_actor


def test_runtime_env_env_vars(shutdown_only):
    ray.init(num_cpus=1, runtime_env={"env_vars": {"MY_SETTING": "42"}})

    @ray.remote
    def read(name):
        return os.environ.get(name)

    @ray.remote
    def nested(name):
        return ray.get(read.remote(name))

    @ray.remote
    class Reader:
        def read(self, name):
            return os.environ.get(name)

    assert ray.get(read.remote("MY_SETTING")) == "42"
    assert ray.get(nested.remote("MY_SETTING")) == "42"
    assert ray.get(Reader.remote().read.remote("MY_SETTING")) == "42"
    assert "MY_SETTING" not in os.environ


def test_runtime_env_validation(shutdown_only):
    with pytest.raises((TypeError, ValueError)):
        ray.init(num_cpus=1, runtime_env={"env_vars": {"A": 1}})
    with pytest.raises((TypeError, ValueError)):
        ray.init(num_cpus=1, runtime_env="not a dict")
    # Workers reject unknown PHOTON_* variables, so init does too.
    with pytest.raises(ValueError, match="PHOTON_NO_SUCH_SETTING"):
        ray.init(num_cpus=1, runtime_env={"env_vars": {"PHOTON_NO_SUCH_SETTING": "1"}})
    assert not ray.is_initialized()


def test_namespace_option(shutdown_only):
    ray.init(num_cpus=1, namespace="my-namespace")
    assert ray.get_runtime_context().namespace == "my-namespace"

    @ray.remote
    class A:
        def ping(self):
            return "pong"

    a = A.options(name="in-ns").remote()  # noqa: F841 (keeps the actor alive)
    assert ray.get(ray.get_actor("in-ns").ping.remote()) == "pong"
    assert ray.get(ray.get_actor("in-ns", namespace="my-namespace").ping.remote()) == "pong"

    @ray.remote
    def ns_in_task():
        return ray.get_runtime_context().namespace, ray.get(ray.get_actor("in-ns").ping.remote())

    assert ray.get(ns_in_task.remote()) == ("my-namespace", "pong")


@pytest.mark.parametrize("ray_start_regular", [{"num_cpus": 1}], indirect=True)
def test_cancel_queued_task(ray_start_regular):

    @ray.remote
    def block(t):
        time.sleep(t)
        return "finished"

    @ray.remote
    def queued():
        return "ran"

    running = block.remote(1.5)
    time.sleep(0.2)
    waiting = queued.remote()
    ray.cancel(waiting)
    with pytest.raises(ray.exceptions.TaskCancelledError):
        ray.get(waiting, timeout=20)
    assert ray.get(running, timeout=20) == "finished"


@pytest.mark.parametrize("ray_start_regular", [{"num_cpus": 1}], indirect=True)
def test_cancel_requires_object_ref(ray_start_regular):
    with pytest.raises(TypeError):
        ray.cancel("not a ref")


@pytest.mark.parametrize("ray_start_regular", [{"num_cpus": 1}], indirect=True)
def test_cancel_propagates_to_dependents(ray_start_regular):

    @ray.remote
    def block(t):
        time.sleep(t)
        return 1

    @ray.remote
    def plus_one(x):
        return x + 1

    running = block.remote(1.5)
    time.sleep(0.2)
    queued = block.remote(0)
    dependent = plus_one.remote(queued)
    ray.cancel(queued)
    with pytest.raises(ray.exceptions.TaskCancelledError):
        ray.get(dependent, timeout=20)
    ray.get(running)


def test_print_output_reaches_driver(tmp_path):
    # A separate driver process, so its stdout can be checked.
    script = tmp_path / "driver.py"
    script.write_text(textwrap.dedent("""
        import time
        import photon as ray
        ray.init(num_cpus=1)

        @ray.remote
        def talk():
            print("hello from a task")
            return 1

        @ray.remote
        class Talker:
            def talk(self):
                print("hello from an actor")
                return 2

        assert ray.get(talk.remote()) == 1
        assert ray.get(Talker.remote().talk.remote()) == 2
        time.sleep(1.5)  # output is forwarded asynchronously
        ray.shutdown()
    """))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=60, env=dict(os.environ))
    assert out.returncode == 0, out.stderr
    text = out.stdout + out.stderr
    assert "hello from a task" in text
    assert "hello from an actor" in text
    assert "pid=" in text


def test_driver_exit_leaves_nothing_running(tmp_path):
    script = tmp_path / "driver.py"
    script.write_text(textwrap.dedent("""
        import os
        import photon as ray
        info = ray.init(num_cpus=1)

        @ray.remote
        def pid():
            return os.getpid()

        print(ray.get(pid.remote()), info["session_dir"], flush=True)
        os._exit(0)  # no shutdown: the daemons must still go away
    """))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=60, env=dict(os.environ))
    assert out.returncode == 0, out.stderr
    worker_pid, session_dir = out.stdout.split()
    deadline = time.monotonic() + 15

    def leftovers():
        found = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().decode(errors="replace")
            except OSError:
                continue
            if session_dir in cmd or pid == worker_pid:
                found.append(cmd)
        return found

    while leftovers() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert leftovers() == []


def test_shutdown_while_other_threads_drop_refs(tmp_path):
    # Finalizers of ObjectRefs on other threads during shutdown once
    # deadlocked the driver (the binding's mutex against the GIL). Run in a
    # subprocess: a deadlock holds the GIL, so no in-process timeout fires.
    script = tmp_path / "driver.py"
    script.write_text(textwrap.dedent("""
        import threading, time
        import photon as ray
        for _ in range(3):
            ray.init(num_cpus=1)
            base = ray.put(1)
            stop = threading.Event()

            def churn():
                while not stop.is_set():
                    ref = ray.ObjectRef(base.binary())
                    del ref

            threads = [threading.Thread(target=churn) for _ in range(4)]
            for t in threads:
                t.start()
            time.sleep(0.2)
            ray.shutdown()
            stop.set()
            for t in threads:
                t.join()
            del base
        print("clean exit")
    """))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=45, env=dict(os.environ))
    assert out.returncode == 0, out.stderr
    assert "clean exit" in out.stdout


def test_init_context_and_private_arguments(shutdown_only, tmp_path):
    ctx = ray.init(num_cpus=1, _temp_dir=str(tmp_path), include_dashboard=False)
    for key in ("node_id", "address", "gcs_address", "node_ip_address", "session_dir",
                "webui_url"):
        assert key in ctx, key
    assert isinstance(ctx["node_id"], str)
    assert ctx["node_id"] == ray.get_runtime_context().get_node_id()
    assert ctx.address_info["session_dir"] == ctx["session_dir"]


def test_gpu_ids_are_assigned_per_task_and_actor(shutdown_only):
    ray.init(num_cpus=4, num_gpus=2)

    @ray.remote(num_gpus=1)
    def one_gpu():
        import time as _time
        _time.sleep(0.5)
        return ray.get_gpu_ids(), os.environ.get("CUDA_VISIBLE_DEVICES")

    @ray.remote(num_gpus=0.5)
    def half_gpu():
        return ray.get_gpu_ids()

    @ray.remote
    def no_gpu():
        return ray.get_gpu_ids()

    a, b = ray.get([one_gpu.remote(), one_gpu.remote()])
    assert len(a[0]) == 1 and len(b[0]) == 1
    assert {a[0][0], b[0][0]} == {0, 1}  # held at the same time: different GPUs
    assert a[1] == str(a[0][0])
    assert len(ray.get(half_gpu.remote())) == 1
    assert ray.get(no_gpu.remote()) == []

    @ray.remote(num_gpus=2)
    class Both:
        def ids(self):
            return sorted(ray.get_gpu_ids()), ray.get_runtime_context().get_assigned_resources()

    ids, resources = ray.get(Both.remote().ids.remote())
    assert ids == [0, 1] and resources.get("GPU") == 2.0
