"""Aggregations for Dataset.aggregate and GroupedData.aggregate, with Ray
Data's names and output column names ("count()", "sum(x)", ...)."""
import numpy as np
import pyarrow as pa

from photon.data import block as B


class AggregateFn:
    """A user aggregation (Ray's AggregateFn): `init(key)` makes an
    accumulator, `accumulate_row(acc, row)` (or `accumulate_block(acc,
    batch)`) folds rows in, `merge(a, b)` combines two, `finalize(acc)` gives
    the value."""

    def __init__(self, init, merge, accumulate_row=None, accumulate_block=None,
                 finalize=None, name=None):
        if (accumulate_row is None) == (accumulate_block is None):
            raise ValueError("Exactly one of accumulate_row or accumulate_block must be provided.")
        self.init = init
        self.merge = merge
        self.accumulate_row = accumulate_row
        self.accumulate_block = accumulate_block
        self.finalize = finalize or (lambda a: a)
        self.name = name or "custom"

    def validate(self, blocks):
        pass

    def finalize_many(self, table, groups):
        out = []
        for s, n in groups:
            part = table.slice(s, n)
            acc = self.init(None)
            if self.accumulate_block is not None:
                acc = self.accumulate_block(acc, B.to_batch(part, "numpy"))
            else:
                for row in B.rows_of(part):
                    acc = self.accumulate_row(acc, row)
            out.append(self.finalize(acc))
        return pa.array(out)


class _ColumnAgg(AggregateFn):
    label = ""

    def __init__(self, on=None, ignore_nulls=True, alias_name=None):
        self.on = on
        self.ignore_nulls = ignore_nulls
        self.name = alias_name or (f"{self.label}({on})" if on is not None else f"{self.label}()")

    def validate(self, blocks):
        if self.on is None:
            return
        for _, m in blocks:
            if m.schema is not None and len(m.schema.names):
                if self.on not in m.schema.names:
                    raise ValueError(f"The column '{self.on}' does not exist in the schema "
                                     f"'{m.schema}'.")
                return

    def _values(self, part):
        col = part.column(self.on)
        has_null = col.null_count > 0
        if has_null and self.ignore_nulls:
            col = col.drop_null()
            has_null = False
        return np.asarray(col.to_numpy(zero_copy_only=False)), has_null

    def finalize_many(self, table, groups):
        out = []
        for s, n in groups:
            part = table.slice(s, n)
            vals, has_null = self._values(part) if self.on is not None else (None, False)
            if has_null:
                out.append(None)
            else:
                out.append(self.compute(vals, part))
        return pa.array(out)


class Count(_ColumnAgg):
    label = "count"

    def compute(self, vals, part):
        return part.num_rows if vals is None else int(len(vals))

    def finalize_many(self, table, groups):
        if self.on is None:
            return pa.array([n for _, n in groups], pa.int64())
        return super().finalize_many(table, groups)


class Sum(_ColumnAgg):
    label = "sum"

    def compute(self, vals, part):
        return vals.sum().item() if len(vals) else 0


class Min(_ColumnAgg):
    label = "min"

    def compute(self, vals, part):
        return vals.min().item() if len(vals) else None


class Max(_ColumnAgg):
    label = "max"

    def compute(self, vals, part):
        return vals.max().item() if len(vals) else None


class Mean(_ColumnAgg):
    label = "mean"

    def compute(self, vals, part):
        return float(vals.mean()) if len(vals) else None


class Std(_ColumnAgg):
    label = "std"

    def __init__(self, on=None, ddof=1, ignore_nulls=True, alias_name=None):
        super().__init__(on, ignore_nulls, alias_name)
        self.ddof = ddof

    def compute(self, vals, part):
        if len(vals) - self.ddof <= 0:
            return None if len(vals) == 0 else 0.0
        return float(np.std(vals.astype(np.float64), ddof=self.ddof))


class AbsMax(_ColumnAgg):
    label = "abs_max"

    def compute(self, vals, part):
        return np.abs(vals).max().item() if len(vals) else None


class Quantile(_ColumnAgg):
    label = "quantile"

    def __init__(self, on=None, q=0.5, ignore_nulls=True, alias_name=None):
        super().__init__(on, ignore_nulls, alias_name)
        self.q = q

    def compute(self, vals, part):
        return float(np.quantile(vals, self.q)) if len(vals) else None


class Unique(_ColumnAgg):
    label = "unique"

    def compute(self, vals, part):
        return sorted(set(vals.tolist()), key=lambda v: (v is None, v))
