"""Evacuation route planner: the route knowledge, its risk model and the search.

No Django here: the planner is deterministic given the knowledge, `today`, the
documents a person holds and the risk aversion; networkx does the searching.

Risk model
----------
Each leg carries an assessed risk level with a base probability of failure
(arrest, turned back, leg no longer runs):

    low 0.02 · medium 0.06 · high 0.15 · critical 0.35      (RISK_PROBABILITY)

An assessment goes stale. With `age` the days from `assessed_on` to `today`
(an assessment dated after `today` counts as age 0):

    p_eff = p                                            if age <= 30   (GRACE_DAYS)
    p_eff = 1 - (1 - p) * 0.5 ** ((age - 30) / 180)      otherwise      (HALF_LIFE_DAYS)

so after a month of grace the chance that the leg still works as assessed
halves every 180 days: p_eff is monotone in age and tends to certainty.
Legs fail independently, so a route fails unless every leg works:

    risk(route) = 1 - Π (1 - p_eff)

The planner minimises a cost that trades hours against risk. It is additive
over legs, so shortest paths are exact:

    cost(leg) = hours + risk_aversion * nats,     nats = -ln(1 - p_eff)
              = hours + risk_aversion * (-ln(1 - p) + ln 2 * max(0, age - 30) / 180)

and cost(route) = hours(route) + risk_aversion * -ln(1 - risk(route)).
`risk_aversion` is in hours per nat; the default, 100, weighs one percentage
point of failure (≈ 0.01 nat) like one hour of travel: a fresh "critical" leg
(0.43 nat) costs 43 hours on top of its duration, a "low" one assessed a year
ago (p_eff 0.73, 1.31 nat) 131 hours: reassess, or the planner avoids it.

Planning rules
--------------
- A route goes from the start place to the first safe place it reaches (it
  never passes through a safe place). Any safe place will do.
- Excluded, not penalised: every place in a hostile country and every leg
  touching one (if the start is in a hostile country there is no plan); every
  leg needing a document the person does not hold.
- Main route: the cheapest route.
- Backup k: the cheapest route sharing no leg (by leg id) and no transit place
  with the main route and the earlier backups ("place"-disjoint). If there is
  none, the cheapest route sharing no leg with them ("leg"-disjoint): another
  leg between the same two places, e.g. another mode, counts as a different
  leg. A backup may end at another safe place. The search stops at the first
  backup it cannot find.

Performance: `prepare` once per knowledge version and day; each (risk
aversion, documents held) pair then gets a cached, filtered networkx DiGraph
whose edges keep every allowed parallel leg, plus the exact remaining cost
from each place to the nearest safe place. That remaining cost is the A*
heuristic: exact for the main route and a lower bound once backups ban legs
and places, so every search stays optimal and looks at few places.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any, Final, Literal, TypeAlias

import networkx as nx

PLACE_KINDS: Final = ("city", "crossing", "safe_point")
MODES: Final = ("rail", "road", "air", "foot", "ferry")
DOCUMENTS: Final = ("internal_passport", "foreign_passport", "visa")
RISK_PROBABILITY: Final[Mapping[str, float]] = {
    "low": 0.02,
    "medium": 0.06,
    "high": 0.15,
    "critical": 0.35,
}
GRACE_DAYS: Final = 30
HALF_LIFE_DAYS: Final = 180
DEFAULT_RISK_AVERSION: Final = 100.0  # hours per nat
MAX_EXAMPLES: Final = 5  # ids listed per exclusion fact
MAX_CACHED_VIEWS: Final = 16

Disjointness: TypeAlias = Literal["main", "place", "leg"]
# Why there is no main route; see NoRoute.
NoRouteCode: TypeAlias = Literal[
    "unknown_start",  # value: the start id
    "start_in_hostile_country",  # value: the country
    "start_is_safe",  # value: the start id
    "no_safe_place",  # the knowledge has no safe place outside hostile countries
    "needs_documents",  # documents_needed: the fewest extra documents that open a route
    "unreachable",  # no safe place is reachable even with every document
]

# A node no place id can equal (place ids are strings): every safe place has a
# free edge to it, so one search stops at whichever safe place is nearest.
SINK: Final = ("tropa.routes", "any safe place")
_DOC_BIT: Final[Mapping[str, int]] = {doc: 1 << i for i, doc in enumerate(DOCUMENTS)}
_LN2: Final = math.log(2)


@dataclass(frozen=True)
class Place:
    id: str
    name: str
    country: str
    kind: str
    safe: bool = False

    def __post_init__(self) -> None:
        if self.kind not in PLACE_KINDS:
            raise ValueError(f"place {self.id}: unknown kind {self.kind!r}")


@dataclass(frozen=True)
class Leg:
    """One directed way from `origin` to `destination`; the way back is another leg."""

    id: str
    origin: str
    destination: str
    mode: str
    hours: float
    documents: frozenset[str]
    risk: str
    assessed_on: date
    assessed_by: str
    note: str = ""

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"leg {self.id}: unknown mode {self.mode!r}")
        if self.risk not in RISK_PROBABILITY:
            raise ValueError(f"leg {self.id}: unknown risk {self.risk!r}")
        if not self.documents <= _DOC_BIT.keys():
            raise ValueError(f"leg {self.id}: unknown documents {sorted(self.documents)}")
        if not (math.isfinite(self.hours) and self.hours > 0):
            raise ValueError(f"leg {self.id}: hours must be positive, not {self.hours!r}")
        if self.origin == self.destination:
            raise ValueError(f"leg {self.id}: starts and ends at {self.origin}")


@dataclass(frozen=True)
class Knowledge:
    """What the evacuation team knows: places, legs and hostile countries."""

    places: tuple[Place, ...]
    legs: tuple[Leg, ...]
    hostile_countries: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if len(self.place_by_id) != len(self.places):
            raise ValueError("duplicate place ids")
        if len(self.leg_by_id) != len(self.legs):
            raise ValueError("duplicate leg ids")
        for leg in self.legs:
            for end in (leg.origin, leg.destination):
                if end not in self.place_by_id:
                    raise ValueError(f"leg {leg.id}: unknown place {end!r}")

    @cached_property
    def place_by_id(self) -> Mapping[str, Place]:
        return {place.id: place for place in self.places}

    @cached_property
    def leg_by_id(self) -> Mapping[str, Leg]:
        return {leg.id: leg for leg in self.legs}

    def is_hostile(self, place_id: str) -> bool:
        return self.place_by_id[place_id].country in self.hostile_countries


def assessment_age(assessed_on: date, today: date) -> int:
    """Days since the assessment; one dated after `today` counts as fresh."""
    return max(0, (today - assessed_on).days)


def effective_probability(risk: str, age_days: int) -> float:
    """The documented p_eff: the base probability, rising once past the grace period."""
    p = RISK_PROBABILITY[risk]
    if age_days <= GRACE_DAYS:
        return p
    still_works: float = 0.5 ** ((age_days - GRACE_DAYS) / HALF_LIFE_DAYS)
    return 1 - (1 - p) * still_works


def failure_nats(risk: str, age_days: int) -> float:
    """-ln(1 - p_eff), computed in log space so it stays finite for any age."""
    stale = max(0, age_days - GRACE_DAYS) / HALF_LIFE_DAYS
    return -math.log1p(-RISK_PROBABILITY[risk]) + _LN2 * stale


def leg_cost(leg: Leg, today: date, risk_aversion: float = DEFAULT_RISK_AVERSION) -> float:
    return leg.hours + risk_aversion * failure_nats(
        leg.risk, assessment_age(leg.assessed_on, today)
    )


def documents_mask(documents: Iterable[str]) -> int:
    mask = 0
    for doc in documents:
        if doc not in _DOC_BIT:
            raise ValueError(f"unknown document {doc!r}; known: {', '.join(DOCUMENTS)}")
        mask |= _DOC_BIT[doc]
    return mask


# -- explanation data ------------------------------------------------------------------


@dataclass(frozen=True)
class LegFact:
    leg_id: str
    documents: frozenset[str]  # what the leg requires; the person holds all of them
    risk: str
    base_probability: float
    age_days: int
    stale: bool  # older than GRACE_DAYS
    effective_probability: float


@dataclass(frozen=True)
class Route:
    places: tuple[Place, ...]  # start .. the safe destination
    legs: tuple[Leg, ...]
    hours: float
    risk: float  # probability that some leg fails
    cost: float
    facts: tuple[LegFact, ...]
    disjoint: Disjointness  # "main", or how a backup avoids the routes before it

    @property
    def destination(self) -> Place:
        return self.places[-1]

    @property
    def transit(self) -> frozenset[str]:
        return frozenset(place.id for place in self.places[1:-1])

    @property
    def leg_ids(self) -> frozenset[str]:
        return frozenset(leg.id for leg in self.legs)


@dataclass(frozen=True)
class DocumentExclusion:
    """Legs left out because they need `document` and the person lacks it."""

    document: str
    legs: int
    examples: tuple[str, ...]  # leg ids


@dataclass(frozen=True)
class HostileExclusion:
    country: str
    places: int
    legs: int  # legs starting or ending there
    examples: tuple[str, ...]  # place ids


@dataclass(frozen=True)
class NoRoute:
    code: NoRouteCode
    value: str = ""
    documents_needed: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Plan:
    start: str
    start_place: Place | None
    documents_held: frozenset[str]
    today: date
    risk_aversion: float
    backups_requested: int
    main: Route | None
    backups: tuple[Route, ...]
    no_route: NoRoute | None
    excluded_for_documents: tuple[DocumentExclusion, ...]
    excluded_hostile: tuple[HostileExclusion, ...]

    @property
    def routes(self) -> tuple[Route, ...]:
        return () if self.main is None else (self.main, *self.backups)

    @property
    def missing_backups(self) -> int:
        return 0 if self.main is None else self.backups_requested - len(self.backups)


# -- the prepared graph ------------------------------------------------------------------

Weight: TypeAlias = str | Callable[[Any, Any, dict[str, Any]], float | None]


@dataclass(frozen=True)
class _View:
    """The searchable graph for one (risk aversion, documents held) pair.

    Edges of `graph` carry `cost` (the cheapest allowed leg) and `alts`: every
    allowed leg between the two places as sorted (cost, leg id) pairs, so a
    backup banned from one leg can still take a parallel one. Only places that
    can reach a safe place are kept; `to_sink` is that remaining cost.
    """

    graph: Any
    to_sink: Mapping[Any, float]


class PreparedGraph:
    """The knowledge with per-leg risk for one day, and a cache of filtered views."""

    def __init__(self, knowledge: Knowledge, today: date) -> None:
        self.knowledge = knowledge
        self.today = today
        self.age = {leg.id: assessment_age(leg.assessed_on, today) for leg in knowledge.legs}
        self.nats = {leg.id: failure_nats(leg.risk, self.age[leg.id]) for leg in knowledge.legs}
        hostile = {p.id for p in knowledge.places if p.country in knowledge.hostile_countries}
        self.safe = tuple(p.id for p in knowledge.places if p.safe and p.id not in hostile)
        # Legs the search may use: no hostile end, and not leaving a safe place.
        self._usable: list[tuple[str, str, str, float, float, int]] = []
        self._by_need: dict[int, list[str]] = {}
        safe = set(self.safe)
        for leg in knowledge.legs:
            if leg.origin in hostile or leg.destination in hostile:
                continue
            need = documents_mask(leg.documents)
            self._by_need.setdefault(need, []).append(leg.id)
            if leg.origin not in safe:
                self._usable.append(
                    (leg.origin, leg.destination, leg.id, leg.hours, self.nats[leg.id], need)
                )
        self._arrivals: dict[str, list[tuple[str, int]]] = {}
        for origin, destination, _, _, _, need in self._usable:
            self._arrivals.setdefault(destination, []).append((origin, need))
        self.hostile_exclusions = _hostile_exclusions(knowledge)
        self._views: dict[tuple[float, int], _View] = {}
        self._reach: dict[int, frozenset[str]] = {}
        self._lock = threading.Lock()

    def view(self, risk_aversion: float, held: int) -> _View:
        key = (risk_aversion, held)
        with self._lock:
            found = self._views.get(key)
            if found is None:
                found = self._views[key] = self._build_view(risk_aversion, held)
                if len(self._views) > MAX_CACHED_VIEWS:
                    del self._views[next(iter(self._views))]
            return found

    def reachable(self, held: int) -> frozenset[str]:
        """Places from which some safe place can be reached with these documents.

        Costs play no part, so this is far cheaper than a view: it explains a
        missing route without building views for documents nobody holds.
        """
        with self._lock:
            found = self._reach.get(held)
        if found is not None:
            return found
        seen = set(self.safe)
        todo = list(self.safe)
        while todo:
            for origin, need in self._arrivals.get(todo.pop(), ()):
                if origin not in seen and not need & ~held:
                    seen.add(origin)
                    todo.append(origin)
        found = frozenset(seen)
        with self._lock:
            self._reach[held] = found
        return found

    def _build_view(self, risk_aversion: float, held: int) -> _View:
        alts: dict[tuple[str, str], list[tuple[float, str]]] = {}
        for origin, destination, leg_id, hours, nats, need in self._usable:
            if need & ~held:
                continue
            alts.setdefault((origin, destination), []).append(
                (hours + risk_aversion * nats, leg_id)
            )
        graph = nx.DiGraph()
        for (origin, destination), options in alts.items():
            options.sort()
            graph.add_edge(origin, destination, cost=options[0][0], alts=tuple(options))
        graph.add_edges_from((place, SINK, {"cost": 0.0, "alts": ()}) for place in self.safe)
        to_sink = nx.single_source_dijkstra_path_length(
            graph.reverse(copy=False), SINK, weight="cost"
        )
        graph.remove_nodes_from([node for node in list(graph) if node not in to_sink])
        return _View(graph, to_sink)

    def document_exclusions(self, held: int) -> tuple[DocumentExclusion, ...]:
        found: dict[str, list[str]] = {}
        for need, leg_ids in self._by_need.items():
            for doc in DOCUMENTS:
                if need & ~held & _DOC_BIT[doc]:
                    found.setdefault(doc, []).extend(leg_ids)
        return tuple(
            DocumentExclusion(doc, len(found[doc]), tuple(sorted(found[doc])[:MAX_EXAMPLES]))
            for doc in DOCUMENTS
            if doc in found
        )

    def route(self, legs: list[Leg], risk_aversion: float, disjoint: Disjointness) -> Route:
        facts = tuple(
            LegFact(
                leg_id=leg.id,
                documents=leg.documents,
                risk=leg.risk,
                base_probability=RISK_PROBABILITY[leg.risk],
                age_days=self.age[leg.id],
                stale=self.age[leg.id] > GRACE_DAYS,
                effective_probability=effective_probability(leg.risk, self.age[leg.id]),
            )
            for leg in legs
        )
        place = self.knowledge.place_by_id
        return Route(
            places=(place[legs[0].origin], *(place[leg.destination] for leg in legs)),
            legs=tuple(legs),
            hours=math.fsum(leg.hours for leg in legs),
            risk=1 - math.prod(1 - fact.effective_probability for fact in facts),
            cost=math.fsum(leg.hours + risk_aversion * self.nats[leg.id] for leg in legs),
            facts=facts,
            disjoint=disjoint,
        )

    def search(
        self,
        view: _View,
        start: str,
        *,
        banned_places: frozenset[str] = frozenset(),
        banned_legs: frozenset[str] = frozenset(),
    ) -> list[Leg] | None:
        """The cheapest route avoiding the banned legs and transit places, or None."""
        if start not in view.to_sink:
            return None
        graph = view.graph
        weight = self._weight(graph, banned_places, banned_legs)
        to_sink = view.to_sink
        try:
            nodes = nx.astar_path(
                graph, start, SINK, heuristic=lambda node, _: to_sink[node], weight=weight
            )
        except nx.NetworkXNoPath:
            return None
        legs = []
        for origin, destination in itertools.pairwise(nodes[:-1]):
            leg_id = next(
                leg_id
                for _, leg_id in graph[origin][destination]["alts"]
                if leg_id not in banned_legs
            )
            legs.append(self.knowledge.leg_by_id[leg_id])
        return legs

    def _weight(
        self, graph: Any, banned_places: frozenset[str], banned_legs: frozenset[str]
    ) -> Weight:
        # A banned leg only changes its own pair of places: the pair then costs
        # its next allowed parallel leg, or is closed.
        override: dict[str, dict[str, float | None]] = {}
        for leg_id in banned_legs:
            leg = self.knowledge.leg_by_id[leg_id]
            if graph.has_edge(leg.origin, leg.destination):
                alts = graph[leg.origin][leg.destination]["alts"]
                left = [cost for cost, other in alts if other not in banned_legs]
                override.setdefault(leg.origin, {})[leg.destination] = left[0] if left else None
        if not banned_places and not override:
            return "cost"

        def weight(origin: Any, destination: Any, data: dict[str, Any]) -> float | None:
            if destination in banned_places:
                return None
            closed = override.get(origin)
            if closed is not None and destination in closed:
                return closed[destination]
            cost: float = data["cost"]
            return cost

        return weight


def _hostile_exclusions(knowledge: Knowledge) -> tuple[HostileExclusion, ...]:
    out = []
    for country in sorted(knowledge.hostile_countries):
        places = [p.id for p in knowledge.places if p.country == country]
        if not places:
            continue
        inside = set(places)
        legs = sum(1 for leg in knowledge.legs if {leg.origin, leg.destination} & inside)
        out.append(HostileExclusion(country, len(places), legs, tuple(places[:MAX_EXAMPLES])))
    return tuple(out)


def prepare(
    knowledge: Knowledge,
    today: date,
    *,
    document_sets: Iterable[Iterable[str]] = (),
    risk_aversion: float = DEFAULT_RISK_AVERSION,
) -> PreparedGraph:
    """Prepare once per knowledge version and day; optionally build views ahead of time."""
    prepared = PreparedGraph(knowledge, today)
    for documents in document_sets:
        prepared.view(risk_aversion, documents_mask(documents))
    return prepared


# -- planning ----------------------------------------------------------------------------


def plan(
    source: Knowledge | PreparedGraph,
    start: str,
    documents_held: Iterable[str],
    today: date,
    risk_aversion: float = DEFAULT_RISK_AVERSION,
    backups: int = 2,
) -> Plan:
    """The main route from `start` to any safe place, and up to `backups` disjoint backups."""
    held = frozenset(documents_held)
    mask = documents_mask(held)
    if not (math.isfinite(risk_aversion) and risk_aversion >= 0):
        raise ValueError(f"risk_aversion must be a non-negative number, not {risk_aversion!r}")
    if backups < 0:
        raise ValueError("backups must not be negative")
    prepared = source if isinstance(source, PreparedGraph) else prepare(source, today)
    if prepared.today != today:
        raise ValueError(f"the graph was prepared for {prepared.today}, not {today}")

    def result(
        main: Route | None = None, found: tuple[Route, ...] = (), no_route: NoRoute | None = None
    ) -> Plan:
        return Plan(
            start=start,
            start_place=prepared.knowledge.place_by_id.get(start),
            documents_held=held,
            today=today,
            risk_aversion=risk_aversion,
            backups_requested=backups,
            main=main,
            backups=found,
            no_route=no_route,
            excluded_for_documents=prepared.document_exclusions(mask),
            excluded_hostile=prepared.hostile_exclusions,
        )

    refused = _refusal(prepared, start)
    if refused is not None:
        return result(no_route=refused)
    view = prepared.view(risk_aversion, mask)
    legs = prepared.search(view, start)
    if legs is None:
        return result(no_route=_why_unreachable(prepared, start, held))
    routes = [prepared.route(legs, risk_aversion, "main")]
    for _ in range(backups):
        backup = _backup(prepared, view, start, routes, risk_aversion)
        if backup is None:
            break
        routes.append(backup)
    return result(routes[0], tuple(routes[1:]))


def _refusal(prepared: PreparedGraph, start: str) -> NoRoute | None:
    knowledge = prepared.knowledge
    place = knowledge.place_by_id.get(start)
    if place is None:
        return NoRoute("unknown_start", start)
    if place.country in knowledge.hostile_countries:
        return NoRoute("start_in_hostile_country", place.country)
    if place.safe:
        return NoRoute("start_is_safe", start)
    if not prepared.safe:
        return NoRoute("no_safe_place")
    return None


def _backup(
    prepared: PreparedGraph, view: _View, start: str, earlier: list[Route], risk_aversion: float
) -> Route | None:
    banned_legs = frozenset[str]().union(*(route.leg_ids for route in earlier))
    transit = frozenset[str]().union(*(route.transit for route in earlier))
    legs = prepared.search(view, start, banned_places=transit, banned_legs=banned_legs)
    if legs is not None:
        return prepared.route(legs, risk_aversion, "place")
    if not transit:
        return None  # the leg-disjoint search would be the same search
    legs = prepared.search(view, start, banned_legs=banned_legs)
    return None if legs is None else prepared.route(legs, risk_aversion, "leg")


def _why_unreachable(prepared: PreparedGraph, start: str, held: frozenset[str]) -> NoRoute:
    """Name the fewest extra documents that would open a route, if any would."""
    if start not in prepared.reachable(documents_mask(DOCUMENTS)):
        return NoRoute("unreachable")
    missing = [doc for doc in DOCUMENTS if doc not in held]
    for size in range(1, len(missing) + 1):
        for extra in itertools.combinations(missing, size):
            if start in prepared.reachable(documents_mask(held | set(extra))):
                return NoRoute("needs_documents", documents_needed=frozenset(extra))
    return NoRoute("unreachable")


# -- plain English, for the CLI and tests (the Django layer translates the codes) ----------

DOCUMENT_LABELS: Final[Mapping[str, str]] = {
    "internal_passport": "internal passport",
    "foreign_passport": "foreign passport",
    "visa": "visa",
}
NO_ROUTE_TEXT: Final[Mapping[str, str]] = {
    "unknown_start": "No route: the start place {value} is not in the route knowledge.",
    "start_in_hostile_country": "No route: the start is in {value}, a hostile country.",
    "start_is_safe": "No route needed: the start is already a safe place.",
    "no_safe_place": "No route: the route knowledge has no safe place outside hostile countries.",
    "needs_documents": (
        "No safe place is reachable with the documents held; with {documents} one would be."
    ),
    "unreachable": "No safe place is reachable from here, whatever the documents.",
}


def _documents(documents: Iterable[str]) -> str:
    labels = [DOCUMENT_LABELS[doc] for doc in DOCUMENTS if doc in set(documents)]
    return ", ".join(labels) if labels else "none"


def _describe_route(title: str, route: Route) -> list[str]:
    path = " → ".join(place.name for place in route.places)
    lines = [
        f"{title}: {path}; {len(route.legs)} leg(s), {route.hours:g} h, "
        f"failure risk {route.risk:.1%}."
    ]
    for number, (leg, fact) in enumerate(zip(route.legs, route.facts, strict=True), start=1):
        stale = f", stale: {fact.effective_probability:.1%} now" if fact.stale else ""
        lines.append(
            f"  {number}. {leg.id} by {leg.mode}, {leg.hours:g} h, documents: "
            f"{_documents(fact.documents)}; risk {fact.risk} ({fact.base_probability:.0%}), "
            f"assessed {fact.age_days} day(s) ago{stale}."
        )
    return lines


def describe(plan: Plan) -> list[str]:
    """The plan as plain English lines."""
    where = plan.start_place.name if plan.start_place else plan.start
    lines = [f"From {where}, holding: {_documents(plan.documents_held)}."]
    if plan.no_route is not None:
        reason = plan.no_route
        text = NO_ROUTE_TEXT[reason.code]
        lines.append(text.format(value=reason.value, documents=_documents(reason.documents_needed)))
    for number, route in enumerate(plan.routes):
        if route.disjoint == "main":
            lines += _describe_route("Main route", route)
        elif route.disjoint == "place":
            lines += _describe_route(f"Backup {number} (no leg or transit place shared)", route)
        else:
            title = f"Backup {number} (no leg shared; no route avoids the transit places)"
            lines += _describe_route(title, route)
    if plan.missing_backups > 0:
        lines.append(
            f"No backup {len(plan.backups) + 1}: every other route shares a leg with one above."
        )
    for excluded in plan.excluded_for_documents:
        lines.append(
            f"Left out {excluded.legs} leg(s) needing a document not held:"
            f" {DOCUMENT_LABELS[excluded.document]} (e.g. {', '.join(excluded.examples)})."
        )
    for hostile in plan.excluded_hostile:
        lines.append(
            f"Left out {hostile.places} place(s) and {hostile.legs} leg(s) in {hostile.country},"
            f" a hostile country (e.g. {', '.join(hostile.examples)})."
        )
    return lines
