"""Route knowledge for Django: the encrypted book, versions, reassessments, plans for cases.

`planner.py` and `knowledge.py` are the pure core; this module opens the
book with a reader's keychain, validates every edit before it is stored, and
turns a planner result into a plan under the case key.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import yaml
from django.db import transaction
from django.utils import timezone

from tropa.accounts.models import Staff, Team, TeamKind
from tropa.audit.models import Action
from tropa.audit.services import audit_record
from tropa.cases.models import Case, CaseEntry, EntryKind
from tropa.cases.services import TransitionRefused, case_unlock, sensitive_allowed
from tropa.routes import planner
from tropa.routes.knowledge import (
    SAMPLE_PATH,
    KnowledgeError,
    dump_knowledge,
    knowledge_document,
    load_knowledge,
)
from tropa.routes.models import KnowledgeVersion, PlanStatus, RouteBook, RoutePlan
from tropa.vault import crypto
from tropa.vault import services as vault

# Hours of travel one nat of failure risk is worth (planner.DEFAULT_RISK_AVERSION is 100).
RISK_AVERSION = {"cautious": 300.0, "balanced": planner.DEFAULT_RISK_AVERSION, "fast": 30.0}
READER_TEAMS = (TeamKind.COORDINATORS, TeamKind.EVACUATION)

__all__ = ["KnowledgeError", "RISK_AVERSION"]


def may_plan(staff: Staff) -> bool:
    """Coordinators and the evacuation team read route knowledge and plan routes."""
    return staff.is_coordinator or staff.teams.filter(kind=TeamKind.EVACUATION).exists()


# ------------------------------------------------------------------- the book


@transaction.atomic
def book_ensure() -> RouteBook:
    """The route book, created on first use with public keys only (no keychain)."""
    book = RouteBook.objects.select_for_update().filter(pk=1).first()
    if book is not None:
        return book
    key = crypto.random_key()
    book = RouteBook(pk=1)
    context = book.book_context()
    book.key_for_coordinators = crypto.wrap_key(
        vault.team_public_key(TeamKind.COORDINATORS), key, context=context
    )
    book.key_for_evacuation = crypto.wrap_key(
        vault.team_public_key(TeamKind.EVACUATION), key, context=context
    )
    recovery = vault.recovery_public_key_or_none()
    book.key_for_recovery = crypto.wrap_key(recovery, key, context=context) if recovery else None
    book.save()
    return book


def book_key(keychain: vault.Keychain) -> bytes:
    """The book key through a team key this person holds, MissingWrap otherwise."""
    book = book_ensure()
    return vault.key_unwrap_through_teams(
        keychain,
        {
            TeamKind.EVACUATION: book.key_for_evacuation,
            TeamKind.COORDINATORS: book.key_for_coordinators,
        },
        context=book.book_context(),
    )


def book_keys_rewrap(team: Team, old_private: bytes, new_public: bytes) -> None:
    """Team key rotation hook: the book key follows its readers' new keys."""
    field = {
        TeamKind.COORDINATORS: "key_for_coordinators",
        TeamKind.EVACUATION: "key_for_evacuation",
    }.get(team.kind)
    book = RouteBook.objects.filter(pk=1).first()
    if field is None or book is None:
        return
    rewrapped = vault.key_rewrap(
        getattr(book, field), old_private, new_public, context=book.book_context()
    )
    RouteBook.objects.filter(pk=1).update(**{field: rewrapped})


# ------------------------------------------------------------------ knowledge


def knowledge_current(
    *, keychain: vault.Keychain, today: date | None = None
) -> tuple[KnowledgeVersion | None, planner.Knowledge | None]:
    version = KnowledgeVersion.objects.first()
    if version is None:
        return None, None
    version.vault_unlock(book_key(keychain))
    # Stored versions were validated when saved; only `today` can move (future dates).
    return version, load_knowledge(version.body, today=today or _far_future())


def _far_future() -> date:
    return date(9999, 12, 31)


def knowledge_text(*, keychain: vault.Keychain) -> str:
    version = KnowledgeVersion.objects.first()
    if version is None:
        return ""
    version.vault_unlock(book_key(keychain))
    return str(version.body)


@transaction.atomic
def knowledge_save(*, keychain: vault.Keychain, text: str) -> KnowledgeVersion:
    """Validate the YAML (KnowledgeError lists every problem; nothing is stored
    then) and store it as the new current version."""
    knowledge = load_knowledge(text, today=timezone.localdate())
    key = book_key(keychain)
    version = KnowledgeVersion(
        created_by_id=keychain.staff_id, places=len(knowledge.places), legs=len(knowledge.legs)
    )
    version.vault_unlock(key)
    version.body = dump_knowledge(knowledge)
    version.save()
    audit_record(
        action=Action.ROUTES_EDITED,
        actor_id=keychain.staff_id,
        detail={"version_id": version.pk, "places": version.places, "legs": version.legs},
    )
    return version


