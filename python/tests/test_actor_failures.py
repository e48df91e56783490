"""Actor death, kill and restart (modeled on Ray's
python/ray/tests/test_actor_failures.py)."""
import os
import signal
import time

import pytest

import photon as ray
from photon.exceptions import ActorDiedError, RayActorError


@ray.remote
class Worker:
    def __init__(self):
        self.calls = 0

    def ping(self):
        self.calls += 1
        return self.calls

    def pid(self):
        return os.getpid()

    def restarted(self):
        return ray.get_runtime_context().was_current_actor_reconstructed

    def sleep(self, t):
        time.sleep(t)
        return t

    def exit(self):
        ray.actor.exit_actor()


def _wait_until(predicate, timeout=20, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (not yet reaped by its raylet) counts as dead.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_kill_actor(ray_start_regular_shared):
    a = Worker.remote()
    pid = ray.get(a.pid.remote())
    ray.kill(a)
    with pytest.raises(RayActorError):
        ray.get(a.ping.remote(), timeout=20)
    with pytest.raises(ActorDiedError):
        ray.get(a.ping.remote(), timeout=20)
    assert _wait_until(lambda: not _pid_alive(pid))


def test_kill_interrupts_running_call(ray_start_regular_shared):
    a = Worker.remote()
    ray.get(a.ping.remote())
    running = a.sleep.remote(30)
    time.sleep(0.3)
    start = time.monotonic()
    ray.kill(a)
    with pytest.raises(RayActorError):
        ray.get(running, timeout=20)
    assert time.monotonic() - start < 10


def test_kill_is_only_for_actors(ray_start_regular_shared):
    with pytest.raises(ValueError):
        ray.kill(ray.put(1))


def test_killed_named_actor_frees_its_name(ray_start_regular_shared):
    a = Worker.options(name="kill-me").remote()
    ray.get(a.ping.remote())
    ray.kill(a)
    assert _wait_until(lambda: _lookup("kill-me") is None)
    b = Worker.options(name="kill-me").remote()
    assert ray.get(b.ping.remote()) == 1


def _lookup(name):
    try:
        return ray.get_actor(name)
    except ValueError:
        return None


def test_actor_process_killed_without_restart(ray_start_regular_shared):
    a = Worker.remote()
    pid = ray.get(a.pid.remote())
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(RayActorError):
        ray.get(a.ping.remote(), timeout=30)


def test_actor_restart_after_sigkill(ray_start_regular_shared):
    a = Worker.options(max_restarts=1).remote()
    assert ray.get(a.ping.remote()) == 1
    assert ray.get(a.restarted.remote()) is False
    pid = ray.get(a.pid.remote())
    os.kill(pid, signal.SIGKILL)
    assert _wait_until(lambda: not _pid_alive(pid))

    # The actor comes back in a new process with fresh state. Calls made
    # while it restarts may fail with RayActorError (max_task_retries=0).
    def restarted_pid():
        try:
            return ray.get(a.pid.remote(), timeout=30)
        except RayActorError:
            return None

    assert _wait_until(lambda: restarted_pid() not in (None, pid), timeout=30)
    new_pid = ray.get(a.pid.remote())
    assert new_pid != pid
    assert ray.get(a.ping.remote()) == 1
    assert ray.get(a.restarted.remote()) is True

    # Its one restart is used up: the next death is final.
    os.kill(new_pid, signal.SIGKILL)
    assert _wait_until(lambda: not _pid_alive(new_pid))
    with pytest.raises(RayActorError):
        for _ in range(50):
            ray.get(a.ping.remote(), timeout=30)
            time.sleep(0.1)


def test_actor_restart_with_task_retries(ray_start_regular_shared):
    a = Worker.options(max_restarts=-1, max_task_retries=-1).remote()
    pid = ray.get(a.pid.remote())
    os.kill(pid, signal.SIGKILL)
    # With task retries, calls wait for the restarted actor instead of failing.
    assert ray.get(a.pid.remote(), timeout=30) != pid
    assert ray.get(a.ping.remote(), timeout=30) == 1


def test_kill_with_no_restart_false_restarts(ray_start_regular_shared):
    a = Worker.options(max_restarts=1).remote()
    pid = ray.get(a.pid.remote())
    ray.kill(a, no_restart=False)

    def new_pid():
        try:
            return ray.get(a.pid.remote(), timeout=30)
        except RayActorError:
            return None

    assert _wait_until(lambda: new_pid() not in (None, pid), timeout=30)


def test_exit_actor(ray_start_regular_shared):
    a = Worker.remote()
    ray.get(a.ping.remote())
    a.exit.remote()
    with pytest.raises(RayActorError):
        for _ in range(50):
            ray.get(a.ping.remote(), timeout=20)
            time.sleep(0.1)


def test_exit_actor_outside_actor_raises(ray_start_regular_shared):
    with pytest.raises(TypeError):
        ray.actor.exit_actor()


def test_ray_terminate(ray_start_regular_shared):
    a = Worker.remote()
    assert ray.get(a.ping.remote()) == 1
    a.__ray_terminate__.remote()
    with pytest.raises(RayActorError):
        ray.get(a.ping.remote(), timeout=20)


def test_calls_queued_before_ray_terminate_complete(ray_start_regular_shared):
    for _ in range(10):
        a = Worker.remote()
        first = [a.ping.remote() for _ in range(3)]
        a.__ray_terminate__.remote()
        assert ray.get(first) == [1, 2, 3]


def test_actor_dies_when_handles_go_out_of_scope(ray_start_regular_shared):
    a = Worker.remote()
    pid = ray.get(a.pid.remote())
    del a
    assert _wait_until(lambda: not _pid_alive(pid), timeout=20)


def test_actor_error_types(ray_start_regular_shared):
    a = Worker.remote()
    ray.kill(a)
    with pytest.raises(RayActorError) as info:
        ray.get(a.ping.remote(), timeout=20)
    assert isinstance(info.value, ray.exceptions.RayError)
    assert isinstance(info.value, ActorDiedError)
