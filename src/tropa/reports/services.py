"""Statistics for Django: case metadata in, suppressed tables and figures out.

Only clear, non-identifying metadata is read (creation and closing times,
channel, category, coarse region, status, outcome, time of the first human
reply); `stats.py` counts and `suppression.py` hides every small number and
whatever would let one be worked out. Staff see days and the current period;
the public sees whole, closed months only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from tropa.cases.models import Case, Outcome
from tropa.reports import stats
from tropa.reports.suppression import (
    SUPPRESSED,
    PublishedTable,
    SuppressionError,
    Value,
    suppress,
)

UNKNOWN = "unknown"
FIELDS = (
    "created_at",
    "channel",
    "category",
    "region",
    "status",
    "outcome",
    "closed_at",
    "first_reply_at",
)
# The public headline figures, each a sum of outcomes (the organisation's own words).
HEADLINES = {
    "left_the_front": (Outcome.LEFT_FRONT_ABROAD, Outcome.LEFT_FRONT_HIDING),
    "avoided_service": (Outcome.AVOIDED_LEGALLY, Outcome.AVOIDED_BY_LEAVING),
    "protection_granted": (Outcome.PROTECTION_GRANTED,),
}


def case_count() -> int:
    return Case.objects.count()


def case_facts(*, progress: Callable[[int], None] | None = None) -> list[stats.CaseFacts]:
    """Every case's metadata, in local time; `progress(n)` after each chunk read."""
    local = timezone.localtime
    facts = []
    rows = Case.objects.order_by("pk").values_list(*FIELDS).iterator(chunk_size=5000)
    for n, (created, channel, category, region, status, outcome, closed, replied) in enumerate(
        rows, start=1
    ):
        facts.append(
            stats.CaseFacts(
                created_at=local(created),
                channel=channel or UNKNOWN,
                category=category or UNKNOWN,
                region=region or UNKNOWN,
                status=status,
                outcome=outcome or None,
                closed_at=local(closed) if closed else None,
                first_reply_at=local(replied) if replied else None,
            )
        )
        if progress is not None and n % 5000 == 0:
            progress(5000)
    if progress is not None:
        progress(len(facts) % 5000)
    return facts


def recent_periods(
    today: date, period: stats.Period, count: int, *, include_current: bool
) -> list[str]:
    """The last `count` period labels, ending with the current one or the last closed one."""
    step = {"day": 1, "week": 7, "month": 31}[period]
    last = today if include_current else _previous_period_end(today, period)
    labels = stats.period_range(last - timedelta(days=step * (count + 1)), last, period)
    return labels[-count:]


def _previous_period_end(today: date, period: stats.Period) -> date:
    if period == "day":
        return today - timedelta(days=1)
    if period == "week":
        return today - timedelta(days=today.weekday() + 1)
    return today.replace(day=1) - timedelta(days=1)


def threshold() -> int:
    return int(settings.REPORT_SUPPRESSION_THRESHOLD)


# ----------------------------------------------------------------- dashboard


@dataclass(frozen=True)
class Dashboard:
    period: str
    volumes: PublishedTable  # category × period
    channels: PublishedTable | None  # channel × period, when it can be shown safely
    replies: list[stats.ReplyTimes]
    backlog: list[tuple[str, Value]]
    outcomes: PublishedTable
    threshold: int


