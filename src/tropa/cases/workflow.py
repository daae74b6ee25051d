"""The case workflow: every status and every allowed move, in one place.

Pure Python (no Django), so the whole table can be tested exhaustively.
Moves into work that involves routes, plans or contacts need a verified case:
until a coordinator verifies, an infiltrator posing as a deserter gets nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    NEW = "new"
    TRIAGE = "triage"
    VERIFICATION = "verification"
    IN_PROGRESS = "in_progress"
    ON_THE_MOVE = "on_the_move"
    SAFE = "safe"
    HIDDEN = "hidden"
    LEGAL = "legal"
    LOST_CONTACT = "lost_contact"
    CLOSED = "closed"


S = State
OUTCOMES = frozenset({S.SAFE, S.HIDDEN, S.LEGAL})
OPEN = frozenset({S.NEW, S.TRIAGE, S.VERIFICATION, S.IN_PROGRESS, S.ON_THE_MOVE})

TRANSITIONS: dict[State, frozenset[State]] = {
    S.NEW: frozenset({S.TRIAGE, S.CLOSED}),
    S.TRIAGE: frozenset({S.VERIFICATION, S.IN_PROGRESS, S.LOST_CONTACT, S.CLOSED}),
    S.VERIFICATION: frozenset({S.TRIAGE, S.IN_PROGRESS, S.LOST_CONTACT, S.CLOSED}),
    S.IN_PROGRESS: frozenset(
        {S.VERIFICATION, S.ON_THE_MOVE, S.SAFE, S.HIDDEN, S.LEGAL, S.LOST_CONTACT, S.CLOSED}
    ),
    S.ON_THE_MOVE: frozenset({S.IN_PROGRESS, S.SAFE, S.HIDDEN, S.LOST_CONTACT}),
    S.SAFE: frozenset({S.IN_PROGRESS, S.CLOSED}),
    S.HIDDEN: frozenset({S.IN_PROGRESS, S.CLOSED}),
    S.LEGAL: frozenset({S.IN_PROGRESS, S.CLOSED}),
    S.LOST_CONTACT: frozenset({S.IN_PROGRESS, S.CLOSED}),
    S.CLOSED: frozenset({S.TRIAGE}),
}

# Work on a route or a journey starts only for a verified person.
NEEDS_VERIFIED = frozenset({S.ON_THE_MOVE})
# Only the core team closes, reopens, or clears a case for work without checks.
COORDINATOR_ONLY = frozenset({(S.CLOSED, S.TRIAGE), (S.TRIAGE, S.IN_PROGRESS)})
# A case flagged as possibly compromised is frozen: only coordinators move it.


@dataclass(frozen=True)
class Refusal:
    reason: str  # a code: "not_allowed", "needs_verification", "coordinator_only", "frozen"


def transition_check(
    current: State, target: State, *, verified: bool, coordinator: bool, frozen: bool
) -> Refusal | None:
    """None if the move is allowed, else why not."""
    if target not in TRANSITIONS[current]:
        return Refusal("not_allowed")
    if frozen and not coordinator:
        return Refusal("frozen")
    if (current, target) in COORDINATOR_ONLY and not coordinator:
        return Refusal("coordinator_only")
    if target in NEEDS_VERIFIED and not verified:
        return Refusal("needs_verification")
    return None


def next_states(current: State) -> list[State]:
    return sorted(TRANSITIONS[current], key=list(State).index)
