"""S7: a coordinator revokes a compromised account in one click; its sessions die at once."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from tests.conftest import Persona, audit_actions, full_login, password_step, sign_in
from tropa.accounts.models import StaffSession

pytestmark = pytest.mark.django_db


def test_revocation_kills_every_session_of_the_account(
    coordinator: Persona, caseworker: Persona
) -> None:
    phone, laptop = Client(), Client()
    full_login(phone, caseworker)
    sign_in(laptop, caseworker)
    assert phone.get("/accounts/home/").status_code == 200
    assert StaffSession.objects.filter(staff=caseworker.staff).count() == 2

    admin = sign_in(Client(), coordinator)
    response = admin.post(f"/volunteers/{caseworker.staff.pk}/revoke/")
    assert response["Location"] == "/volunteers/"
    assert "отозвана" in admin.get("/volunteers/").content.decode()

    for client in (phone, laptop):
        assert client.get("/accounts/home/")["Location"] == "/accounts/login/?ended=1"
    assert not StaffSession.objects.filter(staff=caseworker.staff).exists()
    assert Session.objects.count() == 1  # only the coordinator's
    assert "staff.revoked" in audit_actions()


def test_revoked_account_cannot_log_in_again(coordinator: Persona, caseworker: Persona) -> None:
    from tropa.accounts.services import staff_revoke

    staff_revoke(staff=caseworker.staff, by=coordinator.staff)
    response = password_step(Client(), caseworker)
    assert response.status_code == 400
    assert "Неверное имя пользователя или пароль" in response.content.decode()
    assert audit_actions()[-1] == "auth.revoked_account"


def test_caseworker_cannot_see_or_use_staff_management(
    caseworker: Persona, other_caseworker: Persona
) -> None:
    client = sign_in(Client(), caseworker)
    assert client.get("/volunteers/").status_code == 404
    response = client.post(f"/volunteers/{other_caseworker.staff.pk}/revoke/")
    assert response.status_code == 404
    other_caseworker.staff.refresh_from_db()
    assert not other_caseworker.staff.is_revoked


def test_anonymous_visitor_is_sent_to_login(caseworker: Persona) -> None:
    client = Client()
    assert client.get("/volunteers/")["Location"] == "/accounts/login/"
    response = client.post(f"/volunteers/{caseworker.staff.pk}/revoke/")
    assert response["Location"] == "/accounts/login/"


def test_password_without_code_is_not_a_session(caseworker: Persona) -> None:
    client = Client()
    password_step(client, caseworker)
    assert client.get("/accounts/home/")["Location"] == "/accounts/login/"


def test_coordinator_cannot_revoke_themselves(coordinator: Persona) -> None:
    client = sign_in(Client(), coordinator)
    client.post(f"/volunteers/{coordinator.staff.pk}/revoke/")
    coordinator.staff.refresh_from_db()
    assert not coordinator.staff.is_revoked
    assert client.get("/accounts/home/").status_code == 200


def test_revoking_twice_is_a_404_not_a_crash(coordinator: Persona, caseworker: Persona) -> None:
    client = sign_in(Client(), coordinator)
    client.post(f"/volunteers/{caseworker.staff.pk}/revoke/")
    assert client.post(f"/volunteers/{caseworker.staff.pk}/revoke/").status_code == 404
    assert client.post("/volunteers/999999/revoke/").status_code == 404


def test_a_session_whose_key_cookie_is_gone_is_ended(
    coordinator: Persona, caseworker: Persona
) -> None:
    from django.conf import settings

    client = sign_in(Client(), coordinator)
    del client.cookies[settings.VAULT_COOKIE_NAME]
    response = client.post(f"/volunteers/{caseworker.staff.pk}/revoke/")
    assert response["Location"] == "/accounts/login/?ended=1"
    caseworker.staff.refresh_from_db()
    assert not caseworker.staff.is_revoked
    assert client.get("/accounts/home/")["Location"].startswith("/accounts/login/")
