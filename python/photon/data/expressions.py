"""Column expressions (Ray Data's ray.data.expressions): `col("x") > 5`,
`(col("a") + col("b")).alias("c")`, `col("s").is_in(["x", "y"])`, used by
Dataset.filter(expr=) and Dataset.with_column. An expression is a small
tree that converts to a pyarrow.compute.Expression and is evaluated on
whole Arrow blocks. `parse("a > 5 and b == 'x'")` reads the string form
that filter(expr="...") accepts (Python syntax over column names)."""
import abc
import ast
import enum

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads


class Operation(str, enum.Enum):
    ADD = "add"
    SUB = "sub"
    MUL = "mul"
    DIV = "div"
    MOD = "mod"
    FLOORDIV = "floordiv"
    GT = "gt"
    LT = "lt"
    GE = "ge"
    LE = "le"
    EQ = "eq"
    NE = "ne"
    AND = "and"
    OR = "or"
    NOT = "not"
    IS_NULL = "is_null"
    IS_NOT_NULL = "is_not_null"
    IN = "in"
    NOT_IN = "not_in"


_SYMBOL = {Operation.ADD: "+", Operation.SUB: "-", Operation.MUL: "*", Operation.DIV: "/",
           Operation.MOD: "%", Operation.FLOORDIV: "//", Operation.GT: ">",
           Operation.LT: "<", Operation.GE: ">=", Operation.LE: "<=", Operation.EQ: "==",
           Operation.NE: "!=", Operation.AND: "&", Operation.OR: "|"}


def _wrap(value):
    return value if isinstance(value, Expr) else LiteralExpr(value)


class Expr(abc.ABC):
    """The base of every expression node."""

    @property
    def name(self):
        return None

    @abc.abstractmethod
    def to_pyarrow(self):
        """The pyarrow.compute.Expression of this node."""

    def structurally_equals(self, other):
        return type(self) is type(other) and self._key() == other._key()

    @abc.abstractmethod
    def _key(self):
        """What two structurally equal nodes share."""

    def _bin(self, other, op):
        return BinaryExpr(op, self, _wrap(other))

    def _rbin(self, other, op):
        return BinaryExpr(op, _wrap(other), self)

    def __add__(self, o): return self._bin(o, Operation.ADD)  # noqa: E704
    def __radd__(self, o): return self._rbin(o, Operation.ADD)  # noqa: E704
    def __sub__(self, o): return self._bin(o, Operation.SUB)  # noqa: E704
    def __rsub__(self, o): return self._rbin(o, Operation.SUB)  # noqa: E704
    def __mul__(self, o): return self._bin(o, Operation.MUL)  # noqa: E704
    def __rmul__(self, o): return self._rbin(o, Operation.MUL)  # noqa: E704
    def __truediv__(self, o): return self._bin(o, Operation.DIV)  # noqa: E704
    def __rtruediv__(self, o): return self._rbin(o, Operation.DIV)  # noqa: E704
    def __floordiv__(self, o): return self._bin(o, Operation.FLOORDIV)  # noqa: E704
    def __rfloordiv__(self, o): return self._rbin(o, Operation.FLOORDIV)  # noqa: E704
    def __mod__(self, o): return self._bin(o, Operation.MOD)  # noqa: E704
    def __rmod__(self, o): return self._rbin(o, Operation.MOD)  # noqa: E704
    def __gt__(self, o): return self._bin(o, Operation.GT)  # noqa: E704
    def __lt__(self, o): return self._bin(o, Operation.LT)  # noqa: E704
    def __ge__(self, o): return self._bin(o, Operation.GE)  # noqa: E704
    def __le__(self, o): return self._bin(o, Operation.LE)  # noqa: E704
    def __eq__(self, o): return self._bin(o, Operation.EQ)  # noqa: E704
    def __ne__(self, o): return self._bin(o, Operation.NE)  # noqa: E704
    def __and__(self, o): return self._bin(o, Operation.AND)  # noqa: E704
    def __rand__(self, o): return self._rbin(o, Operation.AND)  # noqa: E704
    def __or__(self, o): return self._bin(o, Operation.OR)  # noqa: E704
    def __ror__(self, o): return self._rbin(o, Operation.OR)  # noqa: E704

    def __invert__(self):
        return UnaryExpr(Operation.NOT, self)

    def __bool__(self):
        raise TypeError("an expression has no truth value: combine conditions with & | ~ "
                        "(not `and`/`or`/`not`)")

    __hash__ = object.__hash__

    def is_null(self):
        return UnaryExpr(Operation.IS_NULL, self)

    def is_not_null(self):
        return UnaryExpr(Operation.IS_NOT_NULL, self)

    def is_in(self, values):
        return BinaryExpr(Operation.IN, self, _wrap(list(values)))

    def not_in(self, values):
        return BinaryExpr(Operation.NOT_IN, self, _wrap(list(values)))

    def alias(self, name):
        return AliasExpr(self, name)

    def ceil(self):
        return _FnExpr("ceil", self)

    def floor(self):
        return _FnExpr("floor", self)

    def round(self):
        return _FnExpr("round", self)

    def trunc(self):
        return _FnExpr("trunc", self)

    def abs(self):
        return _FnExpr("abs", self)


