"""The streaming executor: runs a dataset's physical stages concurrently,
blocks flowing between them through the object store as ObjectRefs.

Each stage keeps a bounded number of tasks in flight and only takes more
input when its outputs are consumed, so the bytes in flight stay within
the budget (a fraction of the object store, DataContext limits) however
large the dataset: a pull-driven pipeline. Outputs keep their input order.

Stages: a TaskStage runs a fused chain of block transforms in one task per
input (a read task or a block); an ActorPoolStage runs a callable class on
an autoscaling pool of actors; a LimitStage stops the pipeline after n
rows; an all-to-all stage (sort, shuffle, groupby, repartition) is a barrier
that materializes its input and runs map/reduce tasks over it."""
import collections
import sys
import time

try:
    import tqdm
except ImportError:  # progress bars are drawn only when tqdm is installed
    tqdm = None

import photon
from photon.data import block as B
from photon.data._internal import stats as stats_mod


def _run_chain(table, chain):
    for fn in chain:
        table = fn(table)
    return table


def _input_table(sources, is_read):
    """The one table a task transforms: its read tasks' output or its input
    blocks, joined (a bundle of small inputs, see _bundles)."""
    tables = [s() for s in sources] if is_read else list(sources)
    tables = [B.concat(t) if isinstance(t, list) else t for t in tables]
    return tables[0] if len(tables) == 1 else B.concat(tables)


def _rows_of(item, is_read):
    """The rows an input will give, if known before running."""
    if is_read:
        return getattr(item, "num_rows", None)
    return item[1].num_rows


def _bundles(upstream, min_rows, is_read):
    """Groups the stage's inputs so that each task gets at least `min_rows`
    rows (a map_batches batch_size): small blocks are joined into one task,
    as Ray's block bundler does. An input of unknown size ends a bundle."""
    bundle, rows = [], 0
    for item in upstream:
        bundle.append(item)
        n = _rows_of(item, is_read)
        rows = min_rows if n is None else rows + n
        if not min_rows or rows >= min_rows:
            yield bundle
            bundle, rows = [], 0
    if bundle:
        yield bundle


def _transform_task(chain, is_read, *sources):
    t0 = time.process_time()
    table = _run_chain(_input_table(sources, is_read), chain)
    meta = B.metadata_of(table)
    meta_out = (meta.num_rows, meta.size_bytes, meta.schema, time.process_time() - t0)
    return table, meta_out


_transform_remote = None


def _remote_transform():
    global _transform_remote
    if _transform_remote is None:
        _transform_remote = photon.remote(num_returns=2)(_transform_task)
    return _transform_remote


class _MapWorker:
    """The actor of an ActorPoolStage: builds the user's class once. The
    task maps (and read) fused before it run in the actor too."""

    def __init__(self, make_chain, pre_chain, is_read):
        self._chain = list(pre_chain) + make_chain()
        self._is_read = is_read

    @photon.method(num_returns=2)
    def process(self, *sources):
        return _transform_task(self._chain, self._is_read, *sources)

    def ready(self):
        return True


_map_worker_cls = None


def _map_worker():
    global _map_worker_cls
    if _map_worker_cls is None:
        _map_worker_cls = photon.remote(_MapWorker)
    return _map_worker_cls


class Budget:
    """How many tasks a stage may have in flight: by the CPU limit and by
    the object-store budget over the blocks' observed size."""

    def __init__(self, context, num_stages):
        self.context = context
        self.num_stages = max(1, num_stages)
        limits = context.execution_options.resource_limits
        try:
            cluster = photon.cluster_resources()
        except Exception:  # noqa: BLE001 - not connected yet: defaults
            cluster = {}
        self.cpus = limits.cpu if limits.cpu is not None else cluster.get("CPU", 1)
        store = limits.object_store_memory
        if store is None:
            store = cluster.get("object_store_memory", 2 * 1024**3) * \
                context.object_store_memory_fraction
        self.store_bytes = max(1, store)
        self.block_bytes = None  # running mean of output block sizes

    def observe(self, size_bytes):
        if self.block_bytes is None:
            self.block_bytes = size_bytes
        else:
            self.block_bytes = 0.8 * self.block_bytes + 0.2 * size_bytes

    def max_in_flight(self, num_cpus_per_task):
        per_task = num_cpus_per_task if num_cpus_per_task else 0
        by_cpu = max(1, int(self.cpus / per_task)) if per_task > 0 else max(1, int(self.cpus * 4))
        by_cpu = max(by_cpu, 2)  # one running, one queued: the pipeline never stalls on a hand-off
        if self.block_bytes:
            # Outputs held: in flight here plus one consumed-not-freed per stage.
            by_mem = int(self.store_bytes / (self.num_stages * max(self.block_bytes, 1)))
            return max(1, min(by_cpu, by_mem))
        return by_cpu


