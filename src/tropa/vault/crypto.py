"""Cryptographic building blocks of the Tropa vault.

This module is deliberately pure: no Django, no database, no settings. It only
composes vetted primitives from ``cryptography`` (AES-256-GCM), PyNaCl
(X25519 sealed boxes, XChaCha20-Poly1305 secretstream) and ``argon2-cffi``
(Argon2id); nothing here is a home-made primitive.

The adversary is a state security service that may seize a server. Everything
written to disk or to the database must therefore be ciphertext bound to its
place (row, field, case, session), so that a seized or tampered database can
neither be read nor be rearranged into something that decrypts.

Error policy: a failure caused by *data* (tampered, truncated, wrong key, wrong
binding) raises a :class:`VaultError` subclass whose message says what failed
and never contains plaintext. A failure caused by the *caller* (a key of the
wrong length, an empty binding, a non-bytes argument) raises ``ValueError`` or
``TypeError``: those are bugs, not attacks.

Blob formats (all integers big-endian):

* field blob: ``0x01 | key_version:u16 | nonce:12 | ciphertext+tag:16``; the
  AES-GCM associated data is the 3-byte header followed by :func:`field_aad`.
* stream: ``b"TRV1" | secretstream header:24`` then frames
  ``length:u32 | secretstream chunk`` (chunk = plaintext + 17 bytes); every
  chunk carries the caller's aad, the last one carries ``TAG_FINAL``.
* key wrap: an X25519 sealed box of ``0x01 | len:u32 | context | key``.
* password blob: ``0x01 | time_cost:u32 | memory_cost_kib:u32 | parallelism:u8 |
  salt:16 | nonce:12 | ciphertext+tag``; every byte before the ciphertext is
  the AES-GCM associated data, so the KDF parameters cannot be downgraded.
* session blob: ``0x01 | nonce:12 | ciphertext+tag``; the associated data binds
  the header and the session id.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
import struct
import unicodedata
from collections.abc import Mapping
from typing import BinaryIO, Final

import nacl.bindings
from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "KEY_SIZE",
    "STREAM_MAGIC",
    "DecryptionError",
    "KdfParams",
    "KeyPair",
    "MissingWrap",
    "TruncatedStream",
    "UnknownKeyVersion",
    "VaultError",
    "WrongPassword",
    "blind_index",
    "blob_key_version",
    "decrypt_stream",
    "encrypt_stream",
    "field_aad",
    "field_decrypt",
    "field_encrypt",
    "keypair_generate",
    "password_protect",
    "password_unprotect",
    "random_key",
    "seal",
    "session_key_generate",
    "session_protect",
    "session_unprotect",
    "unseal",
    "unwrap_key",
    "wrap_key",
]

KEY_SIZE: Final = 32
NONCE_SIZE: Final = 12
TAG_SIZE: Final = 16
SALT_SIZE: Final = 16
DEFAULT_CHUNK_SIZE: Final = 64 * 1024
# Bounded so a frame length always fits its u32 prefix and a reader never
# allocates more than this for one chunk.
MAX_CHUNK_SIZE: Final = 64 * 1024 * 1024

FIELD_FORMAT: Final = 1
_FIELD_HEADER: Final = struct.Struct(">BH")
_FIELD_MIN_LEN: Final = _FIELD_HEADER.size + NONCE_SIZE + TAG_SIZE
_FIELD_AAD_DOMAIN: Final = b"tropa.vault.field.v1"

STREAM_MAGIC: Final = b"TRV1"
_SS_ABYTES: Final[int] = nacl.bindings.crypto_secretstream_xchacha20poly1305_ABYTES
_SS_HEADERBYTES: Final[int] = nacl.bindings.crypto_secretstream_xchacha20poly1305_HEADERBYTES
_SS_TAG_MESSAGE: Final[int] = nacl.bindings.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
_SS_TAG_FINAL: Final[int] = nacl.bindings.crypto_secretstream_xchacha20poly1305_TAG_FINAL
_FRAME_LEN: Final = struct.Struct(">I")

WRAP_FORMAT: Final = 1

PASSWORD_FORMAT: Final = 1
_PASSWORD_HEADER: Final = struct.Struct(">BIIB")
_PASSWORD_PREFIX_LEN: Final = _PASSWORD_HEADER.size + SALT_SIZE + NONCE_SIZE

SESSION_FORMAT: Final = 1
_SESSION_AAD_DOMAIN: Final = b"tropa.vault.session.v1"

_BLIND_DOMAIN: Final = b"tropa.vault.blind.v1"


# --------------------------------------------------------------------------
# Exceptions
# --------------------------------------------------------------------------


class VaultError(Exception):
    """Base class for every data-caused failure in the vault."""


class DecryptionError(VaultError):
    """Ciphertext is tampered, truncated, malformed, or meant for another key/binding."""


class WrongPassword(VaultError):
    """A well-formed password blob did not authenticate under the given password."""


class MissingWrap(VaultError):
    """No wrapped copy of a key exists for the requested recipient.

    Raised by the layers above (e.g. a user without access to a case); defined
    here so every vault failure shares one hierarchy.
    """


class TruncatedStream(DecryptionError):
    """An encrypted stream ended before its authenticated final chunk."""


class UnknownKeyVersion(VaultError):
    """A field blob names a key version that is not in the keyring."""


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def _as_bytes(value: object, what: str) -> bytes:
    # Database drivers may hand back memoryview/bytearray for binary columns.
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{what} must be bytes, not {type(value).__name__}")


def _check_key(key: object, what: str) -> bytes:
    key = _as_bytes(key, what)
    if len(key) != KEY_SIZE:
        raise ValueError(f"{what} must be {KEY_SIZE} bytes, got {len(key)}")
    return key


def _lp(part: bytes) -> bytes:
    """Length-prefix ``part`` (u32) so concatenations stay unambiguous."""
    return _FRAME_LEN.pack(len(part)) + part


def _read_exact(src: BinaryIO, size: int) -> bytes:
    """Read up to ``size`` bytes, looping over short reads; fewer only at EOF."""
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        piece = src.read(remaining)
        if not piece:
            break
        parts.append(piece)
        remaining -= len(piece)
    return b"".join(parts)


def random_key() -> bytes:
    """Return a fresh 32-byte key from the operating system's CSPRNG."""
    return os.urandom(KEY_SIZE)


