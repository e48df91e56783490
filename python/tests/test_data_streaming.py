"""photon.data streams a dataset ten times larger than the object store
through map_batches and write_parquet: no ObjectStoreFullError, and the
store's use (sampled while it runs) stays under the executor's budget."""
import re
import threading

import numpy as np
import pytest

pytest.importorskip("pyarrow")

import photon as ray  # noqa: E402
from photon._private.internal_api import memory_summary  # noqa: E402

STORE = 96 * 1024 * 1024
BLOCK = 2 * 1024 * 1024
_UNITS = {"B": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3}


@pytest.fixture
def small_store():
    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=2, object_store_memory=STORE)
    try:
        yield
    finally:
        ray.shutdown()


def _store_used():
    text = memory_summary(stats_only=True)
    m = re.search(r"([\d.]+) (B|KiB|MiB|GiB) used of", text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else 0.0


def test_ten_times_the_store_streams_through_map_batches_and_write(small_store, tmp_path):
    num_blocks = 10 * STORE // BLOCK  # 480 blocks of 2 MiB: 960 MiB in all
    peak, stop = [0.0], threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], _store_used())
            stop.wait(0.05)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        ds = ray.data.range(num_blocks, override_num_blocks=num_blocks).map_batches(
            lambda b: {"id": b["id"],
                       "x": np.full((len(b["id"]), BLOCK), 7, dtype=np.uint8)})
        ds.write_parquet(str(tmp_path / "out"))
    finally:
        stop.set()
        sampler.join()
    back = ray.data.read_parquet(str(tmp_path / "out"), columns=["id"])
    assert sorted(r["id"] for r in back.take_all()) == list(range(num_blocks))
    budget = STORE * ray.data.DataContext.get_current().object_store_memory_fraction
    assert 0 < peak[0] <= budget, f"peak store use {peak[0] / 2**20:.1f} MiB, budget " \
        f"{budget / 2**20:.1f} MiB"
