"""Concurrent appends never fork the chain (PostgreSQL: real row locks between connections)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from tropa.audit.models import Action, AuditEvent
from tropa.audit.services import audit_record, audit_verify

# SQLite's flush between transactional tests would hit the append-only triggers,
# and an in-memory SQLite database is not shared between threads anyway.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a server database"),
]


def test_parallel_appends_form_one_unbroken_chain() -> None:
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(25):
                audit_record(action=Action.LOGIN, actor_id=1)
        except BaseException as error:  # noqa: BLE001 (reported by the assertion below)
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert list(AuditEvent.objects.values_list("seq", flat=True)) == list(range(1, 101))
    assert audit_verify().ok
