"""`tropa keys init | recover | rotate-field-key`, as an operator runs them."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.conftest import Organisation, keychain_of
from tropa.accounts.services import staff_revoke
from tropa.cases.models import Case
from tropa.cases.services import case_assign, case_unlock
from tropa.intake import services as intake
from tropa.intake.models import Conversation
from tropa.vault import crypto
from tropa.vault.models import CaseKeyWrap

pytestmark = pytest.mark.django_db


def test_keys_init_prints_the_private_half_once_and_stores_only_the_public(
    db: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tropa.vault.models import OrganisationKey

    out = tmp_path / "recovery.key"
    call_command("keys", "init", "--out", str(out))
    printed = capsys.readouterr().out
    private = base64.b64decode(out.read_text().strip())
    assert base64.b64encode(private).decode() in printed
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    stored = OrganisationKey.objects.get()
    assert bytes(stored.recovery_public_key) != private
    with pytest.raises(CommandError, match="exists already"):
        call_command("keys", "init")


def test_recovery_regrants_a_case_whose_only_assignee_was_revoked(
    org: Organisation, sealed_case: Case, tmp_path: Path
) -> None:
    coordinator = keychain_of(org.coordinator)
    case_assign(case=sealed_case, keychain=coordinator, staff=org.caseworker.staff)
    staff_revoke(staff=org.caseworker.staff, by=org.coordinator.staff, keychain=coordinator)
    key_file = tmp_path / "recovery.key"
    key_file.write_text(base64.b64encode(org.recovery_private).decode())

    call_command(
        "keys",
        "recover",
        "--recovery-key-file",
        str(key_file),
        "--case",
        sealed_case.codename,
        "--to-staff",
        org.other_caseworker.staff.username,
    )
    case = case_unlock(
        case=Case.objects.get(pk=sealed_case.pk), keychain=keychain_of(org.other_caseworker)
    )
    assert case.identity["name"] == "Fyodor Testov"


def test_recovery_with_a_wrong_key_fails_clearly(
    org: Organisation, sealed_case: Case, tmp_path: Path
) -> None:
    key_file = tmp_path / "wrong.key"
    key_file.write_text(base64.b64encode(crypto.keypair_generate().private).decode())
    recover = [
        "keys",
        "recover",
        "--recovery-key-file",
        str(key_file),
        "--case",
        str(sealed_case.pk),
    ]
    with pytest.raises(CommandError, match="recovery failed"):
        call_command(*recover, "--to-team", "legal")
    assert not CaseKeyWrap.objects.filter(case=sealed_case, team__kind="legal").exists()
    with pytest.raises(CommandError, match="no case"):
        call_command(
            "keys",
            "recover",
            "--recovery-key-file",
            str(key_file),
            "--case",
            "Nowhere-1",
            "--to-team",
            "legal",
        )
    key_file.write_text("not base64 at all!")
    with pytest.raises(CommandError, match="cannot read the recovery key"):
        call_command(*recover, "--to-team", "legal")


def test_field_key_rotation_reencrypts_and_retires_the_old_key(
    org: Organisation, tmp_path: Path, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyring_file = tmp_path / "field_keys"
    keyring_file.write_text(
        json.dumps({"1": base64.b64encode(settings.VAULT_FIELD_KEYS[1]).decode()})
    )
    monkeypatch.delenv("TROPA_FIELD_KEYS", raising=False)
    monkeypatch.setenv("TROPA_FIELD_KEYS_FILE", str(keyring_file))
    intake.conversation_save(channel="telegram", chat_id="700000401", state={"step": "documents"})
    old_key = settings.VAULT_FIELD_KEYS[1]

    call_command("keys", "rotate-field-key")

    keyring = {int(v): base64.b64decode(k) for v, k in json.loads(keyring_file.read_text()).items()}
    assert list(keyring) == [2]
    assert keyring[2] != old_key
    stored = bytes(Conversation.objects.values_list("state", flat=True).get())
    assert crypto.blob_key_version(stored) == 2
    assert Conversation.objects.get().state == {"step": "documents"}
    with pytest.raises(crypto.UnknownKeyVersion):
        crypto.field_decrypt({1: old_key}, stored, aad=b"irrelevant")
