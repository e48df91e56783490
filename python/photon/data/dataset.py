"""Dataset: a lazy, distributed table of rows (Ray Data's Dataset).

Transformations (map, map_batches, filter, sort, ...) add to the dataset's
plan and return a new Dataset; nothing runs until it is consumed (take,
iter_batches, write_*, materialize, ...). Then the plan's stages run on the
streaming executor (photon/data/_internal/executor.py)."""
import inspect
import uuid

import numpy as np
import pyarrow as pa

import photon
from photon.data import aggregate as A
from photon.data import block as B
from photon.data import datasource as DS
from photon.data import exceptions as DX
from photon.data import expressions as E
from photon.data._internal import all_to_all as AA
from photon.data._internal import executor as X
from photon.data._internal import plan as P
from photon.data._internal import stats as S
from photon.data.context import DataContext
from photon.data.grouped_data import GroupedData
from photon.data.iterator import DataIterator, _make_streaming_split


class ActorPoolStrategy:
    """Run a map on a pool of actors (Ray's ActorPoolStrategy): `size` fixed,
    or autoscaling between `min_size` and `max_size` (unbounded: as many as
    the cluster's CPUs hold), starting with `initial_size`."""

    def __init__(self, *, size=None, min_size=None, max_size=None, initial_size=None,
                 max_tasks_in_flight_per_actor=None, max_concurrent_calls_per_actor=None,
                 enable_true_multi_threading=None):
        if size is not None:
            if size < 1:
                raise ValueError("size must be >= 1", size)
            if max_size is not None or min_size is not None or initial_size is not None:
                raise ValueError("min_size, max_size, and initial_size cannot be set at the "
                                 "same time as `size`")
            min_size = max_size = initial_size = size
        if min_size is not None and min_size < 1:
            raise ValueError("min_size must be >= 1", min_size)
        if max_size is not None:
            min_size = 1 if min_size is None else min_size
            if min_size > max_size:
                raise ValueError("min_size must be <= max_size", min_size, max_size)
        if max_tasks_in_flight_per_actor is not None and max_tasks_in_flight_per_actor < 1:
            raise ValueError("max_tasks_in_flight_per_actor must be >= 1, got: ",
                             max_tasks_in_flight_per_actor)
        if max_concurrent_calls_per_actor is not None and max_concurrent_calls_per_actor < 1:
            raise ValueError("max_concurrent_calls_per_actor must be >= 1, got: ",
                             max_concurrent_calls_per_actor)
        self.min_size = min_size or 1
        self.max_size = max_size or float("inf")
        if initial_size is not None:
            if initial_size < self.min_size:
                raise ValueError(f"initial_size ({initial_size}) must be >= min_size "
                                 f"({self.min_size})")
            if initial_size > self.max_size:
                raise ValueError(f"initial_size ({initial_size}) must be <= max_size "
                                 f"({self.max_size})")
        self.initial_size = initial_size or self.min_size
        self.max_tasks_in_flight_per_actor = max_tasks_in_flight_per_actor
        self.max_concurrent_calls_per_actor = max_concurrent_calls_per_actor
        self.enable_true_multi_threading = bool(enable_true_multi_threading)

    def __eq__(self, other):
        return isinstance(other, ActorPoolStrategy) and (
            self.min_size, self.max_size, self.initial_size,
            self.max_tasks_in_flight_per_actor) == (
            other.min_size, other.max_size, other.initial_size,
            other.max_tasks_in_flight_per_actor)

    def __repr__(self):
        return (f"ActorPoolStrategy(min_size={self.min_size}, max_size={self.max_size}, "
                f"initial_size={self.initial_size}, max_tasks_in_flight_per_actor="
                f"{self.max_tasks_in_flight_per_actor})")


class TaskPoolStrategy:
    """Run a map as tasks (the default), at most `size` at once."""

    def __init__(self, size=None):
        if size is not None and size < 1:
            raise ValueError("`size` must be >= 1", size)
        self.size = size

    def __eq__(self, other):
        return isinstance(other, TaskPoolStrategy) and self.size == other.size

    def __repr__(self):
        return f"TaskPoolStrategy(size={self.size})"


