"""The route planner: risk model, exclusions, disjoint backups, and a brute-force oracle."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tropa.bench.routes_bench import bench_p7
from tropa.routes.knowledge import load_sample
from tropa.routes.planner import (
    DOCUMENTS,
    GRACE_DAYS,
    RISK_PROBABILITY,
    Knowledge,
    Leg,
    NoRoute,
    Place,
    Plan,
    Route,
    describe,
    effective_probability,
    failure_nats,
    plan,
    prepare,
)

TODAY = date(2026, 11, 15)
INTERNAL = frozenset({"internal_passport"})
EVERYTHING = frozenset(DOCUMENTS)


def place(ident: str, country: str = "RU", *, safe: bool = False) -> Place:
    return Place(ident, ident.title(), country, "safe_point" if safe else "city", safe)


def leg(
    ident: str,
    origin: str,
    destination: str,
    hours: float = 1.0,
    *,
    mode: str = "road",
    documents: frozenset[str] = frozenset(),
    risk: str = "low",
    age: int = 0,
) -> Leg:
    return Leg(
        ident,
        origin,
        destination,
        mode,
        hours,
        documents,
        risk,
        TODAY - timedelta(days=age),
        "evac-1",
    )


@pytest.fixture(scope="module")
def sample() -> Knowledge:
    return load_sample(today=TODAY)


def every_leg(result: Plan) -> Iterator[Leg]:
    for route in result.routes:
        yield from route.legs


# -- the risk model --------------------------------------------------------------------


@pytest.mark.parametrize("risk", list(RISK_PROBABILITY))
def test_a_fresh_assessment_keeps_its_base_probability(risk: str) -> None:
    for age in range(GRACE_DAYS + 1):
        assert effective_probability(risk, age) == RISK_PROBABILITY[risk]


@given(st.sampled_from(list(RISK_PROBABILITY)), st.integers(0, 5000), st.integers(0, 5000))
def test_effective_risk_never_falls_as_an_assessment_ages(risk: str, a: int, b: int) -> None:
    young, old = sorted((a, b))
    assert effective_probability(risk, young) <= effective_probability(risk, old) <= 1
    assert failure_nats(risk, young) <= failure_nats(risk, old)
    if old > young and old > GRACE_DAYS:
        assert failure_nats(risk, young) < failure_nats(risk, old)


@given(st.sampled_from(list(RISK_PROBABILITY)), st.integers(0, 3000))
def test_cost_nats_match_the_documented_probability(risk: str, age: int) -> None:
    p_eff = effective_probability(risk, age)
    assert math.isclose(failure_nats(risk, age), -math.log(1 - p_eff), rel_tol=1e-9)


def test_the_chance_a_leg_still_works_halves_every_180_days_after_the_grace() -> None:
    p = RISK_PROBABILITY["medium"]
    assert math.isclose(1 - effective_probability("medium", 210), (1 - p) / 2)
    assert math.isclose(1 - effective_probability("medium", 390), (1 - p) / 4)


def test_route_risk_and_cost_combine_the_legs_as_documented() -> None:
    knowledge = Knowledge(
        (place("a"), place("b"), place("safe", safe=True)),
        (leg("L1", "a", "b", 2, risk="high", age=100), leg("L2", "b", "safe", 3, risk="low")),
    )
    main = plan(knowledge, "a", frozenset(), TODAY, risk_aversion=10).main
    assert main is not None
    p1, p2 = effective_probability("high", 100), RISK_PROBABILITY["low"]
    assert math.isclose(main.risk, 1 - (1 - p1) * (1 - p2))
    assert math.isclose(main.hours, 5)
    assert math.isclose(main.cost, 5 - 10 * math.log((1 - p1) * (1 - p2)))
    assert [f.stale for f in main.facts] == [True, False]
    assert [f.age_days for f in main.facts] == [100, 0]


# -- choices and exclusions ------------------------------------------------------------


def test_the_fresh_leg_wins_over_an_otherwise_identical_stale_one() -> None:
    knowledge = Knowledge(
        (place("a"), place("safe", "KZ", safe=True)),
        (leg("stale", "a", "safe", age=400), leg("fresh", "a", "safe", age=3)),
    )
    result = plan(knowledge, "a", INTERNAL, TODAY)
    assert result.main is not None
    assert [x.id for x in result.main.legs] == ["fresh"]
    # The stale one is a different leg between the same places: a valid backup.
    assert [[x.id for x in b.legs] for b in result.backups] == [["stale"]]
    assert result.backups[0].disjoint == "place"


def test_without_a_foreign_passport_no_route_needs_one(sample: Knowledge) -> None:
    for start in sample.places:
        result = plan(sample, start.id, INTERNAL, TODAY)
        assert all(x.documents <= INTERNAL for x in every_leg(result))


def test_hostile_places_appear_in_no_route(sample: Knowledge) -> None:
    for start in sample.places:
        for held in (frozenset(), INTERNAL, EVERYTHING):
            for route in plan(sample, start.id, held, TODAY).routes:
                assert all(p.country != "BY" for p in route.places)


def test_a_start_in_a_hostile_country_gets_no_plan(sample: Knowledge) -> None:
    result = plan(sample, "west-transit", EVERYTHING, TODAY)
    assert result.main is None and result.backups == ()
    assert result.no_route is not None
    assert (result.no_route.code, result.no_route.value) == ("start_in_hostile_country", "BY")


def test_the_sample_routes_someone_with_an_internal_passport_through_armenia(
    sample: Knowledge,
) -> None:
    result = plan(sample, "north-city", INTERNAL, TODAY)
    assert result.main is not None
    assert [p.id for p in result.main.places] == [
        "north-city",
        "ru-airport",
        "highland-capital",
        "safe-flat-b",
    ]
    assert [b.destination.country for b in result.backups] == ["KZ"]
    assert result.missing_backups == 1
    foreign = {e.document: e for e in result.excluded_for_documents}["foreign_passport"]
    assert foreign.legs == 9 and len(foreign.examples) == 5
    (hostile,) = result.excluded_hostile
    assert (hostile.country, hostile.places, hostile.legs) == ("BY", 2, 3)


@pytest.mark.parametrize(
    ("start", "held", "code", "needed"),
    [
        ("nowhere", INTERNAL, "unknown_start", frozenset()),
        ("safe-flat-a", INTERNAL, "start_is_safe", frozenset()),
        ("north-city", frozenset(), "needs_documents", INTERNAL),
        ("mountain-pass", INTERNAL, "needs_documents", frozenset({"foreign_passport"})),
    ],
)
def test_no_route_says_why(
    sample: Knowledge, start: str, held: frozenset[str], code: str, needed: frozenset[str]
) -> None:
    result = plan(sample, start, held, TODAY)
    assert result.main is None
    assert result.no_route is not None
    assert (result.no_route.code, result.no_route.documents_needed) == (code, needed)
    assert len(describe(result)) >= 2


def test_unreachable_and_no_safe_place_are_told_apart() -> None:
    places = (place("a"), place("b"), place("safe", safe=True))
    cut_off = Knowledge(places, (leg("L1", "a", "b"),))
    assert plan(cut_off, "a", EVERYTHING, TODAY).no_route == NoRoute("unreachable")
    hostile_only = Knowledge((place("a"), place("s", "BY", safe=True)), (), frozenset({"BY"}))
    assert plan(hostile_only, "a", EVERYTHING, TODAY).no_route == NoRoute("no_safe_place")


def test_a_backup_through_the_same_transit_place_is_marked_leg_disjoint() -> None:
    knowledge = Knowledge(
        (place("a"), place("hub"), place("safe", safe=True)),
        (
            leg("L1", "a", "hub", 1, mode="rail"),
            leg("L2", "a", "hub", 2, mode="road"),
            leg("L3", "hub", "safe", 1, mode="rail"),
            leg("L4", "hub", "safe", 2, mode="foot"),
        ),
    )
    result = plan(knowledge, "a", EVERYTHING, TODAY)
    assert result.main is not None
    assert [x.id for x in result.main.legs] == ["L1", "L3"]
    (backup,) = result.backups
    assert [x.id for x in backup.legs] == ["L2", "L4"]
    assert backup.disjoint == "leg"
    assert any("no route avoids the transit places" in line for line in describe(result))


def test_a_prepared_graph_serves_only_its_own_day(sample: Knowledge) -> None:
    prepared = prepare(sample, TODAY, document_sets=[INTERNAL])
    assert plan(prepared, "north-city", INTERNAL, TODAY) == plan(
        sample, "north-city", INTERNAL, TODAY
    )
    with pytest.raises(ValueError, match="prepared for"):
        plan(prepared, "north-city", INTERNAL, TODAY + timedelta(days=1))
    with pytest.raises(ValueError, match="unknown document"):
        plan(prepared, "north-city", frozenset({"passport"}), TODAY)


def test_describe_tells_the_whole_plan_in_english(sample: Knowledge) -> None:
    lines = describe(plan(sample, "north-city", EVERYTHING, TODAY))
    assert lines[0] == "From Northern city, holding: internal passport, foreign passport, visa."
    assert lines[1].startswith("Main route: Northern city → Regional airport")
    assert sum(line.startswith("Backup") for line in lines) == 2
    assert lines[-1].startswith("Left out 2 place(s) and 3 leg(s) in BY, a hostile country")


# -- against a brute-force oracle ------------------------------------------------------

COUNTRIES = ("RU", "BY", "AM", "KZ", "GE")


def documented_cost(x: Leg, risk_aversion: float) -> float:
    """The module docstring's formula, written out again independently."""
    p = RISK_PROBABILITY[x.risk]
    age = max(0, (TODAY - x.assessed_on).days)
    p_eff = p if age <= 30 else 1 - (1 - p) * 0.5 ** ((age - 30) / 180)
    return x.hours + risk_aversion * -math.log(1 - p_eff)


