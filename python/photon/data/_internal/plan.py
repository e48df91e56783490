"""A dataset's logical plan (a source and a chain of operators) and its
optimization into the executor's physical stages: adjacent task maps with
the same resources, and the read before them, are fused into one task."""
from photon.data._internal import executor as X


class Source:
    """Where a plan starts: read tasks (callables returning a Table), with
    their row counts if known in advance, or blocks already in the store."""

    def __init__(self, read_tasks=None, blocks=None, num_rows=None, name="Read"):
        self.read_tasks = read_tasks
        self.blocks = blocks
        self.num_rows = num_rows  # known without running (range, from_items), or None
        self.name = name


class MapOp:
    """A one-to-one transform of blocks, run as tasks."""

    def __init__(self, name, block_fn, remote_args=None, concurrency=None, preserves_rows=False,
                 min_rows=None):
        self.name = name
        self.min_rows = min_rows  # rows per task at least (map_batches' batch_size)
        self.block_fn = block_fn
        self.remote_args = dict(remote_args or {})
        self.concurrency = concurrency
        self.preserves_rows = preserves_rows


class ActorMapOp:
    """A transform run on a pool of actors holding a callable class."""

    def __init__(self, name, make_fn, min_size, max_size, remote_args,
                 max_tasks_in_flight_per_actor, min_rows=None, initial_size=None):
        self.name = name
        self.min_rows = min_rows
        self.initial_size = initial_size or min_size
        self.make_fn = make_fn
        self.min_size = min_size
        self.max_size = max_size
        self.remote_args = dict(remote_args or {})
        self.max_tasks_in_flight_per_actor = max_tasks_in_flight_per_actor
        self.preserves_rows = False


class LimitOp:
    def __init__(self, limit):
        self.name = f"Limit[{limit}]"
        self.limit = limit
        self.preserves_rows = False


class AllToAllOp:
    def __init__(self, name, fn, preserves_rows=False):
        self.name = name
        self.fn = fn
        self.preserves_rows = preserves_rows


class Plan:
    def __init__(self, source, ops=()):
        self.source = source
        self.ops = list(ops)

    def with_op(self, op):
        return Plan(self.source, self.ops + [op])

    def known_num_rows(self):
        """The row count if it is known without running the plan."""
        n = self.source.num_rows
        if n is None and self.source.blocks is not None:
            n = sum(m.num_rows for _, m in self.source.blocks)
        if n is None:
            return None
        for op in self.ops:
            if isinstance(op, LimitOp):
                n = min(n, op.limit)
            elif not op.preserves_rows:
                return None
        return n

    def describe(self):
        names = [self.source.name] + [op.name for op in self.ops]
        return " -> ".join(names)

    def physical(self):
        """(source items, stages) for the executor."""
        stages = []
        pending = None  # a TaskStage being fused
        if self.source.read_tasks is not None:
            items = self.source.read_tasks
            pending = X.TaskStage(self.source.name, [], {}, is_read=True)
        else:
            items = self.source.blocks
        for op in self.ops:
            if isinstance(op, MapOp):
                if (pending is not None and op.concurrency is None and
                        pending.concurrency is None and
                        _same_resources(pending.remote_args, op.remote_args)):
                    pending.chain.append(op.block_fn)
                    pending.name += "->" + op.name
                    pending.min_rows = _most(pending.min_rows, op.min_rows)
                    pending.remote_args.update(op.remote_args)
                    continue
                if pending is not None:
                    stages.append(pending)
                pending = X.TaskStage(op.name, [op.block_fn], op.remote_args, is_read=False,
                                      concurrency=op.concurrency, min_rows=op.min_rows)
                continue
            if isinstance(op, ActorMapOp):
                # The task maps (and read) before it run in its actors: no
                # tasks competing with the pool for its CPUs (as Ray fuses
                # a task map into the actor map after it).
                pre, is_read, name, min_rows = [], False, op.name, op.min_rows
                if pending is not None:
                    pre, is_read = pending.chain, pending.is_read
                    name = pending.name + "->" + op.name
                    min_rows = _most(pending.min_rows, op.min_rows)
                    pending = None
                stages.append(X.ActorPoolStage(name, op.make_fn, op.min_size, op.max_size,
                                               op.remote_args, op.max_tasks_in_flight_per_actor,
                                               pre, is_read, min_rows, op.initial_size))
                continue
            if pending is not None:
                stages.append(pending)
                pending = None
            if isinstance(op, LimitOp):
                stages.append(X.LimitStage(op.limit))
            elif isinstance(op, AllToAllOp):
                stages.append(X.AllToAllStage(op.name, op.fn))
        if pending is not None:
            stages.append(pending)
        return items, stages


def _most(a, b):
    return b if a is None else a if b is None else max(a, b)


def _same_resources(a, b):
    def norm(d):
        d = dict(d)
        d.setdefault("num_cpus", 1)
        return d
    return norm(a) == norm(b)
