"""ray.cancel, modeled on Ray's python/ray/tests/test_cancel.py: queued and
running tasks, force, recursive, actor calls (queued, async, force refused),
generators."""
import asyncio
import os
import time

import pytest

import photon as ray
from photon.exceptions import TaskCancelledError, WorkerCrashedError
from photon._private.test_utils import wait_for_condition


def test_cancel_queued_task(ray_start_regular_shared):
    @ray.remote(num_cpus=2)
    def hog():
        time.sleep(3)
        return 1

    @ray.remote(num_cpus=2)
    def queued():
        return 2

    first = hog.remote()
    second = queued.remote()
    ray.cancel(second)
    with pytest.raises(TaskCancelledError):
        ray.get(second, timeout=20)
    assert ray.get(first, timeout=20) == 1


def _spin_then_mark(path, seconds):
    """Busy Python code (interruptible), then a marker file if not interrupted."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pass
    open(path, "w").close()


def test_cancel_running_python_loop_interrupts_it(ray_start_regular_shared, tmp_path):
    marker = str(tmp_path / "finished")
    spin = ray.remote(_spin_then_mark)
    ref = spin.remote(marker, 5)
    time.sleep(1.0)
    ray.cancel(ref)
    with pytest.raises(TaskCancelledError):
        ray.get(ref, timeout=20)
    time.sleep(5)
    assert not os.path.exists(marker)  # interrupted, not left running


def test_force_cancel_kills_the_worker(ray_start_regular_shared, tmp_path):
    pid_file = tmp_path / "pid"

    @ray.remote(max_retries=0)
    def pid_then_sleep(path):
        with open(path, "w") as f:
            f.write(str(os.getpid()))
        time.sleep(60)  # a blocking call: only force=True stops it at once

    ref = pid_then_sleep.remote(str(pid_file))
    wait_for_condition(lambda: pid_file.exists() and pid_file.read_text() != "")
    pid = int(pid_file.read_text())
    ray.cancel(ref, force=True)
    with pytest.raises((TaskCancelledError, WorkerCrashedError)):
        ray.get(ref, timeout=20)

    def gone():
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] == "Z"
        except OSError:
            return True

    wait_for_condition(gone, timeout=20)


def test_recursive_cancel_cancels_children(ray_start_regular_shared, tmp_path):
    marker = str(tmp_path / "child-finished")
    child = ray.remote(_spin_then_mark)

    @ray.remote
    def parent(path):
        return ray.get(child.remote(path, 4))

    ref = parent.remote(marker)
    time.sleep(1.5)
    ray.cancel(ref, recursive=True)
    with pytest.raises(TaskCancelledError):
        ray.get(ref, timeout=20)
    time.sleep(4)
    assert not os.path.exists(marker)


def test_cancel_queued_actor_call(ray_start_regular_shared):
    @ray.remote
    class A:
        def slow(self):
            time.sleep(2)
            return "slow"

        def f(self):
            return "f"

    a = A.remote()
    ray.get(a.f.remote())
    s = a.slow.remote()
    q = a.f.remote()
    time.sleep(0.3)
    ray.cancel(q)
    with pytest.raises(TaskCancelledError):
        ray.get(q, timeout=20)
    assert ray.get(s, timeout=20) == "slow"
    assert ray.get(a.f.remote(), timeout=20) == "f"  # later calls still run


def test_cancel_running_async_actor_call(ray_start_regular_shared):
    @ray.remote
    class Async:
        async def wait(self):
            await asyncio.sleep(60)

        async def ping(self):
            return "pong"

    a = Async.remote()
    assert ray.get(a.ping.remote()) == "pong"
    ref = a.wait.remote()
    time.sleep(0.5)
    ray.cancel(ref)
    with pytest.raises(TaskCancelledError):
        ray.get(ref, timeout=20)
    assert ray.get(a.ping.remote(), timeout=20) == "pong"


def test_force_cancel_of_an_actor_call_is_refused(ray_start_regular_shared):
    @ray.remote
    class A:
        def f(self):
            return 1

    a = A.remote()
    ref = a.f.remote()
    with pytest.raises(ValueError, match="force"):
        ray.cancel(ref, force=True)
    assert ray.get(ref) == 1


def test_cancel_a_generator(ray_start_regular_shared):
    @ray.remote
    def gen():
        for i in range(100):
            time.sleep(0.1)
            yield i

    g = gen.remote()
    assert ray.get(next(g)) == 0
    ray.cancel(g)
    with pytest.raises(TaskCancelledError):
        for ref in g:
            ray.get(ref, timeout=20)


def test_cancel_of_a_finished_task_does_nothing(ray_start_regular_shared):
    @ray.remote
    def f():
        return 1

    ref = f.remote()
    assert ray.get(ref) == 1
    ray.cancel(ref)
    assert ray.get(ref) == 1


def test_cancel_takes_refs_only(ray_start_regular_shared):
    with pytest.raises(TypeError):
        ray.cancel(1)


def test_running_sync_actor_call_sees_is_canceled(ray_start_regular_shared):
    @ray.remote
    class A:
        def loop(self):
            for _ in range(300):
                if ray.get_runtime_context().is_canceled():
                    return "saw-cancel"
                time.sleep(0.05)
            return "never cancelled"

        def ping(self):
            return ray.get_runtime_context().is_canceled()

    a = A.remote()
    ref = a.loop.remote()
    time.sleep(0.5)
    ray.cancel(ref)
    with pytest.raises(TaskCancelledError):  # as in Ray, though it returned
        ray.get(ref, timeout=30)
    assert ray.get(a.ping.remote()) is False  # the flag is per call


def test_a_task_that_catches_the_interrupt_still_ends_cancelled(ray_start_regular_shared):
    @ray.remote
    def stubborn():
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                pass
        except KeyboardInterrupt:
            return ray.get_runtime_context().is_canceled()
        return "not interrupted"

    ref = stubborn.remote()
    time.sleep(1.0)
    ray.cancel(ref)
    with pytest.raises(TaskCancelledError):  # the owner's answer, whatever it returned
        ray.get(ref, timeout=20)