class TaskStage:
    def __init__(self, name, chain, remote_args, is_read, concurrency=None, min_rows=None):
        self.name = name
        self.min_rows = min_rows  # rows each task gets at least (map_batches' batch_size)
        self.chain = chain
        self.remote_args = dict(remote_args or {})
        self.remote_args.setdefault("num_cpus", 1)
        self.is_read = is_read
        self.concurrency = concurrency

    def run(self, upstream, budget, stats):
        fn = _remote_transform().options(name=self.name, **self.remote_args)
        in_flight = collections.deque()
        upstream = _bundles(upstream, self.min_rows, self.is_read)
        exhausted = False
        op = stats.operator(self.name)
        while True:
            cap = budget.max_in_flight(self.remote_args.get("num_cpus"))
            if self.concurrency:
                cap = min(cap, self.concurrency)
            while not exhausted and len(in_flight) < cap:
                try:
                    item = next(upstream)
                except StopIteration:
                    exhausted = True
                    break
                sources = item if self.is_read else [ref for ref, _ in item]
                block_ref, meta_ref = fn.remote(self.chain, self.is_read, *sources)
                in_flight.append((block_ref, meta_ref, time.perf_counter()))
            if not in_flight:
                return
            block_ref, meta_ref, started = in_flight.popleft()
            num_rows, size_bytes, schema, cpu_s = photon.get(meta_ref)
            budget.observe(size_bytes)
            op.add(num_rows, size_bytes, time.perf_counter() - started, cpu_s)
            yield block_ref, B.BlockMetadata(num_rows, size_bytes, schema)


class ActorPoolStage:
    def __init__(self, name, make_chain, min_size, max_size, remote_args,
                 max_tasks_in_flight_per_actor, pre_chain=(), is_read=False, min_rows=None,
                 initial_size=None):
        self.name = name
        self.min_rows = min_rows
        self.initial_size = max(min_size, initial_size or min_size)
        self.make_chain = make_chain
        self.pre_chain = list(pre_chain)
        self.is_read = is_read
        self.min_size = min_size
        self.max_size = max_size
        self.remote_args = dict(remote_args or {})
        self.remote_args.setdefault("num_cpus", 1)
        self.per_actor = max(1, max_tasks_in_flight_per_actor)

    def run(self, upstream, budget, stats):
        cls = _map_worker().options(**self.remote_args)
        actors = []
        load = {}
        op = stats.operator(self.name)

        def add_actor():
            a = cls.remote(self.make_chain, self.pre_chain, self.is_read)
            actors.append(a)
            load[id(a)] = 0
            return a

        # An unbounded pool (max_size=inf) grows to what the CPUs hold.
        per_cpu = self.remote_args.get("num_cpus") or 0
        max_size = self.max_size
        if max_size == float("inf"):
            max_size = max(self.initial_size, int(budget.cpus / per_cpu) if per_cpu else
                           int(budget.cpus) or 1)
        for _ in range(self.initial_size):
            add_actor()
        photon.get([a.ready.remote() for a in actors])
        in_flight = collections.deque()
        upstream = _bundles(upstream, self.min_rows, self.is_read)
        exhausted = False
        try:
            while True:
                cap = min(budget.max_in_flight(0), max_size * self.per_actor)
                while not exhausted and len(in_flight) < cap:
                    actor = min(actors, key=lambda a: load[id(a)])
                    if load[id(actor)] >= self.per_actor:
                        if len(actors) < max_size:
                            actor = add_actor()  # every actor busy: scale up
                        else:
                            break
                    try:
                        item = next(upstream)
                    except StopIteration:
                        exhausted = True
                        break
                    sources = item if self.is_read else [ref for ref, _ in item]
                    block_ref, meta_ref = actor.process.remote(*sources)
                    load[id(actor)] += 1
                    in_flight.append((block_ref, meta_ref, actor, time.perf_counter()))
                if not in_flight:
                    return
                block_ref, meta_ref, actor, started = in_flight.popleft()
                num_rows, size_bytes, schema, cpu_s = photon.get(meta_ref)
                load[id(actor)] -= 1
                budget.observe(size_bytes)
                op.add(num_rows, size_bytes, time.perf_counter() - started, cpu_s)
                yield block_ref, B.BlockMetadata(num_rows, size_bytes, schema)
        finally:
            for a in actors:
                try:
                    photon.kill(a)
                except Exception:  # noqa: BLE001 - already gone
                    pass


