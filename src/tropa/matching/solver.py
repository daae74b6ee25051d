"""Assign waiting cases to volunteers at minimum cost (pure core: no Django, no clock, no I/O).

The problem
-----------
Each case needs one volunteer; a volunteer can take a few new cases. A pair is
*allowed* only if every hard constraint holds:

* the volunteer is in the team the case needs (``legal``, ``visa``, ...);
* they share at least one language;
* the volunteer is available (vetted, active, not away);
* the volunteer is not in the case's ``excluded`` set (for example the person
  who flagged the case as compromised);
* the volunteer gets at most ``capacity - load`` new cases (never negative).

Among allowed proposals :func:`solve` returns one that minimises

    sum of pair costs of the assignments + sum of penalties of unassigned cases

exactly (a min-cost bipartite matching, solved by SciPy's sparse
Jonker-Volgenant, see :func:`solve`). The costs are documented on
:class:`Weights`; :func:`pair_cost` and :func:`penalty` are the single source
of truth for them, and every reported cost is computed by them.

Serving cases comes first
-------------------------
:class:`Weights` refuses any setting in which a penalty could be as small as a
pair cost, so a case is never left out while an allowed volunteer still has a
free slot: giving it that slot always lowers the total. A case can only be
left out when serving it would push other cases off their volunteers; the
defaults make that cost more than the penalty only if at least 28 other cases
had to move each from its best to its worst volunteer, so in practice the
solver serves as many cases as possible, and when capacity is short it serves
the urgent and long-waiting ones. We keep one honest number (the total) rather
than a strict "most served first" rule, because that is the objective the
coordinator's report shows and the one :func:`greedy` is compared against.

Determinism
-----------
Inputs are sorted by id before anything else, so the same instance in any
order gives the same proposal; ties between equally cheap proposals are
resolved by that order (in practice the lower volunteer id). Outputs are
sorted by case id.

Reason codes (stable; the Django layer translates them)
-------------------------------------------------------
For an :class:`Assignment`, in this order:

* ``team:<team>`` -- the volunteer is in the team the case needs;
* ``language:<code>`` -- one per shared language, sorted;
* ``region`` -- the volunteer knows the case's region, or ``region_unknown``
  when the case has a region the volunteer does not know (nothing when the
  case has no region);
* ``continuity`` -- the volunteer worked on this case before;
* ``load:<open>/<capacity>`` -- the volunteer's open cases once this one is
  added (counting the other new cases of the same proposal).

For an :class:`Unassigned` case, one code, the first that applies:

* ``no_team_member`` -- nobody is in the team the case needs;
* ``no_common_language`` -- team members exist but none speaks a language of
  the applicant;
* ``no_available_volunteer`` -- the team members who share a language are all
  unavailable (away, not vetted, deactivated);
* ``only_excluded`` -- the only available ones are excluded from this case;
* ``no_capacity`` -- allowed volunteers exist, but every one of them is full:
  already at capacity or filled by more urgent / longer-waiting cases.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_array
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

NO_TEAM_MEMBER = "no_team_member"
NO_COMMON_LANGUAGE = "no_common_language"
NO_AVAILABLE_VOLUNTEER = "no_available_volunteer"
ONLY_EXCLUDED = "only_excluded"
NO_CAPACITY = "no_capacity"

Bools = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class CaseNeed:
    """What the matcher knows of a waiting case (no personal data)."""

    id: int
    team: str  # "legal", "psychological", "evacuation", "documents" or "visa"
    languages: frozenset[str]  # languages the applicant speaks
    region: str | None  # the applicant's region code, if known
    waiting_hours: float  # since the case started waiting
    urgency: int  # 0 normal, 1 high, 2 critical
    excluded: frozenset[int] = frozenset()  # volunteer ids that must never take it
    previous: frozenset[int] = frozenset()  # earlier assignees (continuity is preferred)

    def __post_init__(self) -> None:
        if self.urgency not in (0, 1, 2):
            raise ValueError(f"case {self.id}: urgency must be 0, 1 or 2, not {self.urgency}")
        if not self.waiting_hours >= 0:
            raise ValueError(f"case {self.id}: waiting_hours must be >= 0")


@dataclass(frozen=True)
class Volunteer:
    id: int
    teams: frozenset[str]
    languages: frozenset[str]
    regions: frozenset[str]
    capacity: int  # open cases at once
    load: int  # open cases now (may exceed capacity after a change; then nothing is free)
    available: bool  # vetted, active and not away right now

    def __post_init__(self) -> None:
        if self.capacity < 0 or self.load < 0:
            raise ValueError(f"volunteer {self.id}: capacity and load must be >= 0")

    @property
    def free(self) -> int:
        """How many new cases this volunteer may take."""
        return max(self.capacity - self.load, 0)


@dataclass(frozen=True)
class Weights:
    """The soft costs; the defaults are what coordinators see unless they change them.

    * ``region`` (1.0): added when the case has a region the volunteer does not
      know.
    * ``load`` (1.0): the k-th new case of a volunteer costs
      ``load * (open cases after taking it) / capacity``. The marginal cost
      grows with every case, so the cost is convex in the load and work is
      spread: a volunteer at 1/4 is preferred to one at 3/4.
    * ``continuity`` (1.5): subtracted when the volunteer worked on the case
      before; larger than ``region`` because knowing the person beats knowing
      the place.
    * ``unassigned`` (100.0): base penalty of leaving a case unassigned, times
      ``urgency[case.urgency]`` (1, 2, 4 for normal, high, critical) and times
      ``1 + waiting_per_day * days waited`` (0.1: +10 % a day). So when
      capacity is short, the last slots go to critical cases, then to the ones
      that have waited longest. It must exceed ``region + load``, the largest
      pair cost, so that a free allowed slot is never left unused.
    """

    region: float = 1.0
    load: float = 1.0
    continuity: float = 1.5
    unassigned: float = 100.0
    urgency: tuple[float, float, float] = (1.0, 2.0, 4.0)
    waiting_per_day: float = 0.1

    def __post_init__(self) -> None:
        values = (self.region, self.load, self.continuity, self.unassigned, self.waiting_per_day)
        if not all(math.isfinite(v) and v >= 0 for v in values):
            raise ValueError("weights must be finite and >= 0")
        if not 1.0 <= self.urgency[0] <= self.urgency[1] <= self.urgency[2] < math.inf:
            raise ValueError("urgency factors must be finite, >= 1 and non-decreasing")
        if self.unassigned <= self.region + self.load:
            raise ValueError(
                "the unassigned penalty must exceed region + load (the largest pair cost)"
            )


DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True)
class Assignment:
    case_id: int
    volunteer_id: int
    cost: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Unassigned:
    case_id: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Proposal:
    assignments: tuple[Assignment, ...]  # sorted by case id
    unassigned: tuple[Unassigned, ...]  # sorted by case id
    total_cost: float  # pair costs of the assignments + penalties of the unassigned cases


def allowed(case: CaseNeed, volunteer: Volunteer) -> bool:
    """Every hard constraint but capacity."""
    return (
        case.team in volunteer.teams
        and not case.languages.isdisjoint(volunteer.languages)
        and volunteer.available
        and volunteer.id not in case.excluded
    )


def pair_cost(
    case: CaseNeed, volunteer: Volunteer, slot: int, weights: Weights = DEFAULT_WEIGHTS
) -> float | None:
    """Cost of giving `case` to `volunteer` as its new case number `slot` (from 0).

    None when a hard constraint forbids it, including ``slot >= volunteer.free``.
    """
    if not allowed(case, volunteer) or not 0 <= slot < volunteer.free:
        return None
    cost = weights.load * (volunteer.load + slot + 1) / volunteer.capacity
    if case.region is not None and case.region not in volunteer.regions:
        cost += weights.region
    if volunteer.id in case.previous:
        cost -= weights.continuity
    return cost


def penalty(case: CaseNeed, weights: Weights = DEFAULT_WEIGHTS) -> float:
    """Cost of leaving `case` unassigned; always larger than any pair cost."""
    waited = 1.0 + weights.waiting_per_day * case.waiting_hours / 24.0
    return weights.unassigned * weights.urgency[case.urgency] * waited


def solve(
    cases: Iterable[CaseNeed],
    volunteers: Iterable[Volunteer],
    weights: Weights = DEFAULT_WEIGHTS,
) -> Proposal:
    """The exactly optimal proposal.

    Each volunteer's free capacity is expanded into slots whose load cost
    grows (convex), each case gets its own "unassigned" column priced at its
    penalty, and the resulting sparse assignment problem is solved by
    ``scipy.sparse.csgraph.min_weight_full_bipartite_matching``. Only allowed
    edges are built, and a volunteer gets no more slots than cases that could
    use them.
    """
    t = _tables(cases, volunteers, weights)
    chosen = _match(t, weights)
    return _proposal(t, chosen, weights)


def greedy(
    cases: Iterable[CaseNeed],
    volunteers: Iterable[Volunteer],
    weights: Weights = DEFAULT_WEIGHTS,
) -> Proposal:
    """Baseline: most urgent, then longest-waiting first, each to its cheapest open volunteer."""
    t = _tables(cases, volunteers, weights)
    used = np.zeros(len(t.volunteers), dtype=np.int64)
    chosen = np.full(len(t.cases), -1, dtype=np.int64)
    for c in _by_priority(t.cases):
        open_ = t.allowed[c] & (used < t.free)
        if not open_.any():
            continue
        marginal = weights.load * (t.load + used + 1) / np.maximum(t.capacity, 1)
        v = int(np.argmin(np.where(open_, marginal + t.base[c], np.inf)))
        chosen[c] = v
        used[v] += 1
    return _proposal(t, chosen, weights)


class _HasId(Protocol):
    @property
    def id(self) -> int: ...


_T = TypeVar("_T", bound=_HasId)


@dataclass(frozen=True)
class _Tables:
    """The instance as case x volunteer matrices, rows and columns sorted by id."""

    cases: tuple[CaseNeed, ...]
    volunteers: tuple[Volunteer, ...]
    team: Bools  # the volunteer is in the case's team
    language: Bools  # ... and they share a language
    available: Bools  # per volunteer
    allowed: Bools  # every hard constraint but capacity
    base: Floats  # region cost minus continuity bonus
    free: Ints
    load: Ints
    capacity: Ints


def _sorted_unique(items: Iterable[_T], what: str) -> tuple[_T, ...]:
    result = tuple(sorted(items, key=lambda item: item.id))
    for a, b in zip(result, result[1:], strict=False):
        if a.id == b.id:
            raise ValueError(f"duplicate {what} id {a.id}")
    return result


def _overlap(left: Sequence[Iterable[str]], right: Sequence[Iterable[str]]) -> Bools:
    """[i, j] is True when left[i] and right[j] share an element."""
    vocabulary = {label: k for k, label in enumerate(sorted({x for s in left for x in s}))}
    a = np.zeros((len(left), len(vocabulary)), dtype=np.float32)
    b = np.zeros((len(vocabulary), len(right)), dtype=np.float32)
    for i, labels in enumerate(left):
        a[i, [vocabulary[x] for x in labels]] = 1.0
    for j, labels in enumerate(right):
        b[[vocabulary[x] for x in labels if x in vocabulary], j] = 1.0
    product: Bools = (a @ b) > 0
    return product


def _pairs(cases: Sequence[CaseNeed], column: dict[int, int], field: str) -> Bools:
    """Matrix of the (case, volunteer) pairs named in each case's `field` id set."""
    marked = np.zeros((len(cases), len(column)), dtype=np.bool_)
    for i, case in enumerate(cases):
        ids: frozenset[int] = getattr(case, field)
        marked[i, [column[v] for v in ids if v in column]] = True
    return marked


