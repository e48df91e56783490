"""The node object store seen from Python: spilling and restore, ObjectStoreFullError,
zero-copy reads across processes, pins of a crashed reader, and objects moving
between nodes (with a retry from another copy when the source node dies)."""
import hashlib
import time

import numpy as np
import pytest

import photon
from photon import _photon
from photon._private.test_utils import wait_for_condition
from photon.cluster_utils import Cluster

MiB = 1 << 20


def _digest(a):
    return hashlib.sha1(memoryview(a).cast("B")).hexdigest()


def _array(seed, n):
    return np.random.default_rng(seed).integers(0, 255, size=n, dtype=np.uint8)


@pytest.fixture
def small_store():
    photon.init(num_cpus=2, object_store_memory=80 * MiB,
                _system_config={"object_store_full_grace_ms": 500})
    try:
        yield
    finally:
        photon.shutdown()


@pytest.mark.timeout(300)
def test_store_much_smaller_than_the_data_spills_and_every_object_reads_back(small_store):
    # 1 GiB of objects, all held by references, through an 80 MiB store.
    refs, digests = [], []
    for i in range(128):
        a = _array(i, 8 * MiB)
        digests.append(_digest(a))
        refs.append(photon.put(a))
    stats = _photon.local_store_stats()
    assert stats["capacity"] == 80 * MiB
    assert stats["spilled_bytes_total"] >= 900 * MiB
    assert stats["spill_files"] >= 1
    assert stats["num_objects"] == 128
    for ref, digest in zip(refs, digests):
        out = photon.get(ref)
        assert not out.flags.writeable
        assert _digest(out) == digest
        del out
    assert _photon.local_store_stats()["restored_bytes_total"] >= 900 * MiB

    # A task on the node reads spilled objects too.
    @photon.remote
    def digest_of(x):
        return hashlib.sha1(memoryview(x).cast("B")).hexdigest()

    assert photon.get([digest_of.remote(r) for r in refs[:4]]) == digests[:4]
    del refs, ref
    # Spill files go once their objects are freed.
    wait_for_condition(lambda: _photon.local_store_stats()["spilled_bytes_current"] == 0)
    wait_for_condition(lambda: _photon.local_store_stats()["num_objects"] == 0)


def test_put_raises_object_store_full_error_when_nothing_can_make_room(small_store):
    with pytest.raises(photon.exceptions.ObjectStoreFullError, match="bytes"):
        photon.put(np.zeros(100 * MiB, dtype=np.uint8))  # larger than the whole store
    # Everything in the store pinned by readers: spilling cannot free memory.
    refs = [photon.put(np.ones(20 * MiB, dtype=np.uint8)) for _ in range(3)]
    views = [photon.get(r) for r in refs]
    start = time.time()
    with pytest.raises(photon.exceptions.ObjectStoreFullError) as info:
        photon.put(np.ones(30 * MiB, dtype=np.uint8))
    assert time.time() - start >= 0.4  # waited for the grace period first
    assert "object store is full" in str(info.value)
    assert isinstance(info.value, photon.exceptions.RayError)
    # Releasing the readers makes room again.
    del views
    assert photon.get(photon.put(np.ones(30 * MiB, dtype=np.uint8)))[0] == 1


def test_task_reads_the_same_shared_memory_as_the_driver(small_store):
    a = _array(3, 4 * MiB)
    ref = photon.put(a)
    mine = photon.get(ref)
    offset_in_driver = _photon.local_object_info(ref.binary())["offset"]

    @photon.remote
    def where(x):
        # The worker's view lies in its own mapping of the same arena.
        return hashlib.sha1(memoryview(x).cast("B")).hexdigest(), x.flags.owndata

    digest, owndata = photon.get(where.remote(ref))
    assert digest == _digest(mine)
    assert owndata is False
    assert _photon.local_object_info(ref.binary())["offset"] == offset_in_driver


def test_a_killed_reader_has_its_pins_dropped(small_store):
    ref = photon.put(_array(4, 4 * MiB))

    @photon.remote
    class Holder:
        def hold(self, boxed):
            self.view = photon.get(boxed[0])  # keeps a pin while the actor lives
            return int(self.view[0])

    h = Holder.remote()
    photon.get(h.hold.remote([ref]))
    assert _photon.local_object_info(ref.binary())["pins"] == 1
    photon.kill(h)
    wait_for_condition(lambda: _photon.local_object_info(ref.binary())["pins"] == 0)


