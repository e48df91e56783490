"""All-to-all operations as distributed map/reduce stages over tasks:
repartition, random shuffle, sort, groupby-aggregate and map_groups.

Each takes the materialized input blocks [(ref, BlockMetadata)] and returns
the output blocks the same way. Map tasks split every input block into one
part per output (num_returns = outputs); reduce task i concatenates part i
of every map task. The parts live in the object store (spilled to disk by
the store when it fills), never all in the driver."""
import zlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

import photon
from photon.data import block as B

_remotes = {}


def _remote(fn, **options):
    key = (fn.__name__, tuple(sorted(options.items())))
    if key not in _remotes:
        _remotes[key] = photon.remote(**options)(fn) if options else photon.remote(fn)
    return _remotes[key]


def _meta(table):
    return (table.num_rows, table.nbytes, table.schema)


def _with_meta(table):
    return table, _meta(table)


def _collect(pairs):
    """[(block ref, meta ref)] -> [(block ref, BlockMetadata)]."""
    metas = photon.get([m for _, m in pairs])
    return [(r, B.BlockMetadata(*m)) for (r, _), m in zip(pairs, metas)]


def _finish(table_fn):
    def run(*args):
        return _with_meta(table_fn(*args))
    run.__name__ = table_fn.__name__
    return run


# ---- repartition -------------------------------------------------------------------


def _slice_concat(ranges, *tables):
    """Concatenates tables[i].slice(start, length) for each (start, length)."""
    return _with_meta(B.concat([t.slice(s, n) for t, (s, n) in zip(tables, ranges)]))


def _starts(blocks):
    """The first row of each block."""
    starts, acc = [], 0
    for _, m in blocks:
        starts.append(acc)
        acc += m.num_rows
    return starts


def _covering(blocks, starts, lo, hi):
    """The blocks that hold rows [lo, hi), with (offset, length) in each."""
    refs, ranges = [], []
    for (ref, m), s in zip(blocks, starts):
        a, b = max(lo, s), min(hi, s + m.num_rows)
        if a < b:
            refs.append(ref)
            ranges.append((a - s, b - a))
    return refs, ranges


