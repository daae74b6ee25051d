"""The matcher's pure core: hard constraints always hold, and `solve` is exactly optimal."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tropa.bench.matching_bench import bench_p6, synthetic_instance
from tropa.matching.solver import (
    CaseNeed,
    Proposal,
    Volunteer,
    Weights,
    greedy,
    pair_cost,
    penalty,
    solve,
)

TEAMS = ("legal", "visa", "documents")
REGIONS = ("r1", "r2", "r3")
CASE_LANGUAGES = (*[["ru"]] * 6, ["ru", "en"], ["en"], ["kk"], ["hy"], [])
VOLUNTEER_LANGUAGES = (["ru"], ["ru"], ["ru", "en"], ["ru", "kk"], ["en"])


def case(id_: int, **fields: Any) -> CaseNeed:
    defaults: dict[str, Any] = {
        "team": "legal",
        "languages": frozenset({"ru"}),
        "region": "r1",
        "waiting_hours": 1.0,
        "urgency": 0,
    }
    return CaseNeed(id=id_, **{**defaults, **fields})


def volunteer(id_: int, **fields: Any) -> Volunteer:
    defaults: dict[str, Any] = {
        "teams": frozenset({"legal"}),
        "languages": frozenset({"ru"}),
        "regions": frozenset({"r1"}),
        "capacity": 4,
        "load": 0,
        "available": True,
    }
    return Volunteer(id=id_, **{**defaults, **fields})


def chosen(proposal: Proposal) -> dict[int, int]:
    return {a.case_id: a.volunteer_id for a in proposal.assignments}


def why(proposal: Proposal) -> dict[int, tuple[str, ...]]:
    return {u.case_id: u.reasons for u in proposal.unassigned}


# --- strategies and the reference solver -------------------------------------------------


@st.composite
def weights_strategy(draw: st.DrawFn) -> Weights:
    region, load, continuity = (draw(st.floats(0, 3)) for _ in range(3))
    factors = sorted(draw(st.lists(st.floats(1, 5), min_size=3, max_size=3)))
    return Weights(
        region=region,
        load=load,
        continuity=continuity,
        unassigned=region + load + draw(st.floats(0.5, 50)),
        urgency=(factors[0], factors[1], factors[2]),
        waiting_per_day=draw(st.floats(0, 0.5)),
    )


def random_instance(
    rnd: random.Random, n_cases: int, n_volunteers: int, max_capacity: int
) -> tuple[list[CaseNeed], list[Volunteer]]:
    """A dense instance: most pairs share team and language, so the solvers have choices.

    Few teams, languages and regions, so ties, shared volunteers and every
    reason for leaving a case unassigned all turn up; "documents" has few
    members and "kk"/"hy" few speakers.
    """
    volunteer_ids = rnd.sample(range(1, 10 * n_volunteers + 10), n_volunteers)
    volunteers = []
    for v in volunteer_ids:
        capacity = rnd.choice((0, *range(1, max_capacity + 1), max_capacity))
        volunteers.append(
            Volunteer(
                id=v,
                teams=frozenset(
                    rnd.choice((["legal"], ["visa"], ["legal", "visa"], ["legal", "visa"], TEAMS))
                ),
                languages=frozenset(rnd.choice(VOLUNTEER_LANGUAGES)),
                regions=frozenset(rnd.sample(REGIONS, rnd.randint(0, 2))),
                capacity=capacity,
                load=rnd.choice((0, 0, 0, 0, 1, 1, capacity, capacity + 1)),
                available=rnd.random() < 0.9,
            )
        )
    others = (*volunteer_ids, 0)  # 0 is nobody: unknown ids must be ignored
    cases = [
        CaseNeed(
            id=c,
            team=rnd.choice(("legal", "legal", "visa", "documents")),
            languages=frozenset(rnd.choice(CASE_LANGUAGES)),
            region=rnd.choice((None, *REGIONS)),
            waiting_hours=rnd.choice((0.0, 24.0, rnd.uniform(0, 500))),
            urgency=rnd.choice((0, 0, 1, 2)),
            excluded=frozenset(rnd.sample(others, 1)) if rnd.random() < 0.2 else frozenset(),
            previous=frozenset(rnd.sample(others, rnd.randint(0, min(2, len(others))))),
        )
        for c in rnd.sample(range(1000, 1000 + 10 * n_cases), n_cases)
    ]
    return cases, volunteers


def instances(
    max_cases: int, max_volunteers: int, max_capacity: int
) -> st.SearchStrategy[tuple[list[CaseNeed], list[Volunteer]]]:
    return st.builds(
        random_instance,
        st.randoms(use_true_random=True),
        st.integers(1, max_cases),
        st.integers(1, max_volunteers),
        st.just(max_capacity),
    )


def brute_force(cases: Sequence[CaseNeed], volunteers: Sequence[Volunteer], w: Weights) -> float:
    """The least total cost over every proposal, by enumeration."""
    best = math.inf
    taken = Counter[int]()

    def search(i: int, cost: float) -> None:
        nonlocal best
        if i == len(cases):
            best = min(best, cost)
            return
        search(i + 1, cost + penalty(cases[i], w))
        for v in volunteers:
            pair = pair_cost(cases[i], v, taken[v.id], w)
            if pair is not None:
                taken[v.id] += 1
                search(i + 1, cost + pair)
                taken[v.id] -= 1

    search(0, 0.0)
    return best


def expected_reason(case: CaseNeed, volunteers: Sequence[Volunteer], taken: Counter[int]) -> str:
    team = [v for v in volunteers if case.team in v.teams]
    speaking = [v for v in team if case.languages & v.languages]
    ready = [v for v in speaking if v.available]
    allowed = [v for v in ready if v.id not in case.excluded]
    if not team:
        return "no_team_member"
    if not speaking:
        return "no_common_language"
    if not ready:
        return "no_available_volunteer"
    if not allowed:
        return "only_excluded"
    assert all(taken[v.id] >= v.free for v in allowed), "left out while a volunteer had room"
    return "no_capacity"


def assert_valid(
    cases: Sequence[CaseNeed], volunteers: Sequence[Volunteer], proposal: Proposal, w: Weights
) -> None:
    """Every hard constraint holds, every case appears once, reasons and costs add up."""
    by_case = {c.id: c for c in cases}
    by_volunteer = {v.id: v for v in volunteers}
    ids = [a.case_id for a in proposal.assignments] + [u.case_id for u in proposal.unassigned]
    assert sorted(ids) == sorted(by_case)
    taken = Counter(a.volunteer_id for a in proposal.assignments)
    slots: dict[int, list[int]] = {v: [] for v in taken}
    for a in proposal.assignments:
        c, v = by_case[a.case_id], by_volunteer[a.volunteer_id]
        assert c.team in v.teams and c.languages & v.languages
        assert v.available and v.id not in c.excluded
        assert a.reasons[0] == f"team:{c.team}"
        open_now, capacity = map(int, a.reasons[-1].removeprefix("load:").split("/"))
        assert capacity == v.capacity
        slot = open_now - v.load - 1
        slots[v.id].append(slot)
        assert a.cost == pair_cost(c, v, slot, w)
        assert ("continuity" in a.reasons) == (v.id in c.previous)
    for v_id, used in slots.items():
        assert sorted(used) == list(range(taken[v_id]))
        assert taken[v_id] <= by_volunteer[v_id].free
    for u in proposal.unassigned:
        assert u.reasons == (expected_reason(by_case[u.case_id], volunteers, taken),)
    total = math.fsum(
        [a.cost for a in proposal.assignments]
        + [penalty(by_case[u.case_id], w) for u in proposal.unassigned]
    )
    assert proposal.total_cost == pytest.approx(total, abs=1e-9)


# --- properties ----------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(instances(max_cases=6, max_volunteers=4, max_capacity=3), weights_strategy())
def test_solve_is_exactly_optimal_and_never_worse_than_greedy(
    instance: tuple[list[CaseNeed], list[Volunteer]], w: Weights
) -> None:
    cases, volunteers = instance
    optimal, baseline = solve(cases, volunteers, w), greedy(cases, volunteers, w)
    assert_valid(cases, volunteers, optimal, w)
    assert_valid(cases, volunteers, baseline, w)
    assert optimal.total_cost == pytest.approx(brute_force(cases, volunteers, w), abs=1e-9)
    assert optimal.total_cost <= baseline.total_cost + 1e-9


@settings(max_examples=50, deadline=None)
@given(instances(max_cases=60, max_volunteers=20, max_capacity=5), st.randoms())
def test_medium_instances_keep_every_hard_constraint(
    instance: tuple[list[CaseNeed], list[Volunteer]], rnd: random.Random
) -> None:
    cases, volunteers = instance
    w = Weights()
    optimal, baseline = solve(cases, volunteers), greedy(cases, volunteers)
    assert_valid(cases, volunteers, optimal, w)
    assert_valid(cases, volunteers, baseline, w)
    assert optimal.total_cost <= baseline.total_cost + 1e-9
    rnd.shuffle(cases)
    rnd.shuffle(volunteers)
    assert solve(cases, volunteers) == optimal  # input order never changes the proposal


def test_synthetic_bench_instance_is_valid_and_not_trivial() -> None:
    cases, volunteers = synthetic_instance(300, 60, seed=6)
    optimal, baseline = solve(cases, volunteers), greedy(cases, volunteers)
    assert_valid(cases, volunteers, optimal, Weights())
    assert_valid(cases, volunteers, baseline, Weights())
    assert optimal.unassigned and optimal.total_cost < baseline.total_cost


# --- examples that document the behaviour ------------------------------------------------


def test_continuity_wins_a_tie() -> None:
    proposal = solve([case(1, previous=frozenset({8}))], [volunteer(7), volunteer(8)])
    assert chosen(proposal) == {1: 8}
    assert proposal.assignments[0].reasons == (
        "team:legal",
        "language:ru",
        "region",
        "continuity",
        "load:1/4",
    )


def test_region_breaks_a_tie() -> None:
    proposal = solve([case(1)], [volunteer(7, regions=frozenset({"r2"})), volunteer(8)])
    assert chosen(proposal) == {1: 8}


def test_continuity_outweighs_region() -> None:
    elsewhere = volunteer(7, regions=frozenset({"r2"}))
    proposal = solve([case(1, previous=frozenset({7}))], [elsewhere, volunteer(8)])
    assert chosen(proposal) == {1: 7}
    assert "region_unknown" in proposal.assignments[0].reasons


def test_load_is_spread() -> None:
    proposal = solve([case(1), case(2)], [volunteer(7), volunteer(8)])
    assert sorted(chosen(proposal).values()) == [7, 8]


def test_the_less_loaded_volunteer_is_preferred() -> None:
    proposal = solve([case(1)], [volunteer(7, load=3), volunteer(8, load=1)])
    assert chosen(proposal) == {1: 8}


def test_a_critical_case_gets_the_last_slot_over_a_normal_one() -> None:
    normal = case(1, urgency=0, waiting_hours=200.0)
    critical = case(2, urgency=2, waiting_hours=1.0)
    proposal = solve([normal, critical], [volunteer(7, capacity=3, load=2)])
    assert chosen(proposal) == {2: 7}
    assert why(proposal) == {1: ("no_capacity",)}


def test_the_longer_waiting_case_gets_the_last_slot_at_equal_urgency() -> None:
    proposal = solve(
        [case(1, waiting_hours=5.0), case(2, waiting_hours=50.0)], [volunteer(7, capacity=1)]
    )
    assert chosen(proposal) == {2: 7}


def test_the_flagging_volunteer_is_never_chosen() -> None:
    flagger = volunteer(7, load=0)
    other = volunteer(8, load=3, regions=frozenset({"r2"}))
    flagged = case(1, excluded=frozenset({7}), previous=frozenset({7}))
    assert chosen(solve([flagged], [flagger, other])) == {1: 8}
    assert why(solve([flagged], [flagger])) == {1: ("only_excluded",)}


def test_an_away_volunteer_is_never_chosen() -> None:
    away = volunteer(7, available=False)
    assert why(solve([case(1, previous=frozenset({7}))], [away])) == {
        1: ("no_available_volunteer",)
    }


def test_unassigned_cases_say_why() -> None:
    cases = [case(1, team="visa"), case(2, languages=frozenset({"hy"})), case(3)]
    proposal = solve(cases, [volunteer(7, capacity=2, load=2)])
    assert why(proposal) == {
        1: ("no_team_member",),
        2: ("no_common_language",),
        3: ("no_capacity",),
    }


def test_solve_serves_a_case_greedy_leaves_out() -> None:
    both = volunteer(7, teams=frozenset({"legal", "visa"}), capacity=1)
    legal_only = volunteer(8, capacity=1)
    cases = [case(1, team="visa"), case(2, urgency=2)]
    assert chosen(greedy(cases, [both, legal_only])) == {2: 7}  # cheapest first, id breaks the tie
    assert chosen(solve(cases, [both, legal_only])) == {1: 7, 2: 8}


def test_a_tie_goes_to_the_lower_id_whatever_the_input_order() -> None:
    assert chosen(solve([case(1)], [volunteer(8), volunteer(7)])) == {1: 7}
    assert chosen(greedy([case(1)], [volunteer(8), volunteer(7)])) == {1: 7}


def test_nothing_to_match() -> None:
    assert solve([], [volunteer(7)]) == Proposal((), (), 0.0)
    assert why(solve([case(1)], [])) == {1: ("no_team_member",)}


def test_weights_keep_the_penalty_above_every_pair_cost() -> None:
    with pytest.raises(ValueError, match="unassigned"):
        Weights(region=1.0, load=1.0, unassigned=2.0)


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate case id 1"):
        solve([case(1), case(1)], [volunteer(7)])


def test_bench_p6_reports_the_documented_rows() -> None:
    rows = bench_p6(cases=200, volunteers=40, repeats=1)
    assert [row.id for row in rows] == ["P6", "P6-cost"]
    assert rows[0].unit == "ms" and rows[1].reference_what == "greedy baseline"
    assert rows[1].verdict == "PASS"
