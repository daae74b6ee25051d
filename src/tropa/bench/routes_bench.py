"""Route planner benchmark: P7 (main route + 2 disjoint backups on a large graph).

The graph is synthetic and seeded: places scattered over a unit square split
into a 6 × 6 grid of countries named with ISO user-assigned codes (XA.., QM..),
so none is a real country. The start country is the lower-left cell, three
countries in the middle are hostile, and about 1% of places, in the far
corner, are safe. Legs join near neighbours, with some long-distance legs and
some parallel legs by another mode; crossing a border needs the destination
country's documents unless it is on foot (no document checked, high risk), so
filtering by documents changes the routes.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

import networkx as nx
from scipy.spatial import cKDTree

from tropa.bench.runner import Result, verdict
from tropa.routes.planner import (
    DEFAULT_RISK_AVERSION,
    SINK,
    Knowledge,
    Leg,
    Place,
    PreparedGraph,
    documents_mask,
    plan,
    prepare,
)

TARGET_MS = 100.0
BENCH_TODAY = date(2026, 1, 1)
GRID = 6
COUNTRIES = [f"X{chr(65 + i)}" for i in range(26)] + [f"Q{chr(77 + i)}" for i in range(10)]
START_COUNTRY = COUNTRIES[0]
HOSTILE = frozenset({COUNTRIES[2 * GRID + 2], COUNTRIES[2 * GRID + 3], COUNTRIES[3 * GRID + 2]})
ENTRY = {  # documents checked on entering a country, with how often each rule occurs
    "internal": (frozenset({"internal_passport"}), 0.3),
    "foreign": (frozenset({"foreign_passport"}), 0.5),
    "visa": (frozenset({"foreign_passport", "visa"}), 0.2),
}
HOURS_PER_UNIT = {"air": 40.0, "rail": 250.0, "road": 400.0, "foot": 2000.0, "ferry": 600.0}
DOCUMENT_SETS = (
    frozenset({"internal_passport"}),
    frozenset({"internal_passport", "foreign_passport", "visa"}),
)


def _country(x: float, y: float) -> str:
    return COUNTRIES[min(int(y * GRID), GRID - 1) * GRID + min(int(x * GRID), GRID - 1)]


def _places(count: int, rng: random.Random) -> tuple[list[Place], list[tuple[float, float]]]:
    points = [(rng.random(), rng.random()) for _ in range(count)]
    far = sorted(range(count), key=lambda i: -(points[i][0] + points[i][1]))
    safe = set(far[: max(1, count // 100)])
    safe = {i for i in safe if _country(*points[i]) not in HOSTILE}
    places = [
        Place(
            id=f"p{i}",
            name=f"Place {i}",
            country=_country(x, y),
            kind="safe_point" if i in safe else rng.choice(("city", "city", "crossing")),
            safe=i in safe,
        )
        for i, (x, y) in enumerate(points)
    ]
    return places, points


def _entry_rules(rng: random.Random) -> dict[str, frozenset[str]]:
    names = list(ENTRY)
    weights = [ENTRY[name][1] for name in names]
    rules = {c: ENTRY[rng.choices(names, weights)[0]][0] for c in COUNTRIES}
    rules[START_COUNTRY] = ENTRY["internal"][0]
    return rules


def _leg(
    number: int,
    origin: int,
    destination: int,
    mode: str,
    places: list[Place],
    points: list[tuple[float, float]],
    entry: dict[str, frozenset[str]],
    rng: random.Random,
) -> Leg:
    distance = math.dist(points[origin], points[destination])
    crossing = places[origin].country != places[destination].country
    if crossing and mode == "foot":
        documents: frozenset[str] = frozenset()
        risk = rng.choice(("high", "high", "critical"))
    else:
        if crossing:
            documents = entry[places[destination].country]
        elif mode in ("rail", "air"):
            documents = frozenset({"internal_passport"})
        else:
            documents = frozenset()
        risk = rng.choices(("low", "medium", "high", "critical"), (40, 35, 20, 5))[0]
    return Leg(
        id=f"L{number}",
        origin=places[origin].id,
        destination=places[destination].id,
        mode=mode,
        hours=round(0.5 + distance * HOURS_PER_UNIT[mode], 2),
        documents=documents,
        risk=risk,
        assessed_on=BENCH_TODAY - timedelta(days=rng.randrange(0, 720)),
        assessed_by=f"evac-{rng.randrange(1, 9)}",
    )


def synthetic_knowledge(places: int = 10_000, legs: int = 50_000, seed: int = 7) -> Knowledge:
    """A seeded, connected-ish route graph of `places` places and exactly `legs` legs."""
    rng = random.Random(seed)
    all_places, points = _places(places, rng)
    entry = _entry_rules(rng)
    neighbours = max(1, min(legs // places - 1, places - 1))
    _, nearest = cKDTree(points).query(points, k=neighbours + 1)
    pairs = [(i, int(j)) for i, row in enumerate(nearest) for j in row[1:]][:legs]
    out = [
        _leg(n, i, j, rng.choice(("road", "road", "rail", "foot")), all_places, points, entry, rng)
        for n, (i, j) in enumerate(pairs)
    ]
    while len(out) < legs:
        if len(out) % 2:  # a parallel leg, usually by another mode
            i, j = pairs[rng.randrange(len(pairs))]
            mode = rng.choice(("rail", "road", "ferry", "foot"))
        else:  # a longer leg, within a fifth of the map
            i, j = rng.randrange(places), rng.randrange(places)
            mode = rng.choice(("air", "air", "rail"))
            if math.dist(points[i], points[j]) > 0.2:
                continue
        if i != j:
            out.append(_leg(len(out), i, j, mode, all_places, points, entry, rng))
    return Knowledge(places=tuple(all_places), legs=tuple(out), hostile_countries=HOSTILE)


def _ms(seconds: float) -> float:
    return seconds * 1000


def bench_p7(
    *, places: int = 10_000, legs: int = 50_000, queries: int = 20, seed: int = 7
) -> list[Result]:
    knowledge = synthetic_knowledge(places, legs, seed)
    started = time.perf_counter()
    prepared = prepare(knowledge, BENCH_TODAY, document_sets=DOCUMENT_SETS)
    prepare_ms = _ms(time.perf_counter() - started)
    rng = random.Random(seed)
    home = [p.id for p in knowledge.places if p.country == START_COUNTRY and not p.safe]
    starts = rng.sample(home, min(queries, len(home)))
    # Judged on the slower document set: the two sets give very different
    # routes (long detours by foot crossings without a foreign passport), so a
    # median over both would fall between them and describe neither.
    sets = [_time_plans(prepared, starts, documents) for documents in DOCUMENT_SETS]
    slow = max(sets, key=lambda s: statistics.median(s.plans))
    value = statistics.median(slow.plans)
    reference = statistics.median(slow.plain) if slow.plain else value
    by_set = "; ".join(
        f"{'+'.join(sorted(s.documents))}: median {statistics.median(s.plans):.1f}, "
        f"slowest {max(s.plans):.1f}, {s.routes} routes in {len(s.plans)} plans"
        for s in sets
    )
    return [
        Result(
            "P7",
            f"plan main + 2 disjoint backups on {places:,} places / {legs:,} legs (median of "
            f"the slower document set; ms by documents held: {by_set}; "
            f"prepared in {prepare_ms:,.0f} ms)",
            value,
            "ms",
            reference,
            "one plain Dijkstra",
            value / reference,
            f"< {TARGET_MS:.0f} ms",
            verdict(value < TARGET_MS),
        )
    ]


@dataclass
class _Timings:
    documents: frozenset[str]
    plans: list[float] = field(default_factory=list)
    plain: list[float] = field(default_factory=list)
    routes: int = 0


def _time_plans(prepared: PreparedGraph, starts: list[str], documents: frozenset[str]) -> _Timings:
    out = _Timings(documents)
    graph = prepared.view(DEFAULT_RISK_AVERSION, documents_mask(documents)).graph
    for start in starts:
        began = time.perf_counter()
        result = plan(prepared, start, documents, BENCH_TODAY)
        out.plans.append(_ms(time.perf_counter() - began))
        out.routes += len(result.routes)
        if start in graph:  # else no route: nothing for the plain search to do
            began = time.perf_counter()
            nx.single_source_dijkstra(graph, start, target=SINK, weight="cost")
            out.plain.append(_ms(time.perf_counter() - began))
    return out
