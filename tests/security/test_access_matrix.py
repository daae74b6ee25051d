"""S2 across the whole URL map: every pattern × role × an object outside the user's
assignment. A new URL that this test cannot classify fails it, so every page is
either public, the user's own, or proven closed to outsiders."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from PIL import Image

from tests.conftest import Organisation, keychain_of, make_persona, sign_in
from tests.journeys.conftest import verified_case

# Open to anyone (the login, the applicant's chat, the bot's webhook, invitations).
PUBLIC = {
    "accounts:login",
    "accounts:otp_verify",
    "accounts:otp_enrol",
    "accounts:logout",
    "webchat:chat",
    "webchat:return",
    "webchat:leave",
    "chat_upload",
    "telegram:webhook",
    "set_language",
    "volunteers:join",
    None,  # the root redirect
}
# A signed-in person's own pages: nothing in them belongs to anyone else.
OWN = {"accounts:home", "cases:list", "volunteers:me", "accounts:staff_list"}


@dataclass
class World:
    org: Organisation
    outsider: Any  # a legal caseworker with nothing of the case below
    values: dict[str, str]
    case_id: int


def _routes() -> list[tuple[str, str | None]]:
    def walk(resolver: URLResolver, prefix: str, namespace: str | None) -> Any:
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern, prefix + str(pattern.pattern), pattern.namespace)
            elif isinstance(pattern, URLPattern):
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                yield prefix + str(pattern.pattern), name

    return list(walk(get_resolver(), "", None))


def _url(route: str, values: dict[str, str]) -> str:
    import re

    def fill(match: re.Match[str]) -> str:
        name = match.group(2)
        if name not in values:
            raise AssertionError(f"add a value for <{name}> to the access matrix ({route})")
        return values[name]

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", fill, route)


@pytest.fixture
def world(org: Organisation, settings: Any, tmp_path: Path) -> World:
    """One case with everything attached, assigned to the visa and evacuation
    teams (and a proposal, a profile with an away period), none of it the lawyer's."""
    from tests.volunteers.conftest import active_volunteer
    from tropa.accounts.models import Team
    from tropa.applications.services import application_add
    from tropa.cases.services import service_add
    from tropa.documents.services import document_receive
    from tropa.journeys.services import journey_start
    from tropa.matching.services import proposal_create
    from tropa.routes.services import knowledge_load_sample, plan_create
    from tropa.vault import services as vault
    from tropa.volunteers.services import away_add

    settings.MEDIA_ROOT = str(tmp_path)
    coordinator = keychain_of(org.coordinator)
    falcon = make_persona("falcon", "Falcon", "caseworker", ["evacuation"])
    vault.team_holder_add(
        team=Team.objects.get(kind="evacuation"), staff=falcon.staff, by=coordinator
    )
    knowledge_load_sample(keychain=coordinator)
    case = verified_case(org)
    service_add(case=case, kind="visa", keychain=coordinator)
    photo = io.BytesIO()
    Image.new("RGB", (400, 300), (1, 2, 3)).save(photo, format="JPEG")
    document = document_receive(case=case, data=photo.getvalue(), kind="summons", source="web")
    application = application_add(
        case=case, keychain=keychain_of(org.other_caseworker), kind="asylum", country="DE"
    )
    plan = plan_create(
        case=case,
        keychain=keychain_of(falcon),
        start="north-city",
        documents=["internal_passport"],
        risk_aversion="balanced",
    )
    journey = journey_start(
        route_plan=plan,
        keychain=keychain_of(falcon),
        route_index=0,
        departed_at=timezone.now(),
        grace_minutes=30,
    )
    profile = active_volunteer(org, org.other_caseworker)
    away = away_add(profile=profile, starts_on=timezone.localdate(), ends_on=timezone.localdate())
    proposal = proposal_create(by=org.coordinator.staff)
    values = {
        "case_id": str(case.pk),
        "document_id": str(document.pk),
        "application_id": str(application.pk),
        "plan_id": str(plan.pk),
        "journey_id": str(journey.pk),
        "check_in_id": str(journey.check_ins.first().pk),
        "proposal_id": str(proposal.pk),
        "staff_id": str(org.other_caseworker.staff.pk),
        "away_id": str(away.pk),
        "leg_id": "L01",
        "token": "not-a-real-invitation-token",
    }
    return World(org=org, outsider=org.caseworker, values=values, case_id=case.pk)


def _state(world: World) -> tuple[Any, ...]:
    from tropa.applications.models import Application
    from tropa.cases.models import Case, CaseEntry
    from tropa.documents.models import Document
    from tropa.journeys.models import Journey
    from tropa.routes.models import KnowledgeVersion
    from tropa.volunteers.models import AwayPeriod

    case = Case.objects.get(pk=world.case_id)
    return (
        case.status,
        case.compromised_at,
        CaseEntry.objects.count(),
        Document.objects.count(),
        list(Application.objects.values_list("stage", flat=True)),
        list(Journey.objects.values_list("status", "route_index")),
        KnowledgeVersion.objects.count(),
        AwayPeriod.objects.count(),
        world.org.other_caseworker.staff.__class__.objects.filter(revoked_at=None).count(),
    )


def test_an_outsider_gets_404_everywhere_and_changes_nothing(world: World) -> None:
    client = sign_in(Client(), world.outsider)
    before = _state(world)
    checked = 0
    for route, name in _routes():
        if name in PUBLIC or name in OWN:
            continue
        url = _url(route, world.values)
        for method in ("get", "post"):
            response = getattr(client, method)(url, {"text": "x", "status": "active"})
            assert response.status_code in (404, 405), f"{method.upper()} {url} ({name})"
            checked += 1
    assert checked > 80
    assert _state(world) == before


def test_anonymous_visitors_are_sent_to_login_or_get_404(world: World) -> None:
    client = Client()
    for route, name in _routes():
        if name in PUBLIC:
            continue
        url = _url(route, world.values)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            if response.status_code == 302:
                assert response["Location"].startswith(("/accounts/login/", "/volunteers/")), url
            else:
                assert response.status_code in (403, 404, 405), f"{method.upper()} {url}"
