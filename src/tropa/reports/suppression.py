"""Small-cell suppression for published tables of counts (M11).

Pure Python (numpy and scipy), no Django. The reports app calls it through
`suppress`, `suppress_linked` and the two published types; `audit` and
`audit_linked` are the attack the tests run against the result.

What is hidden
--------------
A table is published with its row totals, column totals and grand total.
Every number from 1 to ``threshold - 1`` -- a cell or a total -- is a
*primary* suppression: "2 deserters from region X in week Y" can point at a
person. Zero is published: an empty cell is the usual case in a sparse
table, hiding every zero would hide most of it, and the threshold rule of
statistical disclosure control treats only non-zero small counts as
sensitive (Hundepool et al., *Statistical Disclosure Control*, Wiley 2012).

Why more is hidden
------------------
A hidden cell whose row has every other cell and the total published is
recovered by subtraction, and subtler combinations of rows and columns do
the same. So *complementary* suppressions are added until every primary
number meets the protection rule:

    Given every published number, the equalities between them ("the cells
    of a row add up to its total", "the part tables add up to the total
    table") and non-negativity, the largest and the smallest value the
    hidden number can take differ by at least ``protection`` (default:
    ``threshold``).

This is the "sliding protection range" τ-ARGUS uses for frequency tables.
An attacker may learn an interval, but it holds at least ``threshold + 1``
whole numbers, more than the ``threshold`` values "fewer than
``threshold``" leaves, so no hidden count is pinned down. (The interval
need not reach 0: a hidden 5 may be known to be "between 3 and 13". A
stricter rule would be costlier; raise ``protection`` for more.)

How
---
The table is extended with its totals into an (m+1) × (n+1) array (a
linked family adds a third axis: its parts and their sum). For each
primary number, smallest first:

1. If a *hypercube* through it is already hidden and wide enough, it is
   protected. A hypercube is a 2 × 2 rectangle (a 2 × 2 × 2 cube in a
   family) whose corners shift together (+δ, −δ, −δ, +δ, ...) so every
   line sum is kept; its width is how far that lets the number move.
   The shift is a whole-number change of a table matching every
   published number, so no attacker, with linear or integer programming,
   can rule those values out.
2. Else, if the hidden numbers near it (two lines away) already protect
   it, as the same linear programme as `audit` shows (and, in a family,
   an integer one), it is protected: earlier suppressions often do this.
3. Else the cheapest wide-enough hypercube is hidden: the hypercube
   method (Repsilber's GHMITER, in τ-ARGUS). A corner costs its count + 1
   (hide small cells, and every extra one costs something), nothing if
   already hidden.
4. When no single hypercube is wide enough because ``keep`` forbids the
   totals, the widest ones are hidden one by one until the full attack
   says the number is protected, or none is left (`SuppressionError`).

Suppressions only ever widen intervals, so a number protected stays
protected. At the end every primary number is checked once more and the
function raises rather than return a table that fails.

Publishing without undoing it
-----------------------------
* Render every suppressed number with one neutral mark ("x", "·"), with a
  note such as "hidden: fewer than 10, or hidden to protect such a count".
  Printing "<10" only for primary cells tells the attacker which cells are
  small (1 to 9) and defeats the complementary suppressions; printing
  "<10" for all of them is untrue for complementary cells.
* Filters by a category such as the channel: publish the family from
  `suppress_linked` (the total table and one table per channel, hidden
  jointly). A view that combines channels comes from
  `PublishedFamily.combine`, which only derives numbers from published
  ones.
* Filters by period: publish one table per fixed grid (ISO weeks or
  months, whole and closed periods only) and let the filter pick columns
  with `PublishedTable.select`; never recompute totals for an ad hoc range
  from the raw counts (total of weeks 1-10 minus total of weeks 1-9 is
  week 10). Do not revise a published period later: two versions of one
  table are subtracted as easily as two tables.
* Two tables of the same cases that share a margin (category × month and
  region × month share the month totals and the grand total) must publish
  the shared numbers in both: pass them as ``keep`` to both calls, so
  neither uses them as complements. Given published shared numbers the
  two tables have no unknown in common, and each one's protection stands.
  A shared number below the threshold, or a table that can only be
  protected through a kept number, raises `SuppressionError`: publish that
  table by a coarser grid, or not at all. This holds while the tables
  share margins like a tree (each pair shares at most one margin, and no
  cycle: category × month, region × month, category × outcome is fine);
  three cross-classifications that pairwise share margins (add
  category × region) constrain each other beyond their margins, which
  this module does not check.
"""