class ColumnExpr(Expr):
    def __init__(self, name):
        if not isinstance(name, str):
            raise TypeError(f"a column name is a str, got {type(name).__name__}")
        self._name = name

    @property
    def name(self):
        return self._name

    def to_pyarrow(self):
        return pc.field(self._name)

    def _key(self):
        return self._name

    def __repr__(self):
        return f"col({self._name!r})"


class LiteralExpr(Expr):
    def __init__(self, value):
        self.value = value

    def to_pyarrow(self):
        return pc.scalar(self.value)

    def _key(self):
        return repr(self.value)

    def __repr__(self):
        return repr(self.value)


class BinaryExpr(Expr):
    def __init__(self, op, left, right):
        self.op, self.left, self.right = Operation(op), left, right

    def to_pyarrow(self):
        a = self.left.to_pyarrow()
        op = self.op
        if op in (Operation.IN, Operation.NOT_IN):
            values = pa.array(self.right.value)
            out = pc.is_in(a, value_set=values)
            return ~out if op is Operation.NOT_IN else out
        b = self.right.to_pyarrow()
        if op is Operation.ADD:
            return pc.add(a, b)
        if op is Operation.SUB:
            return pc.subtract(a, b)
        if op is Operation.MUL:
            return pc.multiply(a, b)
        if op is Operation.DIV:
            return pc.divide(a, b)  # Arrow's: integer operands divide as integers
        if op is Operation.FLOORDIV:
            return pc.floor(pc.divide(a, b))
        if op is Operation.MOD:
            return pc.subtract(a, pc.multiply(pc.floor(pc.divide(a, b)), b))
        return {Operation.GT: pc.greater, Operation.LT: pc.less,
                Operation.GE: pc.greater_equal, Operation.LE: pc.less_equal,
                Operation.EQ: pc.equal, Operation.NE: pc.not_equal,
                Operation.AND: pc.and_kleene, Operation.OR: pc.or_kleene}[op](a, b)

    def _key(self):
        return (self.op, type(self.left), self.left._key(), type(self.right),
                self.right._key())

    def __repr__(self):
        if self.op is Operation.IN:
            return f"{self.left!r}.is_in({self.right!r})"
        if self.op is Operation.NOT_IN:
            return f"{self.left!r}.not_in({self.right!r})"
        return f"({self.left!r} {_SYMBOL[self.op]} {self.right!r})"


class UnaryExpr(Expr):
    def __init__(self, op, operand):
        self.op, self.operand = Operation(op), operand

    def to_pyarrow(self):
        a = self.operand.to_pyarrow()
        if self.op is Operation.NOT:
            return pc.invert(a)
        if self.op is Operation.IS_NULL:
            return pc.is_null(a)
        return pc.is_valid(a)

    def _key(self):
        return (self.op, type(self.operand), self.operand._key())

    def __repr__(self):
        if self.op is Operation.NOT:
            return f"~{self.operand!r}"
        return f"{self.operand!r}.{self.op.value}()"


class AliasExpr(Expr):
    def __init__(self, expr, name):
        self.expr, self._name = expr, name

    @property
    def name(self):
        return self._name

    def to_pyarrow(self):
        return self.expr.to_pyarrow()

    def _key(self):
        return (self._name, type(self.expr), self.expr._key())

    def __repr__(self):
        return f"{self.expr!r}.alias({self._name!r})"


class _FnExpr(Expr):
    """A pyarrow compute function of one expression (ceil, floor, ...)."""

    def __init__(self, fn, operand):
        self.fn, self.operand = fn, operand

    def to_pyarrow(self):
        return getattr(pc, self.fn)(self.operand.to_pyarrow())

    def _key(self):
        return (self.fn, type(self.operand), self.operand._key())

    def __repr__(self):
        return f"{self.operand!r}.{self.fn}()"


def col(name):
    """The column `name`."""
    return ColumnExpr(name)


def lit(value):
    """A constant."""
    return LiteralExpr(value)


