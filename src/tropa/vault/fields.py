"""Encrypted model fields: models stay readable, the database holds only ciphertext.

    class CaseEntry(models.Model):
        uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
        body = EncryptedTextField()

        def vault_keyring(self) -> Keyring: ...   # which keys open this row

Assigning plaintext keeps it in memory; `save()` encrypts it with AES-256-GCM
under the newest key of the row's keyring, with (model, row uid, field,
version) as associated data, so ciphertext moved to another row or field fails
to open. Reading decrypts on first access and keeps the plaintext only on the
instance, i.e. for the length of a request.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from django.db import models

from tropa.vault import crypto

Keyring = Mapping[int, bytes]


class Locked(crypto.VaultError):
    """The row's key is not available to this process or this person."""


class SealedModel(Protocol):
    uid: Any

    def vault_keyring(self) -> Keyring: ...


class OwnKey:
    """For a model whose encrypted fields use one key of its own (a case, a
    volunteer profile, the route book), unwrapped per request by whoever may
    read it and held only in the instance's memory."""

    _KEY = "_vault_key"

    def vault_keyring(self) -> Keyring:
        key = self.__dict__.get(self._KEY)
        if key is None:
            raise Locked(f"{type(self).__name__} {getattr(self, 'pk', None)} is locked: no key")
        return {1: key}

    def vault_unlock(self, key: bytes) -> None:
        self.__dict__[self._KEY] = key

    def vault_lock(self) -> None:
        self.__dict__.pop(self._KEY, None)

    @property
    def is_unlocked(self) -> bool:
        return self._KEY in self.__dict__


class Ciphertext(bytes):
    """Bytes exactly as stored; never mistaken for plaintext."""


class _Pending:
    """Marks a field whose plaintext was set and is not yet encrypted."""


_PENDING = _Pending()


class _EncryptedDescriptor:
    def __init__(self, field: EncryptedField) -> None:
        self.field = field

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        data = instance.__dict__
        plain_key = self.field.plain_key
        if plain_key in data:
            return data[plain_key]
        if self.field.attname not in data:
            instance.refresh_from_db(fields=[self.field.attname])
        stored = data[self.field.attname]
        if stored is None:
            return None
        data[plain_key] = self.field.decrypt(instance, stored)
        return data[plain_key]

    def __set__(self, instance: Any, value: Any) -> None:
        data = instance.__dict__
        if value is None or isinstance(value, Ciphertext):
            data[self.field.attname] = value
            data.pop(self.field.plain_key, None)
        else:
            data[self.field.plain_key] = value
            data[self.field.attname] = _PENDING


class EncryptedField(models.BinaryField):
    """Base class: subclasses say how plaintext becomes bytes and back."""

    aad_version = 1

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("editable", False)
        kwargs.setdefault("null", True)  # "no value" is NULL, not an encrypted empty string
        super().__init__(*args, **kwargs)

    def get_default(self) -> Any:
        return super().get_default() if self.has_default() else None

    def contribute_to_class(self, cls: type[models.Model], name: str, **kwargs: Any) -> None:
        super().contribute_to_class(cls, name, **kwargs)
        setattr(cls, self.attname, _EncryptedDescriptor(self))

    @property
    def plain_key(self) -> str:
        return f"_plain_{self.attname}"

    def aad(self, instance: SealedModel) -> bytes:
        return crypto.field_aad(
            model=self.model._meta.label_lower,
            row_id=str(instance.uid),
            field=self.name,
            version=self.aad_version,
        )

    def encode(self, value: Any) -> bytes:
        raise NotImplementedError

    def decode(self, raw: bytes) -> Any:
        raise NotImplementedError

    def decrypt(self, instance: SealedModel, blob: bytes) -> Any:
        keyring = instance.vault_keyring()
        return self.decode(crypto.field_decrypt(keyring, bytes(blob), aad=self.aad(instance)))

    def pre_save(self, model_instance: Any, add: bool) -> Any:
        data = model_instance.__dict__
        if data.get(self.attname) is _PENDING:
            keyring = model_instance.vault_keyring()
            version = max(keyring)
            blob = crypto.field_encrypt(
                keyring[version],
                self.encode(data[self.plain_key]),
                aad=self.aad(model_instance),
                key_version=version,
            )
            data[self.attname] = Ciphertext(blob)
        return data.get(self.attname)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Ciphertext | None:
        return None if value is None else Ciphertext(bytes(value))

    def get_prep_value(self, value: Any) -> Any:
        if value is _PENDING:
            raise Locked(f"{self.name} was not encrypted before saving")
        return None if value is None else bytes(value)


class EncryptedTextField(EncryptedField):
    def encode(self, value: Any) -> bytes:
        if not isinstance(value, str):
            raise TypeError(f"{self.name} takes text, not {type(value).__name__}")
        return value.encode("utf-8")

    def decode(self, raw: bytes) -> str:
        return raw.decode("utf-8")


class EncryptedJSONField(EncryptedField):
    def encode(self, value: Any) -> bytes:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def decode(self, raw: bytes) -> Any:
        return json.loads(raw)


class EncryptedBytesField(EncryptedField):
    """For keys and other binary secrets kept under another key."""

    def encode(self, value: Any) -> bytes:
        return bytes(value)

    def decode(self, raw: bytes) -> bytes:
        return raw
