"""photon.data, written as a Ray Data user writes programs (`ray.data`
after `import photon as ray`), with exact expected values."""
import os

import numpy as np
import pytest

pa = pytest.importorskip("pyarrow")
pd = pytest.importorskip("pandas")

import photon as ray  # noqa: E402
from photon.data.aggregate import Count, Max, Mean, Sum  # noqa: E402


@pytest.fixture(scope="module")
def data_cluster():
    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=2)
    try:
        yield
    finally:
        ray.shutdown()


def test_range_count_take_and_schema(data_cluster):
    ds = ray.data.range(1000)
    assert ds.count() == 1000
    assert ds.take(3) == [{"id": 0}, {"id": 1}, {"id": 2}]
    assert ds.schema().names == ["id"]
    assert ds.columns() == ["id"]
    assert [r["id"] for r in ds.take_all()] == list(range(1000))
    assert ds.sum("id") == sum(range(1000))
    assert ds.min("id") == 0 and ds.max("id") == 999
    assert ds.mean("id") == pytest.approx(499.5)
    assert ds.std("id") == pytest.approx(np.std(np.arange(1000), ddof=1))


def test_from_items_map_filter_flat_map(data_cluster):
    ds = ray.data.from_items([{"a": i, "b": str(i)} for i in range(20)])
    out = ds.map(lambda r: {"a": r["a"] * 2, "b": r["b"]}).filter(lambda r: r["a"] % 4 == 0)
    assert [r["a"] for r in out.take_all()] == [i * 2 for i in range(20) if (i * 2) % 4 == 0]
    flat = ray.data.from_items([1, 2, 3]).flat_map(lambda r: [{"x": r["item"]}] * r["item"])
    assert [r["x"] for r in flat.take_all()] == [1, 2, 2, 3, 3, 3]
    with pytest.raises(Exception, match="dict"):
        ray.data.range(3).map(lambda r: r["id"]).take_all()


@pytest.mark.parametrize("fmt", ["default", "numpy", "pandas", "pyarrow"])
def test_map_batches_formats(data_cluster, fmt):
    def double(batch):
        if fmt == "pandas":
            assert isinstance(batch, pd.DataFrame)
            batch["id"] = batch["id"] * 2
            return batch
        if fmt == "pyarrow":
            assert isinstance(batch, pa.Table)
            return pa.table({"id": pa.compute.multiply(batch["id"], 2)})
        assert isinstance(batch, dict) and isinstance(batch["id"], np.ndarray)
        return {"id": batch["id"] * 2}
    ds = ray.data.range(100).map_batches(double, batch_format=fmt, batch_size=16)
    assert sorted(r["id"] for r in ds.take_all()) == [2 * i for i in range(100)]


def test_map_batches_bad_inputs(data_cluster):
    with pytest.raises(ValueError, match="batch format"):
        ray.data.range(3).map_batches(lambda b: b, batch_format="bad")
    class C:
        def __call__(self, b):
            return b
    with pytest.raises(ValueError, match="task pool strategy"):
        ray.data.range(3).map_batches(C, compute=ray.data.TaskPoolStrategy())
    with pytest.raises(ValueError, match="is not a callable class"):
        ray.data.range(3).map_batches(lambda b: b, concurrency=(1, 2))
    with pytest.raises(ValueError, match="Batch size can't be negative or 0"):
        ray.data.range(3).map_batches(lambda b: b, batch_size=0)
    with pytest.raises(ValueError, match="must provide `batch_size`"):
        ray.data.range(3).map_batches(lambda b: b, num_gpus=1)
    with pytest.raises(Exception, match="map_batches"):
        ray.data.range(3).map_batches(lambda b: 5).take_all()


