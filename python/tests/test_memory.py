"""The memory view as a Ray user reads it (modeled on Ray's test_memstat.py and
the object part of test_state_api.py): list_objects / get_objects /
summarize_objects, ray._private.internal_api.memory_summary and the `photon
memory` command, with Ray's reference types, sizes, owners and call sites."""
import json
import os
import subprocess
import tempfile
import time

import numpy as np
import pytest

import photon as ray
from photon._private.cli import bin_dir
from photon._private.internal_api import memory_summary
from photon._private.test_utils import wait_for_condition
from photon.util.state import (
    ObjectState, RayStateApiException, get_objects, list_objects, summarize_objects)

MB = 1_000_000


def _rows_of(ref):
    return get_objects(ref.hex())


def _types_of(ref):
    return sorted(r.reference_type for r in _rows_of(ref))


@ray.remote
def consume(x, dep):
    return len(x)


@ray.remote
def blocker(path):
    while not os.path.exists(path):
        time.sleep(0.05)
    return 1


@ray.remote
class Holder:
    def __init__(self):
        self.kept = None

    def hold(self, refs):
        self.kept = refs  # a list of refs: the actor borrows them
        return os.getpid()

    def drop(self):
        self.kept = None

    def ping(self):
        return 1


def test_driver_put_is_a_local_reference(ray_start_regular_shared):
    big = ray.put(np.zeros(MB, dtype=np.uint8))
    small = ray.put("HI")
    rows = _rows_of(big)
    assert len(rows) == 1, rows
    row = rows[0]
    assert isinstance(row, ObjectState)
    assert row.reference_type == "LOCAL_REFERENCE"
    assert row.type == "DRIVER"
    assert row.pid == os.getpid()
    assert row.task_status == "FINISHED"
    assert row.object_size >= MB
    assert row.call_site == "disabled"
    assert row.object_id == big.hex()
    [srow] = _rows_of(small)
    assert srow.reference_type == "LOCAL_REFERENCE" and 0 < srow.object_size < 1000
    del big, small


def test_a_mapped_value_is_pinned_in_memory(ray_start_regular_shared):
    ref = ray.put(np.zeros(MB, dtype=np.uint8))
    hex_id = ref.hex()
    assert _types_of(ref) == ["LOCAL_REFERENCE"]
    buf = ray.get(ref)  # a view of the store's copy
    assert _types_of(ref) == ["PINNED_IN_MEMORY"]
    del ref  # the view still holds the copy
    rows = get_objects(hex_id)
    assert [r.reference_type for r in rows] == ["PINNED_IN_MEMORY"], rows
    assert rows[0].object_size >= MB
    del buf
    wait_for_condition(lambda: get_objects(hex_id) == [])


def test_an_argument_of_a_pending_task_is_used_by_it(ray_start_regular_shared):
    path = os.path.join(tempfile.mkdtemp(), "go")
    dep = blocker.remote(path)
    x = ray.put(np.zeros(MB, dtype=np.uint8))
    out = consume.remote(x, dep)
    del x
    try:
        rows = list_objects(filters=[("reference_type", "=", "USED_BY_PENDING_TASK"),
                                     ("type", "=", "DRIVER")], limit=1000)
        assert any(r.object_size >= MB for r in rows), rows
        # The pending task's return waits for its arguments.
        [ret] = _rows_of(out)
        assert ret.task_status == "PENDING_ARGS_AVAIL", ret
        assert ret.reference_type == "LOCAL_REFERENCE"
    finally:
        open(path, "w").close()
    assert ray.get(out) == MB
    [ret] = _rows_of(out)
    assert ret.task_status == "FINISHED"


def test_a_ref_inside_a_value_is_captured_in_it(ray_start_regular_shared):
    inner = ray.put("inner")
    outer = ray.put([inner])
    inner_hex = inner.hex()
    del inner
    rows = get_objects(inner_hex)
    assert [r.reference_type for r in rows] == ["CAPTURED_IN_OBJECT"], rows
    del outer
    wait_for_condition(lambda: get_objects(inner_hex) == [])


def test_actor_handles_and_borrowers(ray_start_regular_shared):
    h = Holder.remote()
    assert ray.get(h.ping.remote()) == 1
    handles = list_objects(filters=[("reference_type", "=", "ACTOR_HANDLE")], limit=1000)
    assert any(r.pid == os.getpid() and r.type == "DRIVER" for r in handles), handles
    x = ray.put(np.zeros(MB, dtype=np.uint8))
    actor_pid = ray.get(h.hold.remote([x]))
    rows = _rows_of(x)
    by_pid = {r.pid: r for r in rows}
    assert set(by_pid) == {os.getpid(), actor_pid}, rows
    assert by_pid[actor_pid].type == "WORKER"
    assert by_pid[actor_pid].reference_type == "LOCAL_REFERENCE"
    # A borrower knows the size from the owner's row.
    assert by_pid[actor_pid].object_size >= MB
    ray.get(h.drop.remote())
    wait_for_condition(lambda: {r.pid for r in _rows_of(x)} == {os.getpid()})
    ray.kill(h)


def test_filters_limit_detail_and_bad_input(ray_start_regular_shared):
    refs = [ray.put(i) for i in range(5)]
    rows = list_objects(filters=[("type", "=", "driver"), ("pid", "=", str(os.getpid()))],
                        limit=1000)
    ids = {r.object_id for r in rows}
    assert {r.hex() for r in refs} <= ids
    assert all(r.type == "DRIVER" for r in rows)
    with pytest.warns(RuntimeWarning, match="limit"):
        assert len(list_objects(limit=2)) == 2
    detail = list_objects(limit=1000, detail=True)
    assert set(detail[0].asdict()) == set(ObjectState.list_columns())
    with pytest.raises(RayStateApiException, match="object_id, object_size"):
        list_objects(filters=[("nope", "=", "1")])
    with pytest.raises(RayStateApiException, match="not an object id"):
        get_objects("not-hex")
    assert get_objects("ab" * 28) == []
    del refs