@pytest.mark.timeout(300)
def test_500_mib_object_moves_between_nodes_bit_exact():
    cluster = Cluster(initialize_head=True,
                      head_node_args={"num_cpus": 1, "object_store_memory": 700 * MiB})
    try:
        cluster.add_node(num_cpus=1, resources={"other": 1}, object_store_memory=700 * MiB)
        cluster.wait_for_nodes()
        cluster.connect()
        a = _array(7, 500 * MiB)
        digest = _digest(a)
        ref = photon.put(a)
        del a

        @photon.remote(resources={"other": 1})
        def digest_there(x):
            return (hashlib.sha1(memoryview(x).cast("B")).hexdigest(),
                    photon.get_runtime_context().get_node_id())

        there, node = photon.get(digest_there.remote(ref))
        assert there == digest
        assert node != photon.get_runtime_context().get_node_id()

        @photon.remote(resources={"other": 1})
        def make():
            return np.random.default_rng(8).integers(0, 255, size=300 * MiB, dtype=np.uint8)

        out = photon.get(make.remote())
        assert _digest(out) == _digest(_array(8, 300 * MiB))
    finally:
        cluster.shutdown()


@pytest.mark.timeout(180)
def test_pull_retries_from_another_copy_when_the_source_node_dies():
    cluster = Cluster(initialize_head=True,
                      head_node_args={"num_cpus": 1, "object_store_memory": 200 * MiB})
    try:
        source = cluster.add_node(num_cpus=1, resources={"b": 1}, object_store_memory=200 * MiB)
        cluster.add_node(num_cpus=1, resources={"c": 1}, object_store_memory=200 * MiB)
        cluster.wait_for_nodes()
        cluster.connect()

        @photon.remote(resources={"b": 1})
        def make():
            return np.full(20 * MiB, 7, dtype=np.uint8)

        @photon.remote(resources={"c": 1})
        def first(x):
            return int(x[0])

        ref = make.remote()
        assert photon.get(first.remote(ref)) == 7  # node c now holds a copy
        cluster.remove_node(source, allow_graceful=False)
        out = photon.get(ref, timeout=60)
        assert out.shape == (20 * MiB,) and int(out[0]) == 7 and int(out[-1]) == 7
    finally:
        cluster.shutdown()


def test_wait_with_fetch_local_waits_for_the_local_copy():
    cluster = Cluster(initialize_head=True,
                      head_node_args={"num_cpus": 1, "object_store_memory": 200 * MiB})
    try:
        cluster.add_node(num_cpus=1, resources={"other": 1}, object_store_memory=200 * MiB)
        cluster.wait_for_nodes()
        cluster.connect()

        @photon.remote(resources={"other": 1})
        def make():
            return np.ones(4 * MiB, dtype=np.uint8)

        ref = make.remote()
        ready, _ = photon.wait([ref], fetch_local=False, timeout=60)
        assert ready and _photon.local_object_info(ref.binary())["found"] == 0
        ready, _ = photon.wait([ref], fetch_local=True, timeout=60)
        assert ready and _photon.local_object_info(ref.binary())["found"] == 1
        assert int(photon.get(ref)[0]) == 1
    finally:
        cluster.shutdown()


@pytest.mark.timeout(120)
def test_spilled_task_returns_outlive_the_worker_that_made_them(small_store):
    import os
    import signal

    @photon.remote(num_returns=2)
    def make(seed):
        return os.getpid(), _array(seed, 8 * MiB)

    pairs = [make.remote(i) for i in range(24)]  # 192 MiB through an 80 MiB store
    pids = set(photon.get([p for p, _ in pairs]))
    assert _photon.local_store_stats()["spilled_bytes_total"] >= 100 * MiB
    for pid in pids:  # the workers that made them die
        os.kill(pid, signal.SIGKILL)
    # The spilled copies belong to the node: every one reads back.
    for i, (_, ref) in enumerate(pairs):
        out = photon.get(ref, timeout=60)
        assert _digest(out) == _digest(_array(i, 8 * MiB))
        del out