def test_map_batches_on_an_actor_pool(data_cluster):
    class AddPid:
        def __init__(self, offset):
            self.offset = offset
            self.pid = os.getpid()

        def __call__(self, batch):
            return {"id": batch["id"] + self.offset, "pid": np.full(len(batch["id"]), self.pid)}

    ds = ray.data.range(200, override_num_blocks=10).map_batches(
        AddPid, fn_constructor_args=(1000,), concurrency=2, batch_size=10)
    rows = ds.take_all()
    assert sorted(r["id"] for r in rows) == [1000 + i for i in range(200)]
    assert 1 <= len({r["pid"] for r in rows}) <= 2
    auto = ray.data.range(50, override_num_blocks=5).map_batches(
        AddPid, fn_constructor_args=(0,), concurrency=(1, 2), num_cpus=0.5)
    assert auto.count() == 50


def test_columns_ops(data_cluster):
    ds = ray.data.from_items([{"a": i, "b": i * 10} for i in range(5)])
    assert ds.add_column("c", lambda df: df["a"] + df["b"]).take(2) == [
        {"a": 0, "b": 0, "c": 0}, {"a": 1, "b": 10, "c": 11}]
    assert ds.drop_columns(["b"]).take(1) == [{"a": 0}]
    assert ds.select_columns(["b"]).take(1) == [{"b": 0}]
    assert ds.rename_columns({"a": "x"}).columns() == ["x", "b"]
    with pytest.raises(Exception, match="not found"):
        ds.select_columns(["zzz"]).take_all()


def test_limit_repartition_shuffle_sort(data_cluster):
    ds = ray.data.range(100)
    assert ds.limit(7).count() == 7
    assert [r["id"] for r in ds.limit(5).take_all()] == [0, 1, 2, 3, 4]
    rep = ds.repartition(3).materialize()
    assert rep.num_blocks() == 3
    assert [r["id"] for r in rep.take_all()] == list(range(100))
    shuffled = [r["id"] for r in ds.random_shuffle(seed=1).take_all()]
    assert sorted(shuffled) == list(range(100)) and shuffled != list(range(100))
    assert [r["id"] for r in ds.random_shuffle(seed=3).sort("id").take_all()] == list(range(100))
    assert [r["id"] for r in ds.sort("id", descending=True).take(3)] == [99, 98, 97]
    assert sorted(r["id"] for r in ds.randomize_block_order(seed=0).take_all()) == \
        list(range(100))


def test_groupby(data_cluster):
    ds = ray.data.from_items([{"k": i % 3, "v": i} for i in range(30)])
    assert ds.groupby("k").count().take_all() == [
        {"k": 0, "count()": 10}, {"k": 1, "count()": 10}, {"k": 2, "count()": 10}]
    assert ds.groupby("k").sum("v").take_all() == [
        {"k": k, "sum(v)": sum(i for i in range(30) if i % 3 == k)} for k in range(3)]
    agg = ds.groupby("k").aggregate(Max("v"), Mean("v")).take_all()
    assert agg[2] == {"k": 2, "max(v)": 29, "mean(v)": pytest.approx(15.5)}
    assert ds.aggregate(Count(), Sum("v")) == {"count()": 30, "sum(v)": 435}

    def top(group):
        i = int(np.argmax(group["v"]))
        return {"k": group["k"][i:i + 1], "v": group["v"][i:i + 1]}
    assert ds.groupby("k").map_groups(top).sort("k").take_all() == [
        {"k": 0, "v": 27}, {"k": 1, "v": 28}, {"k": 2, "v": 29}]
    assert sorted(ds.unique("k")) == [0, 1, 2]
    with pytest.raises(Exception, match="does not exist"):
        ds.groupby("nope").count().take_all()


def test_union_zip_split(data_cluster):
    a, b = ray.data.range(5), ray.data.range(3)
    assert [r["id"] for r in a.union(b).take_all()] == [0, 1, 2, 3, 4, 0, 1, 2]
    z = ray.data.range(4).zip(ray.data.from_items([{"id": i * 10} for i in range(4)]))
    assert z.take_all() == [{"id": i, "id_1": i * 10} for i in range(4)]
    parts = ray.data.range(10).split(3, equal=True)
    assert [p.count() for p in parts] == [3, 3, 3]
    first, second = ray.data.range(10).split_at_indices([4])
    assert [r["id"] for r in first.take_all()] == [0, 1, 2, 3]
    assert second.count() == 6
    train, test = ray.data.range(10).train_test_split(test_size=0.2)
    assert train.count() == 8 and [r["id"] for r in test.take_all()] == [8, 9]


