"""Creating datasets: from Python objects, numpy, pandas and Arrow, and by
reading files (parquet, CSV, JSON lines, text, binary, numpy, images)."""
import builtins
import math

import numpy as np
import pyarrow as pa

import photon
from photon.data import block as B
from photon.data import datasource as DS
from photon.data._internal import plan as P
from photon.data.context import DataContext
from photon.data.dataset import Dataset, MaterializedDataset


def _cpus():
    try:
        if photon.is_initialized():
            return int(photon.cluster_resources().get("CPU", 1))
    except Exception:  # noqa: BLE001 - defaults below
        pass
    import os
    return os.cpu_count() or 1


def _num_blocks(override, size_bytes, num_rows=None):
    """Ray Data's parallelism rule: at least 2 per CPU and the minimum number
    of read blocks, bounded below by blocks of target_max_block_size and
    above by blocks of target_min_block_size (and by the rows)."""
    ctx = DataContext.get_current()
    if override is not None:
        if not isinstance(override, int) or override < 1:
            raise ValueError(f"override_num_blocks must be a positive integer, got {override!r}")
        n = override
    else:
        min_safe = max(1, math.ceil(size_bytes / ctx.target_max_block_size))
        max_reasonable = max(1, math.ceil(size_bytes / ctx.target_min_block_size))
        n = max(min(ctx.read_op_min_num_blocks, max_reasonable), min_safe, _cpus() * 2)
    if num_rows is not None:
        n = max(1, min(n, num_rows))
    return n


class _RangeRead:
    def __init__(self, start, stop, tensor_shape=None):
        self.start, self.stop, self.tensor_shape = start, stop, tensor_shape
        self.num_rows = stop - start

    def __call__(self):
        ids = np.arange(self.start, self.stop, dtype=np.int64)
        if self.tensor_shape is None:
            return pa.table({"id": ids})
        data = np.ones((len(ids),) + tuple(self.tensor_shape), dtype=np.int64) * \
            ids.reshape((-1,) + (1,) * len(self.tensor_shape))
        return B.table_from_columns({"data": data})


def range(n, *, parallelism=-1, override_num_blocks=None, concurrency=None):  # noqa: A001
    """Rows {"id": 0} .. {"id": n - 1}."""
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"range() needs a non-negative integer, got {n!r}")
    return _range(n, override_num_blocks, None, "ReadRange")


def range_tensor(n, *, shape=(1,), parallelism=-1, override_num_blocks=None, concurrency=None):
    """Rows {"data": ndarray of `shape` filled with i}."""
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"range_tensor() needs a non-negative integer, got {n!r}")
    return _range(n, override_num_blocks, tuple(shape), "ReadRangeTensor")


