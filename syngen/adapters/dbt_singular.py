"""A dbt project's singular tests (a query returning the rows that fail) read as the keys
they check, when their query has one of the common shapes:

- ``where c is null`` -> a ``not_null`` test on the column ``c`` copies;
- ``where c = 0`` (``c < 1``, ``c <= 0``, ``coalesce(c, 0) = 0``), ``c`` a count of a LEFT
  JOINed side's rows -> that join always matches (as for a ``not_null`` on what it reads);
- anti-joins, ``where x not in (select y ...)``, ``where not exists (select ... where y = x)``,
  ``left join ... on x = y where y is null`` -> every value of x has a row of y: at least one
  child per parent when x is a key, an FK to y when y is;
- ``group by k having count(*) > 1`` -> ``unique`` on k (``unique_combination_of_columns`` on several).

Several of these joined by OR each hold. Columns are followed with the models' lineage
(``dbt_lineage``); anything else is listed with the reason, never guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from syngen.adapters.dbt import DbtTest
from syngen.adapters.dbt_lineage import Link, join_equalities, uncounted

SHAPE = "a singular test of a shape syngen does not read"
SPELLED = "singular test"


@dataclass
class Singular:
    tests: list[DbtTest] = field(default_factory=list)  # the generic tests they amount to
    links: dict[Link, list[DbtTest]] = field(default_factory=dict)  # joins that must match, with their tests
    unmapped: list[str] = field(default_factory=list)


class _Unread(Exception):
    """Why (part of) a singular test is not read, in words for the user."""


def read_singular(project, models, lineage) -> Singular:
    """Every singular test of ``project`` (its SQL in ``models``) as tests and joins, or why not."""
    import sqlglot

    found = Singular()
    for path in project.singular:
        if path not in models.tests:
            found.unmapped.append(f"{SPELLED} {path}: it could not be rendered: {models.tests_failed.get(path)}")
            continue
        try:
            tree = lineage.query(models.tests[path])
            _Query(path, tree, lineage, found).read()
        except sqlglot.errors.SqlglotError as error:
            found.unmapped.append(
                f"{SPELLED} {path}: sqlglot cannot read its SQL: "
                f"{str(error).strip().splitlines()[0] if str(error).strip() else error}"
            )
        except _Unread as why:
            found.unmapped.append(f"{SPELLED} {path}: {why}")
    return found


class _Query:
    def __init__(self, path: str, tree, lineage, found: Singular):
        self.path, self.tree, self.lineage, self.found = path, tree, lineage, found

    def read(self) -> None:
        from sqlglot import exp
        from sqlglot.optimizer.scope import build_scope

        scope = build_scope(self.tree)
        select = _returned(scope) if scope is not None else None
        if select is None:
            raise _Unread(f"{SHAPE} (it returns no one query's rows: a union, or no select)")
        if select.args.get("group") is not None:
            return self._duplicates(select)
        where = select.args.get("where")
        if where is None or select.args.get("having") is not None:
            raise _Unread(f"{SHAPE} (no filter on its rows)")
        parts = list(where.this.flatten()) if isinstance(where.this, exp.Or) else [where.this]
        unread = []
        for part in parts:
            try:
                self._part(select, _unwrapped(part))
            except _Unread as why:
                unread.append(f"{part.sql()}: {why}")
        if unread:
            raise _Unread("; ".join(unread))

    def _part(self, select, part) -> None:
        from sqlglot import exp

        if isinstance(part, exp.Is) and isinstance(part.expression, exp.Null) and isinstance(part.this, exp.Column):
            return self._null(select, part.this)
        if isinstance(part, exp.Not) and isinstance(_unwrapped(part.this), exp.In):
            return self._not_in(select, _unwrapped(part.this))
        if isinstance(part, exp.Not) and isinstance(_unwrapped(part.this), exp.Exists):
            return self._not_exists(select, _unwrapped(part.this).this)
        counted = _compared_with_no_rows(part)
        if counted is not None:
            return self._no_rows(select, counted)
        raise _Unread(SHAPE)

    def _test(self, name: str, node: str, column: str, arguments: dict | None = None) -> DbtTest:
        return DbtTest(name, node, column, arguments or {}, self.path, spelled=SPELLED)

    def _follow(self, select, *columns):
        return self.lineage.follow(select, columns, self.path, self.tree)

    def _link(self, outer, inner, test: DbtTest, kind: str = "anti-join") -> None:
        """Every value of ``outer`` (a column of the rows tested) has a row of ``inner``."""
        for column in (outer, inner):
            if column.origin is None:
                raise _Unread(f"the column it joins on does not come from one seed column: {column.reason}")
        self.found.links.setdefault(Link(outer.origin, inner.origin, self.path, kind), []).append(test)

    def _null(self, select, column) -> None:
        """``c is null``: a not_null test, or, on a LEFT JOINed side's column, the rows that
        found none (and that c is never null where they did)."""
        join = next((j for j in select.args.get("joins") or [] if j.alias_or_name == column.table), None)
        if join is None:
            return self._not_null(select, column)
        if join.side != "LEFT":
            raise _Unread(f"{SHAPE} (null in a column of an inner join)")
        pairs = join_equalities(join) if join.args.get("on") is not None else []
        if len(pairs) != 1:
            raise _Unread(f"{SHAPE} (a LEFT JOIN on other than one pair of equal columns)")
        inner, outer = pairs[0]
        found = self._follow(select, outer, inner)
        self._link(found[0], found[1], self._test("anti-join", *_named(found[0], outer)))
        if inner.name != column.name:
            self._not_null(select, column)

    def _not_null(self, select, column) -> None:
        found = self._follow(select, column)[0]
        if found.copy_of is None:
            raise _Unread(f"{column.name} is no column of a seed or model: {found.reason}")
        self.found.tests.append(self._test("not_null", *found.copy_of))

    def _not_in(self, select, where_in) -> None:
        from sqlglot import exp

        query = where_in.args.get("query")
        inner = query.this if isinstance(query, exp.Subquery) else None
        if not isinstance(inner, exp.Select) or len(inner.selects) != 1 or not isinstance(where_in.this, exp.Column):
            raise _Unread(f"{SHAPE} (not in a list, or a query of more than one column)")
        if inner.args.get("where") is not None:
            raise _Unread(f"{SHAPE} (not in a filtered query: a subset of its rows)")
        outer = self._follow(select, where_in.this)[0]
        self._link(
            outer, self._follow(inner, inner.selects[0])[0], self._test("anti-join", *_named(outer, where_in.this))
        )

    def _not_exists(self, select, inner) -> None:
        """``not exists (select ... from child where child.y = outer.x)``: one equality, nothing else."""
        from sqlglot import exp

        where = inner.args.get("where") if isinstance(inner, exp.Select) else None
        condition = where.this if where is not None else None
        own = (
            {
                source.alias_or_name
                for source in [inner.args.get("from_") or inner.args.get("from")] + list(inner.args.get("joins") or [])
                if source is not None
            }
            if isinstance(inner, exp.Select)
            else set()
        )
        if not (
            isinstance(condition, exp.EQ)
            and isinstance(condition.left, exp.Column)
            and isinstance(condition.right, exp.Column)
            and (condition.left.table in own) != (condition.right.table in own)
        ):
            raise _Unread(f"{SHAPE} (not exists other than one correlated equality)")
        y, x = (condition.left, condition.right) if condition.left.table in own else (condition.right, condition.left)
        outer = self._follow(select, x)[0]
        self._link(outer, self._follow(inner, y)[0], self._test("anti-join", *_named(outer, x)))

    def _no_rows(self, select, column) -> None:
        """A count of a LEFT JOINed side's rows that is 0: those joins always match."""
        found = self._follow(select, column)[0]
        if not found.counts:
            raise _Unread(f"{column.name} is not a count of rows a LEFT JOIN reads")
        test = self._test("count", *_named(found, column))
        for link in found.counts:
            self.found.links.setdefault(link, []).append(test)

    def _duplicates(self, select) -> None:
        """``group by k having count(*) > 1`` (and ``where k is not null``): k is unique."""
        from sqlglot import exp

        having = select.args.get("having")
        condition = having.this if having is not None else None
        many = (
            isinstance(condition, (exp.GT, exp.GTE))
            and isinstance(condition.this, exp.Count)
            and isinstance(condition.expression, exp.Literal)
            and condition.expression.this == ("1" if isinstance(condition, exp.GT) else "2")
        )
        keys = select.args["group"].expressions
        where = select.args.get("where")
        filters = (
            list(where.this.flatten())
            if where is not None and isinstance(where.this, exp.And)
            else [where.this]
            if where is not None
            else []
        )
        if (
            not many
            or select.args.get("joins")
            or not all(isinstance(k, exp.Column) for k in keys)
            or not all(isinstance(f, exp.Not) and isinstance(f.this, exp.Is) and f.this.this in keys for f in filters)
        ):
            raise _Unread(f"{SHAPE} (a grouping that is no check of duplicates of all rows)")
        found = self._follow(select, *keys)
        places = [column.copy_of for column in found]
        if None in places or len({place[0] for place in places}) != 1:
            why = next((c.reason for c in found if c.copy_of is None), "they come from several seeds or models")
            raise _Unread(f"its grouping columns are not columns of one seed or model: {why}")
        node = places[0][0]
        if len(places) == 1:
            self.found.tests.append(self._test("unique", node, places[0][1]))
        else:
            self.found.tests.append(
                self._test(
                    "unique_combination_of_columns",
                    node,
                    "",
                    {"combination_of_columns": [column for _, column in places]},
                )
            )