# --------------------------------------------------------------------------
# Field AEAD (AES-256-GCM)
# --------------------------------------------------------------------------


def field_aad(*, model: str, row_id: str | int, field: str, version: int) -> bytes:
    """Build the associated data that binds a field ciphertext to its place.

    Encoding: ``lp(domain) | lp(model) | lp(str(row_id)) | lp(field) |
    version:u32`` where ``lp`` is a u32 length prefix, so ``("a", "bc")`` and
    ``("ab", "c")`` never collide. A row id is bound by its decimal text, so
    ``1`` and ``"1"`` name the same row. ``version`` is the binding's schema
    version, letting a field's meaning change without old ciphertext
    silently decrypting under the new meaning.
    """
    if isinstance(row_id, bool) or not isinstance(row_id, (str, int)):
        raise TypeError("row_id must be a str or an int")
    row = str(row_id)
    for name, part in (("model", model), ("row_id", row), ("field", field)):
        if not isinstance(part, str) or not part:
            raise ValueError(f"{name} must be a non-empty string")
    if isinstance(version, bool) or not 0 <= version <= 0xFFFFFFFF:
        raise ValueError("version must fit in an unsigned 32-bit integer")
    return b"".join(
        (
            _lp(_FIELD_AAD_DOMAIN),
            _lp(model.encode()),
            _lp(row.encode()),
            _lp(field.encode()),
            version.to_bytes(4, "big"),
        )
    )


