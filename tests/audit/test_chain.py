"""S6: the audit log is append-only and any edit, deletion or reordering is found and named."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from tropa.audit.models import Action, AuditEvent
from tropa.audit.services import audit_record, audit_verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain() -> list[AuditEvent]:
    return [
        audit_record(action=Action.LOGIN, actor_id=1),
        audit_record(action=Action.LOGIN_FAILED, actor_id=2),
        audit_record(action=Action.CASE_OPENED, actor_id=1, case_id=7),
        audit_record(action=Action.STAFF_REVOKED, actor_id=1, detail={"staff_id": 2}),
        audit_record(action=Action.LOGOUT, actor_id=1),
    ]


def _as_attacker(sql: str, params: list[object]) -> None:
    """Someone with the database file: drops the triggers, then edits rows directly."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
            cursor.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent")
        cursor.execute(sql, params)


def test_intact_chain_verifies(chain: list[AuditEvent]) -> None:
    report = audit_verify()
    assert report.ok
    assert report.rows_checked == 5
    call_command("audit", "verify")


def test_rows_link_to_their_predecessor(chain: list[AuditEvent]) -> None:
    assert [event.seq for event in chain] == [1, 2, 3, 4, 5]
    for before, after in zip(chain, chain[1:], strict=False):
        assert after.prev_mac == before.mac


@pytest.mark.parametrize(
    ("column", "value"),
    [("action", "auth.logout"), ("actor_id", 99), ("case_id", 8), ("detail", '{"staff_id": 3}')],
)
def test_an_edited_row_is_named(chain: list[AuditEvent], column: str, value: object) -> None:
    _as_attacker(f"UPDATE audit_auditevent SET {column} = %s WHERE seq = 3", [value])  # noqa: S608
    report = audit_verify()
    assert report.broken_seq == 3
    assert "altered" in report.reason
    with pytest.raises(CommandError, match="broken at row 3"):
        call_command("audit", "verify")


def test_a_deleted_row_is_named(chain: list[AuditEvent]) -> None:
    _as_attacker("DELETE FROM audit_auditevent WHERE seq = %s", [2])
    report = audit_verify()
    assert report.broken_seq == 2
    assert "missing" in report.reason


def test_a_deleted_last_row_is_found(chain: list[AuditEvent]) -> None:
    _as_attacker("DELETE FROM audit_auditevent WHERE seq = %s", [5])
    report = audit_verify()
    assert report.broken_seq == 5


def test_reordered_rows_are_named(chain: list[AuditEvent]) -> None:
    # Swap the sequence numbers of rows 2 and 4 so they read in a different order.
    _as_attacker("UPDATE audit_auditevent SET seq = 1000 WHERE seq = %s", [2])
    _as_attacker("UPDATE audit_auditevent SET seq = 2 WHERE seq = %s", [4])
    _as_attacker("UPDATE audit_auditevent SET seq = 4 WHERE seq = %s", [1000])
    report = audit_verify()
    assert report.broken_seq == 2


def test_a_rewritten_row_with_a_fresh_mac_still_breaks_the_chain(chain: list[AuditEvent]) -> None:
    # Without the key, an attacker can only copy a MAC from another row.
    _as_attacker(
        "UPDATE audit_auditevent SET mac = (SELECT mac FROM audit_auditevent WHERE seq = 1), "
        "action = 'auth.login' WHERE seq = %s",
        [3],
    )
    assert audit_verify().broken_seq == 3


def test_the_database_refuses_updates_and_deletes(chain: list[AuditEvent]) -> None:
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(seq=1).update(action="auth.logout")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(seq=1).delete()
    assert audit_verify().ok


def test_unknown_action_is_refused(db: None) -> None:
    with pytest.raises(ValueError, match="unknown audit action"):
        audit_record(action="case.exported_everything")


def test_empty_log_verifies(db: None) -> None:
    assert audit_verify().ok
