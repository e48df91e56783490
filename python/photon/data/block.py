"""Blocks: the unit of data that moves between tasks. A block is a
pyarrow.Table (as in Ray Data); batches handed to user functions are numpy
dicts, pandas DataFrames or pyarrow Tables, and rows are dicts.

Columns of multi-dimensional numpy arrays are kept as Arrow fixed-shape
tensor columns, so they come back as ndarrays of the same shape."""
import collections.abc
import copyreg

import numpy as np
import pyarrow as pa

VALID_BATCH_FORMATS = ("default", "numpy", "pandas", "pyarrow")


def _table_from_ipc(buf):
    return pa.ipc.open_stream(buf).read_all()  # zero-copy: views of `buf`


def _reduce_table(table):
    """Pickles a Table as one Arrow IPC stream. pyarrow's own pickling writes
    every buffer whole, so a sliced table (a batch, the row groups of a
    parquet read) carries the buffers it is a view of: a 64 MB parquet block
    of 7 row groups pickled to 448 MB. The IPC stream holds exactly the rows,
    in one buffer that travels out of band (pickle protocol 5) and is read
    back without a copy."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return _table_from_ipc, (sink.getvalue(),)


# Blocks move between processes pickled: every process that imports
# photon.data (drivers, and the workers that run its tasks) pickles tables so.
copyreg.pickle(pa.Table, _reduce_table)


class BlockMetadata:
    """What the driver knows about a block without fetching it."""

    __slots__ = ("num_rows", "size_bytes", "schema", "input_files", "exec_stats")

    def __init__(self, num_rows=None, size_bytes=None, schema=None, input_files=None,
                 exec_stats=None, task_exec_stats=None):
        # Ray's BlockMetadata(num_rows, size_bytes, exec_stats, ...) is also accepted: a
        # third positional argument that is not a schema is taken as exec stats.
        if schema is not None and not isinstance(schema, pa.Schema):
            schema, exec_stats = None, schema
        self.num_rows = num_rows
        self.size_bytes = size_bytes
        self.schema = schema
        self.input_files = input_files
        self.exec_stats = exec_stats

    def __repr__(self):
        return f"BlockMetadata(num_rows={self.num_rows}, size_bytes={self.size_bytes})"


def metadata_of(block):
    return BlockMetadata(block.num_rows, block.nbytes, block.schema)


def _column_to_arrow(values):
    """A column (list or ndarray) as an Arrow array; ndarrays with more than
    one dimension become fixed-shape tensor columns."""
    if isinstance(values, pa.ChunkedArray) or isinstance(values, pa.Array):
        return values
    if isinstance(values, np.ndarray):
        if values.ndim > 1:
            return pa.FixedShapeTensorArray.from_numpy_ndarray(np.ascontiguousarray(values))
        if values.dtype == object:
            return _column_to_arrow(list(values))
        return pa.array(values)
    values = list(values)
    if values and all(isinstance(v, np.ndarray) for v in values):
        shapes = {v.shape for v in values}
        if len(shapes) == 1 and values[0].ndim >= 1:
            return pa.FixedShapeTensorArray.from_numpy_ndarray(np.stack(values))
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        # Values Arrow has no type for are pickled, as Ray does.
        import cloudpickle
        return pa.array([cloudpickle.dumps(v) for v in values],
                        type=pa.binary()).cast(pa.binary())


def table_from_columns(columns):
    """A Table from {name: column}; columns must have equal lengths."""
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"All columns of a batch must have the same length, got lengths "
                         f"{ {k: len(v) for k, v in columns.items()} }")
    if not columns:
        return pa.table({})
    return pa.table({k: _column_to_arrow(v) for k, v in columns.items()})


def table_from_rows(rows):
    """A Table from a list of rows: dicts (their keys are the columns), or
    other values (one column named "item", as Ray Data does)."""
    rows = list(rows)
    if not rows:
        return pa.table({})
    if all(isinstance(r, collections.abc.Mapping) for r in rows):
        names = []
        seen = set()
        for r in rows:
            for k in r:
                if k not in seen:
                    seen.add(k)
                    names.append(k)
        return table_from_columns({k: [r.get(k) for r in rows] for k in names})
    if any(isinstance(r, collections.abc.Mapping) for r in rows):
        raise ValueError("Rows must all be dicts or all be non-dict items")
    return table_from_columns({"item": rows})


def column_to_numpy(col):
    if isinstance(col, pa.ChunkedArray):
        if isinstance(col.type, pa.FixedShapeTensorType):
            chunks = [c.to_numpy_ndarray() for c in col.chunks]
            if not chunks:
                shape = tuple(col.type.shape)
                return np.empty((0,) + shape, dtype=col.type.value_type.to_pandas_dtype())
            return np.concatenate(chunks) if len(chunks) > 1 else chunks[0]
        col = col.combine_chunks()
    if isinstance(col.type, pa.FixedShapeTensorType):
        return col.to_numpy_ndarray()
    try:
        return col.to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, NotImplementedError):
        return np.array(col.to_pylist(), dtype=object)


def to_batch(table, batch_format):
    """The table as a batch in `batch_format`."""
    if batch_format in ("default", "numpy"):
        return {name: column_to_numpy(table.column(name)) for name in table.column_names}
    if batch_format == "pandas":
        return table_to_pandas(table)
    if batch_format == "pyarrow":
        return table
    raise ValueError(f"The given batch format {batch_format!r} isn't allowed (must be one of "
                     f"{list(VALID_BATCH_FORMATS)}).")


def _cells(table, convert):
    """Each column as a sequence of cells: tensor columns as a list of
    ndarrays, the others by `convert(column)`."""
    return {name: list(column_to_numpy(col)) if isinstance(col.type, pa.FixedShapeTensorType)
            else convert(col) for name, col in zip(table.column_names, table.columns)}


def table_to_pandas(table):
    import pandas as pd
    return pd.DataFrame(_cells(table, lambda c: c.to_pandas()), columns=table.column_names)


def from_batch(batch):
    """A Table from what a user function returned as a batch."""
    if isinstance(batch, pa.Table):
        return batch
    try:
        import pandas as pd
        if isinstance(batch, pd.DataFrame):
            cols = {}
            for name in batch.columns:
                s = batch[name]
                if s.dtype == object and len(s) and isinstance(s.iloc[0], np.ndarray):
                    cols[str(name)] = list(s)
                else:
                    cols[str(name)] = s.to_numpy()
            return table_from_columns(cols)
    except ImportError:
        pass
    if isinstance(batch, collections.abc.Mapping):
        cols = {}
        for k, v in batch.items():
            if isinstance(v, (np.ndarray, list, pa.Array, pa.ChunkedArray)):
                cols[k] = v
            elif hasattr(v, "to_numpy"):  # pandas Series, torch tensors
                cols[k] = v.to_numpy() if not hasattr(v, "detach") else v.detach().numpy()
            else:
                raise ValueError(
                    f"Error validating {_short(batch)}: The `fn` you passed to `map_batches` "
                    f"returned a `dict`. `map_batches` expects all `dict` values to be `list` "
                    f"or `np.ndarray` type, but the value corresponding to key {k!r} is of type "
                    f"{type(v)}. To fix this issue, convert the {type(v)} to a `np.ndarray`.")
        return table_from_columns(cols)
    raise ValueError(
        f"The `fn` you passed to `map_batches` returned a value of type {type(batch)}. This "
        f"isn't allowed -- `map_batches` expects `fn` to return a `pandas.DataFrame`, "
        f"`pyarrow.Table`, or `dict[str, numpy.ndarray]`.")


def _short(x):
    s = repr(x)
    return s if len(s) < 200 else s[:200] + "..."


def rows_of(table):
    """The table's rows as dicts (tensor cells as ndarrays)."""
    cols = _cells(table, lambda c: c.to_pylist())
    names = table.column_names
    for i in range(table.num_rows):
        yield {n: cols[n][i] for n in names}


def concat(tables):
    tables = list(tables)
    nonempty = [t for t in tables if t.num_rows > 0]
    if not nonempty:
        with_columns = [t for t in tables if t.num_columns > 0]
        return with_columns[0] if with_columns else pa.table({})
    tables = nonempty
    if len(tables) == 1:
        return tables[0]
    try:
        return pa.concat_tables(tables)
    except pa.ArrowInvalid:
        return pa.concat_tables(tables, promote_options="default")


def split_table(table, max_rows):
    """Slices of at most max_rows rows (zero-copy)."""
    if max_rows is None or table.num_rows <= max_rows:
        return [table]
    return [table.slice(i, max_rows) for i in range(0, table.num_rows, max_rows)]