def test_iter_batches_and_rows(data_cluster):
    ds = ray.data.range(100, override_num_blocks=7)
    sizes = [len(b["id"]) for b in ds.iter_batches(batch_size=32)]
    assert sizes == [32, 32, 32, 4]
    assert [len(b["id"]) for b in ds.iter_batches(batch_size=32, drop_last=True)] == [32] * 3
    got = np.concatenate([b["id"] for b in ds.iter_batches(batch_size=10,
                                                           local_shuffle_buffer_size=30,
                                                           local_shuffle_seed=0)])
    assert sorted(got.tolist()) == list(range(100)) and got.tolist() != list(range(100))
    pdb = next(iter(ds.iter_batches(batch_size=5, batch_format="pandas")))
    assert list(pdb["id"]) == [0, 1, 2, 3, 4]
    assert [r["id"] for r in ds.iter_rows()] == list(range(100))
    assert list(ds.take_batch(3)["id"]) == [0, 1, 2]


def test_from_pandas_numpy_arrow_and_back(data_cluster):
    df = pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", "c"]})
    ds = ray.data.from_pandas(df)
    pd.testing.assert_frame_equal(ds.to_pandas(), df)
    arr = np.arange(12).reshape(4, 3)
    nds = ray.data.from_numpy(arr)
    rows = nds.take_all()
    assert len(rows) == 4 and np.array_equal(rows[1]["data"], [3, 4, 5])
    t = pa.table({"z": [1.5, 2.5]})
    assert ray.data.from_arrow(t).take_all() == [{"z": 1.5}, {"z": 2.5}]
    refs = ray.data.range(10).to_arrow_refs()
    assert sum(ray.get(r).num_rows for r in refs) == 10
    tensor = ray.data.range_tensor(6, shape=(2, 2))
    assert tensor.take(2)[1]["data"].tolist() == [[1, 1], [1, 1]]
    with pytest.raises(ValueError, match="limit"):
        ray.data.range(10).to_pandas(limit=5)


def test_read_and_write_files(data_cluster, tmp_path):
    ds = ray.data.from_items([{"a": i, "b": f"s{i}"} for i in range(50)])
    ds.write_parquet(str(tmp_path / "pq"))
    back = ray.data.read_parquet(str(tmp_path / "pq"))
    assert sorted(r["a"] for r in back.take_all()) == list(range(50))
    only_a = ray.data.read_parquet(str(tmp_path / "pq"), columns=["a"])
    assert only_a.columns() == ["a"]
    import pyarrow.dataset as pds
    filtered = ray.data.read_parquet(str(tmp_path / "pq"), filter=pds.field("a") < 5)
    assert sorted(r["a"] for r in filtered.take_all()) == [0, 1, 2, 3, 4]
    ds.write_csv(str(tmp_path / "csv"))
    assert ray.data.read_csv(str(tmp_path / "csv")).count() == 50
    ds.write_json(str(tmp_path / "json"))
    assert sorted(r["a"] for r in ray.data.read_json(str(tmp_path / "json")).take_all()) == \
        list(range(50))
    (tmp_path / "t.txt").write_text("hello\n\nworld\n")
    assert ray.data.read_text(str(tmp_path / "t.txt")).take_all() == [
        {"text": "hello"}, {"text": "world"}]
    rows = ray.data.read_binary_files(str(tmp_path / "t.txt"), include_paths=True).take_all()
    assert rows[0]["bytes"] == b"hello\n\nworld\n" and rows[0]["path"].endswith("t.txt")
    np.save(tmp_path / "a.npy", np.arange(6).reshape(3, 2))
    assert ray.data.read_numpy(str(tmp_path / "a.npy")).count() == 3
    ray.data.range(4).write_numpy(str(tmp_path / "npout"), column="id")
    assert ray.data.read_numpy(str(tmp_path / "npout")).sum("data") == 6
    glob_ds = ray.data.read_parquet(str(tmp_path / "pq" / "*.parquet"))
    assert glob_ds.count() == 50
    with pytest.raises(FileNotFoundError):
        ray.data.read_parquet(str(tmp_path / "missing"))