def _range(n, override, shape, name):
    row_bytes = 8 * (int(np.prod(shape)) if shape else 1)
    k = _num_blocks(override, n * row_bytes, n) if n else 1
    # As Ray cuts a range: tasks of n // k rows (the last may be shorter, and
    # there may be one more than k).
    step = max(1, n // k)
    tasks = [_RangeRead(a, min(a + step, n), shape) for a in builtins.range(0, n, step)]
    return Dataset(P.Plan(P.Source(read_tasks=tasks, num_rows=n, name=name)))


class _Items:
    def __init__(self, items):
        self.items = items
        self.num_rows = len(items)

    def __call__(self):
        return B.table_from_rows(self.items)


def from_items(items, *, parallelism=-1, override_num_blocks=None):
    """A dataset of the given items: dicts become rows, other values
    {"item": value}."""
    if not isinstance(items, (list, tuple)):
        raise TypeError(f"Argument `items` must be a list, got {type(items)}")
    items = list(items)
    k = _num_blocks(override_num_blocks, 64 * len(items), len(items)) if items else 1
    # The first len % k blocks get one item more, as Ray cuts them.
    size, extra = divmod(len(items), k)
    bounds = [i * size + min(i, extra) for i in builtins.range(k + 1)]
    tasks = [_Items(items[a:b]) for a, b in zip(bounds, bounds[1:])]
    return Dataset(P.Plan(P.Source(read_tasks=tasks, num_rows=len(items), name="FromItems")))


def _from_tables(tables, name):
    blocks = [(photon.put(t), B.metadata_of(t)) for t in tables]
    return MaterializedDataset(P.Plan(P.Source(blocks=blocks, name=name)))


def from_arrow(tables, *, override_num_blocks=None):
    if isinstance(tables, (pa.Table,)):
        tables = [tables]
    for t in tables:
        if not isinstance(t, pa.Table):
            raise ValueError(f"Expected a pyarrow.Table, got {type(t)}")
    _ensure_init()
    return _from_tables(list(tables), "FromArrow")


def from_arrow_refs(refs):
    refs = refs if isinstance(refs, list) else [refs]
    metas = photon.get([photon.remote(_meta_of).remote(r) for r in refs])
    return MaterializedDataset(P.Plan(P.Source(blocks=list(zip(refs, metas)),
                                               name="FromArrow")))


def _meta_of(table):
    if not isinstance(table, pa.Table):
        table = B.from_batch(table)
    return B.metadata_of(table)


def from_pandas(dfs, override_num_blocks=None):
    import pandas as pd
    if isinstance(dfs, pd.DataFrame):
        dfs = [dfs]
    for df in dfs:
        if not isinstance(df, pd.DataFrame):
            raise ValueError(f"Expected a pandas.DataFrame, got {type(df)}")
    _ensure_init()
    return _from_tables([B.from_batch(df) for df in dfs], "FromPandas")


def _from_refs(refs, to_block, name):
    """A dataset of the blocks that tasks make from the values of `refs`."""
    refs = refs if isinstance(refs, list) else [refs]
    conv = photon.remote(num_returns=2)(to_block)
    pairs = [conv.remote(r) for r in refs]
    metas = photon.get([m for _, m in pairs])
    return MaterializedDataset(P.Plan(P.Source(
        blocks=[(b, m) for (b, _), m in zip(pairs, metas)], name=name)))


def from_pandas_refs(dfs):
    return _from_refs(dfs, _df_to_block, "FromPandas")


def _df_to_block(df):
    t = B.from_batch(df)
    return t, B.metadata_of(t)


def from_numpy(ndarrays):
    """Rows {"data": row} of each ndarray (one block per array)."""
    if isinstance(ndarrays, np.ndarray):
        ndarrays = [ndarrays]
    for a in ndarrays:
        if not isinstance(a, np.ndarray):
            raise ValueError(f"Expected a numpy.ndarray, got {type(a)}")
    _ensure_init()
    return _from_tables([B.table_from_columns({"data": a}) for a in ndarrays], "FromNumpy")


def from_numpy_refs(ndarrays):
    return _from_refs(ndarrays, _np_to_block, "FromNumpy")


def _np_to_block(a):
    t = B.table_from_columns({"data": a})
    return t, B.metadata_of(t)


def _ensure_init():
    if not photon.is_initialized():
        photon.init()


def _read_files(paths, reader, name, override_num_blocks, filesystem, file_extensions,
                include_paths):
    files = DS.expand_paths(paths, filesystem, file_extensions)
    total = sum(f[2] or 0 for f in files)
    k = min(len(files), _num_blocks(override_num_blocks, total)) \
        if override_num_blocks is None else min(len(files), override_num_blocks)
    tasks = [DS.ReadFiles(g, reader, include_paths) for g in DS.group_files(files, k)]
    return Dataset(P.Plan(P.Source(read_tasks=tasks, name=name)))


def read_parquet(paths, *, filesystem=None, columns=None, parallelism=-1, ray_remote_args=None,
                 tensor_column_schema=None, meta_provider=None, partition_filter=None,
                 partitioning="hive", shuffle=None, include_paths=False, file_extensions=None,
                 concurrency=None, override_num_blocks=None, filter=None, schema=None,
                 **arrow_parquet_args):
    """Parquet files: `columns` read only those columns, `filter` (a
    pyarrow.dataset expression or DNF list) is pushed down to the reader."""
    reader = DS.ParquetReader(columns, filter if filter is not None else arrow_parquet_args.get("filters"), schema)
    return _read_files(paths, reader, "ReadParquet", override_num_blocks, filesystem,
                       file_extensions, include_paths)


def read_csv(paths, *, filesystem=None, parallelism=-1, ray_remote_args=None,
             arrow_open_stream_args=None, meta_provider=None, partition_filter=None,
             partitioning=None, include_paths=False, ignore_missing_paths=False,
             shuffle=None, file_extensions=None, concurrency=None, override_num_blocks=None,
             **arrow_csv_args):
    reader = DS.CsvReader(arrow_csv_args.get("read_options"), arrow_csv_args.get("parse_options"),
                          arrow_csv_args.get("convert_options"))
    return _read_files(paths, reader, "ReadCSV", override_num_blocks, filesystem,
                       file_extensions, include_paths)


def read_json(paths, *, lines=None, filesystem=None, parallelism=-1, ray_remote_args=None,
              arrow_open_stream_args=None, meta_provider=None, partition_filter=None,
              partitioning=None, include_paths=False, ignore_missing_paths=False, shuffle=None,
              file_extensions=None, concurrency=None, override_num_blocks=None,
              **arrow_json_args):
    """JSON lines files (or files holding one JSON array of objects)."""
    return _read_files(paths, DS.JsonReader(lines), "ReadJSON", override_num_blocks, filesystem,
                       file_extensions, include_paths)


def read_text(paths, *, encoding="utf-8", drop_empty_lines=True, filesystem=None,
              parallelism=-1, ray_remote_args=None, arrow_open_stream_args=None,
              meta_provider=None, partition_filter=None, partitioning=None,
              include_paths=False, ignore_missing_paths=False, shuffle=None,
              file_extensions=None, concurrency=None, override_num_blocks=None):
    """One row {"text": line} per line."""
    return _read_files(paths, DS.TextReader(encoding, drop_empty_lines), "ReadText",
                       override_num_blocks, filesystem, file_extensions, include_paths)


def read_binary_files(paths, *, include_paths=False, filesystem=None, parallelism=-1,
                      ray_remote_args=None, arrow_open_stream_args=None, meta_provider=None,
                      partition_filter=None, partitioning=None, ignore_missing_paths=False,
                      shuffle=None, file_extensions=None, concurrency=None,
                      override_num_blocks=None):
    """One row {"bytes": contents} per file (and "path" with include_paths)."""
    return _read_files(paths, DS.BinaryReader(), "ReadBinary", override_num_blocks, filesystem,
                       file_extensions, include_paths)


def read_numpy(paths, *, filesystem=None, parallelism=-1, arrow_open_stream_args=None,
               meta_provider=None, partition_filter=None, partitioning=None,
               include_paths=False, ignore_missing_paths=False, shuffle=None,
               file_extensions=("npy",), concurrency=None, override_num_blocks=None,
               **numpy_load_args):
    """Rows {"data": row} of each .npy file's array."""
    return _read_files(paths, DS.NumpyReader(), "ReadNumpy", override_num_blocks, filesystem,
                       file_extensions, include_paths)


IMAGE_EXTENSIONS = ("png", "jpg", "jpeg", "tif", "tiff", "bmp", "gif")


def read_images(paths, *, filesystem=None, parallelism=-1, meta_provider=None,
                ray_remote_args=None, arrow_open_file_args=None, partition_filter=None,
                partitioning=None, size=None, mode=None, include_paths=False,
                ignore_missing_paths=False, shuffle=None, file_extensions=IMAGE_EXTENSIONS,
                concurrency=None, override_num_blocks=None):
    """One row {"image": ndarray} per image file (Pillow)."""
    try:
        import PIL  # noqa: F401
    except ImportError as e:
        raise ImportError("read_images needs Pillow: pip install pillow") from e
    if size is not None and (len(size) != 2 or any(s <= 0 for s in size)):
        raise ValueError(f"Expected `size` to contain two positive integers for height and "
                         f"width, but got {size} instead.")
    return _read_files(paths, DS.ImageReader(size, mode), "ReadImage", override_num_blocks,
                       filesystem, file_extensions, include_paths)


def read_datasource(datasource, *, parallelism=-1, override_num_blocks=None, ray_remote_args=None,
                    concurrency=None, num_cpus=None, num_gpus=None, memory=None, **read_args):
    """A dataset read by a custom Datasource's read tasks (one block each)."""
    if not hasattr(datasource, "get_read_tasks"):
        raise TypeError(f"read_datasource() needs a Datasource (with get_read_tasks), got "
                        f"{type(datasource).__name__}.")
    _ensure_init()
    if override_num_blocks is None and parallelism is not None and parallelism > 0:
        override_num_blocks = parallelism
    size = datasource.estimate_inmemory_data_size() if hasattr(
        datasource, "estimate_inmemory_data_size") else None
    k = _num_blocks(override_num_blocks, size or 0)
    try:
        tasks = datasource.get_read_tasks(k, **read_args)
    except TypeError:
        if read_args:
            raise
        tasks = datasource.get_read_tasks(k)
    tasks = list(tasks)
    for t in tasks:
        if not callable(t):
            raise TypeError(f"{type(datasource).__name__}.get_read_tasks() must return ReadTasks, "
                            f"got {type(t).__name__}.")
    rows = [getattr(t, "num_rows", None) for t in tasks]
    name = datasource.get_name() if hasattr(datasource, "get_name") else type(datasource).__name__
    if not tasks:
        return from_items([])
    return Dataset(P.Plan(P.Source(read_tasks=tasks, name=f"Read{name}",
                                   num_rows=sum(rows) if None not in rows else None)))
