"""One action revokes a volunteer everywhere, and the matcher proposes who takes over (S2, S7)."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from tests.conftest import Organisation, Persona, audit_actions, keychain_of, sign_in
from tests.volunteers.conftest import active_volunteer, waiting_service
from tropa.cases.models import CaseService, ServiceStatus
from tropa.matching.models import Proposal
from tropa.vault import crypto
from tropa.vault import services as vault
from tropa.vault.models import CaseKeyWrap, TeamKeyWrap
from tropa.volunteers.models import VettingStatus


def test_revocation_leaves_nothing_the_volunteer_can_open(
    org: Organisation, caseworker: Persona, second_lawyer: Persona
) -> None:
    from tropa.cases.services import service_update

    active_volunteer(org, caseworker)
    active_volunteer(org, second_lawyer)
    service = waiting_service(org, "legal")
    service_update(
        service=service,
        keychain=keychain_of(org.coordinator),
        status=ServiceStatus.IN_PROGRESS,
        assignee=caseworker.staff,
    )
    # What a thief with Bob's password and a copy of the database could do before:
    bob = keychain_of(caseworker)
    legal_key = vault.team_key(caseworker.staff.teams.get())
    old_team_private = bob.team_private_key(legal_key)
    assert vault.case_key_unwrap(case_id=service.case_id, keychain=bob)
    bob_phone = sign_in(Client(), caseworker)

    coordinator = sign_in(Client(), org.coordinator)
    response = coordinator.post(f"/volunteers/{caseworker.staff.pk}/revoke/")

    proposal = Proposal.objects.get()
    assert response["Location"] == f"/matching/{proposal.pk}/"
    caseworker.staff.refresh_from_db()
    assert caseworker.staff.is_revoked and not caseworker.staff.teams.exists()
    assert caseworker.staff.profile.status == VettingStatus.REVOKED
    assert not CaseKeyWrap.objects.filter(staff=caseworker.staff).exists()
    assert not TeamKeyWrap.objects.filter(staff=caseworker.staff).exists()
    # The old private key opens nothing: no wrap left for it, and the team key rotated.
    with pytest.raises(crypto.MissingWrap):
        vault.case_key_unwrap(case_id=service.case_id, keychain=bob)
    team_wrap = CaseKeyWrap.objects.get(case_id=service.case_id, team__kind="legal")
    with pytest.raises(crypto.VaultError):
        crypto.unwrap_key(
            old_team_private,
            bytes(team_wrap.wrapped),
            context=vault.case_context(service.case_id),
        )
    # Sessions are gone and the phone is logged out.
    assert not Session.objects.filter(session_key=bob_phone.session.session_key).exists()
    assert bob_phone.get("/cases/").status_code == 302
    # The service waits again and the proposal gives it to the other lawyer.
    service.refresh_from_db()
    assert service.assignee is None and service.status == ServiceStatus.REQUESTED
    assert [row.volunteer_id for row in proposal.rows.all()] == [second_lawyer.staff.pk]
    assert proposal.scope == [service.pk]
    assert {"staff.revoked", "keys.team_key_rotated", "match.proposed"} <= set(audit_actions())


def test_a_coordinator_cannot_revoke_themselves(org: Organisation) -> None:
    client = sign_in(Client(), org.coordinator)
    client.post(f"/volunteers/{org.coordinator.staff.pk}/revoke/")
    org.coordinator.staff.refresh_from_db()
    assert not org.coordinator.staff.is_revoked


def test_caseworkers_cannot_see_or_use_the_directory(
    org: Organisation, caseworker: Persona
) -> None:
    client = sign_in(Client(), caseworker)
    for url in ("/volunteers/", "/volunteers/workload/", "/volunteers/invite/", "/matching/"):
        assert client.get(url).status_code == 404
    target = org.other_caseworker.staff.pk
    assert client.post(f"/volunteers/{target}/revoke/").status_code == 404
    assert CaseService.objects.count() == 0
