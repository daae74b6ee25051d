"""Small-cell suppression: worked examples, then the attack on random tables and families."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tropa.reports.suppression import (
    SUPPRESSED,
    Cell,
    Interval,
    LinkedCell,
    PublishedFamily,
    PublishedTable,
    SuppressionError,
    Table,
    Value,
    audit,
    audit_linked,
    suppress,
    suppress_linked,
)

REGIONS = ["Moscow", "Kazan", "Omsk"]
OUTCOMES = ["legal", "abroad", "hiding"]
K = TypeVar("K")


def entries(table: Table) -> list[Cell]:
    return [(r, c) for r in (*table.rows, None) for c in (*table.columns, None)]


def shown(published: PublishedTable) -> list[list[str]]:
    return published.render(mark="x")[1:]


# Worked examples


def test_a_small_cell_alone_in_its_row_forces_a_second_suppression() -> None:
    table = Table.of(REGIONS, OUTCOMES, [[3, 40, 22], [25, 31, 17], [30, 12, 44]])
    published = suppress(table)
    # Hiding only the 3 would let anyone compute it as 65 - 40 - 22. The
    # cheapest rectangle through it moves the 3 together with 22, 25 and 17
    # (+d, -d, -d, +d), which keeps every published total.
    assert shown(published) == [
        ["Moscow", "x", "40", "x", "65"],
        ["Kazan", "x", "31", "x", "73"],
        ["Omsk", "30", "12", "44", "86"],
        ["Total", "58", "83", "83", "224"],
    ]
    low, high = audit(published)[("Moscow", "legal")]
    assert (low, high) == (0, 25)  # 26 possible values, at least the threshold + 1


def test_a_row_of_small_cells_hides_its_total_and_its_complement() -> None:
    table = Table.of(["Moscow", "Kazan"], OUTCOMES, [[2, 3, 4], [50, 60, 70]])
    published = suppress(table)
    # Moscow's total (9) is small too. With the column totals published,
    # Kazan's row is the column totals minus Moscow's, so it goes as well.
    assert shown(published) == [
        ["Moscow", "x", "x", "x", "x"],
        ["Kazan", "x", "x", "x", "x"],
        ["Total", "52", "63", "74", "189"],
    ]
    assert audit(published)[("Moscow", None)] == (0, 189)


def test_a_table_with_nothing_small_is_published_unchanged() -> None:
    table = Table.of(["Moscow", "Kazan"], OUTCOMES, [[12, 0, 40], [50, 60, 70]])
    published = suppress(table)
    assert published.suppressed() == frozenset()
    assert all(published.value(cell) == table.count(cell) for cell in entries(table))


def test_zero_is_published_but_a_zero_may_be_hidden_as_a_complement() -> None:
    published = suppress(Table.of(["a", "b"], ["x", "y", "z"], [[3, 0, 40], [0, 25, 31]]))
    assert published.value(("a", "y")) == 0
    assert published.value(("a", "x")) is SUPPRESSED


def test_the_threshold_and_protection_can_be_changed() -> None:
    table = Table.of(REGIONS, OUTCOMES, [[3, 40, 22], [25, 31, 17], [30, 12, 44]])
    assert suppress(table, threshold=3).suppressed() == frozenset()
    published = suppress(table, threshold=5, protection=40)
    low, high = audit(published)[("Moscow", "legal")]
    assert high - low >= 40


def test_every_hidden_number_is_shown_with_the_same_mark() -> None:
    # Marking only small cells "<10" would tell an attacker which ones are
    # small and undo the complementary suppressions.
    table = Table.of(REGIONS, OUTCOMES, [[3, 40, 22], [25, 31, 17], [30, 12, 44]])
    text = {value for line in suppress(table).render(mark="·") for value in line}
    assert "·" in text
    assert not any(value.startswith("<") for value in text)


def test_a_period_filter_derives_its_totals_from_published_numbers_only() -> None:
    table = Table.of(REGIONS, ["W1", "W2", "W3"], [[3, 40, 22], [25, 31, 17], [30, 12, 44]])
    published = suppress(table)
    week = published.select(columns=["W2"])
    assert week.cells == ((40,), (31,), (12,))
    assert week.row_totals == (40, 31, 12)  # the same numbers, now as totals
    weeks = published.select(columns=["W1", "W2"])
    assert weeks.row_totals[0] is SUPPRESSED  # 3 + 40 would give the 3 away
    assert weeks.column_totals == (58, 83)
    assert weeks.total == 141


def test_a_margin_shared_with_another_table_is_never_a_complement() -> None:
    table = Table.of(REGIONS, ["W1", "W2"], [[3, 40], [25, 31], [30, 12]])
    week_totals: list[Cell] = [(None, "W1"), (None, "W2"), (None, None)]
    published = suppress(table, keep=week_totals)
    assert all(published.value(cell) != SUPPRESSED for cell in week_totals)
    assert all(high - low >= 10 for (low, high) in audit(published).values())


def test_a_shared_margin_below_the_threshold_is_refused() -> None:
    table = Table.of(REGIONS, ["W1", "W2"], [[3, 40], [2, 31], [1, 12]])
    with pytest.raises(SuppressionError, match="coarser"):
        suppress(table, keep=[(None, "W1")])


def test_a_table_that_can_only_be_protected_through_shared_numbers_is_refused() -> None:
    table = Table.of(["a", "b"], ["W1", "W2"], [[3, 40], [20, 30]])
    # Every rectangle through the 3 needs row b or the week totals, which
    # (here) other published tables show too.
    shared: list[Cell] = [("b", "W1"), ("b", "W2"), (None, "W1"), (None, "W2")]
    with pytest.raises(SuppressionError, match="coarser"):
        suppress(table, keep=shared)


def test_bad_tables_are_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        Table.of(["a"], ["x"], [[-1]])
    with pytest.raises(ValueError, match="2 rows"):
        Table.of(["a", "b"], ["x"], [[1]])
    with pytest.raises(ValueError, match="unique"):
        Table.of(["a", "a"], ["x"], [[1], [2]])


def test_parts_of_a_family_are_suppressed_together() -> None:
    family = suppress_linked(
        {
            "telegram": Table.of(["a", "b"], ["x", "y"], [[3, 20], [15, 30]]),
            "web": Table.of(["a", "b"], ["x", "y"], [[12, 11], [16, 22]]),
        }
    )
    # The total table has nothing small, but publishing it whole next to
    # "telegram" would give web's cells (and so telegram's) by subtraction
    # unless web hides the matching cells.
    assert shown(family.total) == [
        ["a", "15", "31", "46"],
        ["b", "31", "52", "83"],
        ["Total", "46", "83", "129"],
    ]
    assert family.value(("telegram", "a", "x")) is SUPPRESSED
    assert family.value(("web", "a", "x")) is SUPPRESSED
    low, high = audit_linked(family, integer=True)[("telegram", "a", "x")]
    assert high - low >= 10
    by_channel = family.by_part()
    assert by_channel.rows == ("telegram", "web")
    assert by_channel.column_totals == (46, 83)


def test_a_family_needs_parts_of_one_shape() -> None:
    with pytest.raises(ValueError, match="same rows"):
        suppress_linked(
            {"a": Table.of(["r"], ["x"], [[1]]), "b": Table.of(["s"], ["x"], [[1]])},
        )


# The attack on random tables


def counts() -> st.SearchStrategy[int]:
    return st.one_of(st.integers(0, 4), st.integers(0, 15), st.integers(10, 80))


@st.composite
def tables(draw: st.DrawFn, *, max_side: int = 6) -> Table:
    m = draw(st.integers(1, max_side))
    n = draw(st.integers(1, max_side))
    grid = draw(st.lists(st.lists(counts(), min_size=n, max_size=n), min_size=m, max_size=m))
    return Table.of([f"r{i}" for i in range(m)], [f"c{j}" for j in range(n)], grid)


@st.composite
def families(draw: st.DrawFn) -> dict[str, Table]:
    m = draw(st.integers(1, 4))
    n = draw(st.integers(1, 4))
    k = draw(st.integers(2, 4))
    return {
        f"p{p}": Table.of(
            [f"r{i}" for i in range(m)],
            [f"c{j}" for j in range(n)],
            draw(st.lists(st.lists(counts(), min_size=n, max_size=n), min_size=m, max_size=m)),
        )
        for p in range(k)
    }


def true_value(parts: dict[str, Table], cell: LinkedCell) -> int:
    part, row, column = cell
    if part is not None:
        return parts[part].count((row, column))
    return sum(table.count((row, column)) for table in parts.values())


def family_cells(parts: dict[str, Table]) -> list[LinkedCell]:
    first = next(iter(parts.values()))
    return [(p, *cell) for p in (*parts, None) for cell in entries(first)]


def assert_protected(
    truth: Mapping[K, int],
    published: Mapping[K, Value],
    attack: Mapping[K, Interval],
    *,
    threshold: int,
    protection: int,
) -> None:
    """Every hidden small number keeps its range; every published number is true and not small."""
    for cell, value in truth.items():
        shown = published[cell]
        if shown is SUPPRESSED:
            low, high = attack[cell]
            assert low - 1e-6 <= value <= high + 1e-6
            if 0 < value < threshold:
                assert high - low >= protection - 1e-6, (cell, value, low, high)
        else:
            assert shown == value  # published numbers are the true ones
            assert not 0 < value < threshold  # and none is small


@settings(max_examples=120, deadline=None)
@given(table=tables(), threshold=st.integers(3, 15))
def test_no_small_number_can_be_narrowed_below_its_protection(table: Table, threshold: int) -> None:
    published = suppress(table, threshold=threshold)
    assert_protected(
        {cell: table.count(cell) for cell in entries(table)},
        dict(published.entries()),
        audit(published),
        threshold=threshold,
        protection=threshold,
    )


@settings(max_examples=40, deadline=None)
@given(parts=families(), threshold=st.integers(3, 15), chosen=st.sets(st.integers(0, 3)))
def test_no_combination_of_filters_recovers_a_small_number(
    parts: dict[str, Table], threshold: int, chosen: set[int]
) -> None:
    family = suppress_linked(parts, threshold=threshold)
    assert_protected(
        {cell: true_value(parts, cell) for cell in family_cells(parts)},
        dict(family.entries()),
        audit_linked(family),
        threshold=threshold,
        protection=threshold,
    )
    assert_combinations_are_true(parts, family, chosen)


@settings(max_examples=60, deadline=None)
@given(table=tables(), threshold=st.integers(3, 15))
def test_kept_margins_stay_published_or_the_table_is_refused(table: Table, threshold: int) -> None:
    shared: list[Cell] = [(None, c) for c in (*table.columns, None)]
    try:
        published = suppress(table, threshold=threshold, keep=shared)
    except SuppressionError:
        return
    assert all(published.value(cell) == table.count(cell) for cell in shared)
    assert_protected(
        {cell: table.count(cell) for cell in entries(table)},
        dict(published.entries()),
        audit(published),
        threshold=threshold,
        protection=threshold,
    )


@settings(max_examples=25, deadline=None)
@given(parts=families(), threshold=st.integers(3, 15))
def test_a_family_keeps_its_shared_margins_or_is_refused(
    parts: dict[str, Table], threshold: int
) -> None:
    first = next(iter(parts.values()))
    shared: list[LinkedCell] = [(None, r, None) for r in (*first.rows, None)]
    shared += [(None, None, c) for c in first.columns]
    try:
        family = suppress_linked(parts, threshold=threshold, keep=shared)
    except SuppressionError:
        return
    assert all(family.value(cell) == true_value(parts, cell) for cell in shared)
    assert_protected(
        {cell: true_value(parts, cell) for cell in family_cells(parts)},
        dict(family.entries()),
        audit_linked(family, integer=True),
        threshold=threshold,
        protection=threshold,
    )


def assert_combinations_are_true(
    parts: dict[str, Table], family: PublishedFamily, chosen: set[int]
) -> None:
    names = [name for k, name in enumerate(parts) if k in chosen]
    combined = family.combine(names)
    for row, column in entries(next(iter(parts.values()))):
        value = combined.value((row, column))
        if value is not SUPPRESSED:
            assert value == sum(parts[name].count((row, column)) for name in names)


@settings(max_examples=10, deadline=None)
@given(parts=families(), threshold=st.integers(3, 15))
def test_an_integer_programming_attacker_does_no_better_on_a_family(
    parts: dict[str, Table], threshold: int
) -> None:
    family = suppress_linked(parts, threshold=threshold)
    assert_protected(
        {cell: true_value(parts, cell) for cell in family_cells(parts)},
        dict(family.entries()),
        audit_linked(family, integer=True),
        threshold=threshold,
        protection=threshold,
    )


def test_every_subset_of_channels_is_consistent() -> None:
    parts = {
        name: Table.of(REGIONS, OUTCOMES, grid)
        for name, grid in {
            "telegram": [[3, 40, 22], [25, 31, 17], [30, 12, 44]],
            "web": [[0, 14, 2], [9, 50, 11], [13, 13, 13]],
            "phone": [[1, 1, 1], [20, 0, 30], [40, 40, 40]],
        }.items()
    }
    family = suppress_linked(parts)
    for size in range(len(parts) + 1):
        for names in itertools.combinations(parts, size):
            assert_combinations_are_true(parts, family, {list(parts).index(n) for n in names})
