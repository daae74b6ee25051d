"""Hostile input on the login forms: clear refusals, never a 500, nothing personal in logs."""

from __future__ import annotations

import logging

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Persona, password_step
from tropa.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

hostile_text = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        [
            "\x00",
            "\u202e",
            "a" * 100_000,
            "' OR 1=1 --",
            "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
        ]
    ),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(username=hostile_text, password=hostile_text)
def test_any_login_input_gets_a_page_not_a_crash(
    caseworker: Persona, username: str, password: str
) -> None:
    response = Client().post("/accounts/login/", {"username": username, "password": password})
    assert response.status_code in (400, 302)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(code=hostile_text)
def test_any_code_input_gets_a_page_not_a_crash(caseworker: Persona, code: str) -> None:
    client = Client()
    password_step(client, caseworker)
    response = client.post("/accounts/login/code/", {"code": code})
    assert response.status_code in (400, 302)


def test_broken_utf8_in_a_form_body_is_refused_cleanly(caseworker: Persona) -> None:
    response = Client().post(
        "/accounts/login/",
        b"username=\xff\xfe&password=\xc3\x28",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400


def test_failed_login_leaves_no_name_or_password_in_logs_or_audit(
    caseworker: Persona, caplog: pytest.LogCaptureFixture
) -> None:
    canary_user, canary_password = "ivan.canary.petrov", "Canary-Passw0rd-4417"
    with caplog.at_level(logging.DEBUG):
        Client().post(
            "/accounts/login/",
            {"username": canary_user, "password": canary_password},
            REMOTE_ADDR="203.0.113.77",
            HTTP_USER_AGENT="CanaryBrowser/1.0",
        )
        password_step(Client(), caseworker, password=canary_password)
    logged = caplog.text
    for canary in (canary_user, canary_password, "203.0.113.77", "CanaryBrowser", "bob"):
        assert canary not in logged
    rows = repr(list(AuditEvent.objects.values()))
    for canary in (canary_user, canary_password, "203.0.113.77", "CanaryBrowser"):
        assert canary not in rows