from __future__ import annotations

import enum
import itertools
import math
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal, SupportsInt, TypeAlias

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import coo_array, csr_array
from scipy.sparse.csgraph import connected_components

DEFAULT_THRESHOLD: Final = 10
_EPSILON: Final = 1e-6  # slack for floating-point LP bounds


class Suppressed(enum.Enum):
    """The mark of a hidden number (an enum so that mypy narrows on ``is``)."""

    SUPPRESSED = "suppressed"

    def __repr__(self) -> str:
        return "SUPPRESSED"


SUPPRESSED: Final = Suppressed.SUPPRESSED
Value: TypeAlias = int | Literal[Suppressed.SUPPRESSED]
# (row, column); None stands for "all": (row, None) is a row total,
# (None, column) a column total, (None, None) the grand total.
Cell: TypeAlias = tuple[str | None, str | None]
# (part, row, column); part None is the total table of a linked family.
LinkedCell: TypeAlias = tuple[str | None, str | None, str | None]
Interval: TypeAlias = tuple[float, float]
Index: TypeAlias = tuple[int, ...]

IntArray: TypeAlias = NDArray[np.int64]
BoolArray: TypeAlias = NDArray[np.bool_]
FloatArray: TypeAlias = NDArray[np.float64]


class SuppressionError(Exception):
    """The table cannot be published safely as asked (see the message)."""


@dataclass(frozen=True)
class Table:
    """Counts by row and column (true values, never published as they are)."""

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        if not self.rows or not self.columns:
            raise ValueError("a table needs at least one row and one column")
        for name, labels in (("row", self.rows), ("column", self.columns)):
            if len(set(labels)) != len(labels):
                raise ValueError(f"{name} labels must be unique")
        if len(self.counts) != len(self.rows) or any(
            len(line) != len(self.columns) for line in self.counts
        ):
            raise ValueError(f"counts must be {len(self.rows)} rows × {len(self.columns)} columns")
        if any(type(n) is not int or n < 0 for line in self.counts for n in line):
            raise ValueError("counts must be non-negative integers")

    @classmethod
    def of(
        cls, rows: Iterable[str], columns: Iterable[str], counts: Iterable[Iterable[int]]
    ) -> Table:
        """A table from any nested iterables (lists, a numpy array)."""
        return cls(
            tuple(rows), tuple(columns), tuple(tuple(int(n) for n in line) for line in counts)
        )

    @classmethod
    def from_counts(
        cls, counts: Mapping[tuple[str, str], int], *, rows: Sequence[str], columns: Sequence[str]
    ) -> Table:
        """A table from ``{(row, column): count}``; missing pairs count 0."""
        return cls.of(rows, columns, ([counts.get((r, c), 0) for c in columns] for r in rows))

    def count(self, cell: Cell) -> int:
        """The true count of a cell or a total."""
        return int(_extend(self._array())[_index(cell, (self.rows, self.columns))])

    def _array(self) -> IntArray:
        return np.array(self.counts, dtype=np.int64).reshape(len(self.rows), len(self.columns))


