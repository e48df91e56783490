"""photon.data on a 3-node cluster (cluster_utils)."""
import numpy as np
import pytest

pytest.importorskip("pyarrow")

import photon as ray  # noqa: E402


def test_three_node_cluster(three_two_cpu_nodes):
    ds = ray.data.range(300, override_num_blocks=12).map_batches(
        lambda b: {"id": b["id"], "node": np.full(len(b["id"]), ray.get_runtime_context()
                                                  .get_node_id())})
    rows = ds.take_all()
    assert sorted(r["id"] for r in rows) == list(range(300))
    assert ds.groupby("node").count().count() >= 1
    assert [r["id"] for r in ray.data.range(300).sort("id", descending=True).take(2)] == \
        [299, 298]
