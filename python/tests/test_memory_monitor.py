"""Out-of-memory prevention: a raylet over memory_usage_threshold kills the
worker of the newest retriable task; the task is retried within max_retries,
else fails with OutOfMemoryError naming the node's memory and the task. The
node gets a small explicit capacity (memory_monitor_capacity_bytes: its
workers' resident memory against 1 GiB) instead of exhausting the machine."""
import os
import time

import numpy as np
import pytest

import photon as ray


@pytest.fixture
def small_memory_node(monkeypatch):
    monkeypatch.setenv("PHOTON_MEMORY_MONITOR_CAPACITY_BYTES", str(1 << 30))
    monkeypatch.setenv("PHOTON_MEMORY_USAGE_THRESHOLD", "0.5")
    monkeypatch.setenv("PHOTON_MEMORY_MONITOR_REFRESH_MS", "100")
    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=2)
    try:
        yield
    finally:
        ray.shutdown()


def _hog(mib):
    block = np.ones(mib * (1 << 20) // 8)  # touched: resident
    time.sleep(20)
    return int(block[0])


@ray.remote(max_retries=0)
def hog():
    return _hog(700)


@ray.remote(max_retries=2)
def hog_once(marker):
    if not os.path.exists(marker):
        open(marker, "w").close()
        return _hog(700)
    return "second try"


@ray.remote
def small():
    return "fine"


def test_a_task_over_the_memory_threshold_fails_with_out_of_memory(small_memory_node):
    with pytest.raises(ray.exceptions.OutOfMemoryError) as info:
        ray.get(hog.remote(), timeout=60)
    message = str(info.value)
    assert "memory monitor" in message and "hog" in message and "GiB" in message
    # The node keeps working.
    assert ray.get(small.remote(), timeout=30) == "fine"


def test_a_retriable_task_killed_for_memory_is_retried(small_memory_node, tmp_path):
    assert ray.get(hog_once.remote(str(tmp_path / "tried")), timeout=60) == "second try"
