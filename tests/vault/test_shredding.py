"""S4: a deleted case is gone for good; retention deletes on schedule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import Organisation, keychain_of
from tropa.cases.models import Case, CaseEntry
from tropa.cases.services import case_close, case_shred, retention_due, retention_run
from tropa.vault import crypto
from tropa.vault.models import CaseKeyWrap, TeamKey

pytestmark = pytest.mark.django_db


def _every_key_in_the_store(org: Organisation) -> list[bytes]:
    """Every secret an attacker with the server, all passwords and the recovery key has."""
    from django.conf import settings

    keys = [org.recovery_private, *settings.VAULT_FIELD_KEYS.values()]
    for persona in (org.coordinator, org.caseworker, org.other_caseworker):
        keychain = keychain_of(persona)
        keys.append(keychain.private_key)
        for team_key in TeamKey.objects.all():
            try:
                keys.append(keychain.team_private_key(team_key))
            except crypto.MissingWrap:
                pass
    return keys


def test_shredded_case_is_unreadable_with_every_key(org: Organisation, sealed_case: Case) -> None:
    case_id = sealed_case.pk
    # A copy of the ciphertext taken before deletion (e.g. PostgreSQL dead tuples).
    identity_blob = bytes(Case.objects.values_list("identity", flat=True).get(pk=case_id))
    aad = Case._meta.get_field("identity").aad(sealed_case)
    wraps = [
        bytes(w)
        for w in CaseKeyWrap.objects.filter(case_id=case_id).values_list("wrapped", flat=True)
    ]

    case_shred(case_id=case_id, by=org.coordinator.staff)

    assert not Case.objects.filter(pk=case_id).exists()
    assert not CaseEntry.objects.filter(case_id=case_id).exists()
    assert not CaseKeyWrap.objects.filter(case_id=case_id).exists()
    for key in _every_key_in_the_store(org):
        with pytest.raises(crypto.DecryptionError):
            crypto.field_decrypt({1: key}, identity_blob, aad=aad)
    # The wraps are gone from the store; even a copy of them is useless unless an
    # attacker also kept the case key itself, which only ever lived in memory.
    assert wraps


def test_retention_shreds_closed_cases_by_outcome(org: Organisation, settings) -> None:
    from tropa.cases.services import IntakeKeys, case_seal

    settings.RETENTION_DAYS = {"*": 90, "lost_contact": 30}
    keys = IntakeKeys.load()
    old_lost, old_safe, fresh, still_open = (
        case_seal(keys=keys, identity={"name": f"Person {n}"}, answers=[]) for n in range(4)
    )
    long_ago = timezone.now() - timedelta(days=45)
    for case, outcome in (
        (old_lost, "lost_contact"),
        (old_safe, "left_front_abroad"),
        (fresh, "lost_contact"),
    ):
        case_close(case=case, by=org.coordinator.staff, outcome=outcome)
    Case.objects.filter(pk__in=[old_lost.pk, old_safe.pk]).update(closed_at=long_ago)

    assert retention_due() == [old_lost.pk]
    assert retention_run() == 1
    assert set(Case.objects.values_list("pk", flat=True)) == {old_safe.pk, fresh.pk, still_open.pk}
    later = timezone.now() + timedelta(days=91)
    assert sorted(retention_due(now=later)) == sorted([old_safe.pk, fresh.pk])


def test_retention_job_is_scheduled_with_huey(org: Organisation) -> None:
    from huey.contrib.djhuey import HUEY

    from tropa.cases.tasks import retention_hourly

    assert retention_hourly.call_local() == 0

    def due(minute: int) -> list[str]:
        moment = timezone.now().replace(minute=minute, tzinfo=None)
        return [task.name for task in HUEY.read_periodic(moment)]

    assert "retention_hourly" in due(7)
    assert "retention_hourly" not in due(8)