def all_routes(knowledge: Knowledge, start: str, held: frozenset[str]) -> list[tuple[Leg, ...]]:
    """Every route the rules allow: simple paths to the first safe place reached."""
    places = knowledge.place_by_id
    hostile = {p for p in places if places[p].country in knowledge.hostile_countries}
    if start in hostile or places[start].safe:
        return []
    usable = [
        x
        for x in knowledge.legs
        if x.documents <= held and x.origin not in hostile and x.destination not in hostile
    ]
    found: list[tuple[Leg, ...]] = []

    def walk(here: str, seen: frozenset[str], path: tuple[Leg, ...]) -> None:
        if path and places[here].safe:
            found.append(path)
            return
        for x in usable:
            if x.origin == here and x.destination not in seen:
                walk(x.destination, seen | {x.destination}, (*path, x))

    walk(start, frozenset({start}), ())
    return found


@st.composite
def knowledge_and_person(
    draw: st.DrawFn, *, hub: bool = False
) -> tuple[Knowledge, frozenset[str], float]:
    """Up to 7 places and 16 legs from P0, the start: in RU (never hostile) and not safe.

    The last place is safe (but may be hostile); unit tests cover the other starts.
    With `hub`, every route from P0 passes through P1 (not safe) and
    legs often come in parallel: where backups must fall back to leg-disjoint.
    """
    count = draw(st.integers(3 if hub else 2, 5 if hub else 7))
    safe = [False] + [draw(st.booleans()) and not hub for _ in range(count - 2)] + [True]
    countries = ["RU"] + [draw(st.sampled_from(COUNTRIES)) for _ in range(count - 1)]
    if hub:
        countries[1] = "RU"
    places = tuple(
        Place(f"P{i}", f"Place {i}", countries[i], "city", safe[i]) for i in range(count)
    )
    lowest = 1 if hub else 0
    pairs = st.tuples(st.integers(lowest, count - 1), st.integers(0, count - 1)).filter(
        lambda pair: pair[0] != pair[1]
    )
    parallel = 0.5 if hub else 0.25
    ends = [(0, 1)] * draw(st.integers(1, 3)) if hub else []
    for _ in range(draw(st.integers(1, 14))):
        if ends and draw(st.floats(0, 1)) < parallel:  # another leg between the same places
            ends.append(ends[-1])
        else:
            ends.append(draw(pairs))
    hours = st.one_of(st.integers(1, 6).map(float), st.floats(0.1, 20))
    documents = st.one_of(st.just(frozenset()), st.frozensets(st.sampled_from(DOCUMENTS)))
    legs = tuple(
        leg(
            f"L{number}",
            f"P{origin}",
            f"P{destination}",
            draw(hours),
            documents=draw(documents),
            risk=draw(st.sampled_from(list(RISK_PROBABILITY))),
            age=draw(st.integers(0, 600)),
        )
        for number, (origin, destination) in enumerate(ends)
    )
    hostile = frozenset(draw(st.sets(st.sampled_from(COUNTRIES[1:]), max_size=2)))
    held = draw(st.one_of(st.just(EVERYTHING), st.frozensets(st.sampled_from(DOCUMENTS))))
    risk_aversion = draw(st.sampled_from([0.0, 1.0, 100.0]))
    return Knowledge(places, legs, hostile), held, risk_aversion


