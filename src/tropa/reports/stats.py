"""Statistics from non-identifying case metadata (M11): volumes, reply times, backlog, outcomes.

Pure Python, no Django: the reports app reads the metadata into `CaseFacts`
(datetimes already in the organisation's local time, so that a "day" is a
local day) and calls these helpers. Counts come back as a `Table`, ready
for `tropa.reports.suppression`; `public_tables` builds and suppresses the
set of tables the public figures page shows, linked so that no two of them
can be played against each other.

Days are for staff only. Public output uses ISO weeks or months, whole and
closed periods only (a period still open changes from one day to the next,
and two versions of a table are subtracted as easily as two tables).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from operator import attrgetter
from typing import Final, Literal, TypeAlias

from tropa.reports.suppression import (
    DEFAULT_THRESHOLD,
    Cell,
    LinkedCell,
    PublishedFamily,
    PublishedTable,
    SuppressionError,
    Table,
    suppress,
    suppress_linked,
)

Period: TypeAlias = Literal["day", "week", "month"]
PublicPeriod: TypeAlias = Literal["week", "month"]
Dimension: TypeAlias = Literal["category", "channel", "region", "status"]
NO_OUTCOME: Final = "none"  # the outcome column of cases with none recorded (yet)
_HOUR: Final = 3600.0


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What reports may know of a case: no identity, no content."""

    created_at: datetime
    channel: str
    category: str
    region: str
    status: str
    outcome: str | None = None
    closed_at: datetime | None = None
    first_reply_at: datetime | None = None  # first reply by a person, not the bot


@dataclass(frozen=True)
class ReplyTimes:
    """Time to first human reply for the cases created in one period."""

    period: str
    replied: int
    waiting: int  # no human reply yet
    median_hours: float | None  # None when fewer than `min_count` replied
    p90_hours: float | None


@dataclass(frozen=True)
class PublicTables:
    """The public figures, suppressed together (see `public_tables`)."""

    period: PublicPeriod
    volumes: PublishedFamily  # category × period: all channels, then one table per channel
    by_channel: PublishedTable  # channel × period, a face of `volumes`
    by_region: PublishedTable | None  # region × period; None when it cannot be made safe
    outcomes: PublishedTable | None  # category × outcome (NO_OUTCOME included)


def period_label(day: date, period: Period) -> str:
    """'2026-03-04', '2026-W10' (ISO week, Monday first) or '2026-03'."""
    if period == "day":
        return day.isoformat()
    if period == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


def period_range(first: date, last: date, period: Period) -> list[str]:
    """Every period label from the one holding `first` to the one holding `last`."""
    labels: list[str] = []
    day = first
    if period == "week":
        day = first - timedelta(days=first.weekday())
    elif period == "month":
        day = first.replace(day=1)
    while day <= last:
        labels.append(period_label(day, period))
        day = _next_period(day, period)
    return labels


def volume_table(
    facts: Iterable[CaseFacts],
    *,
    by: Dimension,
    period: Period,
    rows: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
) -> Table:
    """Cases created per period (columns) by `by` (rows).

    ``rows`` fixes the row labels and their order (a value outside them is
    an error, so that no case silently drops out of one table but not
    another); ``columns`` fixes the periods, and cases in other periods
    are left out.
    """
    per_day = Counter((value, f.created_at.date()) for value, f in _keyed(facts, by))
    return _table(per_day, period=period, rows=rows, columns=columns, what=by)


def volume_parts(
    facts: Iterable[CaseFacts],
    *,
    by: Dimension,
    split: Dimension,
    period: Period,
    rows: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    parts: Sequence[str] | None = None,
) -> dict[str, Table]:
    """One `volume_table` per value of `split` (e.g. per channel), all of one shape.

    This is what a dashboard filter shows; publish it with `suppress_linked`.
    """
    split_of = attrgetter(split)
    per_day = Counter((split_of(f), value, f.created_at.date()) for value, f in _keyed(facts, by))
    rows = _labels(rows, {key[1] for key in per_day}, by)
    columns = _columns(columns, [key[2] for key in per_day], period)
    parts = _labels(parts, {key[0] for key in per_day}, split)
    by_part: dict[str, Counter[tuple[str, date]]] = {name: Counter() for name in parts}
    for (part, value, day), n in per_day.items():
        by_part[part][value, day] += n
    return {
        name: _table(counter, period=period, rows=rows, columns=columns, what=by)
        for name, counter in by_part.items()
    }


