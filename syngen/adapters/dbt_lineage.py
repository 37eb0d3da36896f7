"""Where a dbt model's columns come from, by sqlglot's own lineage.

Models are read in DAG order, each qualified (``sqlglot.optimizer.qualify``) against the
columns of what it reads: seeds from their CSV headers, models from the models read before
it. Each output column is then followed with ``sqlglot.lineage`` through CTE chains,
``select *``, aliases, joins, unions, subqueries and group-bys down to seed columns. A column
that is a plain copy (renamed, or cast) of exactly one seed column has that as its origin;
any other is computed, from the seed columns it reads. A copy read through a LEFT JOIN
carries the join: a ``not_null`` test on it means that every row of the left side found a
row of the joined side (every order has a payment). A model's rows that keep a unique column
unique through equality joins need each joined side to have one row per join key: ``lookups``
follows those sides, through CTEs, subqueries and models, to the seed columns behind their keys.
A count of a LEFT JOINed side's rows (``coalesce(totals.item_count, 0)``) carries that join
too: it is 0 exactly where the join found no row. Singular tests' queries are read with the
same machinery (``query``, ``follow``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from typing import Any

from syngen.adapters.dbt_render import NODES, Models


@dataclass(frozen=True)
class Link:
    """A LEFT JOIN a not_null test says always matches: each value of ``outer`` (the left
    side's join column) has a row of ``inner`` (the joined side's); both (seed, column)."""

    outer: tuple[str, str]
    inner: tuple[str, str]
    model: str  # where the join is
    kind: str = "LEFT JOIN"  # or "INNER JOIN" its joined side's rows come through, or a singular test's "anti-join"


@dataclass(frozen=True)
class Lookup:
    """An equality join a model's rows pass through: for a column unique in them to stay
    unique, the joined side needs one row per value of ``inner`` (seed columns, of one seed);
    ``outer`` is the seed column the join equates with it, when there is one."""

    inner: tuple[tuple[str, str], ...]
    outer: tuple[str, str] | None
    model: str  # where the join is


@dataclass
class Column:
    origin: tuple[str, str] | None = None  # (seed, column) it is a plain copy of
    sources: set[tuple[str, str]] = field(default_factory=set)  # the seed columns it is computed from
    reason: str | None = None  # why it has no origin, for the user
    links: list[Link] = field(default_factory=list)
    counts: list[Link] | None = None  # a count of rows: 0 where these LEFT JOINs found none
    copy_of: tuple[str, str] | None = None  # (seed or model, column) it is a plain copy of, the nearest


@dataclass
class Lineage:
    columns: dict[tuple[str, str], Column] = field(default_factory=dict)  # (model, column in lower case)
    failed: dict[str, str] = field(default_factory=dict)  # model -> why its columns cannot be followed
    seed_columns: dict[str, dict[str, str]] = field(default_factory=dict)  # seed -> lower case -> as written
    tracer: _Tracer | None = field(default=None, repr=False, compare=False)

    def of(self, model: str, column: str) -> Column | None:
        return self.columns.get((model, column.lower()))

    def lookups(self, model: str, columns) -> tuple[list[Lookup], list[str]]:
        """The joins a model's rows pass through whose joined side must be unique on its join
        columns for ``columns`` to stay unique, and (text) those that cannot be followed."""
        return self.tracer.lookups(model, columns) if self.tracer else ([], [])

    def query(self, sql: str):
        """A query over the seeds and models (a singular test's), qualified against their
        columns; sqlglot's errors are the caller's to word."""
        assert self.tracer is not None  # made by trace
        return self.tracer.query(sql)

    def follow(self, select, columns, name: str, tree) -> tuple[Column, ...]:
        """Where ``columns`` of ``select`` (a query in ``tree``, read by ``query``) come from,
        with the LEFT JOINs they are read through and the counts they are."""
        from sqlglot import exp

        with_clause = next((w for w in tree.find_all(exp.With) if w.parent is tree), None)
        assert self.tracer is not None  # made by trace
        return self.tracer.probe(select, columns, name, with_clause, joins=True)


def trace(project, models: Models) -> Lineage:
    """Every model column's origin (or why it has none), and its LEFT JOIN links."""
    return _Tracer(project, models).run()


def seed_header(path) -> list[str]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return next(csv.reader(handle), [])


class _Tracer:
    def __init__(self, project, models: Models):
        self.project, self.models, self.dialect = project, models, models.dialect
        self.lineage = Lineage(failed={m: f"it could not be rendered: {why}" for m, why in models.failed.items()})
        self.lineage.seed_columns = {
            seed: {c.lower(): c for c in seed_header(path)} for seed, path in project.seeds.items()
        }
        self.nodes: dict[str, dict[str, str]] = {  # seed or model -> its columns, as qualify reads them
            seed: {c: "VARCHAR" for c in columns.values()} for seed, columns in self.lineage.seed_columns.items()
        }
        self.schema: dict[str, object] = {NODES: self.nodes}
        self.probes: dict[str, tuple[Column, ...]] = {}
        self.scopes: dict[str, Any] = {}  # model -> the root scope of its qualified SQL
        self.withs: dict[str, Any] = {}  # model -> its top-level WITH
        self.lineage.tracer = self

    def run(self) -> Lineage:
        import sqlglot

        trees = {}
        for model, sql in self.models.sql.items():
            try:
                trees[model] = self._named(sqlglot.parse_one(sql, dialect=self.dialect))
            except sqlglot.errors.SqlglotError as error:
                self.lineage.failed[model] = f"sqlglot cannot parse its SQL: {_first_line(error)}"
        for model in _dag_order({model: self._read_nodes(tree) for model, tree in trees.items()}):
            self._model(model, trees[model])
        return self.lineage

    def _read_nodes(self, tree) -> set[str]:
        """The seeds and models a model reads."""
        from sqlglot import exp

        return {node for t in tree.find_all(exp.Table) if (node := self._node(t))}

    def _node(self, table) -> str | None:
        """The seed or model a ``dbt_nodes.<name>`` table is (names normalised by qualify)."""
        return self.models.relations.get(table.name.lower()) if table.db == NODES else None

    def _named(self, tree):
        """Seeds and models as ``dbt_nodes.<name>``, also where dbt compiled them to
        ``"database"."schema"."alias"`` (a bare name may be a CTE: left as it is)."""
        from sqlglot import exp

        for table in tree.find_all(exp.Table):
            node = self.models.relations.get(table.name.lower())
            if node is not None and (table.db or table.catalog) and table.db != NODES:
                table.set("catalog", None)
                table.set("db", exp.to_identifier(NODES))
                table.set("this", exp.to_identifier(node))
        return tree

    def query(self, sql: str):
        import sqlglot
        from sqlglot.optimizer.qualify import qualify

        return _using_columns(
            qualify(self._named(sqlglot.parse_one(sql, dialect=self.dialect)), schema=self.schema, dialect=self.dialect)
        )

    def _model(self, model: str, tree) -> None:
        import sqlglot
        from sqlglot import exp
        from sqlglot.lineage import lineage
        from sqlglot.optimizer.qualify import qualify
        from sqlglot.optimizer.scope import build_scope

        unreadable = sorted({n for n in self._read_nodes(tree) if n in self.lineage.failed}) + _outside(tree)
        try:
            tree = _using_columns(qualify(tree, schema=self.schema, dialect=self.dialect))
            outputs = tree.named_selects
            if "*" in outputs or not outputs:
                raise sqlglot.errors.OptimizeError("its columns cannot be listed")
            scope = build_scope(tree)
            columns = {
                name: lineage(name, tree, schema=self.schema, dialect=self.dialect, scope=scope) for name in outputs
            }
        except sqlglot.errors.SqlglotError as error:
            self.lineage.failed[model] = (
                f"it reads {', '.join(unreadable)}, whose columns are not known (not "
                "a seed, or a model that cannot be read)"
                if unreadable
                else f"its columns cannot be followed: {_first_line(error)}"
            )
            return
        self.nodes[model] = {name: "VARCHAR" for name in outputs}
        with_clause = next((w for w in tree.find_all(exp.With) if w.parent is tree), None)
        self.scopes[model], self.withs[model] = scope, with_clause
        for name, node in columns.items():
            self.lineage.columns[(model, name.lower())] = self._column(node, model, with_clause)

    def _column(self, node, model: str, with_clause, joins: bool = True) -> Column:
        """Follow one column's lineage nodes: copies down to seed columns, and (``joins``)
        the LEFT JOINs they are read through."""
        from sqlglot import exp

        leaves, links, constant, counts = [], [], False, None
        # counted: the LEFT JOINs above, on a path to a count
        stack: list[tuple[Any, bool, list[Link] | None]] = [(node, True, [] if joins else None)]
        while stack:
            step, copied, counted = stack.pop()
            if isinstance(step.expression, exp.Table):
                leaves.append((step.expression, _column_name(step.name, self.dialect), copied, counted))
                continue
            copy = copied and _is_copy(step.expression)
            counting = counted is not None and isinstance(uncounted(step.expression), exp.Column)
            joined = self._links(step, model, with_clause) if joins and (copy or counting) else []
            links += joined if copy else []
            if counted is not None and isinstance(uncounted(step.expression), exp.Count):
                counts = (counts or []) + counted
            counted = counted + joined if counting and counted is not None else None
            if not step.downstream:
                constant = True
            stack += [(child, copy, counted) for child in step.downstream]
        column = Column(links=links)
        origins, unknown, inherited = set(), [], []
        if len(leaves) == 1 and leaves[0][2] and not constant and (copied_node := self._node(leaves[0][0])):
            column.copy_of = (copied_node, leaves[0][1])
        for table, name, copied, counted in leaves:
            found = self._leaf(table, name)
            if not isinstance(found, str) and counted is not None and found.counts is not None:
                counts = (counts or []) + counted + found.counts
            if isinstance(found, str):
                unknown.append(found)
            elif found.origin is not None:
                column.sources.add(found.origin)
                origins.add(found.origin if copied else None)
                if copied:
                    column.links += found.links
            else:
                column.sources |= found.sources
                origins.add(None)
                if found.reason and not found.sources:
                    unknown.append(found.reason)
                elif copied:  # a copy of a model's column that has no origin: its reason is this one's
                    inherited.append(found.reason)
        column.links = list(dict.fromkeys(column.links))
        column.counts = None if counts is None else list(dict.fromkeys(counts))
        if unknown:
            column.reason = unknown[0]
        elif len(origins) == 1 and None not in origins and not constant:
            column.origin = origins.pop()
        elif None not in origins and len(origins) > 1 and not constant:
            column.reason = f"it comes from {_names(origins, ' and ')}, not from one seed column"
        elif len(leaves) == 1 and inherited and not constant:
            column.reason = inherited[0]
        else:
            column.reason = (
                f"it is computed from {_names(column.sources, ', ')}"
                if column.sources
                else "it is computed from no seed column"
            )
        return column

    def _leaf(self, table, name: str) -> Column | str:
        """What a lineage leaf is: a seed column, a column of a model read before, or (text)
        why neither."""
        node = self._node(table)
        if node is not None and node in self.project.seeds:
            written = self.lineage.seed_columns[node].get(name.lower())
            return Column(origin=(node, written)) if written else f"seed {node} has no column {name}"
        if node is not None and node in self.project.models:
            found = self.lineage.of(node, name)
            if found is not None:
                return found
            return (
                f"model {node}: {self.lineage.failed[node]}"
                if node in self.lineage.failed
                else f"model {node} has no column {name}"
            )
        return f"it comes from {table.sql(dialect=self.dialect)}, which is not one of the project's seeds"

    def _links(self, step, model: str, with_clause) -> list[Link]:
        """The LEFT JOINs of this step's query whose joined side the copied column is read from."""
        from sqlglot import exp

        query = step.source
        if not isinstance(query, exp.Select):
            return []
        read = {c.table for c in step.expression.find_all(exp.Column)}
        links = []
        for join in query.args.get("joins") or []:
            alias = join.alias_or_name
            if join.side != "LEFT" or alias not in read or not isinstance(join.args.get("on"), exp.EQ):
                continue  # a composite join condition, or no condition: no single key to keep
            pairs = join_equalities(join)
            if not pairs:
                continue
            inner, outer = pairs[0]
            outer_column, inner_column = self.probe(query, (outer, inner), model, with_clause)
            if outer_column.origin and inner_column.origin:
                links.append(Link(outer_column.origin, inner_column.origin, model))
                links += self._joined_rows(query, alias, model, with_clause)
        return links

    def _joined_rows(self, query, alias: str, model: str, with_clause) -> list[Link]:
        """The INNER JOINs the rows of a query's LEFT JOINed side ``alias`` come through: for
        the side to have a row, each of these must match too."""
        from sqlglot import exp
        from sqlglot.optimizer.scope import build_scope

        query = query.copy()
        if with_clause is not None and not any(w.parent is query for w in query.find_all(exp.With)):
            query.set(with_clause.arg_key, with_clause.copy())
        scope = build_scope(query)
        return self._inner_joins(scope.sources.get(alias) if scope else None, model, with_clause)

    def _inner_joins(self, source, model: str, with_clause) -> list[Link]:
        """The INNER JOINs (on one pair of equal columns) of a source's rows, down its FROMs,
        through CTEs, subqueries and models, as (FROM side's column, joined side's)."""
        from sqlglot import exp

        if isinstance(source, exp.Table):
            node = self._node(source)
            return self._inner_joins(self.scopes[node], node, self.withs[node]) if node in self.scopes else []
        select = getattr(source, "expression", None)
        if not isinstance(select, exp.Select):
            return []
        links = []
        for join in select.args.get("joins") or []:
            inner_join = not join.side and join.kind in ("", "INNER") and join.args.get("on") is not None
            pairs = join_equalities(join) if inner_join else []
            if len(pairs) == 1:
                outer, inner = self.probe(select, (pairs[0][1], pairs[0][0]), model, with_clause)
                if outer.origin and inner.origin:
                    links.append(Link(outer.origin, inner.origin, model, "INNER JOIN"))
        start = select.args.get("from_") or select.args.get("from")
        return links + (
            self._inner_joins(source.sources.get(start.this.alias_or_name), model, with_clause)
            if start is not None
            else []
        )

    def probe(self, query, columns, model: str, with_clause, joins: bool = False) -> tuple[Column, ...]:
        """Where columns a query reads come from: the query with only them selected (and no
        filter, grouping or what it is compared with: they choose rows, not where columns
        come from), followed; ``joins``: with the LEFT JOINs they are read through."""
        import sqlglot
        from sqlglot import exp
        from sqlglot.lineage import lineage

        probe = query.copy()
        probe.set("expressions", [c.copy().as_(f"syngen_{i}") for i, c in enumerate(columns)])
        for clause in ("where", "group", "having"):
            probe.set(clause, None)
        seen = _ctes_seen(query, with_clause)  # the CTEs the query reads
        own = next((w for w in probe.find_all(exp.With) if w.parent is probe), None)
        if own is None and seen:
            probe.set("with_", exp.With(expressions=seen))
        elif own is not None and seen:
            names = {cte.alias_or_name for cte in own.expressions}
            own.set("expressions", [cte for cte in seen if cte.alias_or_name not in names] + own.expressions)
        key = f"{model}:{joins}:{probe.sql()}"
        if key not in self.probes:
            try:
                self.probes[key] = tuple(
                    self._column(
                        lineage(f"syngen_{i}", probe, schema=self.schema, dialect=self.dialect),
                        model,
                        with_clause,
                        joins=joins,
                    )
                    for i in range(len(columns))
                )
            except sqlglot.errors.SqlglotError as error:
                self.probes[key] = tuple(Column(reason=f"it cannot be followed: {_first_line(error)}") for _ in columns)
        return self.probes[key]

    def lookups(self, model: str, columns) -> tuple[list[Lookup], list[str]]:
        found: list[Lookup] = []
        why: list[str] = []
        if model in self.scopes:
            self._unique(self.scopes[model], tuple(c.lower() for c in columns), model, found, why)
        return list(dict.fromkeys(found)), list(dict.fromkeys(why))

    def _unique(self, scope, names: tuple[str, ...], model: str, found: list, why: list):
        """The seed columns behind ``names`` of the rows a query gives, the joins on the way
        that could repeat them put in ``found`` (``why``: those that cannot be followed).
        ``()`` when its rows are one per value already (grouped, distinct); None when they
        come from no one seed's columns."""
        from sqlglot import exp

        select = scope.expression
        if not isinstance(select, exp.Select):
            return None  # a union: rows of several queries
        projections = {p.alias_or_name.lower(): _copied(p) for p in select.selects}
        if any(name not in projections for name in names):
            return None
        picked = [projections[name] for name in names]
        per = _one_row_per(select)
        if per is not None:  # unique already on what it is grouped by, else beyond what a key can keep
            return () if per <= {p.sql() for p in picked} else None
        read = {column.table for p in picked for column in p.find_all(exp.Column)}
        if len(read) != 1:
            return None
        alias = read.pop()
        start = select.args.get("from_") or select.args.get("from")
        if start is not None and start.this.alias_or_name == alias:
            for join in select.args.get("joins") or []:
                self._lookup(scope, select, join, model, found, why)
        if not all(isinstance(p, exp.Column) for p in picked):
            return None
        return self._source_unique(scope, alias, tuple(p.name.lower() for p in picked), model, found, why)

    def _lookup(self, scope, select, join, model: str, found: list, why: list) -> None:
        """One join of the rows that must stay unique: its joined side needs one row per key."""
        if join.kind in ("SEMI", "ANTI"):
            return  # filters rows, never repeats them
        alias = join.alias_or_name
        pairs = join_equalities(join) if join.side in ("", "LEFT") and join.kind != "CROSS" else []
        if not pairs:
            why.append(
                f"the join of {alias} in {model} is no LEFT or INNER join on equal columns, so its rows "
                "may repeat the others'"
            )
            return
        names = tuple(dict.fromkeys(inner.name.lower() for inner, _ in pairs))
        inner = self._source_unique(scope, alias, names, model, found, why)
        if inner is None:
            why.append(
                f"the join of {alias} in {model} on {', '.join(names)}: its columns do not come unchanged "
                "from one seed's, so they cannot be kept unique"
            )
        elif inner:
            outer = self.probe(select, (pairs[0][1],), model, self.withs[model])[0].origin if len(pairs) == 1 else None
            found.append(Lookup(inner, outer, model))

    def _source_unique(self, scope, alias: str, names: tuple[str, ...], model: str, found: list, why: list):
        """``_unique`` of what a query reads as ``alias``: a CTE or subquery, a model or a seed."""
        from sqlglot import exp

        source = scope.sources.get(alias)
        if not isinstance(source, exp.Table):
            return None if source is None else self._unique(source, names, model, found, why)
        node = self._node(source)
        if node is not None and node in self.project.seeds:
            written = tuple(self.lineage.seed_columns[node].get(name) for name in names)
            return None if None in written else tuple((node, column) for column in written)
        if node in self.scopes:
            return self._unique(self.scopes[node], names, node, found, why)
        return None


def _ctes_seen(query, with_clause) -> list:
    """Copies of the CTEs a query can read, outermost first: those of every WITH around it in
    its tree (a nearer one hides a farther one of its name: dbt's ephemeral models are CTEs
    with WITHs of their own), or, for a query out of its tree, the model's top-level ones."""
    from sqlglot import exp

    withs: list = []
    node = query.parent
    while node is not None:
        found = node if isinstance(node, exp.With) else node.args.get("with_") if isinstance(node, exp.Query) else None
        if found is not None and all(found is not w for w in withs):
            withs.append(found)
        node = node.parent
    if not withs and with_clause is not None:
        withs = [with_clause]
    ctes, names = [], set()
    for with_ in withs:
        for cte in with_.expressions:
            if cte.alias_or_name not in names:
                names.add(cte.alias_or_name)
                ctes.append((len(withs) - withs.index(with_), cte))
    return [cte.copy() for _, cte in sorted(ctes, key=lambda pair: pair[0])]


def _is_copy(expression) -> bool:
    """A projection that only renames or casts one column."""
    from sqlglot import exp

    return isinstance(_copied(expression), exp.Column)


def uncounted(expression):
    """A projection without its alias, casts and a ``coalesce(x, 0)`` around it: what a count
    of a LEFT JOINed side is read as, where it found no row."""
    from sqlglot import exp

    inner = _copied(expression)
    while (
        isinstance(inner, exp.Coalesce)
        and len(inner.expressions) == 1
        and isinstance(inner.expressions[0], exp.Literal)
        and inner.expressions[0].this == "0"
    ):
        inner = _copied(inner.this)
    return inner


def _copied(expression):
    """A projection without its alias and casts: the column it copies, or what it computes."""
    from sqlglot import exp

    inner = expression.this if isinstance(expression, exp.Alias) else expression
    while isinstance(inner, (exp.Cast, exp.Paren)):
        inner = inner.this
    return inner


def join_equalities(join) -> list:
    """A join's ``joined.column = other.column`` conditions, as (joined's column, the other)."""
    from sqlglot import exp

    condition = join.args.get("on")
    pairs = []
    for part in condition.flatten() if isinstance(condition, exp.And) else [condition]:
        if isinstance(part, exp.EQ) and isinstance(part.left, exp.Column) and isinstance(part.right, exp.Column):
            inner, outer = (part.left, part.right) if part.left.table == join.alias_or_name else (part.right, part.left)
            if inner.table == join.alias_or_name and outer.table != join.alias_or_name:
                pairs.append((inner, outer))
    return pairs


def _one_row_per(select) -> set[str] | None:
    """What a query's rows are one per: the GROUP BY's expressions, a DISTINCT's columns,
    nothing when it aggregates all rows into one (or, for a QUALIFY, what cannot be said);
    None when its rows are those of its FROM and joins."""
    from sqlglot import exp

    if select.args.get("group") is not None:
        return {g.sql() for g in select.args["group"].expressions}
    if select.args.get("distinct") is not None:
        return {_copied(p).sql() for p in select.selects}
    if select.args.get("qualify") is not None:
        return {"QUALIFY"}  # a filter over windows: one row per something no projection names
    aggregated = any(
        f.parent_select is select and not f.find_ancestor(exp.Window)
        for p in select.selects
        for f in p.find_all(exp.AggFunc)
    )
    return set() if aggregated else None


def _using_columns(tree):
    """A USING join's column as the left side's: some sqlglot versions qualify it as
    ``COALESCE(left.x, right.x) AS x``, which, in an inner or left join, is ``left.x``."""
    from sqlglot import exp

    for select in tree.find_all(exp.Select):
        if any(join.side in ("RIGHT", "FULL") for join in select.args.get("joins") or []):
            continue
        for projection in select.expressions:
            merged = projection.this if isinstance(projection, exp.Alias) else None
            if isinstance(merged, exp.Coalesce):
                parts = [merged.this, *merged.expressions]
                if all(isinstance(p, exp.Column) and p.name == projection.alias for p in parts):
                    merged.replace(parts[0].copy())
    return tree


def _column_name(text: str, dialect) -> str:
    import sqlglot

    return sqlglot.parse_one(text, dialect=dialect).name


def _outside(tree) -> list[str]:
    """The tables a model reads that are neither seeds, models nor its own CTEs (a source
    that is not a seed)."""
    from sqlglot import exp

    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return sorted({t.sql() for t in tree.find_all(exp.Table) if t.db != NODES and t.name not in ctes})


def _dag_order(reads: dict[str, set[str]]) -> list[str]:
    """Models after the models they read (a cycle, which dbt refuses, is read as it comes)."""
    from graphlib import CycleError, TopologicalSorter

    graph = {model: {n for n in nodes if n in reads and n != model} for model, nodes in reads.items()}
    try:
        return list(TopologicalSorter(graph).static_order())
    except CycleError:
        return list(reads)


def _names(columns, joiner: str) -> str:
    return joiner.join(f"{seed}.{column}" for seed, column in sorted(c for c in columns if c))


def _first_line(error) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