@dataclass(frozen=True)
class PublishedTable:
    """A table as published: each number is its count or `SUPPRESSED`."""

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: tuple[tuple[Value, ...], ...]
    row_totals: tuple[Value, ...]
    column_totals: tuple[Value, ...]
    total: Value
    threshold: int
    protection: int

    def value(self, cell: Cell) -> Value:
        row, column = cell
        if row is None:
            return self.total if column is None else self.column_totals[self.columns.index(column)]
        i = self.rows.index(row)
        return self.row_totals[i] if column is None else self.cells[i][self.columns.index(column)]

    def entries(self) -> Iterator[tuple[Cell, Value]]:
        """Every cell, then every row total, column total and the grand total."""
        for row in (*self.rows, None):
            for column in (*self.columns, None):
                yield (row, column), self.value((row, column))

    def suppressed(self) -> frozenset[Cell]:
        return frozenset(cell for cell, value in self.entries() if value is SUPPRESSED)

    def select(
        self, *, rows: Sequence[str] | None = None, columns: Sequence[str] | None = None
    ) -> PublishedTable:
        """The rows and columns a filter picks, with totals derived from published numbers only.

        A total over the selection is published when every number it adds up
        is published (or it is the original total), otherwise it is
        suppressed: a derived number never says more than the published ones.
        """
        rows = self.rows if rows is None else tuple(rows)
        columns = self.columns if columns is None else tuple(columns)
        picked = np.ix_(
            [self.rows.index(r) for r in rows] + [len(self.rows)],
            [self.columns.index(c) for c in columns] + [len(self.columns)],
        )
        all_values, all_hidden = _arrays(self)
        values, hidden = all_values[picked], all_hidden[picked]
        whole = (len(rows) == len(self.rows), len(columns) == len(self.columns))
        for axis in (0, 1):
            if not whole[axis]:
                # Views: writing the last index along `axis` writes the totals.
                np.moveaxis(values, axis, 0)[-1] = np.moveaxis(values, axis, 0)[:-1].sum(axis=0)
                np.moveaxis(hidden, axis, 0)[-1] = np.moveaxis(hidden, axis, 0)[:-1].any(axis=0)
        return _published(
            values, hidden, rows, columns, threshold=self.threshold, protection=self.protection
        )

    def render(self, *, mark: str = "x", total: str = "Total") -> list[list[str]]:
        """Header, rows and a totals row as text, every hidden number shown as `mark`."""

        def show(value: Value) -> str:
            return mark if value is SUPPRESSED else f"{value:,}"

        lines = [["", *self.columns, total]]
        for row in (*self.rows, None):
            label = total if row is None else row
            lines.append([label, *(show(self.value((row, c))) for c in (*self.columns, None))])
        return lines


@dataclass(frozen=True)
class PublishedFamily:
    """A total table and its parts (e.g. one per channel), suppressed jointly."""

    total: PublishedTable
    parts: Mapping[str, PublishedTable]

    def value(self, cell: LinkedCell) -> Value:
        part, row, column = cell
        return (self.total if part is None else self.parts[part]).value((row, column))

    def entries(self) -> Iterator[tuple[LinkedCell, Value]]:
        for part, table in (*self.parts.items(), (None, self.total)):
            for (row, column), value in table.entries():
                yield (part, row, column), value

    def suppressed(self) -> frozenset[LinkedCell]:
        return frozenset(cell for cell, value in self.entries() if value is SUPPRESSED)

    def by_part(self) -> PublishedTable:
        """Parts × columns (e.g. channel × month): each part's column totals.

        It is a face of the family, so it is exactly as safe.
        """
        values, hidden = _family_arrays(self)
        face = (slice(None), -1, slice(None))
        return _published(
            values[face],
            hidden[face],
            tuple(self.parts),
            self.total.columns,
            threshold=self.total.threshold,
            protection=self.total.protection,
        )

    def combine(self, parts: Collection[str]) -> PublishedTable:
        """The sum of some parts (a multi-select filter), derived from published numbers only.

        A number is published when all the chosen parts publish it, or when
        the total and all the other parts do; otherwise it is suppressed.
        """
        chosen = [p in parts for p in self.parts]
        values, hidden = _family_arrays(self)
        inside = np.array(chosen + [False])
        outside = np.array([not c for c in chosen] + [False])
        summed = values[inside].sum(axis=0)
        by_sum_known = ~hidden[inside].any(axis=0)
        rest = values[-1] - values[outside].sum(axis=0)
        by_rest_known = ~hidden[-1] & ~hidden[outside].any(axis=0)
        combined = np.where(by_sum_known, summed, rest)
        return _published(
            np.where(by_sum_known | by_rest_known, combined, 0),
            ~(by_sum_known | by_rest_known),
            self.total.rows,
            self.total.columns,
            threshold=self.total.threshold,
            protection=self.total.protection,
        )


