"""Joining by a single-use link, vetting, and personal details nobody else can read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import Organisation, Persona, audit_actions, keychain_of, sign_in
from tests.volunteers.conftest import active_volunteer, sealed_case
from tropa.accounts.models import Staff
from tropa.vault import crypto
from tropa.vault import services as vault
from tropa.volunteers.models import Invite, VettingStatus, VolunteerProfile

NEW_PASSWORD = "a long volunteer passphrase 42"


def _invite(org: Organisation, alias: str = "Kestrel", teams: tuple[str, ...] = ("legal",)) -> str:
    client = sign_in(Client(), org.coordinator)
    response = client.post("/volunteers/invite/", {"alias": alias, "teams": list(teams)})
    assert response.status_code == 200
    link = response.context["link"]
    assert link and "/volunteers/join/" in link
    return link.split("/volunteers/join/")[1].rstrip("/")


def _join(token: str, username: str = "kestrel") -> object:
    return Client().post(
        f"/volunteers/join/{token}/",
        {"username": username, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    )


def test_the_invite_link_works_once(org: Organisation) -> None:
    token = _invite(org)
    assert Invite.objects.get().token_digest != token  # only a digest is stored
    assert token not in str(list(Invite.objects.values()))
    response = _join(token)
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    staff = Staff.objects.get(username="kestrel")
    assert staff.alias == "Kestrel" and staff.role == "caseworker"
    assert staff.profile.status == VettingStatus.INVITED
    again = _join(token, username="kestrel2")
    assert again.status_code == 404
    assert "used already" in again.content.decode() or "уже" in again.content.decode()
    assert not Staff.objects.filter(username="kestrel2").exists()
    assert "volunteer.invited" in audit_actions() and "volunteer.joined" in audit_actions()


def test_the_invite_link_expires_and_unknown_links_say_so(org: Organisation) -> None:
    token = _invite(org)
    Invite.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = _join(token)
    assert response.status_code == 404 and not Staff.objects.filter(username="kestrel").exists()
    assert Client().get("/volunteers/join/not-a-token/").status_code == 404


def test_a_bad_join_form_keeps_the_link_usable(org: Organisation) -> None:
    token = _invite(org)
    response = Client().post(
        f"/volunteers/join/{token}/",
        {"username": "x y", "password": NEW_PASSWORD, "password_again": "different"},
    )
    assert response.status_code == 400
    assert _join(token).status_code == 302


def test_taken_aliases_and_usernames_are_refused(org: Organisation) -> None:
    client = sign_in(Client(), org.coordinator)
    assert client.post("/volunteers/invite/", {"alias": "Lynx"}).status_code == 400
    token = _invite(org)
    response = _join(token, username=org.caseworker.staff.username)
    assert response.status_code == 400 and Invite.objects.get().used_at is None


def test_no_cases_before_vetting_then_the_teams_keys(org: Organisation) -> None:
    from tropa.accounts.models import Team
    from tropa.cases.services import case_assign

    _join(_invite(org))
    staff = Staff.objects.get(username="kestrel")
    case = sealed_case()
    case_assign(
        case=case, keychain=keychain_of(org.coordinator), team=Team.objects.get(kind="legal")
    )
    mine = vault.keychain_unlock(staff=staff, password=NEW_PASSWORD)
    with pytest.raises(crypto.MissingWrap):
        vault.case_key_unwrap(case_id=case.pk, keychain=mine)
    client = sign_in(Client(), org.coordinator)
    client.post(f"/volunteers/{staff.pk}/vet/", {"teams": ["legal"]})
    assert VolunteerProfile.objects.get(staff=staff).status == VettingStatus.VETTED
    assert vault.case_key_unwrap(case_id=case.pk, keychain=mine)
    client.post(f"/volunteers/{staff.pk}/status/", {"status": "active"})
    assert VolunteerProfile.objects.get(staff=staff).status == VettingStatus.ACTIVE


def test_status_moves_follow_the_table(org: Organisation) -> None:
    _join(_invite(org))
    staff = Staff.objects.get(username="kestrel")
    client = sign_in(Client(), org.coordinator)
    client.post(f"/volunteers/{staff.pk}/status/", {"status": "active"})  # not vetted yet
    assert VolunteerProfile.objects.get(staff=staff).status == VettingStatus.INVITED
    assert client.post(f"/volunteers/{staff.pk}/status/", {"status": "boss"}).status_code == 404


def test_personal_details_are_ciphertext_for_everyone_but_coordinators(
    org: Organisation, caseworker: Persona, other_caseworker: Persona
) -> None:
    from django.db import connection

    from tropa.volunteers.services import profile_unlock

    profile = active_volunteer(org, caseworker)
    with connection.cursor() as cursor:
        cursor.execute("SELECT personal FROM volunteers_volunteerprofile")
        (raw,) = cursor.fetchone()
    assert b"Real name" not in bytes(raw)
    # The volunteer and a coordinator read it; another volunteer cannot.
    fresh = VolunteerProfile.objects.get(pk=profile.pk)
    assert profile_unlock(profile=fresh, keychain=keychain_of(caseworker)).personal["name"]
    fresh = VolunteerProfile.objects.get(pk=profile.pk)
    with pytest.raises(crypto.MissingWrap):
        profile_unlock(profile=fresh, keychain=keychain_of(other_caseworker))
    page = sign_in(Client(), org.coordinator).get(f"/volunteers/{caseworker.staff.pk}/")
    assert "Real name of Lynx" in page.content.decode()
    assert "volunteer.profile_opened" in audit_actions()
    assert (
        sign_in(Client(), other_caseworker).get(f"/volunteers/{caseworker.staff.pk}/").status_code
        == 404
    )


def test_profile_keys_follow_a_coordinators_team_key_rotation(
    org: Organisation, caseworker: Persona
) -> None:
    from tests.conftest import make_persona
    from tropa.volunteers.services import profile_unlock, volunteer_revoke

    profile = active_volunteer(org, caseworker)
    other = make_persona("erin", "Heron", "coordinator", [])
    coordinators = vault.coordinators_team()
    vault.team_holder_add(team=coordinators, staff=other.staff, by=keychain_of(org.coordinator))
    old_private = keychain_of(other).team_private_key(vault.team_key(coordinators))
    volunteer_revoke(
        staff=other.staff, by=org.coordinator.staff, keychain=keychain_of(org.coordinator)
    )
    fresh = VolunteerProfile.objects.get(pk=profile.pk)
    assert profile_unlock(profile=fresh, keychain=keychain_of(org.coordinator)).personal["name"]
    with pytest.raises(crypto.VaultError):
        crypto.unwrap_key(
            old_private, bytes(fresh.key_for_coordinators), context=fresh.profile_context()
        )


def test_a_volunteer_edits_their_own_profile_and_away_periods(
    org: Organisation, caseworker: Persona
) -> None:
    profile = active_volunteer(org, caseworker)
    client = sign_in(Client(), caseworker)
    assert client.get("/volunteers/me/").status_code == 200
    response = client.post(
        "/volunteers/me/",
        {
            "languages": ["ru", "kk"],
            "regions": ["urals"],
            "skills": "military law, appeals",
            "capacity": "4",
            "time_zone": "Asia/Almaty",
            "name": "Still synthetic",
        },
    )
    assert response.status_code == 302
    profile = VolunteerProfile.objects.get(pk=profile.pk)
    assert profile.languages == ["kk", "ru"] and profile.capacity == 4
    assert profile.skills == ["appeals", "military law"]
    today = timezone.localdate()
    client.post(
        f"/volunteers/{caseworker.staff.pk}/away/",
        {"starts_on": today.isoformat(), "ends_on": (today + timedelta(days=2)).isoformat()},
    )
    assert profile.away.count() == 1
    backwards = client.post(
        f"/volunteers/{caseworker.staff.pk}/away/",
        {"starts_on": today.isoformat(), "ends_on": (today - timedelta(days=2)).isoformat()},
    )
    assert backwards.status_code == 302 and profile.away.count() == 1
    # Someone else's profile is not theirs to touch.
    other = f"/volunteers/{org.other_caseworker.staff.pk}/away/"
    assert client.post(other, {"starts_on": today.isoformat()}).status_code == 404
