"""Reports benchmark: P-report (every statistic, then the suppressed public tables).

The cases are synthetic and seeded: two years of metadata with skewed
categories, channels and regions (a long tail of rare regions, so the
region table has small cells to hide), outcomes for most closed cases and
a first human reply for most of them.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import datetime, timedelta

from tropa.bench.runner import Result, verdict
from tropa.reports.stats import (
    CaseFacts,
    backlog,
    outcome_table,
    period_range,
    public_tables,
    reply_times,
    volume_table,
)

TARGET_MS = 5_000.0
START = datetime(2024, 1, 1)
DAYS = 730
CATEGORIES = {  # weight of each category
    "mobilisation": 30,
    "desertion": 12,
    "conscription": 25,
    "contract": 8,
    "legal_advice": 15,
    "asylum": 6,
    "relatives": 3,
    "other": 1,
}
CHANNELS = {"telegram": 70, "web": 25, "console": 5}
REGIONS = {f"region-{k:02d}": 1 / (k + 1) ** 2 for k in range(24)}
OUTCOMES = {
    "left_front_abroad": 4,
    "left_front_hiding": 3,
    "avoided_legally": 30,
    "avoided_by_leaving": 35,
    "protection_granted": 5,
    "lost_contact": 15,
    "declined_help": 7,
    "suspected_infiltration": 1,
}


def synthetic_cases(count: int, *, seed: int) -> list[CaseFacts]:
    rng = random.Random(seed)
    categories = rng.choices(list(CATEGORIES), weights=list(CATEGORIES.values()), k=count)
    channels = rng.choices(list(CHANNELS), weights=list(CHANNELS.values()), k=count)
    regions = rng.choices(list(REGIONS), weights=list(REGIONS.values()), k=count)
    outcomes = rng.choices(list(OUTCOMES), weights=list(OUTCOMES.values()), k=count)
    cases = []
    for k in range(count):
        created = START + timedelta(seconds=rng.uniform(0, DAYS * 86_400))
        closed = created + timedelta(days=rng.expovariate(1 / 40))
        is_closed = rng.random() < 0.8
        reply = created + timedelta(hours=rng.lognormvariate(1.0, 1.2))
        cases.append(
            CaseFacts(
                created_at=created,
                channel=channels[k],
                category=categories[k],
                region=regions[k],
                status="closed" if is_closed else "in_progress",
                outcome=outcomes[k] if is_closed else None,
                closed_at=closed if is_closed else None,
                first_reply_at=reply if rng.random() < 0.95 else None,
            )
        )
    return cases


def run_all(cases: list[CaseFacts]) -> int:
    """Every statistic, then the public tables; returns how many numbers were hidden."""
    for by in ("category", "channel"):
        for period in ("day", "week", "month"):
            volume_table(cases, by=by, period=period)
    reply_times(cases, period="week")
    backlog(cases)
    outcome_table(cases)
    months = period_range(START.date(), (START + timedelta(days=DAYS - 1)).date(), "month")
    published = public_tables(cases, columns=months, period="month")
    tables = [published.by_channel, published.by_region, published.outcomes]
    hidden = len(published.volumes.suppressed())
    return hidden + sum(len(t.suppressed()) for t in tables if t is not None)


def bench_reports(*, cases: int = 100_000, seed: int = 8, repeats: int = 3) -> list[Result]:
    facts = synthetic_cases(cases, seed=seed)
    created = [f.created_at for f in facts]
    timings, references, hidden = [], [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        sorted(created)
        references.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        hidden = run_all(facts)
        timings.append((time.perf_counter() - start) * 1000)
    value, reference = statistics.median(timings), statistics.median(references)
    return [
        Result(
            "P-report",
            f"statistics + suppression over {cases:,} cases ({hidden} numbers hidden)",
            value,
            "ms",
            reference,
            f"plain sorted() of the {cases:,} created_at values",
            value / reference,
            f"< {TARGET_MS:,.0f} ms",
            verdict(value < TARGET_MS),
        )
    ]
