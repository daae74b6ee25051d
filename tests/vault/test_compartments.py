"""S2 and S7: access follows assignment, and a revoked account decrypts nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import Organisation, keychain_of, sign_in
from tropa.accounts.models import Team
from tropa.accounts.services import staff_revoke
from tropa.cases.models import Case
from tropa.cases.services import case_assign, case_unassign, case_unlock
from tropa.vault import crypto
from tropa.vault import services as vault
from tropa.vault.models import CaseKeyWrap, StaffKey, TeamKey, TeamKeyWrap

pytestmark = pytest.mark.django_db


def _url(case: Case) -> str:
    return f"/cases/{case.pk}/"


def _every_wrap_fails(private_key: bytes, case: Case) -> None:
    """With the database and this private key, no wrap of the case opens."""
    for wrap in CaseKeyWrap.objects.filter(case=case):
        with pytest.raises(crypto.DecryptionError):
            crypto.unwrap_key(private_key, bytes(wrap.wrapped), context=vault.case_context(case.pk))


def test_coordinator_reads_every_case_through_the_coordinators_key(
    org: Organisation, sealed_case: Case
) -> None:
    client = sign_in(Client(), org.coordinator)
    page = client.get(_url(sealed_case)).content.decode()
    assert "Fyodor Testov" in page
    assert "Unit leaves for the front on Friday" in page
    assert "Can you help me today?" in page  # appended write-only by intake


def test_unassigned_caseworkers_get_404_and_cannot_unwrap(
    org: Organisation, sealed_case: Case
) -> None:
    for persona in (org.caseworker, org.other_caseworker):
        client = sign_in(Client(), persona)
        assert client.get(_url(sealed_case)).status_code == 404
        assert sealed_case.codename not in client.get("/cases/").content.decode()
        keychain = keychain_of(persona)  # the database plus this person's password
        with pytest.raises(crypto.MissingWrap):
            vault.case_key_unwrap(case_id=sealed_case.pk, keychain=keychain)
        _every_wrap_fails(keychain.private_key, sealed_case)


def test_a_case_that_does_not_exist_looks_the_same(org: Organisation) -> None:
    client = sign_in(Client(), org.caseworker)
    assert client.get("/cases/999999/").status_code == 404


def test_assigning_a_person_opens_the_case_and_unassigning_closes_it(
    org: Organisation, sealed_case: Case
) -> None:
    case_assign(case=sealed_case, keychain=keychain_of(org.coordinator), staff=org.caseworker.staff)
    client = sign_in(Client(), org.caseworker)
    assert client.get(_url(sealed_case)).status_code == 200
    assert sealed_case.codename in client.get("/cases/").content.decode()

    case_unassign(case=sealed_case, by=org.coordinator.staff, staff=org.caseworker.staff)
    assert client.get(_url(sealed_case)).status_code == 404
    _every_wrap_fails(keychain_of(org.caseworker).private_key, sealed_case)


def test_assigning_a_team_opens_the_case_to_its_members_only(
    org: Organisation, sealed_case: Case
) -> None:
    legal = Team.objects.get(kind="legal")
    case_assign(case=sealed_case, keychain=keychain_of(org.coordinator), team=legal)
    assert sign_in(Client(), org.caseworker).get(_url(sealed_case)).status_code == 200
    assert sign_in(Client(), org.other_caseworker).get(_url(sealed_case)).status_code == 404


def test_opening_a_case_file_writes_an_audit_row(org: Organisation, sealed_case: Case) -> None:
    from tropa.audit.models import AuditEvent

    sign_in(Client(), org.coordinator).get(_url(sealed_case))
    row = AuditEvent.objects.filter(action="case.opened").get()
    assert (row.actor_id, row.case_id) == (org.coordinator.staff.pk, sealed_case.pk)


def test_a_caseworker_cannot_assign_what_they_cannot_read(
    org: Organisation, sealed_case: Case
) -> None:
    with pytest.raises(crypto.MissingWrap):
        case_assign(
            case=sealed_case, keychain=keychain_of(org.caseworker), staff=org.caseworker.staff
        )
    assert not CaseKeyWrap.objects.filter(staff=org.caseworker.staff).exists()


def test_revoked_account_decrypts_nothing_even_with_copied_keys(
    org: Organisation, sealed_case: Case
) -> None:
    legal = Team.objects.get(kind="legal")
    coordinator = keychain_of(org.coordinator)
    case_assign(case=sealed_case, keychain=coordinator, staff=org.caseworker.staff)
    case_assign(case=sealed_case, keychain=coordinator, team=legal)
    # What a compromised volunteer could have copied before revocation:
    stolen = keychain_of(org.caseworker)
    stolen_team_private = stolen.team_private_key(TeamKey.objects.get(team=legal))

    rotated = staff_revoke(
        staff=org.caseworker.staff, by=org.coordinator.staff, keychain=coordinator
    )
    assert rotated == [legal]
    assert TeamKey.objects.get(team=legal).version == 2
    assert not StaffKey.objects.filter(staff=org.caseworker.staff).exists()
    assert not TeamKeyWrap.objects.filter(staff=org.caseworker.staff).exists()
    _every_wrap_fails(stolen.private_key, sealed_case)
    _every_wrap_fails(stolen_team_private, sealed_case)
    # The team and the coordinators still read it through the rotated key.
    case = Case.objects.get(pk=sealed_case.pk)
    case_unlock(case=case, keychain=keychain_of(org.coordinator))
    assert case.identity["name"] == "Fyodor Testov"


def test_password_change_rewraps_the_same_key(org: Organisation) -> None:
    staff = org.caseworker.staff
    before = keychain_of(org.caseworker)
    vault.staff_password_change(
        staff=staff, old_password=org.caseworker.password, new_password="a new long passphrase"
    )
    with pytest.raises(crypto.WrongPassword):
        vault.keychain_unlock(staff=staff, password=org.caseworker.password)
    after = vault.keychain_unlock(staff=staff, password="a new long passphrase")
    assert after.private_key == before.private_key
    staff.refresh_from_db()
    assert staff.check_password("a new long passphrase")


def test_wrong_password_is_a_specific_error(org: Organisation) -> None:
    with pytest.raises(crypto.WrongPassword):
        vault.keychain_unlock(staff=org.caseworker.staff, password="not the password")


def test_staff_created_by_a_coordinator_get_their_team_keys(org: Organisation) -> None:
    from tropa.accounts.services import staff_create

    staff = staff_create(
        username="dora",
        alias="Wren",
        role="caseworker",
        password="long enough pass",
        teams=["visa"],
        keychain=keychain_of(org.coordinator),
    )
    keychain = vault.keychain_unlock(staff=staff, password="long enough pass")
    visa_key = TeamKey.objects.get(team__kind="visa")
    assert keychain.team_private_key(visa_key)
    with pytest.raises(crypto.MissingWrap):
        keychain.team_private_key(TeamKey.objects.get(team__kind="legal"))


def test_removing_a_member_from_a_team_rotates_its_key(
    org: Organisation, sealed_case: Case
) -> None:
    from tropa.accounts.services import staff_team_add, staff_team_remove

    legal = Team.objects.get(kind="legal")
    coordinator = keychain_of(org.coordinator)
    case_assign(case=sealed_case, keychain=coordinator, team=legal)
    staff_team_add(staff=org.other_caseworker.staff, team=legal, keychain=coordinator)
    charlie = keychain_of(org.other_caseworker)
    kept = charlie.team_private_key(TeamKey.objects.get(team=legal))
    assert sign_in(Client(), org.other_caseworker).get(_url(sealed_case)).status_code == 200

    staff_team_remove(staff=org.other_caseworker.staff, team=legal, keychain=coordinator)

    assert sign_in(Client(), org.other_caseworker).get(_url(sealed_case)).status_code == 404
    _every_wrap_fails(kept, sealed_case)  # the copy of the old team key opens nothing
    assert sign_in(Client(), org.caseworker).get(_url(sealed_case)).status_code == 200
