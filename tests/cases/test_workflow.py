"""The workflow table, exhaustively: every (from, to, verified, role, frozen)."""

from __future__ import annotations

import itertools

import pytest

from tropa.cases.workflow import (
    COORDINATOR_ONLY,
    NEEDS_VERIFIED,
    OPEN,
    OUTCOMES,
    TRANSITIONS,
    State,
    transition_check,
)

EVERY = list(itertools.product(State, State, [False, True], [False, True], [False, True]))


@pytest.mark.parametrize(("current", "target", "verified", "coordinator", "frozen"), EVERY)
def test_every_move_follows_the_table(
    current: State, target: State, verified: bool, coordinator: bool, frozen: bool
) -> None:
    refusal = transition_check(
        current, target, verified=verified, coordinator=coordinator, frozen=frozen
    )
    if target not in TRANSITIONS[current]:
        assert refusal is not None and refusal.reason == "not_allowed"
    elif frozen and not coordinator:
        assert refusal is not None and refusal.reason == "frozen"
    elif (current, target) in COORDINATOR_ONLY and not coordinator:
        assert refusal is not None and refusal.reason == "coordinator_only"
    elif target in NEEDS_VERIFIED and not verified:
        assert refusal is not None and refusal.reason == "needs_verification"
    else:
        assert refusal is None


def test_every_state_is_reachable_from_new() -> None:
    seen, frontier = {State.NEW}, [State.NEW]
    while frontier:
        for target in TRANSITIONS[frontier.pop()]:
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(State)


def test_no_state_is_a_dead_end_and_nothing_loops_onto_itself() -> None:
    for state, targets in TRANSITIONS.items():
        assert targets, state
        assert state not in targets


def test_only_a_verified_case_goes_on_the_move() -> None:
    assert NEEDS_VERIFIED == {State.ON_THE_MOVE}
    assert all(
        transition_check(s, State.ON_THE_MOVE, verified=False, coordinator=True, frozen=False)
        is not None
        for s in State
    )


def test_outcomes_and_open_states_are_disjoint() -> None:
    assert not OUTCOMES & OPEN