def _tables(
    cases: Iterable[CaseNeed], volunteers: Iterable[Volunteer], weights: Weights
) -> _Tables:
    cs = _sorted_unique(cases, "case")
    vs = _sorted_unique(volunteers, "volunteer")
    column = {v.id: j for j, v in enumerate(vs)}
    team = _overlap([(c.team,) for c in cs], [v.teams for v in vs])
    language = team & _overlap([c.languages for c in cs], [v.languages for v in vs])
    available = np.array([v.available for v in vs], dtype=np.bool_)
    known = _overlap([() if c.region is None else (c.region,) for c in cs], [v.regions for v in vs])
    has_region = np.array([c.region is not None for c in cs], dtype=np.bool_)
    base = np.where(has_region[:, None] & ~known, weights.region, 0.0)
    base -= np.where(_pairs(cs, column, "previous"), weights.continuity, 0.0)
    return _Tables(
        cases=cs,
        volunteers=vs,
        team=team,
        language=language,
        available=available,
        allowed=language & available[None, :] & ~_pairs(cs, column, "excluded"),
        base=base,
        free=np.array([v.free for v in vs], dtype=np.int64),
        load=np.array([v.load for v in vs], dtype=np.int64),
        capacity=np.array([v.capacity for v in vs], dtype=np.int64),
    )