class LimitStage:
    def __init__(self, limit):
        self.name = f"Limit[{limit}]"
        self.limit = limit

    def run(self, upstream, budget, stats):
        left = self.limit
        if left <= 0:
            return
        for ref, meta in upstream:
            if meta.num_rows <= left:
                left -= meta.num_rows
                yield ref, meta
            else:
                table = photon.get(ref).slice(0, left)
                left = 0
                yield photon.put(table), B.metadata_of(table)
            if left <= 0:
                return


class AllToAllStage:
    """A barrier: `fn(list of (ref, meta), context) -> list of (ref, meta)`."""

    def __init__(self, name, fn):
        self.name = name
        self.fn = fn

    def run(self, upstream, budget, stats):
        t0 = time.perf_counter()
        blocks = list(upstream)
        out = self.fn(blocks, budget.context)
        op = stats.operator(self.name)
        for ref, meta in out:
            op.add(meta.num_rows, meta.size_bytes, 0, 0)
        op.wall_s += time.perf_counter() - t0
        yield from out


class _Progress:
    """Ray Data's progress display: one tqdm line per operator (blocks done,
    rows), under an overall line for the dataset; off with
    DataContext.enable_progress_bars (or enable_operator_progress_bars for
    the per-operator lines), and when tqdm is not installed."""

    def __init__(self, context, stages, num_inputs):
        self.bars = []
        self.enabled = bool(tqdm is not None and context.enable_progress_bars and stages)
        if not self.enabled:
            return
        self.total = tqdm.tqdm(desc="Running Dataset", total=num_inputs, unit=" blocks",
                               position=0, leave=False, file=sys.stderr, dynamic_ncols=True)
        if context.enable_operator_progress_bars:
            for i, stage in enumerate(stages):
                self.bars.append(tqdm.tqdm(desc=f"- {stage.name}", total=num_inputs,
                                           unit=" blocks", position=i + 1, leave=False,
                                           file=sys.stderr, dynamic_ncols=True))

    def wrap(self, i, stream):
        """`stream` (a stage's output) counted on operator i's line."""
        if not self.bars:
            return stream
        bar, rows = self.bars[i], [0]

        def counted():
            for ref, meta in stream:
                rows[0] += meta.num_rows or 0
                bar.update(1)
                bar.set_postfix_str(f"{rows[0]} rows", refresh=False)
                yield ref, meta
        return counted()

    def done_one(self):
        if self.enabled:
            self.total.update(1)

    def close(self):
        for bar in self.bars + ([self.total] if self.enabled else []):
            bar.close()


def execute(source_items, stages, context, stats=None):
    """Yields (block ref, BlockMetadata) of the plan's output in order.
    `source_items`: the read tasks (for a first TaskStage with is_read) or
    (ref, meta) pairs."""
    stats = stats if stats is not None else stats_mod.DatasetStats()
    budget = Budget(context, len(stages))
    num_inputs = len(source_items) if hasattr(source_items, "__len__") else None
    progress = _Progress(context, stages, num_inputs)
    stream = iter(source_items)
    for i, stage in enumerate(stages):
        stream = progress.wrap(i, stage.run(stream, budget, stats))
    start = time.perf_counter()
    try:
        for item in stream:
            progress.done_one()
            yield item
    finally:
        progress.close()
        stats.total_wall_s += time.perf_counter() - start