def suppress(
    table: Table,
    *,
    threshold: int = DEFAULT_THRESHOLD,
    protection: int | None = None,
    keep: Collection[Cell] = (),
) -> PublishedTable:
    """Hide every count from 1 to threshold - 1 and enough others to protect them.

    ``keep``: numbers that must stay published because another published
    table shows them too (a shared margin); they are never complements.
    """
    protection = _checked(threshold, protection)
    labels = (table.rows, table.columns)
    values = _extend(table._array())
    keep_mask = _mask(values.shape, (_index(cell, labels) for cell in keep))
    hidden = _protect(values, keep_mask, threshold=threshold, protection=protection, integer=False)
    return _published(
        values, hidden, table.rows, table.columns, threshold=threshold, protection=protection
    )


def suppress_linked(
    parts: Mapping[str, Table],
    *,
    threshold: int = DEFAULT_THRESHOLD,
    protection: int | None = None,
    keep: Collection[LinkedCell] = (),
    integer: bool = True,
) -> PublishedFamily:
    """Suppress a total table and its parts (which add up to it) as one system.

    Every part must have the same rows and columns. Any combination of the
    published tables -- "all channels" minus "telegram", a part's margins
    against the total's -- leaves each primary number its protection range.
    ``integer``: when earlier suppressions are taken to protect a number,
    check that against an integer-programming attacker too (a family's
    constraints are not totally unimodular, so its linear-programming
    bounds can be looser than the integer ones).
    """
    protection = _checked(threshold, protection)
    if not parts:
        raise ValueError("a linked family needs at least one part")
    first = next(iter(parts.values()))
    if any((t.rows, t.columns) != (first.rows, first.columns) for t in parts.values()):
        raise ValueError("every part must have the same rows and columns, in the same order")
    names = tuple(parts)
    labels = (names, first.rows, first.columns)
    values = _extend(np.stack([parts[name]._array() for name in names]))
    keep_mask = _mask(values.shape, (_index(cell, labels) for cell in keep))
    hidden = _protect(
        values, keep_mask, threshold=threshold, protection=protection, integer=integer
    )
    tables = [
        _published(
            values[k],
            hidden[k],
            first.rows,
            first.columns,
            threshold=threshold,
            protection=protection,
        )
        for k in range(len(names) + 1)
    ]
    return PublishedFamily(total=tables[-1], parts=dict(zip(names, tables[:-1], strict=True)))


def audit(published: PublishedTable) -> dict[Cell, Interval]:
    """The attack: for each hidden number, its least and greatest feasible value.

    Linear programming over the published numbers, the row, column and
    total equalities and non-negativity -- nothing else, since that is all
    an outsider has. A table's constraint matrix is totally unimodular, so
    these bounds are whole numbers and an integer attacker does no better.
    """
    values, hidden = _arrays(published)
    labels = (published.rows, published.columns)
    targets = [_as_index(i) for i in np.argwhere(hidden)]
    found = _intervals(values, hidden, targets, integer=False)
    return {(_label(i[0], labels[0]), _label(i[1], labels[1])): found[i] for i in targets}