def _compute_strategy(fn, ctor_args, compute, concurrency):
    """Ray's rules from (fn, compute, concurrency) to a strategy."""
    is_class = _is_callable_class(fn)
    if not is_class and ctor_args is not None:
        raise ValueError("``fn_constructor_args`` can only be specified if providing a "
                         f"callable class instance for ``fn``, but got: {fn}.")
    if compute is not None:
        if is_class and (compute == "tasks" or isinstance(compute, TaskPoolStrategy)):
            raise ValueError(
                f"You specified the callable class {fn} as your UDF with the compute "
                f"{compute}, but Ray Data can't schedule callable classes with the task "
                f"pool strategy. To fix this error, pass an ActorPoolStrategy to compute or "
                f"None to use the default compute strategy.")
        if not is_class and (compute == "actors" or isinstance(compute, ActorPoolStrategy)):
            raise ValueError(
                f"You specified the function {fn} as your UDF with the compute "
                f"{compute}, but Ray Data can't schedule regular functions with the actor "
                f"pool strategy. To fix this error, pass a TaskPoolStrategy to compute or "
                f"None to use the default compute strategy.")
        if compute == "tasks":
            return TaskPoolStrategy()
        if compute == "actors":
            return ActorPoolStrategy(min_size=1, max_size=None)
        if not isinstance(compute, (TaskPoolStrategy, ActorPoolStrategy)):
            raise ValueError(f"compute must be a TaskPoolStrategy or an ActorPoolStrategy, "
                             f"got {compute!r}")
        return compute
    if concurrency is not None:
        if isinstance(concurrency, tuple):
            if len(concurrency) not in (2, 3) or not all(
                    isinstance(c, int) and not isinstance(c, bool) for c in concurrency):
                raise ValueError("``concurrency`` is expected to be set as a tuple of "
                                 f"integers, but got: {concurrency}.")
            if not is_class:
                raise ValueError(
                    "``concurrency`` is set as a tuple of integers, but ``fn`` is not a "
                    f"callable class: {fn}. Use ``concurrency=n`` to control maximum number "
                    "of workers to use.")
            if len(concurrency) == 2:
                return ActorPoolStrategy(min_size=concurrency[0], max_size=concurrency[1])
            return ActorPoolStrategy(min_size=concurrency[0], max_size=concurrency[1],
                                     initial_size=concurrency[2])
        if isinstance(concurrency, int) and not isinstance(concurrency, bool):
            return ActorPoolStrategy(size=concurrency) if is_class else \
                TaskPoolStrategy(size=concurrency)
        raise ValueError("``concurrency`` is expected to be set as an integer or a tuple of "
                         f"integers, but got: {concurrency}.")
    return ActorPoolStrategy(min_size=1, max_size=None) if is_class else TaskPoolStrategy()


class Schema:
    """A dataset's schema (Ray's ray.data.Schema): names and types."""

    def __init__(self, arrow_schema):
        self.base_schema = arrow_schema

    @property
    def names(self):
        return list(self.base_schema.names)

    @property
    def types(self):
        out = []
        for f in self.base_schema:
            out.append(f.type)
        return out

    def __eq__(self, other):
        return isinstance(other, Schema) and self.base_schema == other.base_schema

    def __len__(self):
        return len(self.base_schema.names)

    def __repr__(self):
        width = max([len(n) for n in self.names] + [6])
        lines = ["Column".ljust(width) + "  Type", "-" * 6 + " " * (width - 4) + "----"]
        for n, t in zip(self.names, self.types):
            lines.append(f"{n.ljust(width)}  {_type_str(t)}")
        return "\n".join(lines)


def _type_str(t):
    if isinstance(t, pa.FixedShapeTensorType):
        return f"numpy.ndarray(shape={tuple(t.shape)}, dtype={t.value_type.to_pandas_dtype().__name__})"
    return str(t)


def _check_batch_format(batch_format):
    if batch_format not in B.VALID_BATCH_FORMATS:
        raise ValueError(f"The given batch format {batch_format!r} isn't allowed (must be one "
                         f"of {list(B.VALID_BATCH_FORMATS)}).")


# batch_size="auto": rows per batch so that a batch holds about this many bytes.
AUTO_BATCH_BYTES = 16 * 1024 * 1024


def _check_batch_size(batch_size):
    if batch_size is None or batch_size == "auto":
        return
    if not isinstance(batch_size, int) or isinstance(batch_size, bool):
        raise ValueError(f"batch_size must be an int, None or 'auto', got {batch_size!r}")
    if batch_size < 1:
        raise ValueError("Batch size can't be negative or 0")


def _row_fn(fn, fn_args, fn_kwargs, what):
    def apply(table):
        out = []
        for row in B.rows_of(table):
            r = fn(row, *fn_args, **fn_kwargs)
            if not isinstance(r, dict):
                raise ValueError(
                    f"Error validating {B._short(r)}: Standalone Python objects are not "
                    f"allowed in Ray 2.5. To return Python objects from {what}(), wrap them in "
                    f"a dict, e.g., return `{{'item': item}}` instead of just `item`.")
            out.append(r)
        return B.table_from_rows(out) if out else _empty(table)
    return apply


def _empty(table):
    return pa.table({})


def _flat_fn(fn, fn_args, fn_kwargs):
    def apply(table):
        out = []
        for row in B.rows_of(table):
            rs = fn(row, *fn_args, **fn_kwargs)
            for r in rs:
                if not isinstance(r, dict):
                    raise ValueError(
                        f"Error validating {B._short(r)}: flat_map() must return a list of "
                        f"dicts, got an element of type {type(r)}.")
                out.append(r)
        return B.table_from_rows(out)
    return apply


def _filter_fn(fn, fn_args, fn_kwargs):
    def apply(table):
        keep = [bool(fn(row, *fn_args, **fn_kwargs)) for row in B.rows_of(table)]
        return table.filter(pa.array(keep, pa.bool_())) if table.num_rows else table
    return apply


def _batch_fn(fn, batch_size, batch_format, fn_args, fn_kwargs):
    def apply(table):
        size = batch_size
        if size == "auto":
            size = max(1, int(AUTO_BATCH_BYTES * table.num_rows / max(table.nbytes, 1))) \
                if table.num_rows else None
        outs = []
        for piece in B.split_table(table, size):
            res = fn(B.to_batch(piece, batch_format), *fn_args, **fn_kwargs)
            if inspect.isgenerator(res):
                outs.extend(B.from_batch(r) for r in res)
            else:
                outs.append(B.from_batch(res))
        return B.concat(outs)
    return apply


def _expr_filter_fn(predicate):
    def apply(table):
        if not table.num_rows:
            return table
        mask = E.evaluate(predicate, table)
        if not pa.types.is_boolean(mask.type):
            raise ValueError(f"filter(expr=...) needs a boolean expression; {predicate!r} "
                             f"gives {mask.type}")
        return table.filter(mask, null_selection_behavior="drop")
    return apply


