"""CSRF under `Referrer-Policy: no-referrer`: browsers send `Origin: null` on our own forms."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import Persona

pytestmark = pytest.mark.django_db


def _post_login(client: Client, persona: Persona, *, token: bool, fetch_site: str) -> int:
    page = client.get("/accounts/login/")
    data = {"username": persona.staff.username, "password": persona.password}
    if token:
        data["csrfmiddlewaretoken"] = page.context["csrf_token"]
    response = client.post(
        "/accounts/login/", data, HTTP_ORIGIN="null", HTTP_SEC_FETCH_SITE=fetch_site
    )
    return response.status_code


def test_same_origin_form_with_null_origin_is_accepted(caseworker: Persona) -> None:
    client = Client(enforce_csrf_checks=True)
    assert _post_login(client, caseworker, token=True, fetch_site="same-origin") == 302


@pytest.mark.parametrize("fetch_site", ["cross-site", "same-site", "none"])
def test_null_origin_from_elsewhere_is_refused(caseworker: Persona, fetch_site: str) -> None:
    client = Client(enforce_csrf_checks=True)
    assert _post_login(client, caseworker, token=True, fetch_site=fetch_site) == 403


def test_same_origin_without_token_is_still_refused(caseworker: Persona) -> None:
    client = Client(enforce_csrf_checks=True)
    assert _post_login(client, caseworker, token=False, fetch_site="same-origin") == 403


def test_foreign_origin_is_refused(caseworker: Persona) -> None:
    client = Client(enforce_csrf_checks=True)
    page = client.get("/accounts/login/")
    response = client.post(
        "/accounts/login/",
        {"username": "bob", "password": "x", "csrfmiddlewaretoken": page.context["csrf_token"]},
        HTTP_ORIGIN="https://evil.example.com",
    )
    assert response.status_code == 403