def field_encrypt(key: bytes, plaintext: bytes, *, aad: bytes, key_version: int) -> bytes:
    """Encrypt one field value; see the module docstring for the blob format.

    Nonces are random 96-bit values, so one key version must not encrypt more
    than about 2**32 values (NIST SP 800-38D); rotate long before that.
    """
    key = _check_key(key, "field key")
    plaintext = _as_bytes(plaintext, "plaintext")
    aad = _as_bytes(aad, "aad")
    if isinstance(key_version, bool) or not 0 <= key_version <= 0xFFFF:
        raise ValueError("key_version must fit in an unsigned 16-bit integer")
    header = _FIELD_HEADER.pack(FIELD_FORMAT, key_version)
    nonce = os.urandom(NONCE_SIZE)
    # The header is authenticated too: it is fixed-length, so header||aad is
    # unambiguous, and a relabelled key version cannot go unnoticed.
    return header + nonce + AESGCM(key).encrypt(nonce, plaintext, header + aad)


def _parse_field_blob(blob: bytes) -> int:
    if len(blob) < _FIELD_MIN_LEN:
        raise DecryptionError(
            f"field blob is {len(blob)} bytes, shorter than the minimum {_FIELD_MIN_LEN}"
        )
    fmt, key_version = _FIELD_HEADER.unpack_from(blob)
    if fmt != FIELD_FORMAT:
        raise DecryptionError(f"field blob has unknown format version {fmt}")
    return int(key_version)


def blob_key_version(blob: bytes) -> int:
    """Return the key version a field blob was encrypted under (for rotation)."""
    return _parse_field_blob(_as_bytes(blob, "blob"))


def field_decrypt(keyring: Mapping[int, bytes], blob: bytes, *, aad: bytes) -> bytes:
    """Decrypt a field blob with the key its header names.

    Raises :class:`UnknownKeyVersion` when that version is not in ``keyring``
    and :class:`DecryptionError` on any other failure; it never returns
    plaintext for a blob that does not authenticate under ``aad``.
    """
    blob = _as_bytes(blob, "blob")
    aad = _as_bytes(aad, "aad")
    key_version = _parse_field_blob(blob)
    key = keyring.get(key_version)
    if key is None:
        raise UnknownKeyVersion(f"no field key with version {key_version} in the keyring")
    key = _check_key(key, f"field key version {key_version}")
    header_end = _FIELD_HEADER.size
    nonce = blob[header_end : header_end + NONCE_SIZE]
    try:
        return AESGCM(key).decrypt(nonce, blob[header_end + NONCE_SIZE :], blob[:header_end] + aad)
    except InvalidTag:
        raise DecryptionError(
            "ciphertext does not authenticate for this row/field "
            "(wrong key, wrong binding or tampered)"
        ) from None


# --------------------------------------------------------------------------
# Stream encryption (XChaCha20-Poly1305 secretstream)
# --------------------------------------------------------------------------


def _check_chunk_size(chunk_size: int) -> None:
    if isinstance(chunk_size, bool) or not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(f"chunk_size must be between 1 and {MAX_CHUNK_SIZE}")