def audit_linked(
    published: PublishedFamily, *, integer: bool = False
) -> dict[LinkedCell, Interval]:
    """The same attack on the union of a family's tables (``integer``: integer programming)."""
    values, hidden = _family_arrays(published)
    labels = (tuple(published.parts), published.total.rows, published.total.columns)
    targets = [_as_index(i) for i in np.argwhere(hidden)]
    found = _intervals(values, hidden, targets, integer=integer)
    return {
        (_label(i[0], labels[0]), _label(i[1], labels[1]), _label(i[2], labels[2])): found[i]
        for i in targets
    }


# The engine works on an extended array: one axis per dimension, the last
# index along each axis holding the total over that axis.


def _protect(
    values: IntArray, keep: BoolArray, *, threshold: int, protection: int, integer: bool
) -> BoolArray:
    primary = (values > 0) & (values < threshold)
    if (primary & keep).any():
        raise SuppressionError(
            "a number that another table publishes too is below the threshold; "
            "publish these tables by a coarser grid"
        )
    hidden = primary.copy()
    cost = np.where(keep, np.inf, values + 1.0)
    targets = sorted((_as_index(i) for i in np.argwhere(primary)), key=lambda i: (values[i], i))
    for target in targets:
        cube = _Cubes.through(target, values, hidden, cost).cheapest(protection)
        if cube is not None and cube[1] == 0:
            continue
        if _protected_nearby(values, hidden, target, protection=protection, integer=integer):
            continue
        if cube is not None:
            hidden[tuple(np.array(cube[0]).T)] = True
        else:
            _accumulate(values, hidden, cost, target, protection=protection, integer=integer)
    _verify(values, hidden, cost, targets, protection=protection)
    return hidden


@dataclass(frozen=True)
class _Cubes:
    """Every hypercube through one target, and what each one offers.

    A hypercube picks, on every axis, a second index besides the target's.
    Writing σ = -1 for a total index and +1 otherwise, shifting each corner
    by δ · (−1)^(axes switched) · Π σ keeps every line sum, so δ may range
    from −min(corners shifted up) to +min(corners shifted down), and the
    target moves over that whole range: its `width`. `extra` is the cost
    of the corners not hidden yet (infinite if one must stay published).
    """

    target: Index
    others: list[NDArray[np.intp]]
    width: FloatArray
    extra: FloatArray

    @classmethod
    def through(
        cls, target: Index, values: IntArray, hidden: BoolArray, cost: FloatArray
    ) -> _Cubes:
        shape = values.shape
        others = [
            np.array([k for k in range(n) if k != t]) for t, n in zip(target, shape, strict=True)
        ]
        grid_shape = tuple(len(o) for o in others)
        up = np.full(grid_shape, np.inf)
        down = np.full(grid_shape, np.inf)
        extra = np.zeros(grid_shape)
        for switched in itertools.product((False, True), repeat=len(shape)):
            axes = [
                o if s else np.array([t]) for o, s, t in zip(others, switched, target, strict=True)
            ]
            grid = np.ix_(*axes)
            sign = np.full((1,) * len(shape), -1.0 if sum(switched) % 2 else 1.0)
            for a, (index, n) in enumerate(zip(axes, shape, strict=True)):
                sign = sign * np.where(index == n - 1, -1.0, 1.0).reshape(
                    [-1 if b == a else 1 for b in range(len(shape))]
                )
            corner = values[grid].astype(np.float64)
            down = np.minimum(down, np.where(sign > 0, corner, np.inf))
            up = np.minimum(up, np.where(sign < 0, corner, np.inf))
            extra = extra + np.where(hidden[grid], 0.0, cost[grid])
        return cls(target, others, up + down, extra)

    def cheapest(self, protection: int) -> tuple[list[Index], float] | None:
        """The cube that protects the target alone at the least extra cost, and that cost."""
        return self._pick(np.where(self.width >= protection, self.extra, np.inf))

    def widest(self) -> tuple[list[Index], float, float] | None:
        """The widest cube that hides something new (the cheapest among equals), and its width.

        Called when no cube is wide enough, so every width here is finite.
        """
        usable = (self.extra > 0) & np.isfinite(self.extra) & (self.width > 0)
        if not usable.any():
            return None
        # Width first, then cost: one unit of width outweighs any cost difference.
        score = np.full(self.width.shape, np.inf)
        score[usable] = self.extra[usable] - self.width[usable] * (
            1.0 + float(self.extra[usable].max())
        )
        picked = self._pick(score)
        return None if picked is None else (*picked, float(self.width[self._best(score)]))

    def _best(self, score: FloatArray) -> Index:
        return _as_index(np.unravel_index(int(np.argmin(score)), score.shape))

    def _pick(self, score: FloatArray) -> tuple[list[Index], float] | None:
        best = self._best(score)
        if not math.isfinite(score[best]):
            return None
        corners = [
            tuple(
                int(self.others[a][best[a]]) if s else self.target[a]
                for a, s in enumerate(switched)
            )
            for switched in itertools.product((False, True), repeat=len(self.target))
        ]
        return corners, float(self.extra[best])


