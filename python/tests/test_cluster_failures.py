"""Nodes leaving and actor lifetimes on a photon.cluster_utils.Cluster
(modeled on Ray's python/ray/tests/test_multi_node_2.py,
test_actor_lifetime.py and test_failure_2.py). Each test has its own cluster."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import photon as ray
from photon.cluster_utils import Cluster


@ray.remote(num_cpus=0)
def where():
    return ray.get_runtime_context().get_node_id()


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _wait_until(predicate, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


# --- nodes leaving ----------------------------------------------------------------------

def test_remove_node_gracefully(ray_start_cluster):
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=1)
    worker = cluster.add_node(num_cpus=1, resources={"w": 1})
    cluster.connect()
    cluster.wait_for_nodes()
    assert ray.get(where.options(resources={"w": 1}).remote()) == worker.node_id
    cluster.remove_node(worker)
    assert not _alive(worker.pid)
    cluster.wait_for_nodes(timeout=20)
    alive = {n["NodeID"] for n in ray.nodes() if n["Alive"]}
    assert worker.node_id not in alive
    assert cluster.list_all_nodes() == [cluster.head_node]
    assert "w" not in ray.cluster_resources()
    # A new node can join afterwards.
    again = cluster.add_node(num_cpus=1, resources={"w": 1})
    cluster.wait_for_nodes()
    assert ray.get(where.options(resources={"w": 1}).remote(), timeout=30) == again.node_id


def test_node_crash_kills_its_actors(ray_start_cluster):
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=1)
    worker = cluster.add_node(num_cpus=1, resources={"w": 1})
    cluster.connect()

    @ray.remote(num_cpus=0, resources={"w": 1})
    class OnWorker:
        def pid(self):
            return os.getpid()

    actor = OnWorker.remote()
    actor_pid = ray.get(actor.pid.remote())
    cluster.remove_node(worker, allow_graceful=False)
    assert _wait_until(lambda: not _alive(actor_pid))
    with pytest.raises(ray.exceptions.RayActorError):
        ray.get(actor.pid.remote(), timeout=30)
    cluster.wait_for_nodes(timeout=30)
    assert worker.node_id not in {n["NodeID"] for n in ray.nodes() if n["Alive"]}


def test_task_retried_on_another_node_after_crash(ray_start_cluster):
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=1)
    first = cluster.add_node(num_cpus=1, resources={"r": 1})
    cluster.connect()

    @ray.remote(num_cpus=0, resources={"r": 1}, max_retries=3)
    def slow_where():
        time.sleep(2)
        return ray.get_runtime_context().get_node_id()

    ref = slow_where.remote()
    time.sleep(0.5)
    second = cluster.add_node(num_cpus=1, resources={"r": 1})
    cluster.remove_node(first, allow_graceful=False)
    assert ray.get(ref, timeout=45) == second.node_id


def test_task_without_retries_on_a_crashed_node_raises_node_died(ray_start_cluster, tmp_path):
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=1)
    victim = cluster.add_node(num_cpus=1, resources={"v": 1})
    cluster.connect()

    @ray.remote(num_cpus=0, resources={"v": 1}, max_retries=0)
    def hang(path):
        open(path, "w").close()
        time.sleep(120)

    marker = str(tmp_path / "started")
    ref = hang.remote(marker)
    assert _wait_until(lambda: os.path.exists(marker), timeout=30)
    cluster.remove_node(victim, allow_graceful=False)
    with pytest.raises(ray.exceptions.NodeDiedError) as info:
        ray.get(ref, timeout=60)
    assert not isinstance(info.value, ray.exceptions.WorkerCrashedError)
    assert "max_retries=0" in str(info.value)


# --- actor lifetimes -------------------------------------------------------------------

def _run_driver(address, body):
    script = textwrap.dedent(f"""
        import photon as ray
        ray.init(address={address!r}, namespace="lifetimes")
    """) + textwrap.dedent(body)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60, env=dict(os.environ))
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_detached_actor_outlives_its_driver(ray_start_cluster):
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=1)
    _run_driver(cluster.address, """
        @ray.remote
        class Keeper:
            def __init__(self):
                self.v = 0
            def incr(self):
                self.v += 1
                return self.v

        k = Keeper.options(name="detached-keeper", lifetime="detached").remote()
        n = Keeper.options(name="owned-keeper").remote()
        assert ray.get(k.incr.remote()) == 1
        assert ray.get(n.incr.remote()) == 1
    """)
    cluster.connect(namespace="lifetimes")
    keeper = ray.get_actor("detached-keeper")
    assert ray.get(keeper.incr.remote()) == 2

    def owned_gone():
        try:
            ray.get_actor("owned-keeper")
            return False
        except ValueError:
            return True

    # A non-detached actor dies with the driver that made it.
    assert _wait_until(owned_gone, timeout=30)
    ray.kill(keeper)
    assert _wait_until(lambda: _lookup("detached-keeper") is None)


def _lookup(name):
    try:
        return ray.get_actor(name)
    except ValueError:
        return None


def test_two_drivers_share_a_cluster(ray_start_cluster):
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=2)
    cluster.connect(namespace="lifetimes")

    @ray.remote
    class Box:
        def __init__(self):
            self.items = []

        def add(self, x):
            self.items.append(x)

        def items_(self):
            return self.items

    box = Box.options(name="shared-box").remote()
    ray.get(box.add.remote("from driver 1"))
    _run_driver(cluster.address, """
        box = ray.get_actor("shared-box")
        ray.get(box.add.remote("from driver 2"))
    """)
    assert ray.get(box.items_.remote()) == ["from driver 1", "from driver 2"]


# --- cleanup -----------------------------------------------------------------------------

def test_cluster_shutdown_stops_everything(tmp_path):
    cluster = Cluster(initialize_head=True, connect=True, head_node_args={"num_cpus": 1})
    try:
        node = cluster.add_node(num_cpus=1, resources={"x": 1})

        @ray.remote(resources={"x": 1}, num_cpus=0)
        def pid():
            return os.getpid()

        worker_pid = ray.get(pid.remote())
        session = cluster.session_dir
        pids = [cluster.head_node.pid, node.pid, worker_pid]
    finally:
        cluster.shutdown()
    assert not ray.is_initialized()
    assert _wait_until(lambda: not any(_alive(p) for p in pids))
    cluster.shutdown()  # idempotent
    assert session


def test_cluster_argument_checks():
    with pytest.raises(ValueError):
        Cluster(connect=True)
    cluster = Cluster()
    try:
        assert cluster.address is None and cluster.head_node is None
        with pytest.raises(ValueError):
            cluster.add_node(num_cpus=-1)
        with pytest.raises(ValueError):
            cluster.add_node(resources={"CPU": 1})
        with pytest.raises(ValueError):
            cluster.add_node(bogus=1)
        with pytest.raises(RuntimeError):
            cluster.connect()
    finally:
        cluster.shutdown()


def test_kill_signal_reaches_only_own_processes():
    # remove_node(allow_graceful=False) is a SIGKILL of the raylet; the
    # cluster's other nodes keep running.
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    try:
        victim = cluster.add_node(num_cpus=0)
        survivor = cluster.add_node(num_cpus=0)
        cluster.remove_node(victim, allow_graceful=False)
        assert not _alive(victim.pid)
        assert _alive(survivor.pid) and _alive(cluster.head_node.pid)
    finally:
        cluster.shutdown()


def test_a_partitioned_raylet_declared_dead_exits_with_its_workers(monkeypatch):
    # Quick health checks, so the GCS gives up on a stopped raylet within ~1 s.
    monkeypatch.setenv("PHOTON_HEALTH_CHECK_PERIOD_MS", "200")
    monkeypatch.setenv("PHOTON_HEALTH_CHECK_TIMEOUT_MS", "200")
    monkeypatch.setenv("PHOTON_HEALTH_CHECK_FAILURE_THRESHOLD", "3")
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        node = cluster.add_node(num_cpus=1, resources={"w": 1})
        cluster.wait_for_nodes()
        cluster.connect()

        @ray.remote(num_cpus=0, resources={"w": 0.5})
        class OnNode:
            def pid(self):
                return os.getpid()

        worker_pid = ray.get(OnNode.remote().pid.remote(), timeout=30)
        # A partition, as the GCS sees it: the raylet stops answering.
        os.kill(node.pid, signal.SIGSTOP)
        try:
            assert _wait_until(lambda: node.node_id not in {
                n["NodeID"] for n in ray.nodes() if n["Alive"]})
            dead = next(n for n in ray.nodes() if n["NodeID"] == node.node_id)
            assert "health checks" in dead["DeathReason"]
        finally:
            os.kill(node.pid, signal.SIGCONT)
        # Back, it finds itself dead and leaves, and its workers with it.
        assert _wait_until(lambda: not _alive(node.pid))
        assert _wait_until(lambda: not _alive(worker_pid))
        logs = os.path.join(cluster.session_dir, "logs")
        err = "".join(open(os.path.join(logs, f)).read() for f in os.listdir(logs)
                      if f.startswith("raylet-") and f.endswith(".err"))
        assert "declared this node dead" in err
        # The rest of the cluster carries on.
        assert ray.get(where.remote(), timeout=30) == cluster.head_node.node_id
    finally:
        cluster.shutdown()
        ray.shutdown()