def test_read_images(data_cluster, tmp_path):
    Image = pytest.importorskip("PIL.Image")
    for i in range(3):
        Image.fromarray(np.full((4, 5, 3), i, dtype=np.uint8)).save(tmp_path / f"{i}.png")
    rows = ray.data.read_images(str(tmp_path), size=(2, 2)).take_all()
    assert len(rows) == 3 and rows[0]["image"].shape == (2, 2, 3)


def test_materialize_stats_and_context(data_cluster):
    ctx = ray.data.DataContext.get_current()
    assert ctx.target_max_block_size > 0
    mat = ray.data.range(20).map_batches(lambda b: b).materialize()
    assert isinstance(mat, ray.data.MaterializedDataset)
    assert mat.count() == 20
    assert "MapBatches" in mat.stats()
    assert "num_rows=20" in repr(mat)
    with pytest.raises(TypeError):
        iter(ray.data.range(3))


def test_streaming_split(data_cluster):
    a, b = ray.data.range(40, override_num_blocks=8).streaming_split(2)

    @ray.remote(num_cpus=0)  # the split's own tasks need the CPUs
    def consume(it):
        return sum(int(x) for batch in it.iter_batches(batch_size=5) for x in batch["id"])
    assert sum(ray.get([consume.remote(a), consume.remote(b)])) == sum(range(40))


def test_a_dataset_larger_than_its_budget_streams(data_cluster, tmp_path):
    ctx = ray.data.DataContext.get_current()
    old = ctx.execution_options.resource_limits
    ctx.execution_options.resource_limits = ray.data.ExecutionResources(
        object_store_memory=8 * 1024 * 1024)
    try:
        ds = ray.data.range(64, override_num_blocks=64).map_batches(
            lambda b: {"x": np.ones((len(b["id"]), 128 * 1024), dtype=np.uint8)})
        ds.write_parquet(str(tmp_path / "big"))
        assert ray.data.read_parquet(str(tmp_path / "big")).count() == 64
    finally:
        ctx.execution_options.resource_limits = old


def test_map_batches_bundles_small_blocks_up_to_batch_size(data_cluster):
    # As Ray: batch_size=None passes whole blocks; an int joins small blocks
    # into one task and cuts batches of that many rows.
    ds = ray.data.range(10, override_num_blocks=10)

    def sizes(b):
        return {"n": [len(b["id"])]}
    assert [r["n"] for r in ds.map_batches(sizes).take_all()] == [1] * 10
    assert [r["n"] for r in ds.map_batches(sizes, batch_size=5).take_all()] == [5, 5]
    assert [r["n"] for r in ds.map_batches(sizes, batch_size=3).take_all()] == [3, 3, 3, 1]
    assert ds.map_batches(lambda b: b, batch_size=5).materialize().num_blocks() == 2
    auto = ray.data.range(10000, override_num_blocks=4).map_batches(sizes, batch_size="auto")
    assert [r["n"] for r in auto.take_all()] == [2500] * 4


def test_range_and_from_items_cut_blocks_as_ray_does(data_cluster):
    # range: blocks of n // k rows (so 1000 in 3 is 333, 333, 333, 1).
    rows = [len(b["id"]) for b in ray.data.range(1000, override_num_blocks=3)
            .iter_batches(batch_size=None)]
    assert rows == [333, 333, 333, 1]
    # from_items: the first len % k blocks one item longer.
    sizes = ray.data.from_items(list(range(5)), override_num_blocks=4).map_batches(
        lambda b: {"n": [len(b["item"])]}).take_all()
    assert [r["n"] for r in sizes] == [2, 1, 1, 1]