def knowledge_load_sample(*, keychain: vault.Keychain) -> KnowledgeVersion:
    """The shipped synthetic sample as the first version (the demo does this)."""
    return knowledge_save(keychain=keychain, text=SAMPLE_PATH.read_text())


@transaction.atomic
def leg_reassess(
    *, keychain: vault.Keychain, leg_id: str, risk: str, note: str
) -> KnowledgeVersion:
    """A fresh assessment of one leg, dated today and signed with the assessor's alias."""
    _version, knowledge = knowledge_current(keychain=keychain)
    if knowledge is None or leg_id not in knowledge.leg_by_id:
        raise KnowledgeError("no such leg", [f"leg {leg_id!r} is not in the route knowledge"])
    document = knowledge_document(knowledge)
    alias = Staff.objects.get(pk=keychain.staff_id).alias
    for leg in document["legs"]:
        if leg["id"] == leg_id:
            leg.update(risk=risk, note=note, assessed_on=timezone.localdate(), assessed_by=alias)
    return knowledge_save(keychain=keychain, text=yaml.safe_dump(document, sort_keys=False))


# ---------------------------------------------------------------------- plans


def _place(place: planner.Place) -> dict[str, Any]:
    return {"id": place.id, "name": place.name, "country": place.country, "safe": place.safe}


def _route_document(route: planner.Route, knowledge: planner.Knowledge) -> dict[str, Any]:
    places = knowledge.place_by_id
    return {
        "disjoint": route.disjoint,
        "hours": route.hours,
        "risk": route.risk,
        "cost": route.cost,
        "destination": _place(route.destination),
        "legs": [
            {
                "id": leg.id,
                "origin": _place(places[leg.origin]),
                "destination": _place(places[leg.destination]),
                "mode": leg.mode,
                "hours": leg.hours,
                "documents": sorted(fact.documents),
                "risk": fact.risk,
                "age_days": fact.age_days,
                "stale": fact.stale,
                "probability": fact.effective_probability,
                "note": leg.note,
            }
            for leg, fact in zip(route.legs, route.facts, strict=True)
        ],
    }


def plan_document(plan: planner.Plan, knowledge: planner.Knowledge) -> dict[str, Any]:
    """What the caseworker sees and the journey follows, frozen at planning time."""
    return {
        "start": _place(plan.start_place) if plan.start_place else {"id": plan.start},
        "documents": sorted(plan.documents_held),
        "risk_aversion": plan.risk_aversion,
        "today": plan.today.isoformat(),
        "routes": [_route_document(route, knowledge) for route in plan.routes],
        "missing_backups": plan.missing_backups,
        "no_route": None
        if plan.no_route is None
        else {
            "code": plan.no_route.code,
            "value": plan.no_route.value,
            "documents_needed": sorted(plan.no_route.documents_needed),
        },
        "excluded_for_documents": [
            {"document": item.document, "legs": item.legs} for item in plan.excluded_for_documents
        ],
        "excluded_hostile": [
            {"country": item.country, "places": item.places, "legs": item.legs}
            for item in plan.excluded_hostile
        ],
    }


def plan_refusal(case: Case, staff: Staff) -> str | None:
    """Why this person may not plan a route for this case now, or None."""
    if not may_plan(staff):
        return "evacuation_only"
    return sensitive_allowed(case)


@transaction.atomic
def plan_create(
    *,
    case: Case,
    keychain: vault.Keychain,
    start: str,
    documents: list[str],
    risk_aversion: str,
) -> RoutePlan:
    """Run the planner for a verified case and keep the result under its key."""
    staff = Staff.objects.get(pk=keychain.staff_id)
    if (refusal := plan_refusal(case, staff)) is not None:
        raise TransitionRefused(refusal)
    case_unlock(case=case, keychain=keychain)
    today = timezone.localdate()
    version, knowledge = knowledge_current(keychain=keychain, today=today)
    if knowledge is None:
        raise TransitionRefused("no_knowledge")
    result = planner.plan(
        knowledge,
        start,
        documents,
        today,
        risk_aversion=RISK_AVERSION.get(risk_aversion, planner.DEFAULT_RISK_AVERSION),
    )
    route_plan = RoutePlan(case=case, knowledge=version, created_by=staff)
    route_plan.body = plan_document(result, knowledge)
    route_plan.save()
    entry = CaseEntry(case=case, kind=EntryKind.JOURNEY, author=staff)
    entry.body = (
        f"route planned: {len(result.routes)} route(s)"
        if result.main
        else f"no route: {result.no_route.code if result.no_route else ''}"
    )
    entry.save()
    audit_record(action=Action.ROUTE_PLANNED, actor_id=staff.pk, case_id=case.pk)
    return route_plan


def plan_mark_chosen(route_plan: RoutePlan) -> None:
    RoutePlan.objects.filter(case=route_plan.case, status=PlanStatus.CHOSEN).update(
        status=PlanStatus.SUPERSEDED
    )
    RoutePlan.objects.filter(pk=route_plan.pk).update(status=PlanStatus.CHOSEN)
