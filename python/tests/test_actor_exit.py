"""Actor exit as Ray does it: exit_actor() from a sync method, an async
method and the constructor, __ray_terminate__, and an actor whose handles
all went out of scope: the actor's
__ray_shutdown__ and its process's atexit handlers run, and its calls raise
ActorDiedError; photon.kill is forced and runs neither."""
import os
import time

import pytest

import photon as ray
from photon.exceptions import ActorDiedError


@ray.remote
class Hooked:
    def __init__(self, path, exit_in_init=False):
        import atexit

        self.path = path
        atexit.register(lambda: open(path + ".atexit", "w").write("atexit"))
        if exit_in_init:
            ray.actor.exit_actor()

    def __ray_shutdown__(self):
        open(self.path + ".shutdown", "w").write("shutdown")

    def bye(self):
        ray.actor.exit_actor()

    def ping(self):
        return "pong"


@ray.remote
class AsyncHooked:
    def __init__(self, path):
        self.path = path

    def __ray_shutdown__(self):
        open(self.path + ".shutdown", "w").write("shutdown")

    async def bye(self):
        ray.actor.exit_actor()

    async def ping(self):
        return "pong"


def _hooks_ran(path, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path + ".shutdown") and os.path.exists(path + ".atexit"):
            return True
        time.sleep(0.05)
    return False


def test_exit_actor_from_a_method_runs_the_hooks(ray_start_regular_shared, tmp_path):
    path = str(tmp_path / "sync")
    a = Hooked.remote(path)
    assert ray.get(a.ping.remote()) == "pong"
    with pytest.raises(ActorDiedError):
        ray.get(a.bye.remote())
    with pytest.raises(ActorDiedError):
        ray.get(a.ping.remote())
    assert _hooks_ran(path)


def test_exit_actor_from_an_async_method(ray_start_regular_shared, tmp_path):
    path = str(tmp_path / "async")
    a = AsyncHooked.remote(path)
    assert ray.get(a.ping.remote()) == "pong"
    with pytest.raises(ActorDiedError):
        ray.get(a.bye.remote())
    with pytest.raises(ActorDiedError):
        ray.get(a.ping.remote())
    deadline = time.monotonic() + 10
    while not os.path.exists(path + ".shutdown"):
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_exit_actor_in_the_constructor(ray_start_regular_shared, tmp_path):
    path = str(tmp_path / "init")
    a = Hooked.remote(path, exit_in_init=True)
    with pytest.raises(ActorDiedError):
        ray.get(a.ping.remote(), timeout=30)
    assert _hooks_ran(path)


def test_ray_terminate_is_graceful(ray_start_regular_shared, tmp_path):
    path = str(tmp_path / "terminate")
    a = Hooked.remote(path)
    assert ray.get(a.ping.remote()) == "pong"
    a.__ray_terminate__.remote()
    assert _hooks_ran(path)
    with pytest.raises(ActorDiedError):
        ray.get(a.ping.remote(), timeout=30)


def test_out_of_scope_actor_ends_gracefully(ray_start_regular_shared, tmp_path):
    path = str(tmp_path / "scope")
    a = Hooked.remote(path)
    assert ray.get(a.ping.remote()) == "pong"
    del a
    assert _hooks_ran(path)


def test_kill_is_forced_and_runs_no_hooks(ray_start_regular_shared, tmp_path):
    path = str(tmp_path / "kill")
    a = Hooked.remote(path)
    assert ray.get(a.ping.remote()) == "pong"
    ray.kill(a)
    with pytest.raises(ActorDiedError):
        ray.get(a.ping.remote(), timeout=30)
    time.sleep(0.5)
    assert not os.path.exists(path + ".shutdown") and not os.path.exists(path + ".atexit")
