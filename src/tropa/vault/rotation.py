"""Rotation of the server field keys: add a version, re-encrypt, retire the old ones."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import transaction

from tropa.vault import crypto
from tropa.vault.fields import EncryptedField


def server_keyed_fields() -> list[tuple[type, list[EncryptedField]]]:
    """Every model whose encrypted fields use the server keyring."""
    found = []
    for model in apps.get_models():
        if getattr(model, "VAULT_SERVER_KEYED", False):
            fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedField)]
            found.append((model, fields))
    return found


def _write_keyring(path: Path, keyring: dict[int, bytes]) -> None:
    payload = json.dumps({str(v): base64.b64encode(k).decode() for v, k in sorted(keyring.items())})
    temporary = path.with_suffix(".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(payload + "\n")
    os.replace(temporary, path)


def field_key_rotate(*, keyring_file: Path) -> tuple[int, int]:
    """Add a new key version, re-encrypt every server-keyed row under it, then
    drop the old versions. Returns (new version, rows re-encrypted).

    Other running processes keep the old keyring until restarted; restart the
    web and bot workers after a rotation.
    """
    old = dict(settings.VAULT_FIELD_KEYS)
    version = max(old) + 1
    both = old | {version: crypto.random_key()}
    _write_keyring(keyring_file, both)
    settings.VAULT_FIELD_KEYS = both
    rows = 0
    with transaction.atomic():
        for model, fields in server_keyed_fields():
            for instance in model.objects.select_for_update().iterator():
                for field in fields:
                    setattr(instance, field.attname, getattr(instance, field.attname))
                instance.save(update_fields=[field.attname for field in fields])
                rows += 1
    retired = {version: both[version]}
    _write_keyring(keyring_file, retired)
    settings.VAULT_FIELD_KEYS = retired
    return version, rows
