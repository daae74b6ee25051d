"""Encrypted file storage: uploads become ciphertext before they touch the disk.

Files are written with a fresh file key through XChaCha20-Poly1305
secretstream chunks into a temporary file beside their final place, then
renamed; the file key is sealed to the case public key, so the intake side can
store a document it can never read back. No plaintext temp file is ever made.
"""

from __future__ import annotations

import io
import os
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

from tropa.vault import crypto

MAX_OPEN_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class SealedFile:
    name: str  # random, says nothing about the content
    wrapped_key: bytes


def vault_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "vault"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _context(name: str) -> bytes:
    return f"tropa.file:{name}".encode()


def file_seal(*, public_key: bytes, src: BinaryIO) -> SealedFile:
    """Encrypt a stream to a new file; on any error nothing is left behind."""
    name = uuid.uuid4().hex
    file_key = crypto.random_key()
    directory = vault_dir()
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as dst:
            crypto.encrypt_stream(file_key, src, dst, aad=_context(name))
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(temporary, directory / name)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return SealedFile(
        name=name, wrapped_key=crypto.wrap_key(public_key, file_key, context=_context(name))
    )


def file_open(*, sealed: SealedFile, private_key: bytes) -> bytes:
    """The whole plaintext, in memory, only if every chunk authenticates."""
    file_key = crypto.unwrap_key(private_key, sealed.wrapped_key, context=_context(sealed.name))
    out = io.BytesIO()
    with open(vault_dir() / sealed.name, "rb") as src:
        crypto.decrypt_stream(file_key, src, out, aad=_context(sealed.name))
        if out.tell() > MAX_OPEN_BYTES:
            raise crypto.VaultError("file too large to open in memory")
    return out.getvalue()


def file_destroy(name: str) -> None:
    (vault_dir() / name).unlink(missing_ok=True)
