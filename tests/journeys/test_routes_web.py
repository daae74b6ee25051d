"""Route knowledge in the web app: encrypted at rest, for the right people only,
validated before anything is stored; plans only for verified cases."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.utils import timezone

from tests.conftest import audit_actions, in_english, keychain_of, sign_in
from tests.journeys.conftest import Evacuation, verified_case
from tropa.cases.models import Case, CaseEntry
from tropa.routes.models import KnowledgeVersion, RoutePlan
from tropa.routes.services import knowledge_current, knowledge_text


def _raw(table: str, column: str) -> list[bytes]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table}")  # noqa: S608  (fixed names)
        return [bytes(row[0]) for row in cursor.fetchall()]


def test_the_knowledge_is_ciphertext_at_rest(evacuation: Evacuation) -> None:
    (body,) = _raw("routes_knowledgeversion", "body")
    for secret in (b"Safe flat", b"Steppe border town", b"north-city", b"hostile_countries"):
        assert secret not in body
    assert "Safe flat A" in knowledge_text(keychain=keychain_of(evacuation.caseworker))


def test_only_coordinators_and_the_evacuation_team_read_it(evacuation: Evacuation) -> None:
    for persona in (evacuation.org.coordinator, evacuation.caseworker):
        page = in_english(sign_in(Client(), persona)).get("/routes/")
        assert page.status_code == 200 and "Safe flat A" in page.content.decode()
    lawyer = in_english(sign_in(Client(), evacuation.org.caseworker))
    for url in ("/routes/", "/routes/edit/", "/routes/export.yaml"):
        assert lawyer.get(url).status_code == 404
    assert lawyer.get(f"/journeys/case/{evacuation.case.pk}/").status_code == 404


def test_a_bad_edit_stores_nothing_and_keeps_the_text(evacuation: Evacuation) -> None:
    client = in_english(sign_in(Client(), evacuation.caseworker))
    text = knowledge_text(keychain=keychain_of(evacuation.caseworker))
    broken = text.replace("mode: rail", "mode: teleport", 1).replace(
        "destination: north-rail", "destination: nowhere", 1
    )
    response = client.post("/routes/edit/", {"text": broken})
    assert response.status_code == 400
    page = response.content.decode()
    assert "teleport" in page and "nowhere" in page  # both problems named, text kept
    assert KnowledgeVersion.objects.count() == 1
    upload = client.post("/routes/edit/", {"text": "", "upload": _file(b"\xff\xfe not utf-8")})
    assert upload.status_code == 400 and KnowledgeVersion.objects.count() == 1


def _file(content: bytes) -> object:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("routes.yaml", content, content_type="text/plain")


def test_export_import_and_reassessment_make_new_versions(evacuation: Evacuation) -> None:
    client = in_english(sign_in(Client(), evacuation.caseworker))
    exported = client.get("/routes/export.yaml")
    assert exported["Content-Disposition"].startswith("attachment")
    assert exported["Cache-Control"].startswith("no-store")
    response = client.post("/routes/edit/", {"text": "", "upload": _file(exported.content)})
    assert response.status_code == 302 and KnowledgeVersion.objects.count() == 2
    client.post("/routes/legs/L05/reassess/", {"risk": "high", "note": "Checked again."})
    assert KnowledgeVersion.objects.count() == 3
    _version, knowledge = knowledge_current(keychain=keychain_of(evacuation.caseworker))
    leg = knowledge.leg_by_id["L05"]
    assert (leg.risk, leg.assessed_on, leg.assessed_by) == ("high", timezone.localdate(), "Falcon")
    assert audit_actions().count("routes.edited") == 3


def test_the_book_survives_an_evacuation_member_leaving(evacuation: Evacuation) -> None:
    from tests.conftest import make_persona
    from tropa.accounts.models import Team
    from tropa.vault import services as vault
    from tropa.volunteers.services import volunteer_revoke

    other = make_persona("gull", "Gull", "caseworker", ["evacuation"])
    coordinator = keychain_of(evacuation.org.coordinator)
    vault.team_holder_add(
        team=Team.objects.get(kind="evacuation"), staff=other.staff, by=coordinator
    )
    volunteer_revoke(staff=other.staff, by=evacuation.org.coordinator.staff, keychain=coordinator)
    assert "Safe flat A" in knowledge_text(keychain=keychain_of(evacuation.caseworker))


def test_plans_only_for_verified_cases_and_under_the_case_key(evacuation: Evacuation) -> None:
    client = in_english(sign_in(Client(), evacuation.caseworker))
    form = {"start": "north-city", "documents": ["internal_passport"], "risk_aversion": "balanced"}
    unverified = verified_case(evacuation.org, chat=None)
    Case.objects.filter(pk=unverified.pk).update(verified_at=None)
    refused = client.post(f"/journeys/case/{unverified.pk}/", form)
    assert refused.status_code == 200 and not RoutePlan.objects.exists()

    response = client.post(f"/journeys/case/{evacuation.case.pk}/", form)
    plan = RoutePlan.objects.get()
    assert response["Location"] == f"/journeys/case/{evacuation.case.pk}/plan/{plan.pk}/"
    (body,) = _raw("routes_routeplan", "body")
    assert b"Safe flat" not in body and b"north-city" not in body
    page = client.get(response["Location"]).content.decode()
    assert "Main route" in page and "Backup 1" in page
    # Internal passport only: every leg of every route needs nothing more.
    plan = RoutePlan.objects.select_related("case").get()
    plan.case.vault_unlock(_case_key(evacuation))
    for route in plan.body["routes"]:
        for leg in route["legs"]:
            assert set(leg["documents"]) <= {"internal_passport"}
            assert leg["destination"]["country"] != "BY"
    assert CaseEntry.objects.filter(case=evacuation.case, kind="journey").exists()
    assert "routes.planned" in audit_actions()


def _case_key(evacuation: Evacuation) -> bytes:
    from tropa.vault import services as vault

    return vault.case_key_unwrap(
        case_id=evacuation.case.pk, keychain=keychain_of(evacuation.caseworker)
    )
