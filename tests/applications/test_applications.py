"""Visa and asylum applications: stages, deadlines in the queue on time, notes encrypted."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test import Client
from django.utils import timezone

from tests.conftest import Organisation, audit_actions, in_english, keychain_of, sign_in
from tests.volunteers.conftest import sealed_case
from tropa.applications.models import Application


def _visa_case(org: Organisation) -> object:
    from tropa.cases.services import service_add

    case = sealed_case()
    service_add(case=case, kind="visa", keychain=keychain_of(org.coordinator))
    return case


def _update(client: Client, case: object, application: Application, **fields: object) -> object:
    data = {"stage": application.stage, "decision": "", "notes": "", "documents": ""}
    data.update({k: str(v) for k, v in fields.items()})
    return client.post(
        f"/applications/case/{case.pk}/{application.pk}/",
        {f"a{application.pk}-{k}": v for k, v in data.items()},
    )


def test_a_deadline_shows_in_the_queue_when_it_is_near(org: Organisation) -> None:
    case = _visa_case(org)
    marten = in_english(sign_in(Client(), org.other_caseworker))  # visa team
    marten.post(
        f"/applications/case/{case.pk}/add/",
        {"kind": "humanitarian_visa", "country": "de", "notes": "CANARY embassy contact"},
    )
    application = Application.objects.get()
    assert application.country == "DE"
    today = timezone.localdate()
    _update(
        marten,
        case,
        application,
        stage="submitted",
        submitted_on=today,
        deadline=today + timedelta(days=10),
        deadline_kind="biometrics",
    )
    assert "Visa and asylum deadlines" not in marten.get("/cases/").content.decode()
    application = Application.objects.get(pk=application.pk)
    _update(
        marten, case, application, deadline=today + timedelta(days=5), deadline_kind="biometrics"
    )
    queue = marten.get("/cases/").content.decode()
    assert "Visa and asylum deadlines" in queue and case.codename in queue and "in 5 days" in queue
    Application.objects.update(deadline=today - timedelta(days=1))
    assert "overdue" in marten.get("/cases/").content.decode()
    # The lawyer does not work on this case; the coordinator sees every deadline.
    lawyer = in_english(sign_in(Client(), org.caseworker)).get("/cases/").content.decode()
    assert "Visa and asylum deadlines" not in lawyer
    coordinator = in_english(sign_in(Client(), org.coordinator)).get("/cases/").content.decode()
    assert case.codename in coordinator and "Visa and asylum deadlines" in coordinator
    with connection.cursor() as cursor:
        cursor.execute("SELECT notes FROM applications_application")
        (raw,) = cursor.fetchone()
    assert b"CANARY" not in bytes(raw)
    assert "application.changed" in audit_actions()


def test_stages_follow_their_order_and_a_decision_needs_its_result(org: Organisation) -> None:
    from tropa.applications.services import application_add

    case = _visa_case(org)
    application = application_add(
        case=case, keychain=keychain_of(org.other_caseworker), kind="asylum", country="FR"
    )
    client = sign_in(Client(), org.other_caseworker)
    _update(client, case, application, stage="decided", decision="granted")
    assert Application.objects.get().stage == "preparing"  # cannot skip submitting
    _update(client, case, application, stage="submitted")
    application = Application.objects.get(pk=application.pk)
    _update(client, case, application, stage="decided")
    assert Application.objects.get().stage == "submitted"  # no decision given
    _update(client, case, application, stage="decided", decision="refused")
    application = Application.objects.get(pk=application.pk)
    assert (application.stage, application.decision) == ("decided", "refused")
    _update(client, case, application, stage="appealed")
    assert Application.objects.get().stage == "appealed"
    assert Application.objects.get().decision == ""


def test_only_coordinators_and_the_visa_team_keep_applications(org: Organisation) -> None:
    case = _visa_case(org)
    lawyer = sign_in(Client(), org.caseworker)
    assert lawyer.get(f"/applications/case/{case.pk}/").status_code == 404
    assert (
        sign_in(Client(), org.coordinator).get(f"/applications/case/{case.pk}/").status_code == 200
    )