def _accumulate(
    values: IntArray,
    hidden: BoolArray,
    cost: FloatArray,
    target: Index,
    *,
    protection: int,
    integer: bool,
) -> None:
    """Protect `target` with several cubes when no single one can (numbers kept published).

    A row whose cells are all small, next to a total that another table
    shows, is the usual case: each cube moves the target a little, together
    they move it enough. Add the widest cube, rerun the full attack, repeat.
    """
    reach = 0.0
    while True:
        cube = _Cubes.through(target, values, hidden, cost).widest()
        if cube is None:
            raise SuppressionError(
                "a small number can only be protected by hiding a number that another "
                "table publishes too; publish these tables by a coarser grid"
            )
        hidden[tuple(np.array(cube[0]).T)] = True
        reach += cube[2]
        # The cubes' widths add up to at most what they give together: no
        # programme to run until they could be enough.
        if reach >= protection and _protected(
            values, hidden, target, protection=protection, integer=integer
        ):
            return


def _protected_nearby(
    values: IntArray, hidden: BoolArray, target: Index, *, protection: int, integer: bool
) -> bool:
    """Whether the hidden entries near `target` already protect it (a sufficient test).

    Only hidden entries within two lines of the target are unknowns; the
    rest are treated as published. Knowing more can only narrow the
    interval, so a pass here is a pass for the real attacker, and the
    programme stays small however large the table (looking three lines
    away saves a few per cent of suppressions in a family, at several
    times the cost).
    """
    near = np.zeros_like(hidden)
    near[target] = True
    for _ in range(2):
        reach = near.copy()
        for axis in range(hidden.ndim):
            reach |= near.any(axis=axis, keepdims=True) & hidden
        near = reach
    return not _pinned(near, target) and _protected(
        values, near, target, protection=protection, integer=integer
    )


def _protected(
    values: IntArray, hidden: BoolArray, target: Index, *, protection: int, integer: bool
) -> bool:
    """The attack on one target: linear programming, then integer programming if asked.

    The true value is feasible, so a maximum at least `protection` above it,
    or below `protection` itself, settles the question without the minimum.
    """
    matrix, rhs, k = _system(values, hidden, target)
    value = float(values[target])
    for exact in (False, True) if integer else (False,):
        high = _extreme(matrix, rhs, k, maximise=True, integer=exact)
        if high - value >= protection - _EPSILON:
            continue
        if high < protection - _EPSILON:
            return False
        low = _extreme(matrix, rhs, k, maximise=False, integer=exact)
        if high - low < protection - _EPSILON:
            return False
    return True


