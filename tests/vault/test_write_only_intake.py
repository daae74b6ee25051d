"""S3: the intake process can seal cases and append to them, but open none."""

from __future__ import annotations

import itertools

import pytest
from django.conf import settings

from tests.conftest import Organisation, keychain_of
from tropa.cases.models import Case, CaseEntry
from tropa.cases.services import IntakeKeys, case_unlock
from tropa.intake import services as intake
from tropa.intake.models import Conversation
from tropa.vault import crypto
from tropa.vault import services as vault
from tropa.vault.models import CaseKeyWrap

pytestmark = pytest.mark.django_db


def _intake_secrets() -> list[bytes]:
    """Every secret the intake process holds: server field keys and the blind-index key.
    (Its other keys are public keys, tried too, as if they were private.)"""
    keys = IntakeKeys.load()
    return [
        *settings.VAULT_FIELD_KEYS.values(),
        settings.BLIND_INDEX_KEY.encode()[:32],
        keys.coordinators_public,
        keys.recovery_public,
    ]


def _complete_intake(chat_id: str) -> Case:
    conversation = intake.conversation_save(
        channel="telegram", chat_id=chat_id, state={"answers": ["Called up", "Urgent"]}
    )
    case = intake.conversation_complete(
        conversation=conversation,
        keys=IntakeKeys.load(),
        identity={"name": "Test Applicant", "telegram_id": chat_id},
        answers=["Called up", "Urgent"],
        category="summons",
    )
    intake.conversation_append(conversation=conversation, text="One more thing")
    return case


def test_no_completed_case_opens_with_intake_keys_and_the_database(org: Organisation) -> None:
    cases = [_complete_intake(str(700000000 + n)) for n in range(3)]
    for case, secret in itertools.product(cases, _intake_secrets()):
        for wrap in CaseKeyWrap.objects.filter(case=case):
            with pytest.raises(crypto.DecryptionError):
                crypto.unwrap_key(secret, bytes(wrap.wrapped), context=vault.case_context(case.pk))
        stored = Case.objects.get(pk=case.pk)
        stored.vault_unlock(secret)
        with pytest.raises(crypto.DecryptionError):
            _ = stored.identity
        for entry in CaseEntry.objects.filter(case=case):
            entry.case = stored
            with pytest.raises(crypto.VaultError):
                _ = entry.body


def test_intake_forgets_the_answers_when_it_completes(org: Organisation) -> None:
    case = _complete_intake("700000101")
    conversation = Conversation.objects.get(case=case)
    assert conversation.state == {"completed": True}
    # ...yet the coordinators read everything, including the later message.
    stored = case_unlock(case=Case.objects.get(pk=case.pk), keychain=keychain_of(org.coordinator))
    entries = list(stored.entries.all())
    for entry in entries:
        entry.case = stored  # the unlocked instance carries the case key
    assert [entry.body for entry in entries] == ["Called up", "Urgent", "One more thing"]


def test_chat_id_is_stored_only_as_a_blind_index(org: Organisation) -> None:
    intake.conversation_save(channel="telegram", chat_id="700000202", state={"step": "start"})
    row = Conversation.objects.values().get()
    assert "700000202" not in repr(row)
    assert intake.conversation_find(channel="telegram", chat_id="700000202") is not None
    assert intake.conversation_find(channel="telegram", chat_id="700000203") is None


def test_duplicate_documents_are_found_through_the_blind_index(org: Organisation) -> None:
    from tropa.cases.services import duplicates_of

    first = _complete_intake("700000301")
    second = _complete_intake("700000302")
    assert duplicates_of(kind="telegram_id", value="700000301") == [first.pk]
    assert duplicates_of(kind="telegram_id", value=" 700000302 ") == [second.pk]
    assert duplicates_of(kind="telegram_id", value="700000399") == []
