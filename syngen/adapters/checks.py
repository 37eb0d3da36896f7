"""CHECK constraints and column DEFAULTs, carried from a source database to a target one.

At training a CHECK is parsed (sqlglot) into a portable form whose column names are the
table's own; only forms generated rows can be made to satisfy are kept: ``col op literal``,
``BETWEEN``, ``IN (...)``, ``length(col) op n``, ``col op other_col``, ``IS NOT NULL``, and
AND/OR of those. Before each batch is written, ``repair`` makes every row satisfy them
(values clipped to their bound, an allowed value drawn by the batch's own frequencies,
ordered columns swapped), so a target that declares the CHECK never refuses a row. A CHECK
on key columns is left out: changing a key value could repeat it or break a link.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlglot
from sqlglot import exp

DIALECTS = {"postgresql": "postgres", "sqlite": "sqlite", "duckdb": "duckdb", "mysql": "mysql"}
_COMPARISONS = {exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<=", exp.EQ: "=", exp.NEQ: "<>"}
_FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "=": "=", "<>": "<>"}
_DEFAULT_FUNCTIONS = (exp.CurrentTimestamp, exp.CurrentDate, exp.CurrentTime)
_PASSES = 3  # repairing one CHECK can break another on the same column: a few rounds settle it


def _dialect(name: str) -> str | None:
    return DIALECTS.get(name)


def _literal(node) -> str | int | float | None:
    """The Python value of a literal (through casts, signs and parentheses), else None."""
    while isinstance(node, (exp.Cast, exp.Paren)):
        node = node.this
    if isinstance(node, exp.Neg):
        value = _literal(node.this)
        return -value if isinstance(value, (int, float)) else None
    if isinstance(node, exp.Literal):
        if node.is_string:
            return node.this
        number = float(node.this)
        return int(number) if number.is_integer() and "." not in node.this else number
    return None


def _cast_literal(node: exp.Expression) -> exp.Expression:
    """A cast literal as the literal it becomes: PostgreSQL keeps ``lat >= -90`` as
    ``lat >= ('-90'::integer)::numeric``, a number, while ``'a'::text`` stays text."""
    if not isinstance(node, exp.Cast):
        return node
    value = _literal(node)
    if value is None:
        return node
    if isinstance(value, str) and any(c.to.is_type(*exp.DataType.NUMERIC_TYPES) for c in node.find_all(exp.Cast)):
        spelled = _number(value)
        value = spelled if spelled is not None else value
    if isinstance(value, str):
        return exp.Literal.string(value)
    number = exp.Literal.number(abs(value))
    return exp.Neg(this=number) if value < 0 else number


def _number(text: str) -> int | float | None:
    """The number a text spells ('-90', '2.5'), else None."""
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() else value


def _plain(node: exp.Expr) -> exp.Expr:
    """The expression without parentheses, casts of literals, and ``= ANY(ARRAY[..])``
    (PostgreSQL's spelling of IN) as IN."""
    node = node.transform(_cast_literal)
    while node.find(exp.Paren):  # a replaced node's own children are not visited again
        node = node.transform(lambda n: n.this if isinstance(n, exp.Paren) else n)

    def any_to_in(n):
        if isinstance(n, exp.EQ) and isinstance(n.expression, exp.Any):
            items = n.expression.this
            items = items.this if isinstance(items, exp.Paren) else items
            if isinstance(items, exp.Array):
                return exp.In(this=n.this, expressions=items.expressions)
        return n

    return node.transform(any_to_in)


def _columns_named(node: exp.Expr, columns: list[str]) -> exp.Expr | None:
    """Column references spelled as the table spells them (SQL names are case-insensitive)."""
    exact = {c.lower(): c for c in columns}
    for column in node.find_all(exp.Column):
        name = exact.get(column.name.lower())
        if name is None or column.table:
            return None
        column.set("this", exp.to_identifier(name, quoted=True))
    return node


def _supported(node: exp.Expr) -> bool:
    if isinstance(node, (exp.And, exp.Or)):
        return _supported(node.this) and _supported(node.expression)
    if isinstance(node, exp.Not) and isinstance(node.this, exp.Is):
        return isinstance(node.this.this, exp.Column) and isinstance(node.this.expression, exp.Null)
    if isinstance(node, exp.Between):
        return isinstance(node.this, exp.Column) and None not in (
            _literal(node.args["low"]),
            _literal(node.args["high"]),
        )
    if isinstance(node, exp.In):
        return isinstance(node.this, exp.Column) and all(_literal(e) is not None for e in node.expressions)
    if type(node) in _COMPARISONS:
        left, right = node.this, node.expression
        if isinstance(left, exp.Length) and isinstance(left.this, exp.Column):
            return isinstance(_literal(right), int)
        if isinstance(left, exp.Column) and isinstance(right, exp.Column):
            return type(node) not in (exp.EQ, exp.NEQ)
        return (
            isinstance(left, exp.Column)
            and _literal(right) is not None
            or isinstance(right, exp.Column)
            and _literal(left) is not None
        )
    return False


def portable_check(sql: str, dialect: str, columns: list[str], keys: set[str]) -> tuple[str | None, str]:
    """The CHECK as portable SQL (sqlglot's own dialect) when it can be guaranteed, else
    (None, why not)."""
    try:
        parsed = sqlglot.parse_one(sql, read=_dialect(dialect))
    except sqlglot.errors.ParseError:
        return None, "it could not be parsed"
    node = _columns_named(_plain(parsed), columns)
    if node is None:
        return None, "it names a column that is not generated"
    if not _supported(node):
        return None, "generated rows cannot be guaranteed to satisfy it"
    if {c.name for c in node.find_all(exp.Column)} & keys:
        return None, "it is on key columns, whose values are not changed after generation"
    return node.sql(), ""


def portable_default(sql: str, dialect: str) -> str | None:
    """A column DEFAULT as portable SQL when it is a constant or the current date/time (not
    a sequence or a function of the source database), else None."""
    try:
        node = _plain(sqlglot.parse_one(sql, read=_dialect(dialect)))
    except sqlglot.errors.ParseError:
        return None
    if _literal(node) is not None or isinstance(node, (exp.Null, exp.Boolean, *_DEFAULT_FUNCTIONS)):
        return node.sql()
    return None


def check_columns(portable: str) -> set[str]:
    return {c.name for c in sqlglot.parse_one(portable).find_all(exp.Column)}


def to_dialect(portable: str, dialect: str) -> str:
    """Portable SQL in a target's dialect, identifiers quoted by sqlglot."""
    return sqlglot.transpile(portable, write=_dialect(dialect), identify=True)[0]


# -- making generated rows satisfy them --------------------------------------------------------


def repair(frame: pd.DataFrame, checks: list[str], seed: int = 0) -> pd.DataFrame:
    """The frame with every row satisfying every CHECK (portable SQL from ``portable_check``).
    A row passes a CHECK that is unknown for it (a null), as in SQL."""
    frame = frame.copy()
    rng = np.random.default_rng(seed)
    nodes = [sqlglot.parse_one(check) for check in checks]
    for _ in range(_PASSES):
        for node in nodes:
            _repair(frame, node, rng)
        if not any(_violated(frame, node).any() for node in nodes):
            break
    return frame


def violations(frame: pd.DataFrame, check: str) -> int:
    """Rows whose values make the CHECK false."""
    return int(_violated(frame, sqlglot.parse_one(check)).sum())


def _violated(frame: pd.DataFrame, node) -> pd.Series:
    return _evaluate(frame, node).eq(False).fillna(False).astype(bool)


def _value(frame, node):
    return frame[node.name] if isinstance(node, exp.Column) else _literal(node)


def _compare(left, op: str, right) -> pd.Series:
    result = {
        ">": lambda: left > right,
        ">=": lambda: left >= right,
        "<": lambda: left < right,
        "<=": lambda: left <= right,
        "=": lambda: left == right,
        "<>": lambda: left != right,
    }[op]()
    unknown = pd.isna(left) | pd.isna(right) if isinstance(left, pd.Series) or isinstance(right, pd.Series) else False
    return pd.Series(result, dtype="boolean").mask(unknown)


def _evaluate(frame: pd.DataFrame, node) -> pd.Series:
    """True, False or NA (unknown) per row, with SQL's three-valued AND and OR."""
    if isinstance(node, exp.And):
        return _evaluate(frame, node.this) & _evaluate(frame, node.expression)
    if isinstance(node, exp.Or):
        return _evaluate(frame, node.this) | _evaluate(frame, node.expression)
    if isinstance(node, exp.Not):
        return pd.Series(frame[node.this.this.name].notna(), dtype="boolean")
    if isinstance(node, exp.Between):
        values = frame[node.this.name]
        return _compare(values, ">=", _literal(node.args["low"])) & _compare(values, "<=", _literal(node.args["high"]))
    if isinstance(node, exp.In):
        values = frame[node.this.name]
        return pd.Series(values.isin([_literal(e) for e in node.expressions]), dtype="boolean").mask(values.isna())
    left, right, op = node.this, node.expression, _COMPARISONS[type(node)]
    if isinstance(left, exp.Length):
        text = frame[left.this.name]
        return _compare(text.astype("string").str.len(), op, _literal(right))
    return _compare(_value(frame, left), op, _value(frame, right))


def _repair(frame: pd.DataFrame, node, rng) -> None:
    bad = _violated(frame, node).to_numpy()
    if not bad.any():
        return
    if isinstance(node, (exp.And, exp.Or)):  # AND: each side; OR: the first side suffices
        _repair(frame, node.this, rng)
        if isinstance(node, exp.And):
            _repair(frame, node.expression, rng)
        return
    if isinstance(node, exp.Not):
        _draw(frame, node.this.this.name, bad, frame[node.this.this.name].notna().to_numpy(), rng)
    elif isinstance(node, exp.Between):
        name = node.this.name
        frame[name] = frame[name].clip(_literal(node.args["low"]), _literal(node.args["high"]))
    elif isinstance(node, exp.In):
        name = node.this.name
        allowed = [_literal(e) for e in node.expressions]
        good = frame[name].isin(allowed).to_numpy()
        if good.any():
            _draw(frame, name, bad, good, rng)
        else:
            frame.loc[bad, name] = rng.choice(np.array(allowed, dtype=object), int(bad.sum()))
    elif isinstance(node.this, exp.Length):
        _repair_length(frame, node.this.this.name, _COMPARISONS[type(node)], _literal(node.expression), bad)
    elif isinstance(node.this, exp.Column) and isinstance(node.expression, exp.Column):
        _repair_order(frame, node.this.name, _COMPARISONS[type(node)], node.expression.name, bad)
    else:
        column, op, bound = (
            (node.this, _COMPARISONS[type(node)], _literal(node.expression))
            if isinstance(node.this, exp.Column)
            else (node.expression, _FLIP[_COMPARISONS[type(node)]], _literal(node.this))
        )
        _repair_bound(frame, column.name, op, bound, bad, rng)


def _draw(frame, name, bad, good, rng) -> None:
    """Violating rows take values of rows that pass, by their frequencies."""
    if good.any():
        frame.loc[bad, name] = frame[name].to_numpy()[rng.choice(np.flatnonzero(good), int(bad.sum()))]


def _step(values: pd.Series, bound, up: bool):
    """The nearest value beyond ``bound`` that the column's type can hold."""
    if pd.api.types.is_integer_dtype(values) or isinstance(bound, int) and not pd.api.types.is_float_dtype(values):
        return bound + (1 if up else -1)
    return np.nextafter(bound, np.inf if up else -np.inf)


def _repair_bound(frame, name, op, bound, bad, rng) -> None:
    values = frame[name]
    if op in (">=", "<="):
        target = bound
    elif op in (">", "<"):
        target = _step(values, bound, op == ">")
    elif op == "=":
        target = bound
    else:  # <>: another value of the column
        _draw(frame, name, bad, ~bad & values.notna().to_numpy(), rng)
        return
    frame.loc[bad, name] = target


def _repair_length(frame, name, op, n, bad) -> None:
    text = frame.loc[bad, name].astype(str)
    longest = n - 1 if op == "<" else n if op in ("<=", "=") else None
    shortest = n + 1 if op == ">" else n if op in (">=", "=") else None
    if longest is not None:
        text = text.str.slice(0, longest)
    if shortest is not None:
        text = text.str.pad(shortest, side="right", fillchar="0")
    frame.loc[bad, name] = text


def _repair_order(frame, left, op, right, bad) -> None:
    """``left op right``: the two values swapped; where equal and the order is strict, the
    right one moved past the left by one step."""
    low, high = (left, right) if op in ("<", "<=") else (right, left)
    a, b = frame.loc[bad, low].copy(), frame.loc[bad, high].copy()
    frame.loc[bad, low], frame.loc[bad, high] = b.to_numpy(), a.to_numpy()
    if op in ("<", ">"):
        equal = bad & (frame[low] == frame[high]).fillna(False).to_numpy()
        if equal.any():
            values = frame[high]
            step = (
                pd.Timedelta(seconds=1)
                if pd.api.types.is_datetime64_any_dtype(values)
                else 1
                if pd.api.types.is_integer_dtype(values)
                else 1e-9
            )
            frame.loc[equal, high] = values[equal] + step
