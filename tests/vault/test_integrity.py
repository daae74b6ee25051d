"""S5 at the database level: ciphertext moved between rows or fields fails closed."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.conftest import Organisation, keychain_of
from tropa.cases.models import Case, CaseEntry
from tropa.cases.services import IntakeKeys, case_note_add, case_seal, case_unlock
from tropa.vault import crypto

pytestmark = pytest.mark.django_db


def _raw_update(table: str, column: str, value: bytes, pk: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, pk])  # noqa: S608


def _raw(table: str, column: str, pk: int) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return bytes(cursor.fetchone()[0])


def _opened(org: Organisation, pk: int) -> Case:
    return case_unlock(case=Case.objects.get(pk=pk), keychain=keychain_of(org.coordinator))


def test_identity_moved_to_another_case_fails_closed(org: Organisation) -> None:
    keys = IntakeKeys.load()
    first = case_seal(keys=keys, identity={"name": "First Person"}, answers=[])
    second = case_seal(keys=keys, identity={"name": "Second Person"}, answers=[])
    _raw_update("cases_case", "identity", _raw("cases_case", "identity", first.pk), second.pk)
    with pytest.raises(crypto.DecryptionError):
        _ = _opened(org, second.pk).identity
    assert _opened(org, first.pk).identity == {"name": "First Person"}


def test_ciphertext_moved_between_fields_fails_closed(org: Organisation) -> None:
    case = case_seal(keys=IntakeKeys.load(), identity={"name": "Some One"}, answers=[])
    _raw_update("cases_case", "identity", _raw("cases_case", "private_key", case.pk), case.pk)
    with pytest.raises(crypto.DecryptionError):
        _ = _opened(org, case.pk).identity


def test_note_moved_between_entries_fails_closed(org: Organisation) -> None:
    case = case_seal(keys=IntakeKeys.load(), identity={}, answers=[])
    keychain = keychain_of(org.coordinator)
    a = case_note_add(case=_opened(org, case.pk), keychain=keychain, text="note A")
    b = case_note_add(case=_opened(org, case.pk), keychain=keychain, text="note B")
    _raw_update("cases_caseentry", "body", _raw("cases_caseentry", "body", a.pk), b.pk)
    opened = _opened(org, case.pk)
    entry = CaseEntry.objects.get(pk=b.pk)
    entry.case = opened
    with pytest.raises(crypto.DecryptionError):
        _ = entry.body


def test_a_flipped_bit_in_stored_ciphertext_fails_closed(org: Organisation) -> None:
    case = case_seal(keys=IntakeKeys.load(), identity={"name": "Bit Flip"}, answers=[])
    blob = bytearray(_raw("cases_case", "identity", case.pk))
    blob[-1] ^= 1
    _raw_update("cases_case", "identity", bytes(blob), case.pk)
    with pytest.raises(crypto.DecryptionError):
        _ = _opened(org, case.pk).identity


def test_a_locked_case_refuses_to_show_or_save(org: Organisation) -> None:
    from tropa.vault.fields import Locked

    case = Case.objects.get(
        pk=case_seal(keys=IntakeKeys.load(), identity={"name": "Locked"}, answers=[]).pk
    )
    with pytest.raises(Locked):
        _ = case.identity
    with pytest.raises(Locked):
        case.identity = {"name": "changed"}
        case.save()


def test_stored_fields_are_ciphertext_not_json(org: Organisation) -> None:
    case = case_seal(
        keys=IntakeKeys.load(), identity={"name": "Plain Sight"}, answers=["Answer text"]
    )
    assert b"Plain Sight" not in _raw("cases_case", "identity", case.pk)
    entry = CaseEntry.objects.get(case=case)
    assert b"Answer text" not in _raw("cases_caseentry", "body", entry.pk)