def _pinned(hidden: BoolArray, target: Index) -> bool:
    """True when some line through `target` hides nothing else (it is then recovered exactly)."""
    for axis in range(hidden.ndim):
        line = tuple(slice(None) if a == axis else t for a, t in enumerate(target))
        if int(hidden[line].sum()) == 1:
            return True
    return False


def _verify(
    values: IntArray, hidden: BoolArray, cost: FloatArray, targets: list[Index], *, protection: int
) -> None:
    """Defence in depth: check every primary number once more.

    A hidden hypercube wide enough is a proof; the others face the full
    linear programme (each decision above already faced the attack it was
    asked for, integer programming included), and a failure is a bug.
    """
    for target in targets:
        cube = _Cubes.through(target, values, hidden, cost).cheapest(protection)
        if (cube is None or cube[1] != 0) and not _protected(
            values, hidden, target, protection=protection, integer=False
        ):
            raise SuppressionError(f"internal error: entry {target} is not protected")


def _equations(
    values: IntArray, hidden: BoolArray
) -> tuple[csr_array, FloatArray, NDArray[np.intp]]:
    """Every line sum that involves a hidden entry, as A x = b over the hidden entries.

    A line is the entries along one axis with the others fixed; its parts
    minus its total are zero. Returns A, b and the variable number of each
    entry (-1 when published).
    """
    variable = np.full(values.shape, -1, dtype=np.intp)
    variable[hidden] = np.arange(int(hidden.sum()))
    rows, columns, data, rhs = [], [], [], []
    count = 0
    for axis in range(values.ndim):
        n = values.shape[axis]
        v = np.moveaxis(values, axis, -1).reshape(-1, n)
        h = np.moveaxis(hidden, axis, -1).reshape(-1, n)
        x = np.moveaxis(variable, axis, -1).reshape(-1, n)
        active = h.any(axis=1)
        v, h, x = v[active], h[active], x[active]
        sign = np.ones(n)
        sign[-1] = -1.0
        rhs.append(-(np.where(h, 0, v) * sign).sum(axis=1))
        line, position = np.nonzero(h)
        rows.append(line + count)
        columns.append(x[line, position])
        data.append(sign[position])
        count += len(v)
    matrix = coo_array(
        (np.concatenate(data), (np.concatenate(rows), np.concatenate(columns))),
        shape=(count, int(hidden.sum())),
    ).tocsr()
    return matrix, np.concatenate(rhs).astype(np.float64), variable


def _intervals(
    values: IntArray, hidden: BoolArray, targets: list[Index], *, integer: bool
) -> dict[Index, Interval]:
    """Least and greatest feasible value of each target, one small programme per component."""
    if not targets:
        return {}
    matrix, rhs, variable = _equations(values, hidden)
    pattern = abs(matrix)
    _, component = connected_components(pattern.T @ pattern, directed=False)
    found: dict[Index, Interval] = {}
    for label in sorted({int(component[variable[t]]) for t in targets}):
        sub, sub_rhs, members = _component(matrix, rhs, component, label)
        where = {int(v): k for k, v in enumerate(members)}
        for target in targets:
            if component[variable[target]] == label:
                k = where[int(variable[target])]
                found[target] = (
                    _extreme(sub, sub_rhs, k, maximise=False, integer=integer),
                    _extreme(sub, sub_rhs, k, maximise=True, integer=integer),
                )
    return found


def _system(
    values: IntArray, hidden: BoolArray, target: Index
) -> tuple[csr_array, FloatArray, int]:
    """The equations of the component that holds `target`, and its variable number there."""
    matrix, rhs, variable = _equations(values, hidden)
    pattern = abs(matrix)
    _, component = connected_components(pattern.T @ pattern, directed=False)
    sub, sub_rhs, members = _component(matrix, rhs, component, int(component[variable[target]]))
    return sub, sub_rhs, int(np.searchsorted(members, variable[target]))


