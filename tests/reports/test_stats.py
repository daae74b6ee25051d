"""Statistics from case metadata: periods, volumes, reply times, backlog, public tables."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tropa.bench.reports_bench import bench_reports, synthetic_cases
from tropa.reports.stats import (
    NO_OUTCOME,
    CaseFacts,
    Period,
    backlog,
    outcome_table,
    period_label,
    period_range,
    public_tables,
    reply_times,
    volume_parts,
    volume_table,
)
from tropa.reports.suppression import SUPPRESSED, PublishedTable, Table, audit, audit_linked

MONDAY = datetime(2026, 3, 2, 9, 0)


def case(
    created: datetime,
    *,
    category: str = "desertion",
    channel: str = "telegram",
    region: str = "north",
    outcome: str | None = None,
    closed: datetime | None = None,
    replied: datetime | None = None,
) -> CaseFacts:
    status = "closed" if closed else "new"
    return CaseFacts(created, channel, category, region, status, outcome, closed, replied)


def test_periods_are_iso_weeks_and_calendar_months() -> None:
    assert period_label(date(2026, 3, 4), "day") == "2026-03-04"
    assert period_label(date(2026, 3, 4), "week") == "2026-W10"
    assert period_label(date(2024, 12, 30), "week") == "2025-W01"  # the ISO year
    assert period_label(date(2021, 1, 3), "week") == "2020-W53"
    assert period_label(date(2026, 3, 4), "month") == "2026-03"


def test_a_range_lists_empty_periods_too() -> None:
    assert period_range(date(2025, 11, 20), date(2026, 2, 1), "month") == [
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
    ]
    assert period_range(date(2025, 12, 31), date(2026, 1, 12), "week") == [
        "2026-W01",
        "2026-W02",
        "2026-W03",
    ]
    assert period_range(date(2026, 3, 1), date(2026, 3, 3), "day") == [
        "2026-03-01",
        "2026-03-02",
        "2026-03-03",
    ]


def test_volumes_count_cases_by_row_and_period() -> None:
    facts = [
        case(MONDAY),
        case(MONDAY + timedelta(days=1)),
        case(MONDAY + timedelta(days=14), category="legal"),
    ]
    table = volume_table(facts, by="category", period="week")
    assert table.rows == ("desertion", "legal")
    assert table.columns == ("2026-W10", "2026-W11", "2026-W12")
    assert table.counts == ((2, 0, 0), (0, 0, 1))
    by_channel = volume_table(facts, by="channel", period="month")
    assert by_channel.counts == ((3,),)


def test_fixed_labels_must_cover_every_case() -> None:
    facts = [case(MONDAY, category="desertion"), case(MONDAY, category="legal")]
    table = volume_table(facts, by="category", period="month", rows=["legal", "desertion", "x"])
    assert table.counts == ((1,), (1,), (0,))
    with pytest.raises(ValueError, match="legal"):
        volume_table(facts, by="category", period="month", rows=["desertion"])


def test_fixed_periods_leave_other_cases_out() -> None:
    facts = [case(MONDAY), case(MONDAY + timedelta(days=40))]
    table = volume_table(facts, by="category", period="month", columns=["2026-04"])
    assert table.counts == ((1,),)


def test_reply_times_give_median_and_nearest_rank_p90_per_week() -> None:
    facts = [case(MONDAY, replied=MONDAY + timedelta(hours=h)) for h in range(1, 11)]
    facts.append(case(MONDAY))
    [week] = reply_times(facts, period="week", min_count=1)
    assert (week.period, week.replied, week.waiting) == ("2026-W10", 10, 1)
    assert week.median_hours == 5.5
    assert week.p90_hours == 9.0


def test_reply_times_of_a_few_cases_are_withheld() -> None:
    facts = [case(MONDAY, replied=MONDAY + timedelta(hours=2))]
    [week] = reply_times(facts)
    assert week.replied == 1
    assert week.median_hours is None and week.p90_hours is None


def test_the_backlog_counts_cases_open_at_the_end_of_each_day() -> None:
    facts = [
        case(MONDAY, closed=MONDAY + timedelta(hours=3)),  # never open at a day's end
        case(MONDAY, closed=MONDAY + timedelta(days=2)),
        case(MONDAY + timedelta(days=1)),
    ]
    assert backlog(facts) == [("2026-03-02", 1), ("2026-03-03", 2), ("2026-03-04", 1)]
    assert backlog(facts, start=date(2026, 3, 3), end=date(2026, 3, 6)) == [
        ("2026-03-03", 2),
        ("2026-03-04", 1),
        ("2026-03-05", 1),
        ("2026-03-06", 1),
    ]
    assert backlog(facts, period="week") == [("2026-W10", 1)]


@st.composite
def case_lists(draw: st.DrawFn) -> list[CaseFacts]:
    facts = []
    for _ in range(draw(st.integers(0, 60))):
        created = MONDAY + timedelta(hours=draw(st.integers(0, 24 * 60)))
        closed = draw(st.none() | st.integers(0, 24 * 30))
        facts.append(
            case(
                created,
                category=draw(st.sampled_from(["desertion", "legal", "asylum"])),
                channel=draw(st.sampled_from(["telegram", "web"])),
                closed=None if closed is None else created + timedelta(hours=closed),
            )
        )
    return facts


@settings(max_examples=60, deadline=None)
@given(facts=case_lists())
def test_the_backlog_matches_counting_day_by_day(facts: list[CaseFacts]) -> None:
    for day_label, count in backlog(facts):
        day = date.fromisoformat(day_label)
        assert count == sum(
            f.created_at.date() <= day and (f.closed_at is None or f.closed_at.date() > day)
            for f in facts
        )


@settings(max_examples=60, deadline=None)
@given(facts=case_lists().filter(bool), period=st.sampled_from(["day", "week", "month"]))
def test_parts_add_up_to_the_whole(facts: list[CaseFacts], period: Period) -> None:
    whole = volume_table(facts, by="category", period=period)
    parts = volume_parts(facts, by="category", split="channel", period=period)
    assert sum(table.count((None, None)) for table in parts.values()) == len(facts)
    for cell in [(r, c) for r in whole.rows for c in whole.columns]:
        assert whole.count(cell) == sum(table.count(cell) for table in parts.values())


def test_outcomes_count_every_case_with_none_for_no_outcome() -> None:
    facts = [
        case(MONDAY, outcome="avoided_legally", closed=MONDAY + timedelta(days=9)),
        case(MONDAY, outcome="avoided_legally", closed=MONDAY + timedelta(days=9)),
        case(MONDAY, category="legal"),
    ]
    table = outcome_table(facts)
    assert table.columns == ("avoided_legally", NO_OUTCOME)
    assert table.counts == ((2, 0), (0, 1))


def assert_small_numbers_protected(published: PublishedTable, truth: Table) -> None:
    for (row, column), (low, high) in audit(published).items():
        if 0 < truth.count((row, column)) < 10:
            assert high - low >= 10


def test_public_tables_share_their_margins_and_protect_every_small_number() -> None:
    facts = synthetic_cases(30_000, seed=3)
    months = period_range(date(2024, 1, 1), date(2025, 12, 31), "month")
    public = public_tables(facts, columns=months)
    assert public.by_region is not None and public.outcomes is not None
    total = public.volumes.total
    # The numbers shared between tables are published in all of them, equal.
    assert total.row_totals == public.outcomes.row_totals
    assert total.column_totals == public.by_region.column_totals
    assert total.column_totals == public.by_channel.column_totals
    assert total.total == public.by_region.total == public.outcomes.total == 30_000
    assert SUPPRESSED not in (*total.row_totals, *total.column_totals)

    region = volume_table(facts, by="region", period="month", columns=months)
    assert_small_numbers_protected(public.by_region, region)
    assert_small_numbers_protected(public.outcomes, outcome_table(facts))
    parts = volume_parts(facts, by="category", split="channel", period="month", columns=months)
    intervals = audit_linked(public.volumes)
    small = 0
    for (part, row, column), (low, high) in intervals.items():
        tables = parts.values() if part is None else [parts[part]]
        if 0 < sum(t.count((row, column)) for t in tables) < 10:
            small += 1
            assert high - low >= 10
    assert small > 0  # the long tail of categories and channels has small cells


def test_public_tables_refuse_days() -> None:
    with pytest.raises(ValueError, match="never days"):
        public_tables([case(MONDAY)], columns=["2026-03-02"], period="day")  # type: ignore[arg-type]


def test_the_benchmark_returns_its_row() -> None:
    [row] = bench_reports(cases=2_000, repeats=1)
    assert row.id == "P-report"
    assert row.unit == "ms" and row.value > 0 and row.reference > 0
    assert row.target == "< 5,000 ms"
    assert row.verdict in ("PASS", "FAIL")