def _ranges(counts: Ints) -> Ints:
    """0..n-1 for every n in `counts`, concatenated."""
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    ranges: Ints = np.arange(total, dtype=np.int64) - starts
    return ranges


def _match(t: _Tables, weights: Weights) -> Ints:
    """Volunteer column chosen for every case row by the optimal matching, -1 if none."""
    chosen = np.full(len(t.cases), -1, dtype=np.int64)
    usable = t.allowed & (t.free > 0)[None, :]
    active = np.flatnonzero(usable.any(axis=1))
    if active.size == 0:
        return chosen
    usable = usable[active]
    slots = np.minimum(t.free, usable.sum(axis=0))
    first_slot = np.cumsum(slots) - slots
    slot_volunteer = np.repeat(np.arange(len(t.volunteers)), slots)
    slot_cost = (
        weights.load * (t.load[slot_volunteer] + _ranges(slots) + 1) / t.capacity[slot_volunteer]
    )
    rows, vols = np.nonzero(usable)
    per_edge = slots[vols]
    edge_rows = np.repeat(rows, per_edge)
    edge_cols = np.repeat(first_slot[vols], per_edge) + _ranges(per_edge)
    edge_cost = t.base[active[edge_rows], slot_volunteer[edge_cols]] + slot_cost[edge_cols]
    penalties = np.array([penalty(t.cases[c], weights) for c in active])
    # Every row is matched exactly once (to a slot or to its own "unassigned"
    # column), so adding one constant to all weights keeps the optimum; it makes
    # them positive, because SciPy reads a stored zero as "no edge".
    shift = weights.continuity + 1.0
    n, n_slots = active.size, int(slots.sum())
    graph = csr_array(
        (
            np.concatenate([edge_cost, penalties]) + shift,
            (
                np.concatenate([edge_rows, np.arange(n)]),
                np.concatenate([edge_cols, n_slots + np.arange(n)]),
            ),
        ),
        shape=(n, n_slots + n),
    )
    row_ind, col_ind = min_weight_full_bipartite_matching(graph)
    served = col_ind < n_slots
    chosen[active[row_ind[served]]] = slot_volunteer[col_ind[served]]
    return chosen