def evaluate(expr, table):
    """The expression's value on every row of `table` (an Arrow array)."""
    if not isinstance(expr, Expr):
        raise TypeError(f"expected an expression, got {type(expr).__name__}")
    missing = sorted(_columns(expr) - set(table.column_names))
    if missing:
        raise ValueError(f"the expression {expr!r} names column(s) {missing} that the data "
                         f"does not have (its columns: {table.column_names})")
    if table.num_rows == 0:
        return pa.array([], pa.bool_())
    # A one-column projection computes the expression with pyarrow's engine.
    out = pads.dataset(table).to_table(columns={"_v": expr.to_pyarrow()})
    return out.column("_v").combine_chunks()


def _columns(expr):
    if isinstance(expr, ColumnExpr):
        return {expr.name}
    out = set()
    for child in ("left", "right", "operand", "expr"):
        c = getattr(expr, child, None)
        if isinstance(c, Expr):
            out |= _columns(c)
    return out


_BIN_OPS = {ast.Add: Operation.ADD, ast.Sub: Operation.SUB, ast.Mult: Operation.MUL,
            ast.Div: Operation.DIV, ast.Mod: Operation.MOD, ast.FloorDiv: Operation.FLOORDIV}
_CMP_OPS = {ast.Gt: Operation.GT, ast.Lt: Operation.LT, ast.GtE: Operation.GE,
            ast.LtE: Operation.LE, ast.Eq: Operation.EQ, ast.NotEq: Operation.NE}


def parse(text):
    """An expression from its string form: Python syntax where names are
    columns ("a > 5 and not (b == 'x')", "c in [1, 2]", "d is None")."""
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as e:
        raise ValueError(f"Invalid syntax in the expression {text!r}: {e.msg}") from None
    return _from_ast(tree, text)


def _from_ast(node, text):
    if isinstance(node, ast.BoolOp):
        op = Operation.AND if isinstance(node.op, ast.And) else Operation.OR
        out = _from_ast(node.values[0], text)
        for v in node.values[1:]:
            out = BinaryExpr(op, out, _from_ast(v, text))
        return out
    if isinstance(node, ast.UnaryOp):
        operand = _from_ast(node.operand, text)
        if isinstance(node.op, ast.Not):
            return UnaryExpr(Operation.NOT, operand)
        if isinstance(node.op, ast.USub):
            if isinstance(operand, LiteralExpr):
                return LiteralExpr(-operand.value)
            return BinaryExpr(Operation.SUB, LiteralExpr(0), operand)
        if isinstance(node.op, ast.UAdd):
            return operand
    if isinstance(node, ast.BinOp) and type(node.op) in _BIN_OPS:
        return BinaryExpr(_BIN_OPS[type(node.op)], _from_ast(node.left, text),
                          _from_ast(node.right, text))
    if isinstance(node, ast.Compare):
        parts = []
        left = node.left
        for op, right in zip(node.ops, node.comparators):
            parts.append(_compare(op, left, right, text))
            left = right
        out = parts[0]
        for p in parts[1:]:
            out = BinaryExpr(Operation.AND, out, p)
        return out
    if isinstance(node, ast.Name):
        if node.id in ("True", "False", "None"):
            return LiteralExpr({"True": True, "False": False, "None": None}[node.id])
        return ColumnExpr(node.id)
    if isinstance(node, ast.Constant):
        return LiteralExpr(node.value)
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return LiteralExpr([_literal(e, text) for e in node.elts])
    raise ValueError(f"Unsupported syntax in the expression {text!r}: "
                     f"{ast.unparse(node)!r} (columns, constants, arithmetic, comparisons, "
                     f"and/or/not, in, is None are supported)")


def _literal(node, text):
    e = _from_ast(node, text)
    if not isinstance(e, LiteralExpr):
        raise ValueError(f"Unsupported syntax in the expression {text!r}: a list holds "
                         f"constants only, got {ast.unparse(node)!r}")
    return e.value


def _compare(op, left, right, text):
    if isinstance(op, (ast.Is, ast.IsNot)):
        if not (isinstance(right, ast.Constant) and right.value is None):
            raise ValueError(f"Unsupported syntax in the expression {text!r}: `is` compares "
                             f"with None only")
        e = _from_ast(left, text)
        return e.is_null() if isinstance(op, ast.Is) else e.is_not_null()
    if isinstance(op, (ast.In, ast.NotIn)):
        values = _from_ast(right, text)
        if not isinstance(values, LiteralExpr) or not isinstance(values.value, list):
            raise ValueError(f"Unsupported syntax in the expression {text!r}: `in` takes a "
                             f"list of constants")
        e = _from_ast(left, text)
        return e.is_in(values.value) if isinstance(op, ast.In) else e.not_in(values.value)
    return BinaryExpr(_CMP_OPS[type(op)], _from_ast(left, text), _from_ast(right, text))


__all__ = ["Operation", "Expr", "ColumnExpr", "LiteralExpr", "BinaryExpr", "UnaryExpr",
           "AliasExpr", "col", "lit"]