def cost(path: tuple[Leg, ...], risk_aversion: float) -> float:
    return math.fsum(documented_cost(x, risk_aversion) for x in path)


def assert_same_cost(route: Route, expected: float) -> None:
    assert math.isclose(route.cost, expected, rel_tol=1e-9, abs_tol=1e-9)


@settings(max_examples=400, deadline=None, database=None)
@given(knowledge_and_person())
def test_the_planner_matches_brute_force(case: tuple[Knowledge, frozenset[str], float]) -> None:
    check_against_brute_force(*case)


@settings(max_examples=200, deadline=None, database=None)
@given(knowledge_and_person(hub=True))
def test_the_planner_matches_brute_force_around_bottlenecks(
    case: tuple[Knowledge, frozenset[str], float],
) -> None:
    check_against_brute_force(*case)


def check_against_brute_force(
    knowledge: Knowledge, held: frozenset[str], risk_aversion: float
) -> None:
    result = plan(knowledge, "P0", held, TODAY, risk_aversion)
    candidates = all_routes(knowledge, "P0", held)
    as_paths = {tuple(x.id for x in path) for path in candidates}
    if not candidates:
        assert result.main is None and result.no_route is not None
        return
    assert result.main is not None and result.no_route is None
    assert_same_cost(result.main, min(cost(path, risk_aversion) for path in candidates))
    earlier = [result.main]
    for number in range(2):
        used = {x.id for route in earlier for x in route.legs}
        passed = set().union(*(route.transit for route in earlier))
        disjoint = [p for p in candidates if not used & {x.id for x in p}]
        avoiding = [p for p in disjoint if not passed & {x.destination for x in p}]
        if not disjoint:
            assert len(result.backups) == number
            break
        backup = result.backups[number]
        expected = avoiding or disjoint
        assert_same_cost(backup, min(cost(p, risk_aversion) for p in expected))
        assert backup.disjoint == ("place" if avoiding else "leg")
        earlier.append(backup)
    for route in result.routes:
        assert tuple(x.id for x in route.legs) in as_paths
        assert all(x.documents <= held for x in route.legs)
        assert all(p.country not in knowledge.hostile_countries for p in route.places)
    ids = [x.id for x in every_leg(result)]
    assert len(ids) == len(set(ids)), "backups share a leg with the main route or each other"


# -- the benchmark ---------------------------------------------------------------------


def test_the_p7_benchmark_reports_one_row() -> None:
    (row,) = bench_p7(places=500, legs=2500, queries=3)
    assert row.id == "P7"
    assert row.value > 0 and row.reference > 0