def _by_priority(cases: Sequence[CaseNeed]) -> list[int]:
    """Row indices, most urgent first, then longest waiting, then lowest id."""
    return sorted(
        range(len(cases)),
        key=lambda i: (-cases[i].urgency, -cases[i].waiting_hours, cases[i].id),
    )


def _proposal(t: _Tables, chosen: Ints, weights: Weights) -> Proposal:
    """Price and explain a choice of volunteer column (or -1) per case row.

    A volunteer's new cases take slots 0, 1, ... in priority order; the load
    cost does not depend on which case holds which slot, so the total is the
    one the matching minimised.
    """
    used = [0] * len(t.volunteers)
    assignments: list[Assignment] = []
    for c in _by_priority(t.cases):
        v = int(chosen[c])
        if v >= 0:
            assignments.append(_assignment(t.cases[c], t.volunteers[v], used[v], weights))
            used[v] += 1
    full = np.array(used) >= t.free
    unassigned = [
        Unassigned(t.cases[c].id, (_why(t, c, full),)) for c in range(len(t.cases)) if chosen[c] < 0
    ]
    total = math.fsum(
        [a.cost for a in assignments]
        + [penalty(t.cases[c], weights) for c in range(len(t.cases)) if chosen[c] < 0]
    )
    assignments.sort(key=lambda a: a.case_id)
    return Proposal(tuple(assignments), tuple(unassigned), total)


def _assignment(case: CaseNeed, volunteer: Volunteer, slot: int, weights: Weights) -> Assignment:
    cost = pair_cost(case, volunteer, slot, weights)
    if cost is None:  # a bug in the matrices, never a user error
        raise RuntimeError(f"case {case.id} was matched to a forbidden volunteer")
    reasons = [f"team:{case.team}"]
    reasons += [f"language:{x}" for x in sorted(case.languages & volunteer.languages)]
    if case.region is not None:
        reasons.append("region" if case.region in volunteer.regions else "region_unknown")
    if volunteer.id in case.previous:
        reasons.append("continuity")
    reasons.append(f"load:{volunteer.load + slot + 1}/{volunteer.capacity}")
    return Assignment(case.id, volunteer.id, cost, tuple(reasons))


def _why(t: _Tables, c: int, full: Bools) -> str:
    if not t.team[c].any():
        return NO_TEAM_MEMBER
    if not t.language[c].any():
        return NO_COMMON_LANGUAGE
    if not (t.language[c] & t.available).any():
        return NO_AVAILABLE_VOLUNTEER
    if not t.allowed[c].any():
        return ONLY_EXCLUDED
    if not (t.allowed[c] & ~full).any():
        return NO_CAPACITY
    raise RuntimeError(f"case {t.cases[c].id} was left out although a volunteer had room")