def repartition(blocks, num_blocks):
    """Exactly num_blocks blocks of near-equal row counts, order kept."""
    total = sum(m.num_rows for _, m in blocks)
    if num_blocks <= 0:
        raise ValueError(f"The number of blocks must be positive, got {num_blocks}")
    bounds = [total * i // num_blocks for i in range(num_blocks + 1)]
    starts = _starts(blocks)
    fn = _remote(_slice_concat, num_returns=2)
    out = []
    for i in range(num_blocks):
        refs, ranges = _covering(blocks, starts, bounds[i], bounds[i + 1])
        if not refs:
            table = _empty_like(blocks)
            out.append((photon.put(table), B.metadata_of(table)))
            continue
        out.append(fn.remote(ranges, *refs))
    return [p if isinstance(p[1], B.BlockMetadata) else p for p in _collect_mixed(out)]


def _empty_like(blocks):
    for _, m in blocks:
        if m.schema is not None:
            return m.schema.empty_table()
    return pa.table({})


def _collect_mixed(pairs):
    pending = [(i, p) for i, p in enumerate(pairs) if not isinstance(p[1], B.BlockMetadata)]
    out = list(pairs)
    if pending:
        metas = photon.get([p[1] for _, p in pending])
        for (i, p), m in zip(pending, metas):
            out[i] = (p[0], B.BlockMetadata(*m))
    return out


# ---- random shuffle ----------------------------------------------------------------


def _shuffle_map(table, n, seed):
    rng = np.random.default_rng(seed)
    assign = rng.integers(0, n, table.num_rows)
    parts = [table.filter(pa.array(assign == i)) for i in range(n)]
    return parts if n > 1 else parts[0]


def _shuffle_reduce(seed, *parts):
    table = B.concat(list(parts))
    rng = np.random.default_rng(seed)
    return _with_meta(table.take(pa.array(rng.permutation(table.num_rows))))


def random_shuffle(blocks, seed=None, num_outputs=None):
    if not blocks:
        return []
    n = num_outputs or len(blocks)
    base = seed if seed is not None else int(np.random.SeedSequence().entropy % (2**31))
    mapper = _remote(_shuffle_map, num_returns=n)
    parts = [mapper.remote(ref, n, base + i) for i, (ref, _) in enumerate(blocks)]
    if n == 1:
        parts = [[p] for p in parts]
    reducer = _remote(_shuffle_reduce, num_returns=2)
    return _collect([reducer.remote(base + 7919 * (i + 1), *[p[i] for p in parts])
                     for i in range(n)])


# ---- sort ---------------------------------------------------------------------------


def _sample(table, keys, k):
    if table.num_rows == 0:
        return pa.table({key: pa.array([], table.schema.field(key).type) for key in keys})
    idx = np.linspace(0, table.num_rows - 1, min(k, table.num_rows)).astype(np.int64)
    return table.select(keys).take(pa.array(idx))


def _sort_indices(table, keys, descending):
    order = [(k, "descending" if d else "ascending") for k, d in zip(keys, descending)]
    return pc.sort_indices(table, sort_keys=order)


def _partition_by_bounds(table, keys, descending, bounds):
    """Splits a table into len(bounds) + 1 parts by the sorted boundary rows."""
    n = len(bounds) + 1
    if table.num_rows == 0:
        return [table] * n if n > 1 else table
    key = keys[0]
    col = table.column(key)
    # Which part each row goes to: the number of bounds it sorts after.
    part = np.zeros(table.num_rows, dtype=np.int64)
    for b in bounds:
        if descending[0]:
            after = pc.less(col, pa.scalar(b, col.type))
        else:
            after = pc.greater(col, pa.scalar(b, col.type))
        part += np.asarray(after.fill_null(True).to_numpy(zero_copy_only=False), dtype=np.int64)
    parts = [table.filter(pa.array(part == i)) for i in range(n)]
    return parts if n > 1 else parts[0]


def _sort_reduce(keys, descending, *parts):
    table = B.concat(list(parts))
    if table.num_rows:
        table = table.take(_sort_indices(table, keys, descending))
    return _with_meta(table)


def sort(blocks, keys, descending):
    if not blocks:
        return []
    non_empty = [(r, m) for r, m in blocks if m.num_rows]
    if not non_empty:
        return blocks[:1]
    schema = non_empty[0][1].schema
    for k in keys:
        if k not in schema.names:
            raise ValueError(f"The column '{k}' does not exist in the schema '{schema}'.")
    n = len(blocks)
    sampler = _remote(_sample)
    samples = B.concat(photon.get([sampler.remote(r, keys, 20) for r, _ in non_empty]))
    col = samples.column(keys[0]).drop_null()
    values = sorted(col.to_pylist(), reverse=descending[0])
    bounds = []
    if values and n > 1:
        for i in range(1, n):
            v = values[min(len(values) - 1, i * len(values) // n)]
            if not bounds or v != bounds[-1]:
                bounds.append(v)
    m = len(bounds) + 1
    mapper = _remote(_partition_by_bounds, num_returns=m)
    parts = [mapper.remote(r, keys, descending, bounds) for r, _ in blocks]
    if m == 1:
        parts = [[p] for p in parts]
    reducer = _remote(_sort_reduce, num_returns=2)
    return _collect([reducer.remote(keys, descending, *[p[i] for p in parts]) for i in range(m)])


# ---- groupby ------------------------------------------------------------------------


def _hash_partition(table, keys, n):
    if n == 1:
        return table
    if table.num_rows == 0:
        return [table] * n
    h = np.zeros(table.num_rows, dtype=np.uint64)
    for k in keys:
        vals = table.column(k).to_pylist()
        h = h * np.uint64(1000003) + np.array([_stable_hash(v) for v in vals], dtype=np.uint64)
    part = (h % np.uint64(n)).astype(np.int64)
    return [table.filter(pa.array(part == i)) for i in range(n)]


def _stable_hash(v):
    """The same in every process (Python's hash of a str is salted per
    process, and every map task must send a key to the same reducer)."""
    if isinstance(v, bool) or v is None:
        return int(bool(v))
    if isinstance(v, int):
        return v & 0xFFFFFFFF
    if isinstance(v, float) and v.is_integer():
        return int(v) & 0xFFFFFFFF
    data = v if isinstance(v, bytes) else repr(v).encode()
    return zlib.crc32(data)


def _aggregate_reduce(keys, aggs, *parts):
    table = B.concat(list(parts))
    columns = {}
    if keys:
        if table.num_rows == 0:
            return _with_meta(_empty_agg(table, keys, aggs))
        order = _sort_indices(table, keys, [False] * len(keys))
        table = table.take(order)
        groups = _group_bounds(table, keys)
        for k in keys:
            col = table.column(k)
            columns[k] = pa.array([col[s].as_py() for s, _ in groups], col.type)
        for agg in aggs:
            columns[agg.name] = agg.finalize_many(table, groups)
    else:
        for agg in aggs:
            columns[agg.name] = agg.finalize_many(table, [(0, table.num_rows)])
    return _with_meta(pa.table(columns))


def _empty_agg(table, keys, aggs):
    cols = {k: pa.array([], table.schema.field(k).type) for k in keys if k in table.schema.names}
    for agg in aggs:
        cols[agg.name] = pa.array([], pa.float64())
    return pa.table(cols)


def _group_bounds(table, keys):
    """[(start, length)] of runs of equal keys in a table sorted by them."""
    n = table.num_rows
    if n == 0:
        return []
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for k in keys:
        vals = table.column(k).to_pylist()
        for i in range(1, n):
            if vals[i] != vals[i - 1]:
                change[i] = True
    starts = np.flatnonzero(change).tolist()
    ends = starts[1:] + [n]
    return [(s, e - s) for s, e in zip(starts, ends)]


def aggregate(blocks, keys, aggs, num_partitions=None):
    """One row per group (sorted by key), one column per aggregation."""
    for agg in aggs:
        agg.validate(blocks)
    if not keys:
        reducer = _remote(_aggregate_reduce, num_returns=2)
        return _collect([reducer.remote(keys, aggs, *[r for r, _ in blocks])])
    n = num_partitions or max(1, min(len(blocks), 32))
    mapper = _remote(_hash_partition, num_returns=n)
    parts = [mapper.remote(r, keys, n) for r, _ in blocks]
    if n == 1:
        parts = [[p] for p in parts]
    reducer = _remote(_aggregate_reduce, num_returns=2)
    out = _collect([reducer.remote(keys, aggs, *[p[i] for p in parts]) for i in range(n)])
    # Sorted by key across partitions, as Ray's (sort-based) groupby gives.
    return sort(out, keys, [False] * len(keys)) if len(out) > 1 else out


def _map_groups_reduce(keys, fn, batch_format, fn_args, fn_kwargs, *parts):
    table = B.concat(list(parts))
    if table.num_rows == 0:
        return _with_meta(table)
    if keys:
        table = table.take(_sort_indices(table, keys, [False] * len(keys)))
        groups = _group_bounds(table, keys)
    else:
        groups = [(0, table.num_rows)]
    outs = []
    for s, n in groups:
        batch = B.to_batch(table.slice(s, n), batch_format)
        outs.append(B.from_batch(fn(batch, *fn_args, **fn_kwargs)))
    return _with_meta(B.concat(outs))


def map_groups(blocks, keys, fn, batch_format, fn_args, fn_kwargs, remote_args):
    n = max(1, min(len(blocks), 32)) if keys else 1
    mapper = _remote(_hash_partition, num_returns=n)
    parts = [mapper.remote(r, keys, n) for r, _ in blocks]
    if n == 1:
        parts = [[p] for p in parts]
    reducer = _remote(_map_groups_reduce, num_returns=2)
    if remote_args:
        reducer = reducer.options(**remote_args)
    return _collect([reducer.remote(keys, fn, batch_format, fn_args, fn_kwargs,
                                    *[p[i] for p in parts]) for i in range(n)])


# ---- zip ----------------------------------------------------------------------------


def _zip_pair(left, right):
    names = set(left.column_names)
    table = left
    for name in right.column_names:
        out = name
        i = 1
        while out in names:
            out = f"{name}_{i}"
            i += 1
        names.add(out)
        table = table.append_column(out, right.column(name))
    return _with_meta(table)


def zip_blocks(left, right):
    lrows = sum(m.num_rows for _, m in left)
    rrows = sum(m.num_rows for _, m in right)
    if lrows != rrows:
        raise ValueError(f"Cannot zip datasets of different number of rows: {lrows}, {rrows}")
    # The right side cut to the left's block boundaries.
    fn = _remote(_slice_concat, num_returns=2)
    starts = _starts(right)
    aligned = []
    for lo, (_, lm) in zip(_starts(left), left):
        refs, ranges = _covering(right, starts, lo, lo + lm.num_rows)
        if refs:
            aligned.append(fn.remote(ranges, *refs)[0])
        else:
            aligned.append(photon.put(_empty_like(right)))
    zipper = _remote(_zip_pair, num_returns=2)
    return _collect([zipper.remote(lref, rref) for (lref, _), rref in zip(left, aligned)])
