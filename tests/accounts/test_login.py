"""S7: the two-step login as a person (and an attacker) meets it."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.test import Client, override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import Persona, audit_actions, full_login, password_step, totp_code
from tropa.accounts.models import Staff
from tropa.accounts.services import staff_create

pytestmark = pytest.mark.django_db


def test_password_then_code_reaches_home(caseworker: Persona) -> None:
    client = Client()
    response = password_step(client, caseworker)
    assert response["Location"] == "/accounts/login/code/"
    # Between the two steps the account is not signed in yet.
    assert client.get("/accounts/home/")["Location"].startswith("/accounts/login/")

    response = client.post("/accounts/login/code/", {"code": totp_code(caseworker.device)})
    assert response["Location"] == "/accounts/home/"
    home = client.get("/accounts/home/")
    assert home.status_code == 200
    assert "Lynx" in home.content.decode()
    assert audit_actions()[-1] == "auth.login"


def test_password_is_stored_with_argon2id(caseworker: Persona) -> None:
    assert caseworker.staff.password.startswith("argon2$argon2id$")


def test_wrong_password_is_refused_with_a_clear_message(caseworker: Persona) -> None:
    response = password_step(Client(), caseworker, password="wrong password")
    assert response.status_code == 400
    assert "Неверное имя пользователя или пароль" in response.content.decode()
    assert audit_actions()[-1] == "auth.login_failed"


def test_unknown_username_looks_like_a_wrong_password(db: None) -> None:
    response = Client().post("/accounts/login/", {"username": "nobody", "password": "x" * 12})
    assert response.status_code == 400
    assert "Неверное имя пользователя или пароль" in response.content.decode()


def test_sixth_wrong_password_within_a_minute_is_throttled(caseworker: Persona) -> None:
    client = Client()
    for _ in range(5):
        assert password_step(client, caseworker, password="nope nope nope").status_code == 400
    # Even the right password is refused now: the attacker learns nothing.
    response = password_step(client, caseworker)
    assert response.status_code == 400
    assert "Слишком много попыток" in response.content.decode()
    assert audit_actions()[-1] == "auth.login_throttled"


def test_throttle_lifts_after_a_minute(caseworker: Persona) -> None:
    client = Client()
    for _ in range(5):
        password_step(client, caseworker, password="nope nope nope")
    later = time.time() + 61
    with mock.patch("django.utils.timezone.now") as now:
        from datetime import UTC, datetime

        now.return_value = datetime.fromtimestamp(later, UTC)
        assert password_step(client, caseworker).status_code == 302


def test_reused_code_is_rejected(caseworker: Persona) -> None:
    code = totp_code(caseworker.device)
    first = Client()
    password_step(first, caseworker)
    assert first.post("/accounts/login/code/", {"code": code}).status_code == 302

    second = Client()
    password_step(second, caseworker)
    response = second.post("/accounts/login/code/", {"code": code})
    assert response.status_code == 400
    assert "уже использован" in response.content.decode()
    assert audit_actions()[-1] == "auth.otp_failed"
    assert second.get("/accounts/home/").status_code == 302


def test_expired_code_is_rejected(caseworker: Persona) -> None:
    client = Client()
    password_step(client, caseworker)
    stale = totp_code(caseworker.device, steps_from_now=-3)
    response = client.post("/accounts/login/code/", {"code": stale})
    assert response.status_code == 400
    assert client.get("/accounts/home/").status_code == 302


@pytest.mark.parametrize("garbage", ["", "abcdef", "12345", "1" * 4000, "١٢٣٤٥٦", "12\x0034"])
def test_malformed_code_gets_a_clear_error(caseworker: Persona, garbage: str) -> None:
    client = Client()
    password_step(client, caseworker)
    response = client.post("/accounts/login/code/", {"code": garbage})
    assert response.status_code == 400
    assert "id_code" in response.content.decode()


@override_settings(OTP_TOTP_THROTTLE_FACTOR=1)
def test_wrong_codes_are_throttled(caseworker: Persona) -> None:
    client = Client()
    password_step(client, caseworker)
    client.post("/accounts/login/code/", {"code": "000000"})
    response = client.post("/accounts/login/code/", {"code": totp_code(caseworker.device)})
    assert response.status_code == 400
    assert "Слишком много неверных кодов" in response.content.decode()


def test_code_step_needs_a_recent_password_step(caseworker: Persona, settings) -> None:
    client = Client()
    assert client.get("/accounts/login/code/")["Location"] == "/accounts/login/"
    password_step(client, caseworker)
    with mock.patch("tropa.accounts.views.time.time", return_value=time.time() + 301):
        response = client.post("/accounts/login/code/", {"code": totp_code(caseworker.device)})
    assert response["Location"] == "/accounts/login/"


def test_first_login_enrols_an_authenticator(db: None) -> None:
    staff_create(username="dora", alias="Wren", role="caseworker", password="long enough pass")
    client = Client()
    response = client.post("/accounts/login/", {"username": "dora", "password": "long enough pass"})
    assert response["Location"] == "/accounts/login/enrol/"
    page = client.get("/accounts/login/enrol/")
    assert page.status_code == 200
    assert "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user__username="dora")
    assert not device.confirmed
    assert client.post("/accounts/login/enrol/", {"code": "000000"}).status_code == 400

    response = client.post("/accounts/login/enrol/", {"code": totp_code(device)})
    assert response["Location"] == "/accounts/home/"
    device.refresh_from_db()
    assert device.confirmed
    assert "auth.otp_enrolled" in audit_actions()


def test_enrolment_is_closed_once_an_authenticator_exists(caseworker: Persona) -> None:
    client = Client()
    password_step(client, caseworker)
    assert client.get("/accounts/login/enrol/")["Location"] == "/accounts/login/code/"
    assert Client().get("/accounts/login/enrol/")["Location"] == "/accounts/login/"


def test_logout_ends_the_session(caseworker: Persona) -> None:
    client = Client()
    full_login(client, caseworker)
    assert client.post("/accounts/logout/")["Location"] == "/accounts/login/"
    assert client.get("/accounts/home/").status_code == 302
    assert audit_actions()[-1] == "auth.logout"


def test_session_expires_after_inactivity(caseworker: Persona, settings) -> None:
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    client = Client()
    full_login(client, caseworker)
    before = timezone.now()
    client.get("/accounts/home/")
    # Sliding: each request pushes the end 30 minutes ahead; the cookie itself
    # dies with the browser.
    expiry = Session.objects.get().expire_date - before
    assert 29 * 60 < expiry.total_seconds() <= 30 * 60 + 5
    Session.objects.update(expire_date=timezone.now())
    response = client.get("/accounts/home/")
    assert response["Location"] == "/accounts/login/?ended=1"
    assert audit_actions()[-1] == "security.session_refused"


def test_forged_session_cookie_is_refused_and_audited(caseworker: Persona, settings) -> None:
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = "forgedforgedforgedforgedforged12"
    response = client.get("/accounts/home/")
    assert response["Location"] == "/accounts/login/?ended=1"
    assert audit_actions()[-1] == "security.session_refused"
    page = client.get(response["Location"])
    assert "Ваша сессия завершилась" in page.content.decode()


def test_post_without_csrf_token_is_refused_and_audited(caseworker: Persona) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "bob", "password": caseworker.password})
    assert response.status_code == 403
    assert "Форма не принята" in response.content.decode()
    assert audit_actions()[-1] == "security.csrf_refused"


def test_staff_have_no_real_names_only_aliases() -> None:
    fields = {field.name for field in Staff._meta.get_fields()}
    assert "alias" in fields
    assert not fields & {"first_name", "last_name", "email", "phone"}