def outcome_table(
    facts: Iterable[CaseFacts],
    *,
    rows: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
) -> Table:
    """Cases by category (rows) and outcome (columns), `NO_OUTCOME` for none recorded yet.

    Every case counts, so the row totals are the cases per category and
    the table shares them with the volume tables of the same cases.
    """
    counts = Counter((f.category, f.outcome or NO_OUTCOME) for f in facts)
    rows = _labels(rows, {key[0] for key in counts}, "category")
    seen = {key[1] for key in counts}
    if columns is None:
        columns = [*sorted(seen - {NO_OUTCOME}), NO_OUTCOME]
    columns = _labels(columns, seen, "outcome")
    return Table.from_counts(counts, rows=rows, columns=columns)


def reply_times(
    facts: Iterable[CaseFacts], *, period: Period = "week", min_count: int = DEFAULT_THRESHOLD
) -> list[ReplyTimes]:
    """Median and 90th percentile (nearest rank) of hours to the first human reply, per period.

    Cases are counted in the period they were created in. A median of one
    or two replies is those people's own reply times, so below `min_count`
    replies the figures are None (staff dashboards may pass 1).
    """
    hours: defaultdict[date, list[float]] = defaultdict(list)
    waiting: Counter[date] = Counter()
    for f in facts:
        day = f.created_at.date()
        if f.first_reply_at is None:
            waiting[day] += 1
        else:
            hours[day].append((f.first_reply_at - f.created_at).total_seconds() / _HOUR)
    days = [*hours, *waiting]
    if not days:
        return []
    label = _labeller(period)
    by_period: defaultdict[str, list[float]] = defaultdict(list)
    for day, values in hours.items():
        by_period[label(day)].extend(values)
    waiting_by_period = Counter[str]()
    for day, n in waiting.items():
        waiting_by_period[label(day)] += n
    return [
        _reply_times(name, by_period.get(name, []), waiting_by_period[name], min_count)
        for name in period_range(min(days), max(days), period)
    ]


def backlog(
    facts: Iterable[CaseFacts],
    *,
    period: Period = "day",
    start: date | None = None,
    end: date | None = None,
) -> list[tuple[str, int]]:
    """Cases open at the end of each day (or of each period's last day, or of `end`).

    A case is open from the day it was created until the day it was
    closed; one closed on the day it came in was never open at a day's end.
    """
    change: Counter[date] = Counter()
    for f in facts:
        change[f.created_at.date()] += 1
        if f.closed_at is not None:
            change[f.closed_at.date()] -= 1
    if not change:
        return []
    first = min(change)
    start = first if start is None else start
    end = max(change) if end is None else end
    label = _labeller(period)
    open_cases, result = 0, {}
    day = min(first, start)
    while day <= end:
        open_cases += change.get(day, 0)
        if day >= start:
            result[label(day)] = open_cases  # the period's last day seen wins
        day += timedelta(days=1)
    return list(result.items())