def encrypt_stream(
    key: bytes,
    src: BinaryIO,
    dst: BinaryIO,
    *,
    aad: bytes,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> int:
    """Encrypt ``src`` into ``dst`` chunk by chunk; return the bytes written.

    Every chunk authenticates ``aad`` (bind it to the file's owner, e.g. the
    case and attachment id), its position in the stream (secretstream's
    internal nonce), and whether it is the last (``TAG_FINAL``), so chunks
    cannot be reordered, dropped, duplicated or cut off unnoticed. An empty
    input still produces one (empty) final chunk.
    """
    key = _check_key(key, "stream key")
    aad = _as_bytes(aad, "aad")
    _check_chunk_size(chunk_size)
    state = nacl.bindings.crypto_secretstream_xchacha20poly1305_state()
    header = nacl.bindings.crypto_secretstream_xchacha20poly1305_init_push(state, key)
    prelude = STREAM_MAGIC + header
    dst.write(prelude)
    written = len(prelude)
    chunk = _read_exact(src, chunk_size)
    while True:
        # Read one chunk ahead so the last real chunk carries TAG_FINAL; a
        # short chunk can only come from EOF.
        following = _read_exact(src, chunk_size) if len(chunk) == chunk_size else b""
        tag = _SS_TAG_MESSAGE if following else _SS_TAG_FINAL
        sealed = nacl.bindings.crypto_secretstream_xchacha20poly1305_push(state, chunk, aad, tag)
        frame = _FRAME_LEN.pack(len(sealed)) + sealed
        dst.write(frame)
        written += len(frame)
        if tag == _SS_TAG_FINAL:
            return written
        chunk = following


def decrypt_stream(
    key: bytes,
    src: BinaryIO,
    dst: BinaryIO,
    *,
    aad: bytes,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> int:
    """Decrypt a stream made by :func:`encrypt_stream`; return plaintext bytes written.

    Plaintext is written chunk by chunk as each chunk authenticates, so on
    failure ``dst`` holds a partial, untrusted prefix. The caller MUST write
    ``dst`` to a temporary place and publish (rename, serve, hand over) it
    only after this function returns; on any exception it must discard it.

    ``chunk_size`` must be at least the one used for encryption: it bounds
    the frame a reader accepts, so a forged length cannot force a huge
    allocation.

    Raises :class:`TruncatedStream` if the input ends before the final chunk
    and :class:`DecryptionError` for a wrong key or aad, tampering,
    reordering, oversized frames or data after the final chunk.
    """
    key = _check_key(key, "stream key")
    aad = _as_bytes(aad, "aad")
    _check_chunk_size(chunk_size)
    prelude_len = len(STREAM_MAGIC) + _SS_HEADERBYTES
    prelude = _read_exact(src, prelude_len)
    if len(prelude) < prelude_len:
        raise TruncatedStream("encrypted stream ends inside its header")
    if prelude[: len(STREAM_MAGIC)] != STREAM_MAGIC:
        raise DecryptionError("not a Tropa encrypted stream (bad magic)")
    state = nacl.bindings.crypto_secretstream_xchacha20poly1305_state()
    nacl.bindings.crypto_secretstream_xchacha20poly1305_init_pull(
        state, prelude[len(STREAM_MAGIC) :], key
    )
    max_frame = chunk_size + _SS_ABYTES
    written = 0
    while True:
        prefix = _read_exact(src, _FRAME_LEN.size)
        if len(prefix) < _FRAME_LEN.size:
            raise TruncatedStream("encrypted stream ends before its final chunk")
        (frame_len,) = _FRAME_LEN.unpack(prefix)
        if not _SS_ABYTES <= frame_len <= max_frame:
            raise DecryptionError(
                f"encrypted chunk length {frame_len} is outside 17..{max_frame} "
                "(corrupt stream, or chunk_size smaller than at encryption)"
            )
        sealed = _read_exact(src, frame_len)
        if len(sealed) < frame_len:
            raise TruncatedStream("encrypted stream ends inside a chunk")
        try:
            plain, tag = nacl.bindings.crypto_secretstream_xchacha20poly1305_pull(
                state, sealed, aad
            )
        except CryptoError:
            raise DecryptionError(
                "stream chunk does not authenticate for this file "
                "(wrong key, wrong binding, tampered or reordered)"
            ) from None
        if tag not in (_SS_TAG_MESSAGE, _SS_TAG_FINAL):
            # We never emit PUSH/REKEY; accepting them would widen the format.
            raise DecryptionError(f"stream chunk carries unsupported tag {tag}")
        dst.write(plain)
        written += len(plain)
        if tag == _SS_TAG_FINAL:
            if src.read(1):
                raise DecryptionError("encrypted stream has data after its final chunk")
            return written


# --------------------------------------------------------------------------
# Asymmetric (X25519 sealed boxes)
# --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class KeyPair:
    """An X25519 key pair as raw 32-byte strings."""

    public: bytes
    # Kept out of repr so a logged or printed KeyPair never shows the secret.
    private: bytes = dataclasses.field(repr=False)


def keypair_generate() -> KeyPair:
    """Generate a fresh X25519 key pair."""
    private = PrivateKey.generate()
    return KeyPair(public=bytes(private.public_key), private=bytes(private))


def seal(public_key: bytes, data: bytes) -> bytes:
    """Encrypt ``data`` anonymously to ``public_key`` (libsodium sealed box).

    A sealed box gives confidentiality and integrity but not sender
    authenticity: anyone holding the public key can make one.
    """
    box = SealedBox(PublicKey(_check_key(public_key, "public key")))
    return bytes(box.encrypt(_as_bytes(data, "data")))


def unseal(keypair_or_private: KeyPair | bytes, sealed: bytes) -> bytes:
    """Open a sealed box with a :class:`KeyPair` or a raw private key."""
    raw = (
        keypair_or_private.private
        if isinstance(keypair_or_private, KeyPair)
        else keypair_or_private
    )
    # Built outside the try: a malformed private key is a caller bug, and
    # nacl's TypeError/ValueError are CryptoError subclasses.
    box = SealedBox(PrivateKey(_check_key(raw, "private key")))
    sealed = _as_bytes(sealed, "sealed")
    try:
        return bytes(box.decrypt(sealed))
    except CryptoError:
        raise DecryptionError(
            "sealed box does not open with this private key (wrong key, truncated or tampered)"
        ) from None


def wrap_key(recipient_public: bytes, key: bytes, *, context: bytes) -> bytes:
    """Seal ``key`` to a recipient, bound to ``context`` (e.g. ``b"case:<id>"``).

    The context travels inside the sealed box, so it is both hidden and
    checked by :func:`unwrap_key`: a wrap made for case A cannot be presented
    as the key of case B. As with :func:`seal`, the wrap does not prove who
    made it; callers that need that must authenticate wraps separately.
    """
    key = _as_bytes(key, "key")
    context = _as_bytes(context, "context")
    if not key:
        raise ValueError("key must not be empty")
    if not context:
        raise ValueError("context must not be empty")
    return seal(recipient_public, bytes([WRAP_FORMAT]) + _lp(context) + key)


def unwrap_key(recipient_private: bytes, wrapped: bytes, *, context: bytes) -> bytes:
    """Open a wrap from :func:`wrap_key` and check it was made for ``context``."""
    context = _as_bytes(context, "context")
    if not context:
        raise ValueError("context must not be empty")
    plain = unseal(recipient_private, wrapped)
    head = 1 + _FRAME_LEN.size
    if len(plain) < head or plain[0] != WRAP_FORMAT:
        raise DecryptionError("wrapped key has an unknown format")
    (context_len,) = _FRAME_LEN.unpack_from(plain, 1)
    if len(plain) <= head + context_len:
        raise DecryptionError("wrapped key is malformed")
    bound = plain[head : head + context_len]
    if not hmac.compare_digest(bound, context):
        raise DecryptionError("wrapped key was made for a different context")
    return plain[head + context_len :]


# --------------------------------------------------------------------------
# Password-protected private keys (Argon2id + AES-256-GCM)
# --------------------------------------------------------------------------

# Accepted KDF bounds. The floor stops weak blobs being created by mistake;
# the ceiling stops a crafted blob from making the server burn gigabytes.
_MIN_TIME_COST: Final = 1
_MAX_TIME_COST: Final = 32
_MIN_MEMORY_KIB: Final = 8 * 1024
_MAX_MEMORY_KIB: Final = 4 * 1024 * 1024
_MIN_PARALLELISM: Final = 1
_MAX_PARALLELISM: Final = 16


def _kdf_params_problem(time_cost: int, memory_cost_kib: int, parallelism: int) -> str | None:
    if not _MIN_TIME_COST <= time_cost <= _MAX_TIME_COST:
        return f"time_cost {time_cost} outside {_MIN_TIME_COST}..{_MAX_TIME_COST}"
    if not _MIN_MEMORY_KIB <= memory_cost_kib <= _MAX_MEMORY_KIB:
        return f"memory_cost_kib {memory_cost_kib} outside {_MIN_MEMORY_KIB}..{_MAX_MEMORY_KIB}"
    if not _MIN_PARALLELISM <= parallelism <= _MAX_PARALLELISM:
        return f"parallelism {parallelism} outside {_MIN_PARALLELISM}..{_MAX_PARALLELISM}"
    return None


@dataclasses.dataclass(frozen=True)
class KdfParams:
    """Argon2id cost parameters; stored in every password blob."""

    time_cost: int
    memory_cost_kib: int
    parallelism: int

    def __post_init__(self) -> None:
        problem = _kdf_params_problem(self.time_cost, self.memory_cost_kib, self.parallelism)
        if problem is not None:
            raise ValueError(f"unsupported Argon2id parameters: {problem}")

    @classmethod
    def interactive(cls) -> KdfParams:
        """Argon2id, 3 passes over 64 MiB, one lane: the production default."""
        return cls(time_cost=3, memory_cost_kib=64 * 1024, parallelism=1)

    @classmethod
    def for_tests(cls) -> KdfParams:
        """Cheapest accepted parameters (1 pass, 8 MiB); never use in production."""
        return cls(time_cost=1, memory_cost_kib=8 * 1024, parallelism=1)


def _password_key(password: str, salt: bytes, params: KdfParams) -> bytes:
    if not isinstance(password, str):
        raise TypeError("password must be a str")
    if not password:
        raise ValueError("password must not be empty")
    # NFC so the same password typed on different keyboards/OSes derives
    # the same key (as RFC 8265's OpaqueString profile does).
    secret = unicodedata.normalize("NFC", password).encode()
    return hash_secret_raw(
        secret=secret,
        salt=salt,
        time_cost=params.time_cost,
        memory_cost=params.memory_cost_kib,
        parallelism=params.parallelism,
        hash_len=KEY_SIZE,
        type=Type.ID,
    )


def password_protect(private_key: bytes, password: str, *, params: KdfParams) -> bytes:
    """Encrypt ``private_key`` under a password; the blob carries salt and params.

    The password is NFC-normalised and UTF-8 encoded before Argon2id.
    """
    private_key = _as_bytes(private_key, "private_key")
    salt = os.urandom(SALT_SIZE)
    nonce = os.urandom(NONCE_SIZE)
    prefix = (
        _PASSWORD_HEADER.pack(
            PASSWORD_FORMAT, params.time_cost, params.memory_cost_kib, params.parallelism
        )
        + salt
        + nonce
    )
    key = _password_key(password, salt, params)
    return prefix + AESGCM(key).encrypt(nonce, private_key, prefix)


def password_unprotect(blob: bytes, password: str) -> bytes:
    """Recover the private key from a :func:`password_protect` blob.

    Raises :class:`DecryptionError` when the blob cannot be parsed (short,
    unknown format, parameters out of bounds) and :class:`WrongPassword` when
    it parses but does not authenticate. AEAD cannot tell a wrong password
    from a corrupted salt or ciphertext, so the latter also reads as
    WrongPassword.
    """
    blob = _as_bytes(blob, "blob")
    if len(blob) < _PASSWORD_PREFIX_LEN + TAG_SIZE:
        raise DecryptionError(
            f"password blob is {len(blob)} bytes, shorter than the minimum "
            f"{_PASSWORD_PREFIX_LEN + TAG_SIZE}"
        )
    fmt, time_cost, memory_cost_kib, parallelism = _PASSWORD_HEADER.unpack_from(blob)
    if fmt != PASSWORD_FORMAT:
        raise DecryptionError(f"password blob has unknown format version {fmt}")
    problem = _kdf_params_problem(time_cost, memory_cost_kib, parallelism)
    if problem is not None:
        raise DecryptionError(f"password blob has unsupported Argon2id parameters: {problem}")
    params = KdfParams(time_cost, memory_cost_kib, parallelism)
    salt_at = _PASSWORD_HEADER.size
    salt = blob[salt_at : salt_at + SALT_SIZE]
    nonce = blob[salt_at + SALT_SIZE : _PASSWORD_PREFIX_LEN]
    key = _password_key(password, salt, params)
    try:
        return AESGCM(key).decrypt(nonce, blob[_PASSWORD_PREFIX_LEN:], blob[:_PASSWORD_PREFIX_LEN])
    except InvalidTag:
        raise WrongPassword("password does not unlock this key") from None


# --------------------------------------------------------------------------
# Session protection of unlocked private keys
# --------------------------------------------------------------------------


def session_key_generate() -> bytes:
    """Return a fresh 32-byte session key.

    It belongs in the user's cookie only; the server keeps just the
    :func:`session_protect` blob, so an unlocked private key never rests on
    the server in a usable form.
    """
    return os.urandom(KEY_SIZE)


def _session_aad(header: bytes, session_id: str) -> bytes:
    if not isinstance(session_id, str) or not session_id:
        raise ValueError("session_id must be a non-empty string")
    return header + _lp(_SESSION_AAD_DOMAIN) + _lp(session_id.encode())


def session_protect(session_key: bytes, private_key: bytes, *, session_id: str) -> bytes:
    """Encrypt an unlocked private key for one session, bound to its id."""
    session_key = _check_key(session_key, "session key")
    private_key = _as_bytes(private_key, "private_key")
    header = bytes([SESSION_FORMAT])
    nonce = os.urandom(NONCE_SIZE)
    aad = _session_aad(header, session_id)
    return header + nonce + AESGCM(session_key).encrypt(nonce, private_key, aad)


def session_unprotect(session_key: bytes, blob: bytes, *, session_id: str) -> bytes:
    """Recover the private key; DecryptionError for a wrong key, session or tampering."""
    session_key = _check_key(session_key, "session key")
    blob = _as_bytes(blob, "blob")
    if len(blob) < 1 + NONCE_SIZE + TAG_SIZE:
        raise DecryptionError("session blob is too short")
    if blob[0] != SESSION_FORMAT:
        raise DecryptionError(f"session blob has unknown format version {blob[0]}")
    aad = _session_aad(blob[:1], session_id)
    try:
        return AESGCM(session_key).decrypt(blob[1 : 1 + NONCE_SIZE], blob[1 + NONCE_SIZE :], aad)
    except InvalidTag:
        raise DecryptionError(
            "session blob does not authenticate for this session "
            "(wrong session key, wrong session id or tampered)"
        ) from None


# --------------------------------------------------------------------------
# Blind index
# --------------------------------------------------------------------------


def _normalise_for_index(value: str) -> str:
    # NFKC folds compatibility forms (full-width letters, ligatures);
    # casefold is Unicode-aware lowering ("Straße" == "STRASSE"); the second
    # NFKC re-normalises what casefolding may have decomposed. split/join
    # strips the ends and collapses inner whitespace runs to one space.
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())
    return " ".join(folded.split())


def blind_index(key: bytes, value: str, *, kind: str) -> str:
    """Return a keyed, searchable fingerprint of ``value`` as 64 hex digits.

    Normalisation: NFKC, casefold, NFKC again, then leading/trailing
    whitespace removed and inner whitespace runs collapsed to one space. So
    ``"  IVAN  Petrenko"``, ``"ivan petrenko"`` and full-width ``"ＩＶＡＮ
    petrenko"`` share an index, while ``"ivanpetrenko"`` does not.
    Kind-specific canonicalisation (dropping spaces and dashes from phone
    numbers, say) is the caller's job before calling.

    ``kind`` separates purposes ("phone", "name"...), so equal values of
    different kinds get unrelated indexes. The index still reveals equality
    of values of one kind to whoever sees the index column.
    """
    key = _as_bytes(key, "blind index key")
    if len(key) < KEY_SIZE:
        raise ValueError(f"blind index key must be at least {KEY_SIZE} bytes")
    if not isinstance(kind, str) or not kind:
        raise ValueError("kind must be a non-empty string")
    if not isinstance(value, str):
        raise TypeError("value must be a str")
    canonical = _normalise_for_index(value)
    if not canonical:
        # An index of "nothing" would be one constant linking every blank row.
        raise ValueError("value is empty after normalisation")
    message = _lp(_BLIND_DOMAIN) + _lp(kind.encode()) + _lp(canonical.encode())
    return hmac.new(key, message, hashlib.sha256).hexdigest()