def test_summarize_objects(ray_start_regular_shared):
    refs = [ray.put(np.zeros(MB, dtype=np.uint8)) for _ in range(3)]
    got = summarize_objects()
    cluster = got["cluster"]
    assert cluster["summary_by"] == "callsite"
    assert cluster["callsite_enabled"] is False
    assert cluster["total_objects"] >= 3
    assert cluster["total_size_mb"] >= 3 * MB / 2**20
    disabled = cluster["summary"]["disabled"]
    assert disabled["ref_type_counts"]["LOCAL_REFERENCE"] >= 3
    assert disabled["task_state_counts"]["FINISHED"] >= 3
    assert disabled["total_num_nodes"] == 1 and disabled["total_num_workers"] >= 1
    del refs


def test_memory_summary_text(ray_start_regular_shared):
    refs = [ray.put(np.zeros(MB, dtype=np.uint8)) for _ in range(2)]
    text = memory_summary()
    assert "Object references status" in text
    assert "--- Summary for node address: 127.0.0.1" in text
    for r in refs:
        line = next(ln for ln in text.splitlines() if r.hex() in ln)
        assert "LOCAL_REFERENCE" in line and str(os.getpid()) in line and "Driver" in line
    assert "--- Aggregate object store stats across all nodes ---" in text
    assert "PHOTON_RECORD_REF_CREATION_SITES=1" in text
    # Largest first when sorted by size.
    lines = [ln for ln in text.splitlines() if "LOCAL_REFERENCE" in ln]
    assert any(refs[0].hex() in ln for ln in lines)
    by_site = memory_summary(group_by="STACK_TRACE", sort_by="PID", units="MB")
    assert "--- Summary for call site: disabled ---" in by_site and " MB" in by_site
    stats = memory_summary(stats_only=True)
    assert "Plasma memory usage" in stats and refs[0].hex() not in stats
    one = memory_summary(num_entries=1)
    assert sum(r.hex() in one for r in refs) <= 1
    with pytest.raises(RayStateApiException, match="--sort-by 'size'"):
        memory_summary(sort_by="size")
    with pytest.raises(RayStateApiException, match="--group-by"):
        memory_summary(group_by="job")
    del refs


def test_cli(ray_start_regular_shared):
    address = ray.get_runtime_context().gcs_address
    exe = os.path.join(bin_dir(), "photon")
    ref = ray.put(np.zeros(MB, dtype=np.uint8))

    def run(*args):
        return subprocess.run([exe, *args, "--address", address], capture_output=True, text=True,
                              timeout=60)

    out = run("memory")
    assert out.returncode == 0, out.stderr
    assert ref.hex() in out.stdout and "LOCAL_REFERENCE" in out.stdout
    out = run("memory", "--group-by", "stack_trace", "--sort-by", "reference_type",
              "--units", "KB")
    assert out.returncode == 0 and "call site: disabled" in out.stdout, out.stderr
    out = run("memory", "--sort-by", "nope")
    assert out.returncode == 1 and "--sort-by 'nope'" in out.stderr
    out = run("list", "objects", "--filter", f"object_id={ref.hex()}", "--format", "json")
    assert out.returncode == 0, out.stderr
    [row] = json.loads(out.stdout)
    assert list(row)[:2] == ["object_id", "object_size"] and row["type"] == "DRIVER"
    out = run("get", "objects", ref.hex())
    assert out.returncode == 0 and "LOCAL_REFERENCE" in out.stdout, out.stderr
    out = run("summary", "objects")
    assert out.returncode == 0 and "disabled" in out.stdout, out.stderr
    del ref


def test_call_sites_when_recorded(shutdown_only, monkeypatch):
    if ray.is_initialized():
        ray.shutdown()
    monkeypatch.setenv("PHOTON_RECORD_REF_CREATION_SITES", "1")
    ray.init(num_cpus=1)
    x = ray.put(np.zeros(10, dtype=np.uint8))  # the put's line
    y = consume.remote(x, 1)
    [row] = _rows_of(x)
    assert row.call_site.startswith("(put object) ")
    assert "test_memory.py" in row.call_site and "test_call_sites_when_recorded" in row.call_site
    [yrow] = _rows_of(y)
    assert yrow.call_site.startswith("(task call) ")
    got = summarize_objects()["cluster"]
    assert got["callsite_enabled"] is True
    assert any(site.startswith("(put object)") for site in got["summary"])
    text = memory_summary(group_by="STACK_TRACE")
    assert "--- Summary for call site: (put object)" in text
    assert "PHOTON_RECORD_REF_CREATION_SITES" not in text
    assert ray.get(y) == 10


def test_objects_across_nodes(ray_start_cluster):
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=1)
    cluster.add_node(num_cpus=1, resources={"other": 1})
    cluster.wait_for_nodes()
    ray.init(address=cluster.address)
    h = Holder.options(resources={"other": 1}).remote()
    x = ray.put(np.zeros(MB, dtype=np.uint8))
    actor_pid = ray.get(h.hold.remote([x]))
    text = memory_summary()
    assert text.count("--- Summary for node address:") == 2, text
    rows = _rows_of(x)
    assert {r.pid for r in rows} == {os.getpid(), actor_pid}
    stats = memory_summary(stats_only=True)
    assert stats.count("  node ") == 2
