"""Unlocked private keys never rest on the server: the session holds ciphertext,
the browser holds the key to it, and neither alone opens anything."""

from __future__ import annotations

import base64

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client

from tests.conftest import Organisation, full_login, keychain_of
from tropa.cases.models import Case

pytestmark = pytest.mark.django_db


def _forms(secret: bytes) -> list[bytes]:
    return [
        secret,
        secret.hex().encode(),
        base64.b64encode(secret),
        base64.urlsafe_b64encode(secret),
    ]


def test_server_session_holds_no_usable_private_key(org: Organisation, sealed_case: Case) -> None:
    client = Client()
    full_login(client, org.coordinator)
    assert client.get(f"/cases/{sealed_case.pk}/").status_code == 200
    private = keychain_of(org.coordinator).private_key
    stored = b"".join(
        row.session_data.encode() + repr(row.get_decoded()).encode()
        for row in Session.objects.all()
    )
    for form in _forms(private):
        assert form not in stored


ENDED = "/accounts/login/?ended=1"


@pytest.mark.parametrize("cookie", [base64.urlsafe_b64encode(b"\0" * 32).decode(), "%%%", None])
def test_without_the_right_cookie_the_session_is_ended(
    org: Organisation, sealed_case: Case, cookie: str | None
) -> None:
    client = Client()
    full_login(client, org.coordinator)
    if cookie is None:
        del client.cookies[settings.VAULT_COOKIE_NAME]
    else:
        client.cookies[settings.VAULT_COOKIE_NAME] = cookie
    assert client.get(f"/cases/{sealed_case.pk}/")["Location"] == ENDED
    assert client.get("/accounts/home/")["Location"].startswith("/accounts/login/")


def test_cookie_is_httponly_strict_and_dies_with_logout(
    org: Organisation, sealed_case: Case
) -> None:
    client = Client()
    full_login(client, org.coordinator)
    cookie = client.cookies[settings.VAULT_COOKIE_NAME]
    assert cookie["httponly"] and cookie["secure"] and cookie["samesite"] == "Strict"
    stolen = cookie.value
    client.post("/accounts/logout/")
    assert client.cookies[settings.VAULT_COOKIE_NAME].value == ""
    # The stolen cookie with a new login of someone else opens nothing either.
    other = Client()
    full_login(other, org.caseworker)
    other.cookies[settings.VAULT_COOKIE_NAME] = stolen
    assert other.get(f"/cases/{sealed_case.pk}/")["Location"] == ENDED


def test_revocation_makes_the_cookie_worthless(org: Organisation, sealed_case: Case) -> None:
    from tropa.accounts.services import staff_revoke
    from tropa.cases.services import case_assign

    case_assign(case=sealed_case, keychain=keychain_of(org.coordinator), staff=org.caseworker.staff)
    client = Client()
    full_login(client, org.caseworker)
    assert client.get(f"/cases/{sealed_case.pk}/").status_code == 200
    staff_revoke(
        staff=org.caseworker.staff, by=org.coordinator.staff, keychain=keychain_of(org.coordinator)
    )
    assert client.get(f"/cases/{sealed_case.pk}/").status_code == 302