def _returned(scope):
    """The query whose rows a test returns: past ``select * from cte`` wrappers (no filter,
    join or grouping) to the query they read; None for a union."""
    from sqlglot import exp

    while isinstance(scope.expression, exp.Select):
        select = scope.expression
        if (
            any(select.args.get(k) is not None for k in ("where", "group", "having", "joins"))
            or len(scope.sources) != 1
        ):
            return select
        source = next(iter(scope.sources.values()))
        if isinstance(source, exp.Table):
            return select
        scope = source
    return None


def _unwrapped(expression):
    from sqlglot import exp

    while isinstance(expression, exp.Paren):
        expression = expression.this
    return expression


def _named(found, column) -> tuple[str, str]:
    """The node and column a test line names: what the column copies, else as the test writes it."""
    return found.copy_of or ("", column.name)


def _compared_with_no_rows(part):
    """The column of ``c = 0``, ``c < 1``, ``c <= 0`` (either way round; c may be in a
    ``coalesce(c, 0)``), else None."""
    from sqlglot import exp

    if not isinstance(part, (exp.EQ, exp.LT, exp.LTE, exp.GT, exp.GTE)):
        return None
    flipped = {exp.GT: exp.LT, exp.GTE: exp.LTE}
    column, number = part.this, part.expression
    kind: type[exp.Binary] = type(part)
    if isinstance(column, exp.Literal):
        column, number, kind = number, column, flipped.get(kind, kind)
    elif kind in flipped:
        return None
    column = uncounted(column)
    limit = {exp.EQ: "0", exp.LT: "1", exp.LTE: "0"}.get(kind)
    if (
        isinstance(column, exp.Column)
        and isinstance(number, exp.Literal)
        and not number.is_string
        and number.this == limit
    ):
        return column
    return None