def _component(
    matrix: csr_array, rhs: FloatArray, component: NDArray[np.int32], label: int
) -> tuple[csr_array, FloatArray, NDArray[np.intp]]:
    members = np.flatnonzero(component == label)
    lines = np.unique(abs(matrix)[:, members].tocoo().row)
    return matrix[lines][:, members], rhs[lines], members


def _extreme(matrix: csr_array, rhs: FloatArray, k: int, *, maximise: bool, integer: bool) -> float:
    n = matrix.shape[1]
    objective = np.zeros(n)
    objective[k] = -1.0 if maximise else 1.0
    relaxed = linprog(objective, A_eq=matrix, b_eq=rhs, bounds=(0, None), method="highs")
    if relaxed.status == 3:  # unbounded: a rational polyhedron with an integer point stays so
        return math.inf
    if relaxed.status != 0:
        raise SuppressionError(f"internal error: the attack failed ({relaxed.message})")
    best = float(relaxed.fun) * (-1.0 if maximise else 1.0)
    if not integer:
        return best
    exact = milp(
        objective,
        constraints=LinearConstraint(matrix, rhs, rhs),
        integrality=np.ones(n),
        bounds=Bounds(0, np.inf),
    )
    if exact.status != 0 or exact.fun is None:
        raise SuppressionError(f"internal error: the integer attack failed ({exact.message})")
    return float(exact.fun) * (-1.0 if maximise else 1.0)


def _extend(counts: IntArray) -> IntArray:
    """Append the total along every axis (the last index of each axis)."""
    extended = counts
    for axis in range(counts.ndim):
        extended = np.concatenate([extended, extended.sum(axis=axis, keepdims=True)], axis=axis)
    return extended


def _published(
    values: IntArray,
    hidden: BoolArray,
    rows: tuple[str, ...],
    columns: tuple[str, ...],
    *,
    threshold: int,
    protection: int,
) -> PublishedTable:
    def show(i: int, j: int) -> Value:
        return SUPPRESSED if hidden[i, j] else int(values[i, j])

    m, n = len(rows), len(columns)
    return PublishedTable(
        rows=rows,
        columns=columns,
        cells=tuple(tuple(show(i, j) for j in range(n)) for i in range(m)),
        row_totals=tuple(show(i, n) for i in range(m)),
        column_totals=tuple(show(m, j) for j in range(n)),
        total=show(m, n),
        threshold=threshold,
        protection=protection,
    )


def _arrays(published: PublishedTable) -> tuple[IntArray, BoolArray]:
    """The extended array of published numbers (0 where hidden) and the hidden mask."""
    entries = [
        [published.value((row, column)) for column in (*published.columns, None)]
        for row in (*published.rows, None)
    ]
    values = [[0 if v is SUPPRESSED else v for v in line] for line in entries]
    hidden = [[v is SUPPRESSED for v in line] for line in entries]
    return np.array(values, dtype=np.int64), np.array(hidden, dtype=bool)


def _family_arrays(family: PublishedFamily) -> tuple[IntArray, BoolArray]:
    arrays = [_arrays(t) for t in (*family.parts.values(), family.total)]
    return np.stack([v for v, _ in arrays]), np.stack([h for _, h in arrays])


def _checked(threshold: int, protection: int | None) -> int:
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    protection = threshold if protection is None else protection
    if protection < 0:
        raise ValueError("protection must not be negative")
    return protection


def _mask(shape: tuple[int, ...], indexes: Iterable[Index]) -> BoolArray:
    mask = np.zeros(shape, dtype=bool)
    for index in indexes:
        mask[index] = True
    return mask


def _index(cell: Sequence[str | None], labels: Sequence[tuple[str, ...]]) -> Index:
    return tuple(
        len(names) if label is None else names.index(label)
        for label, names in zip(cell, labels, strict=True)
    )


def _label(index: int, names: tuple[str, ...]) -> str | None:
    return None if index == len(names) else names[index]


def _as_index(index: Iterable[SupportsInt]) -> Index:
    return tuple(int(k) for k in index)