def public_tables(
    facts: Iterable[CaseFacts],
    *,
    columns: Sequence[str],
    period: PublicPeriod = "month",
    threshold: int = DEFAULT_THRESHOLD,
    protection: int | None = None,
    categories: Sequence[str] | None = None,
    channels: Sequence[str] | None = None,
    regions: Sequence[str] | None = None,
    outcomes: Sequence[str] | None = None,
) -> PublicTables:
    """The public figures over the cases created in `columns` (closed periods), suppressed.

    The volumes family (category × period, all channels and per channel)
    shares its category totals with the outcome table and its period
    totals with the region table, so those numbers are published in every
    table that shows them and never used as complements (``keep``); given
    them, no table says anything about another's hidden cells. A region or
    outcome table that cannot be protected that way, or whose shared totals
    the family cannot keep (a category too rare to show by `period`: merge
    it, or use a coarser period), is left out (None).
    """
    if period not in ("week", "month"):
        raise ValueError("public figures use weeks or months, never days")
    label = _labeller(period)
    wanted = set(columns)
    chosen = [f for f in facts if label(f.created_at.date()) in wanted]
    parts = volume_parts(
        chosen,
        by="category",
        split="channel",
        period=period,
        rows=categories,
        columns=columns,
        parts=channels,
    )
    rows = next(iter(parts.values())).rows if parts else tuple(categories or ())

    def published(table: Table, keep: list[Cell]) -> PublishedTable | None:
        try:
            return suppress(table, keep=keep, threshold=threshold, protection=protection)
        except SuppressionError:
            return None

    region = volume_table(chosen, by="region", period=period, rows=regions, columns=columns)
    outcome = outcome_table(chosen, rows=rows, columns=outcomes)
    by_region = published(region, [(None, c) for c in (*region.columns, None)])
    by_outcome = published(outcome, [(r, None) for r in (*outcome.rows, None)])
    for with_region, with_outcome in ((True, True), (True, False), (False, True)):
        if (with_region and by_region is None) or (with_outcome and by_outcome is None):
            continue
        shared: list[LinkedCell] = [(None, None, None)]
        shared += [(None, None, c) for c in columns] if with_region else []
        shared += [(None, r, None) for r in rows] if with_outcome else []
        try:
            family = suppress_linked(parts, keep=shared, threshold=threshold, protection=protection)
        except SuppressionError:
            continue
        return PublicTables(
            period,
            family,
            family.by_part(),
            by_region if with_region else None,
            by_outcome if with_outcome else None,
        )
    family = suppress_linked(parts, threshold=threshold, protection=protection)
    return PublicTables(period, family, family.by_part(), None, None)


def _keyed(facts: Iterable[CaseFacts], by: Dimension) -> Iterable[tuple[str, CaseFacts]]:
    get = attrgetter(by)
    return ((get(f), f) for f in facts)


def _table(
    per_day: Counter[tuple[str, date]],
    *,
    period: Period,
    rows: Sequence[str] | None,
    columns: Sequence[str] | None,
    what: str,
) -> Table:
    rows = _labels(rows, {value for value, _ in per_day}, what)
    columns = _columns(columns, [day for _, day in per_day], period)
    label = _labeller(period)
    counts: Counter[tuple[str, str]] = Counter()
    for (value, day), n in per_day.items():
        counts[value, label(day)] += n
    return Table.from_counts(counts, rows=rows, columns=columns)


def _labels(given: Sequence[str] | None, seen: Collection[str], what: str) -> list[str]:
    if given is None:
        return sorted(seen)
    unknown = set(seen) - set(given)
    if unknown:
        raise ValueError(f"{what} values missing from the labels given: {sorted(unknown)}")
    return list(given)


def _columns(given: Sequence[str] | None, days: Sequence[date], period: Period) -> list[str]:
    if given is not None:
        return list(given)
    if not days:
        raise ValueError("no cases: give the periods (columns) to show")
    return period_range(min(days), max(days), period)


def _labeller(period: Period) -> Callable[[date], str]:
    """`period_label` for one period, remembered per day (a year has 365 of them)."""
    cache: dict[date, str] = {}

    def label(day: date) -> str:
        found = cache.get(day)
        if found is None:
            found = cache[day] = period_label(day, period)
        return found

    return label


def _next_period(day: date, period: Period) -> date:
    if period == "day":
        return day + timedelta(days=1)
    if period == "week":
        return day + timedelta(days=7)
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _reply_times(name: str, hours: list[float], waiting: int, min_count: int) -> ReplyTimes:
    if len(hours) < max(min_count, 1):
        return ReplyTimes(name, len(hours), waiting, None, None)
    hours.sort()
    p90 = hours[math.ceil(0.9 * len(hours)) - 1]
    return ReplyTimes(name, len(hours), waiting, statistics.median(hours), p90)