def _guard(fn, raise_original):
    """`fn` whose exceptions (also while iterating a generator it returns)
    become UserCodeException("UDF failed to process a data block."), the
    user's exception its cause, as Ray Data reports them."""
    if raise_original:
        return fn

    def wrap(e):
        return DX.UserCodeException("UDF failed to process a data block.")

    def iterate(gen):
        try:
            yield from gen
        except Exception as e:  # noqa: BLE001 - the user's error, reported as such
            raise wrap(e) from e

    def call(*args, **kwargs):
        try:
            out = fn(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - the user's error, reported as such
            raise wrap(e) from e
        return iterate(out) if inspect.isgenerator(out) else out
    return call


def _is_callable_class(fn):
    return isinstance(fn, type)


class Dataset:
    """A lazy dataset. Created by photon.data.range/from_*/read_*."""

    def __init__(self, plan, context=None):
        self._plan = plan
        self._context = (context or DataContext.get_current()).copy()
        self._last_stats = None
        self._uuid = uuid.uuid4().hex

    # ---- running ----------------------------------------------------------------

    def _derive(self, op):
        return Dataset(self._plan.with_op(op), self._context)

    def _stream(self):
        """Yields (block ref, BlockMetadata) by running the plan."""
        _ensure_initialized()
        items, stages = self._plan.physical()
        stats = S.DatasetStats()
        self._last_stats = stats
        return X.execute(items, stages, self._context, stats)

    def _blocks(self):
        return list(self._stream())

    def _tables(self):
        for ref, _ in self._stream():
            yield photon.get(ref)

    # ---- transformations ------------------------------------------------------

    def map(self, fn, *, compute=None, fn_args=None, fn_kwargs=None, fn_constructor_args=None,
            fn_constructor_kwargs=None, num_cpus=None, num_gpus=None, concurrency=None,
            **ray_remote_args):
        """Applies fn to each row (a dict); fn returns a dict."""
        fa, fk = tuple(fn_args or ()), dict(fn_kwargs or {})
        return self._udf_map("Map", fn, lambda f: _row_fn(f, fa, fk, "map"), compute,
                             concurrency, fn_constructor_args, fn_constructor_kwargs, num_cpus,
                             num_gpus, ray_remote_args, preserves_rows=True)

    def map_batches(self, fn, *, batch_size=None, compute=None, batch_format="default",
                    zero_copy_batch=True, fn_args=None, fn_kwargs=None,
                    fn_constructor_args=None, fn_constructor_kwargs=None, num_cpus=None,
                    num_gpus=None, memory=None, concurrency=None, udf_modifying_row_count=True,
                    **ray_remote_args):
        """Applies fn to batches of rows (numpy dicts by default, or
        "pandas" / "pyarrow"); fn returns a batch. `batch_size=None` (the
        default) passes whole blocks; an int cuts batches of that many rows,
        small blocks bundled into one task to fill them; "auto" sizes them
        to about 16 MiB. A callable class runs on an actor pool (autoscaling
        by default, `compute=ActorPoolStrategy(...)` or `concurrency=`),
        built once per actor."""
        _check_batch_format(batch_format)
        _check_batch_size(batch_size)
        if num_gpus and (batch_size is None or batch_size == "auto"):
            raise ValueError(
                "You must provide `batch_size` to `map_batches` when requesting GPUs. The "
                "optimal batch size depends on the model, data, and GPU used.")
        if memory is not None:
            ray_remote_args["memory"] = memory
        fa, fk = tuple(fn_args or ()), dict(fn_kwargs or {})
        return self._udf_map(
            "MapBatches", fn, lambda f: _batch_fn(f, batch_size, batch_format, fa, fk), compute,
            concurrency, fn_constructor_args, fn_constructor_kwargs, num_cpus, num_gpus,
            ray_remote_args, min_rows=batch_size if isinstance(batch_size, int) else None,
            preserves_rows=not udf_modifying_row_count)

    def flat_map(self, fn, *, compute=None, fn_args=None, fn_kwargs=None,
                 fn_constructor_args=None, fn_constructor_kwargs=None, num_cpus=None,
                 num_gpus=None, concurrency=None, **ray_remote_args):
        """Applies fn to each row; fn returns a list of rows."""
        fa, fk = tuple(fn_args or ()), dict(fn_kwargs or {})
        return self._udf_map("FlatMap", fn, lambda f: _flat_fn(f, fa, fk), compute,
                             concurrency, fn_constructor_args, fn_constructor_kwargs, num_cpus,
                             num_gpus, ray_remote_args)

    def filter(self, fn=None, expr=None, *, compute=None, fn_args=None, fn_kwargs=None,
               fn_constructor_args=None, fn_constructor_kwargs=None, num_cpus=None,
               num_gpus=None, concurrency=None, **ray_remote_args):
        """Keeps the rows for which fn(row) is true, or for which `expr` (a
        photon.data.expressions predicate such as `col("x") > 5`, or a string
        such as "x > 5 and y == 'a'") holds; an expression is evaluated on
        whole blocks by pyarrow."""
        if (fn is None) == (expr is None):
            raise ValueError("Exactly one of 'fn' or 'expr' must be provided.")
        if expr is not None:
            if fn_args or fn_kwargs or fn_constructor_args or fn_constructor_kwargs:
                raise ValueError("when 'expr' is used, 'fn_args/fn_kwargs' or "
                                 "'fn_constructor_args/fn_constructor_kwargs' cannot be used.")
            predicate = E.parse(expr) if isinstance(expr, str) else expr
            if not isinstance(predicate, E.Expr):
                raise TypeError(f"expr must be a string or a photon.data.expressions.Expr, "
                                f"got {type(expr).__name__}")
            return self._task_map(f"Filter({predicate!r})", _expr_filter_fn(predicate),
                                  num_cpus, num_gpus, concurrency, ray_remote_args)
        fa, fk = tuple(fn_args or ()), dict(fn_kwargs or {})
        return self._udf_map("Filter", fn, lambda f: _filter_fn(f, fa, fk), compute,
                             concurrency, fn_constructor_args, fn_constructor_kwargs, num_cpus,
                             num_gpus, ray_remote_args)

    def _udf_map(self, label, fn, make_apply, compute, concurrency, ctor_args, ctor_kwargs,
                 num_cpus, num_gpus, remote_args, min_rows=None, preserves_rows=False):
        """A map of a user function (tasks) or callable class (an actor pool)."""
        strategy = _compute_strategy(fn, ctor_args, compute, concurrency)
        raw, inner = self._context.raise_original_map_exception, make_apply

        def make_apply(f):
            return inner(_guard(f, raw))
        if isinstance(strategy, ActorPoolStrategy):
            return self._actor_map(label, fn, make_apply, strategy, ctor_args, ctor_kwargs,
                                   num_cpus, num_gpus, remote_args, min_rows)
        if ctor_kwargs is not None:
            raise ValueError("fn_constructor_kwargs can only be specified if providing a "
                             f"callable class instance for fn, but got: {fn}.")
        _check_callable(fn, _METHOD_OF_LABEL[label])
        return self._task_map(f"{label}({_name(fn)})", make_apply(fn), num_cpus, num_gpus,
                              strategy.size, remote_args, preserves_rows=preserves_rows,
                              min_rows=min_rows)

    def with_column(self, column_name, expr, **ray_remote_args):
        """Adds (or replaces) the column `column_name` with the value of the
        expression `expr` (photon.data.expressions), computed by pyarrow."""
        if not isinstance(expr, E.Expr):
            raise TypeError(f"expr must be a photon.data.expressions.Expr, got "
                            f"{type(expr).__name__}")

        def apply(table):
            values = E.evaluate(expr, table) if table.num_rows else pa.nulls(0)
            if column_name in table.column_names:
                return table.set_column(table.column_names.index(column_name), column_name,
                                        values)
            return table.append_column(column_name, values)
        return self._task_map(f"WithColumn({column_name})", apply, None, None, None,
                              ray_remote_args, preserves_rows=True)

    def add_column(self, col, fn, *, batch_format="pandas", compute=None, concurrency=None,
                   **ray_remote_args):
        """Adds column `col` computed by fn(batch) from each batch."""
        _check_batch_format(batch_format)

        def apply(table):
            if table.num_rows == 0:
                return table
            values = fn(B.to_batch(table, batch_format))
            arr = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else \
                B._column_to_arrow(values.to_numpy() if hasattr(values, "to_numpy") else values)
            if col in table.column_names:
                return table.set_column(table.column_names.index(col), col, arr)
            return table.append_column(col, arr)
        return self._task_map(f"AddColumn({col})", apply, None, None, concurrency,
                              ray_remote_args, preserves_rows=True)

    def drop_columns(self, cols, *, compute=None, concurrency=None, **ray_remote_args):
        cols = [cols] if isinstance(cols, str) else list(cols)
        if len(set(cols)) != len(cols):
            raise ValueError(f"drop_columns expects unique column names, got: {cols}")

        def apply(table):
            missing = [c for c in cols if c not in table.column_names]
            if missing and table.num_columns:
                raise ValueError(f"Column(s) {missing} not found in the schema "
                                 f"{table.column_names}")
            return table.drop_columns(cols) if table.num_columns else table
        return self._task_map("DropColumns", apply, None, None, concurrency, ray_remote_args,
                              preserves_rows=True)

    def select_columns(self, cols, *, compute=None, concurrency=None, **ray_remote_args):
        cols = [cols] if isinstance(cols, str) else list(cols)
        if len(set(cols)) != len(cols):
            raise ValueError(f"select_columns expected unique column names, got duplicate "
                             f"column names: {cols}")

        def apply(table):
            if not table.num_columns:
                return table
            missing = [c for c in cols if c not in table.column_names]
            if missing:
                raise ValueError(f"Column(s) {missing} not found in the schema "
                                 f"{table.column_names}")
            return table.select(cols)
        return self._task_map("SelectColumns", apply, None, None, concurrency, ray_remote_args,
                              preserves_rows=True)

    def rename_columns(self, names, *, concurrency=None, **ray_remote_args):
        if isinstance(names, dict):
            mapping = dict(names)
            if len(set(mapping.values())) != len(mapping):
                raise ValueError("rename_columns: the new names must be unique")
        elif isinstance(names, (list, tuple)):
            mapping = None
            new = list(names)
        else:
            raise TypeError(f"names must be a dict or list, got {type(names)}")

        def apply(table):
            if not table.num_columns:
                return table
            if mapping is not None:
                missing = [c for c in mapping if c not in table.column_names]
                if missing:
                    raise ValueError(f"Column(s) {missing} not found in the schema "
                                     f"{table.column_names}")
                return table.rename_columns([mapping.get(c, c) for c in table.column_names])
            if len(new) != table.num_columns:
                raise ValueError(f"rename_columns got {len(new)} names for "
                                 f"{table.num_columns} columns")
            return table.rename_columns(new)
        return self._task_map("RenameColumns", apply, None, None, concurrency, ray_remote_args,
                              preserves_rows=True)

    def limit(self, limit):
        """The first `limit` rows."""
        if not isinstance(limit, int) or limit < 0:
            raise ValueError(f"limit must be a non-negative integer, got {limit!r}")
        return self._derive(P.LimitOp(limit))

    def repartition(self, num_blocks, *, shuffle=False):
        """Exactly num_blocks blocks (shuffle=True: rows shuffled among them)."""
        if not isinstance(num_blocks, int) or num_blocks < 1:
            raise ValueError(f"num_blocks must be a positive integer, got {num_blocks!r}")
        if shuffle:
            return self._derive(P.AllToAllOp(
                f"Repartition[shuffle=True, num_blocks={num_blocks}]",
                lambda blocks, ctx: AA.random_shuffle(blocks, None, num_blocks),
                preserves_rows=True))
        return self._derive(P.AllToAllOp(f"Repartition[num_blocks={num_blocks}]",
                                         lambda blocks, ctx: AA.repartition(blocks, num_blocks),
                                         preserves_rows=True))

    def random_shuffle(self, *, seed=None, num_blocks=None, **ray_remote_args):
        """Rows in a random order (seed: reproducible)."""
        return self._derive(P.AllToAllOp(
            "RandomShuffle", lambda blocks, ctx: AA.random_shuffle(blocks, seed, num_blocks),
            preserves_rows=True))

    def randomize_block_order(self, *, seed=None):
        def fn(blocks, ctx):
            rng = np.random.default_rng(seed)
            return [blocks[i] for i in rng.permutation(len(blocks))]
        return self._derive(P.AllToAllOp("RandomizeBlockOrder", fn, preserves_rows=True))

    def sort(self, key=None, descending=False, boundaries=None):
        """Rows sorted by `key` (a column or list of columns)."""
        if key is None:
            raise ValueError("sort() needs a key column")
        keys = [key] if isinstance(key, str) else list(key)
        desc = [descending] * len(keys) if isinstance(descending, bool) else list(descending)
        if len(desc) != len(keys):
            raise ValueError(f"descending must be a bool or one per key, got {descending!r}")
        return self._derive(P.AllToAllOp(f"Sort[{', '.join(keys)}]",
                                         lambda blocks, ctx: AA.sort(blocks, keys, desc),
                                         preserves_rows=True))

    def groupby(self, key, num_partitions=None):
        """Groups rows by `key` (a column, a list of them, or None: one group)."""
        if key is not None and not isinstance(key, (str, list, tuple)):
            raise ValueError(f"groupby key must be a string, a list of strings or None, "
                             f"got {key!r}")
        return GroupedData(self, key, num_partitions)

    def aggregate(self, *aggs):
        """Aggregates over the whole dataset: a dict of the results."""
        if not aggs:
            raise ValueError("Aggregate requires at least one aggregation")
        ds = self._derive(P.AllToAllOp("Aggregate",
                                       lambda blocks, ctx: AA.aggregate(blocks, [], list(aggs))))
        rows = ds.take_all()
        return rows[0] if rows else None

    def unique(self, column):
        """The distinct values of a column."""
        ds = self.select_columns([column]).groupby(column).count()
        return [r[column] for r in ds.take_all()]

    def union(self, *other):
        """This dataset's rows followed by the others'."""
        datasets = [self] + list(other)
        for d in datasets:
            if not isinstance(d, Dataset):
                raise TypeError(f"union() expects Datasets, got {type(d)}")

        def fn(blocks, ctx):
            out = list(blocks)
            for d in datasets[1:]:
                out.extend(d._blocks())
            return out
        return self._derive(P.AllToAllOp("Union", fn))

    def zip(self, *other):
        """The columns of this dataset and the others' side by side (same
        row counts; duplicate names get suffixes _1, _2, ...)."""
        for d in other:
            if not isinstance(d, Dataset):
                raise TypeError(f"zip() expects Datasets, got {type(d)}")

        def fn(blocks, ctx):
            out = blocks
            for d in other:
                out = AA.zip_blocks(out, d._blocks())
            return out
        return self._derive(P.AllToAllOp("Zip", fn, preserves_rows=True))

    def _task_map(self, name, block_fn, num_cpus, num_gpus, concurrency, remote_args,
                  preserves_rows=False, min_rows=None):
        args = _remote_args(num_cpus, num_gpus, remote_args)
        if concurrency is not None and not (isinstance(concurrency, int) and concurrency >= 1):
            raise ValueError(f"concurrency for a function must be a positive int, got "
                             f"{concurrency!r}")
        return self._derive(P.MapOp(name, block_fn, args, concurrency, preserves_rows,
                                    min_rows))

    def _actor_map(self, label, cls, make_apply, strategy, ctor_args, ctor_kwargs,
                   num_cpus, num_gpus, remote_args, min_rows=None):
        ctor_args = tuple(ctor_args or ())
        ctor_kwargs = dict(ctor_kwargs or {})

        def make_chain():
            return [make_apply(cls(*ctor_args, **ctor_kwargs))]
        per_actor = strategy.max_tasks_in_flight_per_actor or \
            self._context.max_tasks_in_flight_per_actor
        return self._derive(P.ActorMapOp(
            f"{label}({cls.__name__})", make_chain, strategy.min_size, strategy.max_size,
            _remote_args(num_cpus, num_gpus, remote_args), per_actor, min_rows,
            initial_size=strategy.initial_size))

    # ---- splitting ------------------------------------------------------------

    def split(self, n, *, equal=False, locality_hints=None):
        """n MaterializedDatasets (equal=True: of equal row counts, extra
        rows dropped)."""
        if not isinstance(n, int) or n <= 0:
            raise ValueError(f"The number of splits {n} is not positive.")
        blocks = self._blocks()
        if equal:
            total = sum(m.num_rows for _, m in blocks)
            per = total // n
            mat = MaterializedDataset.from_blocks(blocks, self._context)
            # n parts of `per` rows; the rows left over are dropped, as in Ray.
            return mat.split_at_indices([per * i for i in range(1, n + 1)])[:n]
        groups = [[] for _ in range(n)]
        for i, b in enumerate(blocks):
            groups[i * n // max(1, len(blocks))].append(b)
        return [MaterializedDataset.from_blocks(g, self._context) for g in groups]

    def split_at_indices(self, indices):
        """MaterializedDatasets cut at the given row indices."""
        if not indices:
            raise ValueError("indices must be at least of length 1")
        if sorted(indices) != list(indices):
            raise ValueError("indices must be sorted")
        if indices[0] < 0:
            raise ValueError("indices must be positive")
        blocks = self._blocks()
        total = sum(m.num_rows for _, m in blocks)
        bounds = [0] + [min(i, total) for i in indices] + [total]
        out = []
        for lo, hi in zip(bounds, bounds[1:]):
            out.append(MaterializedDataset.from_blocks(_slice_blocks(blocks, lo, hi),
                                                       self._context))
        return out

    def split_proportionately(self, proportions):
        if not proportions or sum(proportions) >= 1 or any(p <= 0 for p in proportions):
            raise ValueError("proportions must be a list of positive numbers summing to < 1")
        total = self.count()
        idx = []
        acc = 0
        for p in proportions:
            acc += int(total * p)
            idx.append(acc)
        return self.split_at_indices(idx)

    def train_test_split(self, test_size, *, shuffle=False, seed=None, stratify=None):
        """(train, test) MaterializedDatasets; test_size a fraction or a row count."""
        ds = self.random_shuffle(seed=seed) if shuffle else self
        total = ds.count()
        if isinstance(test_size, float):
            if not 0 < test_size < 1:
                raise ValueError(f"If test_size is a float, it must be bigger than 0 and "
                                 f"smaller than 1. Got {test_size}.")
            n_test = int(np.ceil(total * test_size))
        elif isinstance(test_size, int):
            if not 0 < test_size < total:
                raise ValueError(f"If test_size is an int, it must be bigger than 0 and smaller "
                                 f"than the size of the dataset ({total}). Got {test_size}.")
            n_test = test_size
        else:
            raise TypeError(f"test_size must be a float or an int, got {type(test_size)}")
        train, test = ds.split_at_indices([total - n_test])
        return train, test

    def streaming_split(self, n, *, equal=False, locality_hints=None):
        """n DataIterators over disjoint parts of the dataset, to be read
        concurrently (e.g. one per training worker)."""
        if not isinstance(n, int) or n <= 0:
            raise ValueError(f"The number of splits {n} is not positive.")
        return _make_streaming_split(self, n, equal)

    # ---- consuming ------------------------------------------------------------

    def iter_internal_ref_bundles(self):
        for ref, meta in self._stream():
            yield ref, meta

    def take(self, limit=20):
        """Up to `limit` rows, as dicts."""
        out = []
        if limit <= 0:
            return out
        for table in self.limit(limit)._tables():
            for row in B.rows_of(table):
                out.append(row)
                if len(out) >= limit:
                    return out
        return out

    def take_all(self, limit=None):
        """All rows (raises ValueError if there are more than `limit`)."""
        out = []
        for table in self._tables():
            out.extend(B.rows_of(table))
            if limit is not None and len(out) > limit:
                raise ValueError(f"The dataset has more than the given limit of {limit} "
                                 f"records.")
        return out

    def take_batch(self, batch_size=20, *, batch_format="default"):
        _check_batch_format(batch_format)
        tables = list(self.limit(batch_size)._tables())
        table = B.concat(tables)
        if table.num_rows == 0 and table.num_columns == 0:
            raise ValueError("The dataset is empty.")
        return B.to_batch(table, batch_format)

    def show(self, limit=20):
        for row in self.take(limit):
            print(row)

    def count(self):
        """The number of rows (from metadata when the plan allows)."""
        n = self._plan.known_num_rows()
        if n is not None:
            return n
        return sum(m.num_rows for _, m in self._stream())

    def schema(self, fetch_if_missing=True):
        """The schema (Schema), or None for an empty dataset."""
        if self._plan.source.blocks is not None and not self._plan.ops:
            blocks = self._plan.source.blocks
        else:
            blocks = self.limit(1)._blocks() if fetch_if_missing else []
        for _, m in blocks:
            if m.schema is not None and len(m.schema.names):
                return Schema(m.schema)
        if self._plan.source.blocks is None or self._plan.ops:
            # Empty output: the schema of the full run, if any block has one.
            for _, m in self._blocks():
                if m.schema is not None and len(m.schema.names):
                    return Schema(m.schema)
        return None

    def columns(self, fetch_if_missing=True):
        s = self.schema(fetch_if_missing)
        return s.names if s is not None else None

    def num_blocks(self):
        if self._plan.source.blocks is not None and not self._plan.ops:
            return len(self._plan.source.blocks)
        return len(self._blocks())

    def size_bytes(self):
        return sum(m.size_bytes for _, m in self._blocks())

    def input_files(self):
        files = []
        for t in self._plan.source.read_tasks or []:
            files.extend(p for _, p in getattr(t, "files", []))
        return files

    def _agg_one(self, agg_cls, on, ignore_nulls, **kw):
        cols = [on] if isinstance(on, str) else on
        if cols is None:
            cols = self.columns()
        aggs = [agg_cls(c, ignore_nulls=ignore_nulls, **kw) for c in cols]
        result = self.aggregate(*aggs)
        if result is None:
            return None
        if isinstance(on, str):
            return result[aggs[0].name]
        return result

    def sum(self, on=None, ignore_nulls=True):
        return self._agg_one(A.Sum, on, ignore_nulls)

    def min(self, on=None, ignore_nulls=True):
        return self._agg_one(A.Min, on, ignore_nulls)

    def max(self, on=None, ignore_nulls=True):
        return self._agg_one(A.Max, on, ignore_nulls)

    def mean(self, on=None, ignore_nulls=True):
        return self._agg_one(A.Mean, on, ignore_nulls)

    def std(self, on=None, ddof=1, ignore_nulls=True):
        return self._agg_one(A.Std, on, ignore_nulls, ddof=ddof)

    def iter_rows(self):
        for table in self._tables():
            yield from B.rows_of(table)

    def iterator(self):
        return DataIterator(self._stream, self._context)

    def iter_batches(self, *, prefetch_batches=1, batch_size=256, batch_format="default",
                     drop_last=False, local_shuffle_buffer_size=None, local_shuffle_seed=None,
                     _collate_fn=None):
        return self.iterator().iter_batches(
            prefetch_batches=prefetch_batches, batch_size=batch_size, batch_format=batch_format,
            drop_last=drop_last, local_shuffle_buffer_size=local_shuffle_buffer_size,
            local_shuffle_seed=local_shuffle_seed, _collate_fn=_collate_fn)

    def iter_torch_batches(self, *, prefetch_batches=1, batch_size=256, dtypes=None,
                           device="auto", collate_fn=None, drop_last=False,
                           local_shuffle_buffer_size=None, local_shuffle_seed=None):
        return self.iterator().iter_torch_batches(
            prefetch_batches=prefetch_batches, batch_size=batch_size, dtypes=dtypes,
            device=device, collate_fn=collate_fn, drop_last=drop_last,
            local_shuffle_buffer_size=local_shuffle_buffer_size,
            local_shuffle_seed=local_shuffle_seed)

    def to_pandas(self, limit=None):
        """The rows as one pandas DataFrame (raises ValueError over `limit`)."""
        ds = self
        if limit is not None:
            n = self.count()
            if n > limit:
                raise ValueError(f"the dataset has more than the given limit of {limit} rows: "
                                 f"{n}. If you are sure that a DataFrame with {n} rows will fit "
                                 f"in local memory, set ds.to_pandas(limit=None) to disable "
                                 f"limits.")
        return B.table_to_pandas(B.concat(list(ds._tables())))

    def to_arrow_refs(self):
        return [ref for ref, _ in self._blocks()]

    def to_pandas_refs(self):
        fn = photon.remote(B.table_to_pandas)
        return [fn.remote(ref) for ref, _ in self._blocks()]

    def to_numpy_refs(self, *, column=None):
        def conv(table, column=column):
            if column is not None:
                return B.column_to_numpy(table.column(column))
            return B.to_batch(table, "numpy")
        fn = photon.remote(conv)
        return [fn.remote(ref) for ref, _ in self._blocks()]

    def materialize(self):
        """Runs the plan and keeps its blocks in the object store."""
        blocks = self._blocks()
        mat = MaterializedDataset.from_blocks(blocks, self._context)
        mat._last_stats = self._last_stats
        return mat

    def stats(self):
        """Per-operator wall and CPU time, rows and bytes of the last run."""
        if self._last_stats is None:
            self._blocks()
        return self._last_stats.to_summary()

    # ---- writing --------------------------------------------------------------

    def _write(self, path, fmt, filesystem, options, ray_remote_args, file_ext):
        fs, directory = DS.prepare_output_dir(path, filesystem)
        task = photon.remote(_write_task)
        if ray_remote_args:
            task = task.options(**ray_remote_args)
        refs = []
        for i, (ref, meta) in enumerate(self._stream()):
            if meta.num_rows == 0:
                continue
            name = f"{self._uuid}_{i:06}_000000.{file_ext}"
            refs.append(task.remote(ref, fs, directory, name, fmt, options))
            if len(refs) >= 8:  # a few writes in flight; the rest stream behind them
                photon.get(refs[:-4])
                refs = refs[-4:]
        photon.get(refs)

    def write_parquet(self, path, *, filesystem=None, try_create_dir=True,
                      arrow_open_stream_args=None, filename_provider=None,
                      arrow_parquet_args_fn=None, min_rows_per_file=None,
                      ray_remote_args=None, concurrency=None, num_rows_per_file=None,
                      **arrow_parquet_args):
        self._write(path, "parquet", filesystem, arrow_parquet_args, ray_remote_args, "parquet")

    def write_csv(self, path, *, filesystem=None, try_create_dir=True,
                  arrow_open_stream_args=None, filename_provider=None, arrow_csv_args_fn=None,
                  min_rows_per_file=None, ray_remote_args=None, concurrency=None,
                  num_rows_per_file=None, **arrow_csv_args):
        self._write(path, "csv", filesystem, arrow_csv_args, ray_remote_args, "csv")

    def write_json(self, path, *, filesystem=None, try_create_dir=True,
                   arrow_open_stream_args=None, filename_provider=None,
                   pandas_json_args_fn=None, min_rows_per_file=None, ray_remote_args=None,
                   concurrency=None, num_rows_per_file=None, **pandas_json_args):
        self._write(path, "json", filesystem, {}, ray_remote_args, "json")

    def write_numpy(self, path, *, column, filesystem=None, try_create_dir=True,
                    arrow_open_stream_args=None, filename_provider=None,
                    min_rows_per_file=None, ray_remote_args=None, concurrency=None,
                    num_rows_per_file=None):
        self._write(path, "numpy", filesystem, {"column": column}, ray_remote_args, "npy")

    def write_datasink(self, datasink, *, ray_remote_args=None, concurrency=None):
        """Writes every block with datasink.write() in a task of its own, between
        on_write_start() and on_write_complete(WriteResult) (on_write_failed on error)."""
        if not hasattr(datasink, "write"):
            raise TypeError(f"write_datasink() needs a Datasink, got {type(datasink).__name__}.")
        _call_on_write_start(datasink, self)
        task = photon.remote(DS.write_block_to_sink)
        if ray_remote_args:
            task = task.options(**ray_remote_args)
        done, refs = [], []
        try:
            for i, (ref, meta) in enumerate(self._stream()):
                if meta.num_rows:
                    refs.append(task.remote(datasink, ref, i))
                if len(refs) >= 8:  # a few writes in flight; the rest stream behind them
                    done.extend(photon.get(refs[:-4]))
                    refs = refs[-4:]
            done.extend(photon.get(refs))
        except Exception as e:
            datasink.on_write_failed(e)
            raise
        datasink.on_write_complete(DS.WriteResult(
            num_rows=sum(d[0] for d in done), size_bytes=sum(d[1] for d in done),
            write_returns=[d[2] for d in done]))

    # ---- misc -----------------------------------------------------------------

    def copy(self):
        return Dataset(self._plan, self._context)

    def __iter__(self):
        raise TypeError("`Dataset` objects aren't iterable. To iterate records, call "
                        "`ds.iter_rows()` or `ds.iter_batches()`. For more information, read "
                        "https://docs.ray.io/en/latest/data/iterating-over-data.html.")

    def __len__(self):
        raise AttributeError("Use `ds.count()` to compute the length of a distributed "
                             "Dataset. This may be an expensive operation.")

    def __repr__(self):
        n = self._plan.known_num_rows()
        schema = None
        if self._plan.source.blocks is not None and not self._plan.ops:
            s = self.schema()
            schema = {nm: _type_str(t) for nm, t in zip(s.names, s.types)} if s else None
        if self._plan.ops or n is None:
            return f"{type(self).__name__}(num_rows={'?' if n is None else n}, " \
                   f"schema={schema if schema is not None else 'Unknown schema'})"
        return f"{type(self).__name__}(num_rows={n}, schema={schema})"

    def __getstate__(self):
        # The plan travels (by value: its functions with cloudpickle); the
        # statistics of a run do not.
        state = dict(self.__dict__)
        state["_last_stats"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)


def _call_on_write_start(datasink, dataset):
    try:
        params = inspect.signature(datasink.on_write_start).parameters
    except (TypeError, ValueError):
        params = {}
    if params:
        datasink.on_write_start(dataset.schema(fetch_if_missing=False))
    else:
        datasink.on_write_start()


class MaterializedDataset(Dataset):
    """A dataset whose blocks are computed and held in the object store."""

    @staticmethod
    def from_blocks(blocks, context=None):
        ds = MaterializedDataset(P.Plan(P.Source(blocks=list(blocks), name="FromBlocks")),
                                 context)
        return ds


def _write_task(table, fs, directory, name, fmt, options):
    return DS.write_block(table, fs, directory, name, fmt, options)


def _slice_blocks(blocks, lo, hi):
    """The blocks covering rows [lo, hi), the end ones sliced."""
    out = []
    pos = 0
    for ref, m in blocks:
        a, b = max(lo, pos), min(hi, pos + m.num_rows)
        if a < b:
            if a == pos and b == pos + m.num_rows:
                out.append((ref, m))
            else:
                t = photon.get(ref).slice(a - pos, b - a)
                out.append((photon.put(t), B.metadata_of(t)))
        pos += m.num_rows
    if not out and blocks:
        t = photon.get(blocks[0][0]).slice(0, 0)
        out.append((photon.put(t), B.metadata_of(t)))
    return out


def _remote_args(num_cpus, num_gpus, extra):
    args = dict(extra or {})
    if num_cpus is not None:
        args["num_cpus"] = num_cpus
    if num_gpus is not None:
        args["num_gpus"] = num_gpus
    return args


_METHOD_OF_LABEL = {"Map": "map", "MapBatches": "map_batches", "FlatMap": "flat_map",
                    "Filter": "filter"}


def _check_callable(fn, what):
    if not callable(fn):
        raise ValueError(f"{what} expects a function or a callable class, got {fn!r}")


def _name(fn):
    return getattr(fn, "__name__", type(fn).__name__)


def _ensure_initialized():
    """Datasets start a local cluster if none is connected, as Ray Data does."""
    if not photon.is_initialized():
        photon.init()
