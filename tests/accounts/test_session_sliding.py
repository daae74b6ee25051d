"""Staff sessions slide (an idle timeout), but a page view that changes nothing
writes the session at most once a minute: no write and no disk sync per page."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.conftest import Persona
from tropa.core import middleware

pytestmark = pytest.mark.django_db


def _session_writes(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return sum(1 for q in queries if q["sql"].startswith("UPDATE") and "django_session" in q["sql"])


def _expiry(client: Client) -> object:
    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_a_page_view_slides_the_session_at_most_once_a_minute(
    coordinator_client: Client, coordinator: Persona, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1_800_000_000.0]
    monkeypatch.setattr(middleware.time, "time", lambda: clock[0])
    assert _session_writes(coordinator_client, "/cases/") == 1  # first touch
    first = _expiry(coordinator_client)
    clock[0] += 30
    assert _session_writes(coordinator_client, "/cases/") == 0
    assert _expiry(coordinator_client) == first
    clock[0] += 31
    assert _session_writes(coordinator_client, "/cases/") == 1
    assert _expiry(coordinator_client) > first  # the idle timeout moved on
