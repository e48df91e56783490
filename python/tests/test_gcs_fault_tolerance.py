"""GCS fault tolerance: with Redis, a GCS killed with SIGKILL and started
again on its address finds the cluster as it was; without Redis, a restarted
GCS is a new cluster and every process of the old one says so.

Each test starts its own redis-server (the external_redis fixture) and
Cluster, and stops both, even on failure.
"""
import contextlib
import socket
import threading
import time

import pytest

import photon
from photon.cluster_utils import Cluster
from photon.util.placement_group import placement_group, placement_group_table


@contextlib.contextmanager
def socket_on_free_port():
    """A port nothing listens on (bound, not listening, for the test's span)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


@pytest.fixture
def redis_cluster(external_redis):
    cluster = Cluster(initialize_head=True,
                      head_node_args={"num_cpus": 2, "redis_address": external_redis})
    try:
        cluster.add_node(num_cpus=2, resources={"other": 1})
        cluster.wait_for_nodes()
        cluster.connect(namespace="ft")
        yield cluster
    finally:
        cluster.shutdown()
        photon.shutdown()


@photon.remote
def square(x):
    return x * x


@photon.remote
class Counter:
    def __init__(self, start=0):
        self.n = start

    def add(self, k=1):
        self.n += k
        return self.n

    def pid(self):
        import os
        return os.getpid()


def _alive_nodes():
    return sorted(n["NodeID"] for n in photon.nodes() if n["Alive"])


@pytest.mark.timeout(120)
def test_state_survives_a_gcs_restart(redis_cluster):
    nodes_before = _alive_nodes()
    assert len(nodes_before) == 2
    detached = Counter.options(name="keeper", lifetime="detached").remote(10)
    named = Counter.options(name="named").remote()
    assert photon.get(detached.add.remote()) == 11
    assert photon.get(named.add.remote()) == 1
    pid = photon.get(detached.pid.remote())
    pg = placement_group([{"CPU": 1}, {"CPU": 1}], strategy="SPREAD", name="pg1")
    assert pg.wait(10)
    assert photon.get([square.remote(i) for i in range(10)]) == [i * i for i in range(10)]

    redis_cluster.head_node.kill_gcs_server()
    # While the GCS is down: calls on live actors and tasks of a known
    # function go on (they need no GCS).
    assert photon.get(detached.add.remote(), timeout=30) == 12
    assert photon.get(square.remote(7), timeout=30) == 49
    redis_cluster.head_node.start_gcs_server()

    # The same actors, found by name, with their state and their processes.
    again = photon.get_actor("keeper")
    assert photon.get(again.add.remote(), timeout=30) == 13
    assert photon.get(again.pid.remote()) == pid
    assert photon.get(photon.get_actor("named").add.remote(), timeout=30) == 2
    # The placement group is intact and still usable.
    table = placement_group_table(pg)
    assert table["state"] == "CREATED"
    assert photon.get(square.options(placement_group=pg).remote(3), timeout=30) == 9
    assert photon.util.get_placement_group("pg1").id == pg.id
    # The nodes are the same, alive.
    assert _alive_nodes() == nodes_before

    # New work: a new function (exported through the KV), a new actor.
    @photon.remote
    def cube(x):
        return x ** 3
    assert photon.get(cube.remote(3), timeout=30) == 27
    c = Counter.remote(100)
    assert photon.get(c.add.remote(), timeout=30) == 101
    photon.kill(detached)


@photon.remote
def slow_square(x):
    time.sleep(0.005)
    return x * x


@pytest.mark.timeout(180)
def test_gcs_restart_in_the_middle_of_running_work_loses_nothing(redis_cluster):
    actors = [Counter.remote() for _ in range(2)]
    photon.get([a.add.remote(0) for a in actors])
    tasks = [slow_square.remote(i) for i in range(1000)]
    calls = [actors[i % 2].add.remote() for i in range(100)]
    time.sleep(0.3)
    redis_cluster.head_node.kill_gcs_server()
    time.sleep(1.0)
    redis_cluster.head_node.start_gcs_server()
    assert photon.get(tasks, timeout=120) == [i * i for i in range(1000)]
    results = photon.get(calls, timeout=60)
    # Each actor saw its 50 calls once each, in order.
    assert sorted(results[0::2]) == list(range(1, 51))
    assert sorted(results[1::2]) == list(range(1, 51))


@pytest.mark.timeout(120)
def test_new_actors_wait_for_the_gcs_to_come_back(redis_cluster):
    redis_cluster.head_node.kill_gcs_server()
    made = {}

    def create():
        try:
            a = Counter.options(name="late").remote(5)
            made["actor"] = a  # keeps it alive past the thread
            made["value"] = photon.get(a.add.remote(), timeout=60)
        except Exception as e:  # noqa: BLE001 - reported by the assert below
            made["error"] = e

    t = threading.Thread(target=create)
    t.start()
    time.sleep(2)
    assert "value" not in made  # no GCS: the creation waits
    redis_cluster.head_node.start_gcs_server()
    t.join(90)
    assert made.get("value") == 6, made
    assert photon.get(photon.get_actor("late").add.remote()) == 7


@pytest.mark.timeout(120)
def test_a_gcs_restarted_without_redis_is_reported_as_the_end_of_the_cluster():
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        cluster.connect()
        actor = Counter.options(name="gone").remote()
        assert photon.get(actor.add.remote()) == 1
        raylet_err = f"{cluster.session_dir}/logs/raylet-0.err"
        cluster.head_node.kill_gcs_server()
        cluster.head_node.start_gcs_server()
        # The raylet finds out from its next poll and exits, saying why.
        deadline = time.monotonic() + 60
        while True:
            with open(raylet_err) as f:
                err = f.read()
            if "restarted without the cluster's state" in err:
                break
            assert time.monotonic() < deadline, err
            time.sleep(0.2)
        # The driver's calls to the GCS fail with the same words.
        deadline = time.monotonic() + 30
        while True:
            try:
                photon.get_actor("gone")
                message = ""
            except Exception as e:  # noqa: BLE001
                message = str(e)
            if "restarted without the cluster's state" in message:
                break
            assert time.monotonic() < deadline, message
            time.sleep(0.2)
    finally:
        cluster.shutdown()
        photon.shutdown()


def test_redis_address_is_checked():
    with pytest.raises(ValueError, match="HOST:PORT"):
        Cluster(initialize_head=True, head_node_args={"redis_address": "nowhere"})
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        with pytest.raises(ValueError, match="head node"):
            cluster.add_node(num_cpus=1, redis_address="127.0.0.1:1")
    finally:
        cluster.shutdown()


def test_an_unreachable_redis_fails_the_head_with_a_clear_error():
    with socket_on_free_port() as port:
        with pytest.raises(RuntimeError, match=f"Redis at 127.0.0.1:{port}"):
            Cluster(initialize_head=True,
                    head_node_args={"num_cpus": 1, "redis_address": f"127.0.0.1:{port}"})


@pytest.mark.timeout(120)
def test_calls_that_need_the_gcs_fail_clearly_once_it_stays_away(monkeypatch, external_redis):
    # Ray's gcs_rpc_server_reconnect_timeout_s is gcs_rpc_retry_deadline_ms here.
    monkeypatch.setenv("PHOTON_GCS_RPC_RETRY_DEADLINE_MS", "3000")
    cluster = Cluster(initialize_head=True,
                      head_node_args={"num_cpus": 1, "redis_address": external_redis})
    try:
        cluster.connect()
        actor = Counter.remote()
        assert photon.get(actor.add.remote()) == 1
        cluster.head_node.kill_gcs_server()
        start = time.monotonic()
        with pytest.raises(Exception, match=cluster.address):
            Counter.options(name="never").remote()
        assert time.monotonic() - start < 30
        # A live actor still answers.
        assert photon.get(actor.add.remote(), timeout=30) == 2
    finally:
        cluster.shutdown()
        photon.shutdown()