def dashboard(
    facts: list[stats.CaseFacts], *, today: date, period: stats.Period = "month"
) -> Dashboard:
    """What coordinators see: the same suppression as the public figures, with
    the current period and staff-level detail (days for the backlog).

    Requests by category and by channel are two tables of the same cases that
    share their period totals and grand total. The channel table is shown only
    when the category table publishes every one of those shared numbers, and
    is suppressed keeping them: then neither table has an unknown in common
    with the other, and no subtraction across them recovers a hidden count.
    """
    limit = threshold()
    columns = recent_periods(today, period, 12 if period == "week" else 6, include_current=True)
    chosen = [f for f in facts if stats.period_label(f.created_at.date(), period) in columns]
    categories = sorted({f.category for f in facts}) or [UNKNOWN]
    volumes = suppress(
        stats.volume_table(chosen, by="category", period=period, rows=categories, columns=columns),
        threshold=limit,
    )
    shared = [(None, column) for column in columns] + [(None, None)]
    channels = None
    if all(volumes.value(cell) is not SUPPRESSED for cell in shared):
        by_channel = stats.volume_table(
            chosen,
            by="channel",
            period=period,
            rows=sorted({f.channel for f in facts}) or [UNKNOWN],
            columns=columns,
        )
        try:
            channels = suppress(by_channel, keep=shared, threshold=limit)
        except SuppressionError:
            channels = None
    start = today - timedelta(days=29)
    backlog = [
        (label, count if count == 0 or count >= limit else SUPPRESSED)
        for label, count in stats.backlog(facts, period="day", start=start, end=today)
    ]
    outcome_columns = [*Outcome.values, stats.NO_OUTCOME]
    outcomes = suppress(
        stats.outcome_table(facts, rows=categories, columns=outcome_columns), threshold=limit
    )
    return Dashboard(
        period=period,
        volumes=volumes,
        channels=channels,
        replies=stats.reply_times(chosen, period=period, min_count=limit),
        backlog=backlog,
        outcomes=outcomes,
        threshold=limit,
    )


# ------------------------------------------------------------ public figures


@dataclass(frozen=True)
class PublicFigures:
    months: list[str]
    tables: stats.PublicTables
    headlines: dict[str, Value]
    threshold: int


def public_figures(facts: list[stats.CaseFacts], *, today: date, months: int = 12) -> PublicFigures:
    """Closed months only; the headlines are sums of published numbers, so they
    say nothing the tables do not (a hidden part hides the headline)."""
    limit = threshold()
    columns = recent_periods(today, "month", months, include_current=False)
    categories = sorted({f.category for f in facts}) or [UNKNOWN]
    tables = stats.public_tables(
        facts,
        columns=columns,
        period="month",
        threshold=limit,
        categories=categories,
        channels=sorted({f.channel for f in facts}) or [UNKNOWN],
        regions=sorted({f.region for f in facts}) or [UNKNOWN],
        outcomes=[*Outcome.values, stats.NO_OUTCOME],
    )
    headlines: dict[str, Value] = {}
    for name, outcomes in HEADLINES.items():
        values = (
            [tables.outcomes.value((None, str(outcome))) for outcome in outcomes]
            if tables.outcomes is not None
            else [SUPPRESSED]
        )
        headlines[name] = (
            SUPPRESSED
            if any(value is SUPPRESSED for value in values)
            else sum(int(value) for value in values if value is not SUPPRESSED)
        )
    return PublicFigures(months=columns, tables=tables, headlines=headlines, threshold=limit)


# ------------------------------------------------------------------- exports


def rows_of(table: PublishedTable, *, mark: str = "x") -> Iterator[list[str]]:
    yield from table.render(mark=mark)


def export_document(figures: PublicFigures) -> dict[str, Any]:
    """The public figures as plain data (JSON), hidden numbers as null."""

    def plain(table: PublishedTable | None) -> dict[str, Any] | None:
        if table is None:
            return None
        return {
            "rows": list(table.rows),
            "columns": list(table.columns),
            "cells": [[None if v is SUPPRESSED else v for v in row] for row in table.cells],
            "row_totals": [None if v is SUPPRESSED else v for v in table.row_totals],
            "column_totals": [None if v is SUPPRESSED else v for v in table.column_totals],
            "total": None if table.total is SUPPRESSED else table.total,
        }

    return {
        "months": figures.months,
        "threshold": figures.threshold,
        "note": f"null: fewer than {figures.threshold}, or hidden so that such a count "
        "cannot be worked out from the others",
        "headlines": {k: None if v is SUPPRESSED else v for k, v in figures.headlines.items()},
        "requests_by_category": plain(figures.tables.volumes.total),
        "requests_by_channel": plain(figures.tables.by_channel),
        "requests_by_region": plain(figures.tables.by_region),
        "outcomes_by_category": plain(figures.tables.outcomes),
    }