def test_filter_and_with_column_by_expression(data_cluster):
    from photon.data.expressions import col, lit
    ds = ray.data.range(10)
    assert [r["id"] for r in ds.filter(expr="id > 5").take_all()] == [6, 7, 8, 9]
    assert [r["id"] for r in ds.filter(expr="id in [1, 3] or id >= 9").take_all()] == [1, 3, 9]
    both = ds.filter(expr=(col("id") > 2) & (col("id") % 2 == 0))
    assert [r["id"] for r in both.take_all()] == [4, 6, 8]
    assert [r["id"] for r in ds.filter(expr=~col("id").is_in([0, 1, 2])).take_all()] == \
        list(range(3, 10))
    wc = ray.data.range(3).with_column("x", col("id") * 2 + lit(1)).take_all()
    assert wc == [{"id": 0, "x": 1}, {"id": 1, "x": 3}, {"id": 2, "x": 5}]
    with pytest.raises(ValueError, match="Exactly one of 'fn' or 'expr'"):
        ds.filter()
    with pytest.raises(ValueError, match="Invalid syntax"):
        ds.filter(expr="id >")
    with pytest.raises(Exception, match="names column"):
        ds.filter(expr="nope > 1").take_all()
    with pytest.raises(TypeError, match="no truth value"):
        bool(col("id") > 1)


def test_callable_class_defaults_to_an_autoscaling_pool(data_cluster):
    class AddTen:
        def __init__(self):
            self.k = 10

        def __call__(self, b):
            return {"id": b["id"] + self.k}
    assert sorted(r["id"] for r in ray.data.range(6).map_batches(AddTen).take_all()) == \
        list(range(10, 16))
    s = ray.data.ActorPoolStrategy(min_size=1, max_size=2, initial_size=2)
    assert (s.min_size, s.max_size, s.initial_size) == (1, 2, 2)
    assert ray.data.ActorPoolStrategy().max_size == float("inf")
    out = ray.data.range(6).map_batches(AddTen, compute=s, batch_size=2).take_all()
    assert sorted(r["id"] for r in out) == list(range(10, 16))
    with pytest.raises(ValueError, match="initial_size"):
        ray.data.ActorPoolStrategy(min_size=2, max_size=3, initial_size=1)


def test_progress_bars_draw_per_operator_and_turn_off(data_cluster, capfd):
    ds = ray.data.range(100, override_num_blocks=4).map_batches(lambda b: b)
    assert sum(len(b["id"]) for b in ds.iter_batches()) == 100
    err = capfd.readouterr().err
    assert "Running Dataset" in err and "- ReadRange->MapBatches(<lambda>)" in err
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    try:
        assert sum(len(b["id"]) for b in ray.data.range(100).map_batches(
            lambda b: b).iter_batches()) == 100
        assert "Running Dataset" not in capfd.readouterr().err
    finally:
        ctx.enable_progress_bars = True


def test_a_map_task_whose_worker_dies_is_retried(data_cluster, tmp_path):
    marker = str(tmp_path / "died-once")

    def die_once(batch):
        if 3 in batch["id"] and not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(1)  # the worker process dies mid-task: a system failure, retried
        return batch
    ds = ray.data.range(8, override_num_blocks=8).map_batches(die_once)
    assert sorted(r["id"] for r in ds.take_all()) == list(range(8))
    assert os.path.exists(marker)


def test_udf_errors_name_the_problem(data_cluster):
    from photon.exceptions import UserCodeException
    with pytest.raises(UserCodeException, match="ZeroDivisionError") as info:
        ray.data.range(4).map(lambda r: {"x": 1 / 0}).take_all()
    assert "ReadRange->Map(<lambda>)" in str(info.value)
    with pytest.raises(ZeroDivisionError):  # the original, when asked for
        ctx = ray.data.DataContext.get_current()
        ctx.raise_original_map_exception = True
        try:
            ray.data.range(4).map(lambda r: {"x": 1 / 0}).take_all()
        finally:
            ctx.raise_original_map_exception = False
    with pytest.raises(Exception, match="Standalone Python objects are not allowed"):
        ray.data.range(4).map(lambda r: 5).take_all()
    with pytest.raises(Exception, match="not found|No such file|does not exist"):
        ray.data.read_parquet("/nonexistent/photon-data-path").take_all()


