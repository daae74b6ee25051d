"""The matcher in the web app: proposals from the database, edits, acceptance, stale rows."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from tests.conftest import Organisation, Persona, audit_actions, keychain_of, sign_in
from tests.volunteers.conftest import active_volunteer, waiting_service
from tropa.cases.models import CaseService
from tropa.matching.models import Proposal, RowOutcome
from tropa.matching.services import proposal_accept, proposal_create
from tropa.vault import services as vault
from tropa.volunteers.models import AwayPeriod, VettingStatus, VolunteerProfile


def test_accepting_wraps_the_case_key_for_the_assignee(
    org: Organisation, caseworker: Persona, second_lawyer: Persona
) -> None:
    active_volunteer(org, caseworker, regions=["volga"])
    active_volunteer(org, second_lawyer, regions=["urals"])
    service = waiting_service(org, "legal", region="volga")
    client = sign_in(Client(), org.coordinator)
    response = client.post("/matching/")
    proposal = Proposal.objects.get()
    assert response["Location"] == f"/matching/{proposal.pk}/"
    (row,) = proposal.rows.all()
    assert row.volunteer_id == caseworker.staff.pk  # knows the region
    assert "region" in row.reasons
    page = client.get(f"/matching/{proposal.pk}/").content.decode()
    assert service.case.codename in page and "Ermine" in page  # the alternative is offered
    client.post(f"/matching/{proposal.pk}/accept/", {f"row-{row.pk}": str(row.volunteer_id)})
    service.refresh_from_db()
    assert service.assignee_id == caseworker.staff.pk
    assert vault.case_key_unwrap(case_id=service.case_id, keychain=keychain_of(caseworker))
    row.refresh_from_db()
    assert row.outcome == RowOutcome.ASSIGNED
    assert "match.accepted" in audit_actions()
    # Accepting twice changes nothing.
    client.post(f"/matching/{proposal.pk}/accept/", {f"row-{row.pk}": ""})
    service.refresh_from_db()
    assert service.assignee_id == caseworker.staff.pk


def test_the_coordinator_edits_a_row_or_leaves_it_out(
    org: Organisation, caseworker: Persona, second_lawyer: Persona
) -> None:
    active_volunteer(org, caseworker, regions=["volga"])
    active_volunteer(org, second_lawyer)
    first, second = waiting_service(org, "legal"), waiting_service(org, "legal")
    proposal = proposal_create(by=org.coordinator.staff)
    rows = {row.service_id: row for row in proposal.rows.all()}
    counts = proposal_accept(
        proposal=proposal,
        keychain=keychain_of(org.coordinator),
        choices={rows[first.pk].pk: second_lawyer.staff.pk, rows[second.pk].pk: None},
    )
    assert counts["assigned"] == 1 and counts["skipped"] == 1
    first.refresh_from_db(), second.refresh_from_db()
    assert first.assignee_id == second_lawyer.staff.pk and second.assignee_id is None


def test_rows_that_no_longer_hold_are_not_forced_through(
    org: Organisation, caseworker: Persona
) -> None:
    profile = active_volunteer(org, caseworker)
    service = waiting_service(org, "legal")
    proposal = proposal_create(by=org.coordinator.staff)
    VolunteerProfile.objects.filter(pk=profile.pk).update(status=VettingStatus.PAUSED)
    counts = proposal_accept(proposal=proposal, keychain=keychain_of(org.coordinator), choices={})
    assert counts["stale"] == 1
    service.refresh_from_db()
    assert service.assignee_id is None


def test_an_edit_cannot_break_a_hard_constraint(
    org: Organisation, caseworker: Persona, other_caseworker: Persona
) -> None:
    active_volunteer(org, caseworker)
    active_volunteer(org, other_caseworker)  # visa team: not eligible for legal
    service = waiting_service(org, "legal")
    proposal = proposal_create(by=org.coordinator.staff)
    (row,) = proposal.rows.all()
    counts = proposal_accept(
        proposal=proposal,
        keychain=keychain_of(org.coordinator),
        choices={row.pk: other_caseworker.staff.pk},
    )
    assert counts["stale"] == 1
    assert CaseService.objects.get(pk=service.pk).assignee_id is None


def test_unassignable_cases_are_listed_with_why(org: Organisation, caseworker: Persona) -> None:
    from tropa.cases.services import case_flag_compromised

    profile = active_volunteer(org, caseworker, capacity=1)
    english = waiting_service(org, "legal", language="en")
    nobody = waiting_service(org, "psychological")
    flagged = waiting_service(org, "legal")
    case_flag_compromised(case_id=flagged.case_id, reason="caseworker", by_id=caseworker.staff.pk)
    today = timezone.localdate()
    AwayPeriod.objects.create(profile=profile, starts_on=today, ends_on=today)
    proposal = proposal_create(by=org.coordinator.staff)
    reasons = {item["service_id"]: item["reasons"] for item in proposal.unassigned}
    assert reasons[english.pk] == ["no_common_language"]
    assert reasons[nobody.pk] == ["no_team_member"]
    assert reasons[flagged.pk] == ["frozen"]
    assert not proposal.rows.exists()
    page = sign_in(Client(), org.coordinator).get(f"/matching/{proposal.pk}/").content.decode()
    assert english.case.codename in page


def test_whoever_flagged_a_case_never_gets_it(
    org: Organisation, caseworker: Persona, second_lawyer: Persona
) -> None:
    from tropa.cases.models import Case

    active_volunteer(org, caseworker, regions=["volga"])
    active_volunteer(org, second_lawyer, capacity=1)
    service = waiting_service(org, "legal", region="volga")
    # Flagged by Lynx, then cleared by a coordinator: Lynx still may not take it.
    Case.objects.filter(pk=service.case_id).update(flagged_by=caseworker.staff)
    proposal = proposal_create(by=org.coordinator.staff)
    assert [row.volunteer_id for row in proposal.rows.all()] == [second_lawyer.staff.pk]


def test_urgent_long_waiting_cases_get_the_last_slot(
    org: Organisation, caseworker: Persona
) -> None:
    active_volunteer(org, caseworker, capacity=1)
    calm = waiting_service(org, "legal", urgency=20)
    urgent = waiting_service(org, "legal", urgency=95)
    CaseService.objects.filter(pk=calm.pk).update(created_at=timezone.now() - timedelta(hours=1))
    proposal = proposal_create(by=org.coordinator.staff)
    assert [row.service_id for row in proposal.rows.all()] == [urgent.pk]
    assert proposal.unassigned == [{"service_id": calm.pk, "reasons": ["no_capacity"]}]
