"""The queue and the case file as caseworkers and coordinators use them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests.conftest import Organisation, keychain_of, sign_in
from tropa.cases.models import Case, CaseEntry, Status
from tropa.cases.services import IntakeKeys, case_assign, case_seal, case_transition
from tropa.intake.models import Conversation, Delivery, OutboundMessage
from tropa.intake.services import conversation_for_chat

pytestmark = pytest.mark.django_db

ACTIONS = {
    "reply": {"text": "hello"},
    "note": {"text": "a note"},
    "status": {"target": "triage"},
    "verification": {"documents_checked": "on", "call_link": "https://meet.example.org/x"},
    "decision": {"verified": "yes", "reason": "documents match"},
    "services": {"kind": "legal"},
    "flag": {"confirm": "on"},
    "services/update": {"service": "1", "status": "done"},
    "services/session": {
        "service": "1",
        "held_at": "2026-11-20T10:00",
        "minutes": "30",
        "note": "x",
    },
}


def _case(*, urgency: int = 50, language: str = "en", chat: str | None = None) -> Case:
    case = case_seal(
        keys=IntakeKeys.load(),
        identity={"name": "Queue Person"},
        answers=["hello"],
        urgency=urgency,
        language=language,
        category="summons",
        channel="web",
    )
    if chat:
        conversation = conversation_for_chat(channel="web", chat_id=chat)
        conversation.case = case
        conversation.expires_at = None
        conversation.save()
    return Case.objects.get(pk=case.pk)


def _legal(org: Organisation, case: Case) -> None:
    from tropa.accounts.models import Team

    case_assign(
        case=case, keychain=keychain_of(org.coordinator), team=Team.objects.get(kind="legal")
    )


def test_coordinator_sees_the_whole_queue_and_caseworkers_their_own(org: Organisation) -> None:
    mine, other = _case(urgency=90), _case(urgency=10)
    _legal(org, mine)
    coordinator = sign_in(Client(), org.coordinator).get("/cases/").content.decode()
    assert mine.codename in coordinator and other.codename in coordinator
    assert coordinator.index(mine.codename) < coordinator.index(other.codename)  # most urgent first
    bob = sign_in(Client(), org.caseworker).get("/cases/").content.decode()
    assert mine.codename in bob and other.codename not in bob
    charlie = sign_in(Client(), org.other_caseworker).get("/cases/").content.decode()
    assert mine.codename not in charlie


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_case_url_is_404_for_anyone_not_assigned(org: Organisation, action: str) -> None:
    case = _case(chat="web-404")
    for persona in (org.caseworker, org.other_caseworker):
        client = sign_in(Client(), persona)
        assert client.get(f"/cases/{case.pk}/").status_code == 404
        assert client.post(f"/cases/{case.pk}/{action}/", ACTIONS[action]).status_code == 404
    assert CaseEntry.objects.filter(case=case).count() == 1  # only the intake answer
    assert Case.objects.get(pk=case.pk).status == Status.NEW
    assert not OutboundMessage.objects.exists()


def test_filters_counts_and_sla(org: Organisation) -> None:
    late, fresh = _case(), _case()
    Case.objects.filter(pk=late.pk).update(created_at=timezone.now() - timedelta(hours=3))
    Case.objects.filter(pk=fresh.pk).update(verified_at=timezone.now())
    client = sign_in(Client(), org.coordinator)
    page = client.get("/cases/")
    body = page.content.decode()
    assert "sla-breached" in body and body.count("sla-breached") == 1
    counts = {value: n for value, _, n in page.context["counts"]}
    assert counts["new"] == 2
    verified = client.get("/cases/?verified=yes").content.decode()
    assert fresh.codename in verified and late.codename not in verified


def test_reply_goes_to_the_applicant_under_the_alias_and_notes_stay_inside(
    org: Organisation,
) -> None:
    case = _case(chat="web-reply")
    client = sign_in(Client(), org.coordinator)
    client.post(f"/cases/{case.pk}/reply/", {"text": "We can help."})
    client.post(f"/cases/{case.pk}/note/", {"text": "He sounds calm."})
    sent = OutboundMessage.objects.get()
    assert sent.text == "Oriole: We can help."
    assert Case.objects.get(pk=case.pk).first_reply_at is not None
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "He sounds calm." in page and "We can help." in page


def test_workflow_gate_and_notices_in_the_applicants_language(org: Organisation) -> None:
    case = _case(language="ru", chat="web-flow")
    _legal(org, case)
    bob = sign_in(Client(), org.caseworker)
    bob.post(f"/cases/{case.pk}/status/", {"target": "triage"})
    assert Case.objects.get(pk=case.pk).status == "triage"
    refused = bob.post(f"/cases/{case.pk}/status/", {"target": "in_progress"}, follow=True)
    assert Case.objects.get(pk=case.pk).status == "triage"
    assert "координатор" in refused.content.decode()
    bob.post(f"/cases/{case.pk}/status/", {"target": "verification"})
    notice = OutboundMessage.objects.filter(priority=1).latest("pk")
    assert "подтвердить" in notice.text  # told in Russian what happens next

    coordinator = keychain_of(org.coordinator)
    case_transition(case=case, target="in_progress", keychain=coordinator)
    before = Case.objects.get(pk=case.pk).status
    bob.post(f"/cases/{case.pk}/status/", {"target": "on_the_move"})
    assert Case.objects.get(pk=case.pk).status == before  # not verified yet
    sign_in(Client(), org.coordinator).post(
        f"/cases/{case.pk}/decision/", {"verified": "yes", "reason": "video call matched"}
    )
    bob.post(f"/cases/{case.pk}/status/", {"target": "on_the_move"})
    assert Case.objects.get(pk=case.pk).status == "on_the_move"


def test_caseworkers_cannot_decide_verification(org: Organisation) -> None:
    case = _case()
    _legal(org, case)
    sign_in(Client(), org.caseworker).post(
        f"/cases/{case.pk}/decision/", {"verified": "yes", "reason": "x"}
    )
    assert Case.objects.get(pk=case.pk).verified_at is None


def test_the_video_link_is_stored_encrypted(org: Organisation) -> None:
    case = _case()
    sign_in(Client(), org.coordinator).post(
        f"/cases/{case.pk}/verification/",
        {"documents_checked": "on", "call_link": "https://meet.example.org/secret-room-4471"},
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM cases_verification")
        assert b"secret-room-4471" not in repr(cursor.fetchall()).encode()
    page = sign_in(Client(), org.coordinator).get(f"/cases/{case.pk}/").content.decode()
    assert "secret-room-4471" in page


def test_a_flagged_case_is_frozen_for_caseworkers(org: Organisation) -> None:
    from tropa.cases.services import case_flag_compromised

    case = _case()
    _legal(org, case)
    case_flag_compromised(case_id=case.pk, reason="duress_pin")
    assert sign_in(Client(), org.caseworker).get(f"/cases/{case.pk}/").status_code == 404
    assert sign_in(Client(), org.coordinator).get(f"/cases/{case.pk}/").status_code == 200


def test_no_notice_reaches_a_chat_under_duress(org: Organisation) -> None:
    case = _case(chat="web-duress")
    Conversation.objects.filter(case=case).update(duress_at=timezone.now())
    case_transition(case=case, target="triage", keychain=keychain_of(org.coordinator))
    case_transition(case=case, target="verification", keychain=keychain_of(org.coordinator))
    assert not OutboundMessage.objects.exclude(status=Delivery.WITHHELD).exists()


def test_adding_a_service_gives_its_team_the_case(org: Organisation) -> None:
    case = _case()
    coordinator = sign_in(Client(), org.coordinator)
    assert sign_in(Client(), org.other_caseworker).get(f"/cases/{case.pk}/").status_code == 404
    coordinator.post(f"/cases/{case.pk}/services/", {"kind": "visa"})
    assert sign_in(Client(), org.other_caseworker).get(f"/cases/{case.pk}/").status_code == 200
    service = case.services.get()
    charlie = sign_in(Client(), org.other_caseworker)
    charlie.post(
        f"/cases/{case.pk}/services/update/",
        {"service": service.pk, "status": "in_progress", "assignee": org.other_caseworker.staff.pk},
    )
    service.refresh_from_db()
    assert (service.status, service.assignee_id) == ("in_progress", org.other_caseworker.staff.pk)
    charlie.post(
        f"/cases/{case.pk}/services/session/",
        {
            "service": service.pk,
            "held_at": "2026-11-20T10:00",
            "minutes": "45",
            "note": "Explained the consulate appointment",
        },
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM cases_servicesession")
        assert b"consulate appointment" not in repr(cursor.fetchall()).encode()
    page = charlie.get(f"/cases/{case.pk}/").content.decode()
    assert "Explained the consulate appointment" in page and "45" in page


def test_an_unknown_service_is_refused_clearly(org: Organisation) -> None:
    case = _case()
    response = sign_in(Client(), org.coordinator).post(
        f"/cases/{case.pk}/services/", {"kind": "coordinators"}, follow=True
    )
    assert not case.services.exists()
    assert response.status_code == 200


def test_saved_answers_are_sent_in_the_applicants_language(org: Organisation) -> None:
    from tropa.cases.models import QuickReply

    coordinator = sign_in(Client(), org.coordinator)
    coordinator.post(
        "/cases/quick-replies/",
        {
            "title": "Summons",
            "text_ru": "Повестка не обязывает являться.",
            "text_en": "A summons does not oblige you.",
        },
    )
    reply = QuickReply.objects.get()
    case = _case(language="ru", chat="web-quick")
    coordinator.post(f"/cases/{case.pk}/reply/", {"text": "", "quick": reply.pk})
    assert OutboundMessage.objects.get().text == "Oriole: Повестка не обязывает являться."
    assert sign_in(Client(), org.caseworker).get("/cases/quick-replies/").status_code == 404


def test_unverified_cases_never_get_sensitive_replies(org: Organisation) -> None:
    case = _case(chat="web-sensitive")
    client = sign_in(Client(), org.coordinator)
    refused = client.post(
        f"/cases/{case.pk}/reply/",
        {"text": "Train 12 at 06:40, platform 3", "sensitive": "on"},
        follow=True,
    )
    assert "verify" in refused.content.decode().lower() or "подтверд" in refused.content.decode()
    assert not OutboundMessage.objects.exists()
    assert not CaseEntry.objects.filter(case=case, kind="message_out").exists()
    client.post(f"/cases/{case.pk}/decision/", {"verified": "yes", "reason": "ok"})
    client.post(
        f"/cases/{case.pk}/reply/", {"text": "Train 12 at 06:40, platform 3", "sensitive": "on"}
    )
    assert OutboundMessage.objects.get().text.endswith("platform 3")


def test_a_flagged_case_gets_nothing_sensitive_even_when_verified(org: Organisation) -> None:
    from tropa.cases.services import case_flag_compromised

    case = _case(chat="web-flagged")
    client = sign_in(Client(), org.coordinator)
    client.post(f"/cases/{case.pk}/decision/", {"verified": "yes", "reason": "ok"})
    case_flag_compromised(case_id=case.pk, reason="duplicate_documents")
    client.post(f"/cases/{case.pk}/reply/", {"text": "Safe house address", "sensitive": "on"})
    assert not OutboundMessage.objects.exists()


def test_assignments_appear_in_the_timeline(org: Organisation) -> None:
    case = _case()
    _legal(org, case)
    assert case.entries.filter(kind="assignment").count() == 1


def test_the_same_passport_in_two_cases_flags_the_second(org: Organisation) -> None:
    keys = IntakeKeys.load()
    first = case_seal(keys=keys, identity={"passport_number": "4509 000777"}, answers=[])
    second = case_seal(keys=keys, identity={"passport_number": "4509000777 "}, answers=[])
    assert Case.objects.get(pk=first.pk).compromised_at is None
    assert Case.objects.get(pk=second.pk).compromised_reason == "duplicate_documents"


def test_a_caseworker_can_flag_a_case_and_then_loses_it(org: Organisation) -> None:
    case = _case()
    _legal(org, case)
    bob = sign_in(Client(), org.caseworker)
    bob.post(f"/cases/{case.pk}/flag/", {"confirm": "on"})
    assert Case.objects.get(pk=case.pk).compromised_reason == "suspicious_behaviour"
    assert bob.get(f"/cases/{case.pk}/").status_code == 404
    flagged = sign_in(Client(), org.coordinator).get("/cases/?flagged=yes").content.decode()
    assert case.codename in flagged


def test_queue_filters_by_team_language_and_region(org: Organisation) -> None:
    legal, other = _case(language="ru"), _case(language="en")
    _legal(org, legal)
    client = sign_in(Client(), org.coordinator)
    by_team = client.get("/cases/?team=legal").content.decode()
    assert legal.codename in by_team and other.codename not in by_team
    by_language = client.get("/cases/?language=en").content.decode()
    assert other.codename in by_language and legal.codename not in by_language


def test_closing_needs_an_outcome_from_the_fixed_list(org: Organisation) -> None:
    case = _case()
    Case.objects.filter(pk=case.pk).update(status="triage")
    client = sign_in(Client(), org.coordinator)
    client.post(f"/cases/{case.pk}/status/", {"target": "closed"})
    assert Case.objects.get(pk=case.pk).status == "triage"
    client.post(f"/cases/{case.pk}/status/", {"target": "closed", "outcome": "made_up"})
    assert Case.objects.get(pk=case.pk).status == "triage"
    client.post(f"/cases/{case.pk}/status/", {"target": "closed", "outcome": "declined_help"})
    closed = Case.objects.get(pk=case.pk)
    assert (closed.status, closed.outcome) == ("closed", "declined_help")
    assert closed.closed_at is not None
    client.post(f"/cases/{case.pk}/status/", {"target": "triage"})  # reopening clears it
    assert Case.objects.get(pk=case.pk).outcome == ""