def test_a_sliced_block_pickles_to_its_own_rows_only(data_cluster):
    # pyarrow's own pickling writes whole buffers: a 100-row slice of a
    # 1M-row table would carry 8 MB. photon.data pickles tables as IPC.
    import pickle
    import pyarrow as pa
    big = pa.table({"x": np.arange(1_000_000, dtype=np.int64)})
    part = big.slice(10, 100)
    data = pickle.dumps(part, protocol=5)
    assert len(data) < 10_000
    assert pickle.loads(data).equals(part)
    ref = ray.put(part)
    assert ray.get(ref).column("x").to_pylist() == list(range(10, 110))


def test_custom_datasource_and_datasink(ray_start_regular_shared, tmp_path):
    import pyarrow as pa
    from photon.data.block import BlockMetadata
    from photon.data.datasource import Datasink, Datasource, ReadTask

    class SquaresDatasource(Datasource):
        def __init__(self, n):
            self.n = n

        def estimate_inmemory_data_size(self):
            return self.n * 16

        def get_read_tasks(self, parallelism, per_task_row_limit=None, data_context=None):
            step = -(-self.n // parallelism)
            tasks = []
            for start in range(0, self.n, step):
                stop = min(self.n, start + step)
                tasks.append(ReadTask(
                    lambda a=start, b=stop: [pa.table({"x": list(range(a, b)),
                                                       "sq": [i * i for i in range(a, b)]})],
                    BlockMetadata(num_rows=stop - start, size_bytes=(stop - start) * 16,
                                  input_files=None, exec_stats=None)))
            return tasks

    ds = ray.data.read_datasource(SquaresDatasource(100), override_num_blocks=4)
    assert ds.count() == 100
    assert ds.num_blocks() == 4
    assert sorted(r["sq"] for r in ds.filter(lambda r: r["x"] < 3).take_all()) == [0, 1, 4]

    class FileSink(Datasink):
        def __init__(self, folder):
            self.folder = folder
            self.started = self.result = None

        def on_write_start(self, schema=None):
            os.makedirs(self.folder, exist_ok=True)

        def write(self, blocks, ctx):
            rows = sum(b.num_rows for b in blocks)
            with open(os.path.join(self.folder, f"part-{ctx.task_idx}"), "w") as f:
                f.write(str(rows))
            return rows

        def on_write_complete(self, write_result):
            with open(os.path.join(self.folder, "_SUCCESS"), "w") as f:
                f.write(f"{write_result.num_rows} {sorted(write_result.write_returns)}")

    out = str(tmp_path / "sink")
    ds.write_datasink(FileSink(out))
    assert open(os.path.join(out, "_SUCCESS")).read() == "100 [25, 25, 25, 25]"
    assert len([p for p in os.listdir(out) if p.startswith("part-")]) == 4


def test_streaming_split_epochs_when_a_consumer_stops_early(ray_start_regular_shared):
    import threading

    a, b = ray.data.range(40, override_num_blocks=8).streaming_split(2, equal=True)
    seen = {}

    def consume(name, it, stop_early):
        epochs = []
        for epoch in range(2):
            ids = []
            for batch in it.iter_batches(batch_size=5):
                ids.extend(int(i) for i in batch["id"])
                if stop_early and epoch == 0:
                    break
            epochs.append(ids)
        seen[name] = epochs

    threads = [threading.Thread(target=consume, args=("a", a, True)),
               threading.Thread(target=consume, args=("b", b, False))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a consumer that stopped early blocked the next epoch"
    assert len(seen["a"][0]) == 5 and len(seen["b"][0]) == 20
    assert sorted(seen["a"][1] + seen["b"][1]) == list(range(40))
