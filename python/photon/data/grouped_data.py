"""GroupedData: the result of Dataset.groupby (Ray's GroupedData)."""
from photon.data import aggregate as A
from photon.data import block as B
from photon.data import dataset as D  # (a cycle: dataset imports this module)
from photon.data._internal import all_to_all as AA
from photon.data._internal import plan as P


class GroupedData:
    def __init__(self, dataset, key, num_partitions=None):
        self._dataset = dataset
        self._keys = [] if key is None else ([key] if isinstance(key, str) else list(key))
        self._num_partitions = num_partitions

    def aggregate(self, *aggs):
        """One row per group, sorted by key, with a column per aggregation."""
        if not aggs:
            raise ValueError("Aggregate requires at least one aggregation")
        for agg in aggs:
            if not isinstance(agg, A.AggregateFn):
                raise TypeError(f"{agg!r} is not an AggregateFn")
        keys, n = self._keys, self._num_partitions

        def fn(blocks, ctx):
            _check_keys(blocks, keys)
            return AA.aggregate(blocks, keys, list(aggs), n)
        return D.Dataset(self._dataset._plan.with_op(P.AllToAllOp("Aggregate", fn)),
                       self._dataset._context)

    def _agg(self, cls, on, ignore_nulls, **kw):
        cols = [on] if isinstance(on, str) or on is None else list(on)
        if on is None:
            names = self._dataset.columns() or []
            cols = [c for c in names if c not in self._keys]
        return self.aggregate(*[cls(c, ignore_nulls=ignore_nulls, **kw) for c in cols])

    def count(self):
        return self.aggregate(A.Count())

    def sum(self, on=None, ignore_nulls=True):
        return self._agg(A.Sum, on, ignore_nulls)

    def min(self, on=None, ignore_nulls=True):
        return self._agg(A.Min, on, ignore_nulls)

    def max(self, on=None, ignore_nulls=True):
        return self._agg(A.Max, on, ignore_nulls)

    def mean(self, on=None, ignore_nulls=True):
        return self._agg(A.Mean, on, ignore_nulls)

    def std(self, on=None, ddof=1, ignore_nulls=True):
        return self._agg(A.Std, on, ignore_nulls, ddof=ddof)

    def map_groups(self, fn, *, compute=None, batch_format="default", fn_args=None,
                   fn_kwargs=None, fn_constructor_args=None, fn_constructor_kwargs=None,
                   num_cpus=None, num_gpus=None, concurrency=None, **ray_remote_args):
        """Applies fn to each group as one batch; fn returns a batch."""
        if batch_format not in B.VALID_BATCH_FORMATS:
            raise ValueError(f"The given batch format {batch_format!r} isn't allowed (must be "
                             f"one of {list(B.VALID_BATCH_FORMATS)}).")
        if isinstance(fn, type):
            ctor_args = tuple(fn_constructor_args or ())
            ctor_kwargs = dict(fn_constructor_kwargs or {})
            fn = fn(*ctor_args, **ctor_kwargs)
        keys = self._keys
        args = dict(ray_remote_args)
        if num_cpus is not None:
            args["num_cpus"] = num_cpus
        if num_gpus is not None:
            args["num_gpus"] = num_gpus
        fa, fk = tuple(fn_args or ()), dict(fn_kwargs or {})

        def run(blocks, ctx):
            _check_keys(blocks, keys)
            return AA.map_groups(blocks, keys, fn, batch_format, fa, fk, args)
        return D.Dataset(self._dataset._plan.with_op(P.AllToAllOp("MapGroups", run)),
                       self._dataset._context)


def _check_keys(blocks, keys):
    for _, m in blocks:
        if m.schema is not None and len(m.schema.names):
            for k in keys:
                if k not in m.schema.names:
                    raise ValueError(f"The column '{k}' does not exist in the schema "
                                     f"'{m.schema}'.")
            return
