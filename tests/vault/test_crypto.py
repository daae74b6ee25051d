"""Tests for tropa.vault.crypto: known answers, bindings, tampering, streams.

Pure module, pure tests: nothing here needs Django or a database.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import struct

import nacl.bindings
import pytest

# core/ffi/lib is the low-level route argon2-cffi documents for secret/ad.
from argon2.low_level import (  # type: ignore[attr-defined]
    ARGON2_VERSION,
    Type,
    core,
    ffi,
    hash_secret_raw,
    lib,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from tropa.vault import crypto
from tropa.vault.crypto import (
    DecryptionError,
    KdfParams,
    KeyPair,
    TruncatedStream,
    UnknownKeyVersion,
    VaultError,
    WrongPassword,
)

H = bytes.fromhex
ABYTES = nacl.bindings.crypto_secretstream_xchacha20poly1305_ABYTES
PRELUDE = len(crypto.STREAM_MAGIC) + nacl.bindings.crypto_secretstream_xchacha20poly1305_HEADERBYTES


def _aad(row_id: str | int = 1, field: str = "name") -> bytes:
    return crypto.field_aad(model="cases.Person", row_id=row_id, field=field, version=1)


def _flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


# --------------------------------------------------------------------------
# Known-answer tests of the primitives we rely on
# --------------------------------------------------------------------------


def test_aes_256_gcm_nist_cavp_vector() -> None:
    # NIST CAVP gcmEncryptExtIV256.rsp, [Keylen=256][IVlen=96][PTlen=128]
    # [AADlen=128][Taglen=128], Count = 0.
    key = H("92e11dcdaa866f5ce790fd24501f92509aacf4cb8b1339d50c9c1240935dd08b")
    iv = H("ac93a1a6145299bde902f21a")
    pt = H("2d71bcfa914e4ac045b2aa60955fad24")
    aad = H("1e0889016f67601c8ebea4943bc23ad6")
    expected = H("8995ae2e6df3dbf96fac7b7137bae67f" + "eca5aa77d51d4a0a14d9c51e1da474ab")
    assert AESGCM(key).encrypt(iv, pt, aad) == expected
    assert AESGCM(key).decrypt(iv, expected, aad) == pt


def test_hmac_sha256_rfc4231_case_2() -> None:
    mac = hmac.new(b"Jefe", b"what do ya want for nothing?", hashlib.sha256).hexdigest()
    assert mac == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"


def test_x25519_rfc7748_section_6_1() -> None:
    alice_private = H("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    alice_public = H("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
    bob_private = H("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
    bob_public = H("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
    shared = H("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")
    assert nacl.bindings.crypto_scalarmult_base(alice_private) == alice_public
    assert nacl.bindings.crypto_scalarmult_base(bob_private) == bob_public
    assert nacl.bindings.crypto_scalarmult(alice_private, bob_public) == shared
    assert nacl.bindings.crypto_scalarmult(bob_private, alice_public) == shared


def test_argon2id_rfc9106_section_5_3() -> None:
    # hash_secret_raw takes no secret or associated data, so the RFC vector
    # goes through argon2-cffi's documented low-level core() with a context.
    password, salt, secret, ad = b"\x01" * 32, b"\x02" * 16, b"\x03" * 8, b"\x04" * 12
    out_len = 32
    # The cdata buffers must stay referenced until core() has returned.
    c_out = ffi.new("uint8_t[]", out_len)
    c_pwd = ffi.new("uint8_t[]", password)
    c_salt = ffi.new("uint8_t[]", salt)
    c_secret = ffi.new("uint8_t[]", secret)
    c_ad = ffi.new("uint8_t[]", ad)
    ctx = ffi.new(
        "argon2_context *",
        {
            "version": ARGON2_VERSION,
            "out": c_out,
            "outlen": out_len,
            "pwd": c_pwd,
            "pwdlen": len(password),
            "salt": c_salt,
            "saltlen": len(salt),
            "secret": c_secret,
            "secretlen": len(secret),
            "ad": c_ad,
            "adlen": len(ad),
            "t_cost": 3,
            "m_cost": 32,
            "lanes": 4,
            "threads": 4,
            "allocate_cbk": ffi.NULL,
            "free_cbk": ffi.NULL,
            "flags": lib.ARGON2_DEFAULT_FLAGS,
        },
    )
    assert core(ctx, Type.ID.value) == lib.ARGON2_OK
    tag = bytes(ffi.buffer(ctx.out, ctx.outlen))
    assert tag == H("0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659")


def test_argon2id_reference_vector_through_hash_secret_raw() -> None:
    # phc-winner-argon2 src/test.c: argon2id v=0x13, t=2, m=2^8 KiB, p=1,
    # "password"/"somesalt" -- the function password_protect actually calls.
    tag = hash_secret_raw(b"password", b"somesalt", 2, 256, 1, 32, Type.ID)
    assert tag == H("9dfeb910e80bad0311fee20f9c0e2b12c17987b4cac90c2ef54d5b3021c68bfe")


# --------------------------------------------------------------------------
# Field AEAD
# --------------------------------------------------------------------------


def test_field_aad_is_pinned_and_length_prefixed() -> None:
    # Changing this encoding orphans every stored ciphertext: pin it.
    assert _aad().hex() == (
        "00000014" + b"tropa.vault.field.v1".hex()
        + "0000000c" + b"cases.Person".hex()
        + "00000001" + b"1".hex()
        + "00000004" + b"name".hex()
        + "00000001"
    )  # fmt: skip
    a = crypto.field_aad(model="a", row_id="bc", field="x", version=1)
    b = crypto.field_aad(model="ab", row_id="c", field="x", version=1)
    assert a != b
    assert crypto.field_aad(model="m", row_id=7, field="f", version=1) == crypto.field_aad(
        model="m", row_id="7", field="f", version=1
    )
    assert crypto.field_aad(model="m", row_id=7, field="f", version=2) != crypto.field_aad(
        model="m", row_id=7, field="f", version=1
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"model": "", "row_id": 1, "field": "f", "version": 1},
        {"model": "m", "row_id": "", "field": "f", "version": 1},
        {"model": "m", "row_id": 1, "field": "", "version": 1},
        {"model": "m", "row_id": 1, "field": "f", "version": -1},
        {"model": "m", "row_id": 1, "field": "f", "version": 2**32},
    ],
)
def test_field_aad_rejects_empty_or_out_of_range_parts(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        crypto.field_aad(**kwargs)  # type: ignore[arg-type]


def test_field_aad_rejects_bool_and_none_row_ids() -> None:
    with pytest.raises(TypeError):
        crypto.field_aad(model="m", row_id=True, field="f", version=1)
    with pytest.raises(TypeError):
        crypto.field_aad(model="m", row_id=None, field="f", version=1)  # type: ignore[arg-type]


def test_field_round_trip_and_format() -> None:
    key = crypto.random_key()
    blob = crypto.field_encrypt(key, b"Ivan Petrenko", aad=_aad(), key_version=258)
    assert crypto.field_decrypt({258: key}, blob, aad=_aad()) == b"Ivan Petrenko"
    assert crypto.blob_key_version(blob) == 258
    # Documented layout: format byte, u16 key version, 12-byte nonce, ct+tag,
    # with the 3-byte header prepended to the associated data.
    assert blob[0] == crypto.FIELD_FORMAT
    assert blob[1:3] == b"\x01\x02"
    assert len(blob) == 3 + 12 + len(b"Ivan Petrenko") + 16
    assert AESGCM(key).decrypt(blob[3:15], blob[15:], blob[:3] + _aad()) == b"Ivan Petrenko"


def test_field_encryption_is_randomised() -> None:
    key = crypto.random_key()
    one = crypto.field_encrypt(key, b"same", aad=_aad(), key_version=1)
    two = crypto.field_encrypt(key, b"same", aad=_aad(), key_version=1)
    assert one != two


def test_field_accepts_memoryview_blobs() -> None:
    key = crypto.random_key()
    blob = crypto.field_encrypt(key, b"x", aad=_aad(), key_version=1)
    assert crypto.field_decrypt({1: key}, memoryview(blob), aad=_aad()) == b"x"  # type: ignore[arg-type]


@pytest.mark.parametrize("other_aad", [_aad(row_id=2), _aad(field="phone")])
def test_field_ciphertext_is_bound_to_row_and_field(other_aad: bytes) -> None:
    key = crypto.random_key()
    blob = crypto.field_encrypt(key, b"+380 44 000 00 00", aad=_aad(), key_version=1)
    with pytest.raises(DecryptionError, match="does not authenticate for this row/field") as err:
        crypto.field_decrypt({1: key}, blob, aad=other_aad)
    assert "380" not in str(err.value)


def test_field_wrong_key_fails() -> None:
    blob = crypto.field_encrypt(crypto.random_key(), b"secret", aad=_aad(), key_version=1)
    with pytest.raises(DecryptionError):
        crypto.field_decrypt({1: crypto.random_key()}, blob, aad=_aad())


def test_field_every_bit_flip_fails_closed() -> None:
    key = crypto.random_key()
    blob = crypto.field_encrypt(key, b"abc", aad=_aad(), key_version=1)
    for bit in range(len(blob) * 8):
        # A flipped key version names an absent key: UnknownKeyVersion is
        # still a refusal, never plaintext.
        with pytest.raises((DecryptionError, UnknownKeyVersion)):
            crypto.field_decrypt({1: key}, _flip(blob, bit), aad=_aad())


def test_field_truncated_or_garbled_blobs_fail() -> None:
    key = crypto.random_key()
    blob = crypto.field_encrypt(key, b"abc", aad=_aad(), key_version=1)
    for cut in range(len(blob)):
        with pytest.raises(DecryptionError):
            crypto.field_decrypt({1: key}, blob[:cut], aad=_aad())
    with pytest.raises(DecryptionError, match="unknown format"):
        crypto.field_decrypt({1: key}, b"\x07" + blob[1:], aad=_aad())
    with pytest.raises(DecryptionError):
        crypto.field_decrypt({1: key}, blob + b"\x00", aad=_aad())
    with pytest.raises(DecryptionError):
        crypto.blob_key_version(b"\x01\x00")


def test_field_unknown_key_version() -> None:
    key = crypto.random_key()
    blob = crypto.field_encrypt(key, b"abc", aad=_aad(), key_version=5)
    with pytest.raises(UnknownKeyVersion, match="version 5"):
        crypto.field_decrypt({4: key, 6: key}, blob, aad=_aad())


def test_field_rotation_keeps_old_versions_readable() -> None:
    old, new = crypto.random_key(), crypto.random_key()
    old_blob = crypto.field_encrypt(old, b"before", aad=_aad(), key_version=1)
    keyring = {1: old, 2: new}
    # Rotation: read with whatever version the blob names, re-encrypt under
    # the newest, and the old key can then be retired.
    assert crypto.blob_key_version(old_blob) == 1
    plain = crypto.field_decrypt(keyring, old_blob, aad=_aad())
    new_blob = crypto.field_encrypt(new, plain, aad=_aad(), key_version=2)
    assert crypto.field_decrypt({2: new}, new_blob, aad=_aad()) == b"before"
    with pytest.raises(UnknownKeyVersion):
        crypto.field_decrypt({2: new}, old_blob, aad=_aad())


def test_field_rejects_bad_keys_and_versions() -> None:
    with pytest.raises(ValueError):
        crypto.field_encrypt(b"short", b"x", aad=_aad(), key_version=1)
    with pytest.raises(ValueError):
        crypto.field_encrypt(crypto.random_key(), b"x", aad=_aad(), key_version=70000)
    with pytest.raises(TypeError):
        crypto.field_encrypt(crypto.random_key(), "text", aad=_aad(), key_version=1)  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None)
@given(
    plaintext=st.binary(max_size=256),
    model=st.text(min_size=1, max_size=20),
    row_id=st.integers(min_value=0, max_value=2**63),
    field=st.text(min_size=1, max_size=20),
    key_version=st.integers(min_value=0, max_value=0xFFFF),
)
def test_field_round_trip_property(
    plaintext: bytes, model: str, row_id: int, field: str, key_version: int
) -> None:
    key = crypto.random_key()
    aad = crypto.field_aad(model=model, row_id=row_id, field=field, version=1)
    blob = crypto.field_encrypt(key, plaintext, aad=aad, key_version=key_version)
    assert crypto.field_decrypt({key_version: key}, blob, aad=aad) == plaintext


@settings(max_examples=40, deadline=None)
@given(plaintext=st.binary(max_size=128), data=st.data())
def test_field_tamper_property(plaintext: bytes, data: st.DataObject) -> None:
    key = crypto.random_key()
    blob = crypto.field_encrypt(key, plaintext, aad=_aad(), key_version=1)
    bit = data.draw(st.integers(min_value=0, max_value=len(blob) * 8 - 1))
    with pytest.raises((DecryptionError, UnknownKeyVersion)):
        crypto.field_decrypt({1: key}, _flip(blob, bit), aad=_aad())


# --------------------------------------------------------------------------
# Streams
# --------------------------------------------------------------------------

CHUNK = crypto.DEFAULT_CHUNK_SIZE
STREAM_AAD = b"attachment:case-17:file-3"


def _encrypt(data: bytes, key: bytes, chunk_size: int = CHUNK, aad: bytes = STREAM_AAD) -> bytes:
    out = io.BytesIO()
    written = crypto.encrypt_stream(key, io.BytesIO(data), out, aad=aad, chunk_size=chunk_size)
    assert written == len(out.getvalue())
    return out.getvalue()


def _decrypt(blob: bytes, key: bytes, chunk_size: int = CHUNK, aad: bytes = STREAM_AAD) -> bytes:
    out = io.BytesIO()
    written = crypto.decrypt_stream(key, io.BytesIO(blob), out, aad=aad, chunk_size=chunk_size)
    assert written == len(out.getvalue())
    return out.getvalue()


def _frames(blob: bytes) -> list[bytes]:
    """Split a stream into its frames (length prefix included)."""
    frames, at = [], PRELUDE
    while at < len(blob):
        (n,) = struct.unpack_from(">I", blob, at)
        frames.append(blob[at : at + 4 + n])
        at += 4 + n
    return frames


class _Trickle(io.RawIOBase):
    """A source that returns at most 7 bytes per read, like a slow socket."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._data.read(min(size, 7) if size >= 0 else 7)


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 7])
def test_stream_round_trip(size: int) -> None:
    key = crypto.random_key()
    data = bytes(i % 251 for i in range(size))
    blob = _encrypt(data, key)
    assert blob.startswith(crypto.STREAM_MAGIC)
    frames = _frames(blob)
    assert len(frames) == max(1, -(-size // CHUNK))  # an empty file has one empty final chunk
    assert all(len(f) - 4 - ABYTES <= CHUNK for f in frames)
    assert _decrypt(blob, key) == data


def test_stream_handles_short_reads() -> None:
    key = crypto.random_key()
    data = bytes(range(256)) * 5
    out = io.BytesIO()
    crypto.encrypt_stream(key, _Trickle(data), out, aad=STREAM_AAD, chunk_size=100)  # type: ignore[arg-type]
    back = io.BytesIO()
    crypto.decrypt_stream(
        key,
        _Trickle(out.getvalue()),  # type: ignore[arg-type]
        back,
        aad=STREAM_AAD,
        chunk_size=100,
    )
    assert back.getvalue() == data


def test_stream_truncation_never_succeeds() -> None:
    key = crypto.random_key()
    blob = _encrypt(b"0123456789" * 7, key, chunk_size=16)
    frame_ends = set()
    at = PRELUDE
    for frame in _frames(blob):
        frame_ends.add(at)
        at += len(frame)
    for cut in range(len(blob)):
        with pytest.raises(DecryptionError):
            _decrypt(blob[:cut], key, chunk_size=16)
        if cut in frame_ends or cut < PRELUDE:
            with pytest.raises(TruncatedStream):
                _decrypt(blob[:cut], key, chunk_size=16)


def test_stream_dropping_the_final_chunk_is_truncation() -> None:
    key = crypto.random_key()
    blob = _encrypt(b"a" * 40, key, chunk_size=16)
    frames = _frames(blob)
    with pytest.raises(TruncatedStream):
        _decrypt(blob[:PRELUDE] + b"".join(frames[:-1]), key, chunk_size=16)


def test_stream_reordered_or_duplicated_chunks_fail() -> None:
    key = crypto.random_key()
    blob = _encrypt(b"abcdefghijklmnop" * 4 + b"tail", key, chunk_size=16)
    prelude, frames = blob[:PRELUDE], _frames(blob)
    assert len(frames) == 5
    swapped = [frames[1], frames[0], *frames[2:]]
    duplicated = [frames[0], frames[0], *frames[1:]]
    final_moved_up = [frames[0], frames[-1]]
    for arrangement in (swapped, duplicated, final_moved_up):
        with pytest.raises(DecryptionError):
            _decrypt(prelude + b"".join(arrangement), key, chunk_size=16)


def test_stream_chunks_cannot_be_spliced_between_streams() -> None:
    key = crypto.random_key()
    one = _encrypt(b"x" * 40, key, chunk_size=16)
    two = _encrypt(b"y" * 40, key, chunk_size=16)
    with pytest.raises(DecryptionError):
        _decrypt(one[:PRELUDE] + b"".join(_frames(two)), key, chunk_size=16)


def test_stream_trailing_garbage_fails() -> None:
    key = crypto.random_key()
    blob = _encrypt(b"hello", key)
    with pytest.raises(DecryptionError, match="after its final chunk"):
        _decrypt(blob + b"\x00", key)
    # A whole valid frame appended after the final one is refused too.
    with pytest.raises(DecryptionError):
        _decrypt(blob + _frames(blob)[0], key)


def test_stream_wrong_key_aad_or_magic_fail() -> None:
    key = crypto.random_key()
    blob = _encrypt(b"hello", key)
    with pytest.raises(DecryptionError, match="does not authenticate"):
        _decrypt(blob, crypto.random_key())
    with pytest.raises(DecryptionError, match="does not authenticate"):
        _decrypt(blob, key, aad=b"attachment:case-18:file-3")
    with pytest.raises(DecryptionError, match="bad magic"):
        _decrypt(b"XXXX" + blob[4:], key)


def test_stream_every_bit_flip_fails_closed() -> None:
    key = crypto.random_key()
    blob = _encrypt(b"tiny", key, chunk_size=16)
    for bit in range(len(blob) * 8):
        with pytest.raises(DecryptionError):
            _decrypt(_flip(blob, bit), key, chunk_size=16)


def test_stream_rejects_oversized_frames() -> None:
    key = crypto.random_key()
    blob = _encrypt(b"z" * 100, key, chunk_size=64)
    # A reader with a smaller chunk_size refuses the larger frames up front.
    with pytest.raises(DecryptionError, match="outside"):
        _decrypt(blob, key, chunk_size=16)
    forged = blob[:PRELUDE] + struct.pack(">I", 2**31) + b"\x00" * 32
    with pytest.raises(DecryptionError, match="outside"):
        _decrypt(forged, key, chunk_size=64)


def test_stream_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        _encrypt(b"x", crypto.random_key(), chunk_size=0)
    with pytest.raises(ValueError):
        _encrypt(b"x", b"short")


# --------------------------------------------------------------------------
# Asymmetric: sealed boxes and key wraps
# --------------------------------------------------------------------------


def test_keypair_is_a_real_x25519_pair_and_hides_private_in_repr() -> None:
    pair = crypto.keypair_generate()
    assert len(pair.public) == 32 and len(pair.private) == 32
    assert nacl.bindings.crypto_scalarmult_base(pair.private) == pair.public
    assert pair.private.hex() not in repr(pair)
    with pytest.raises(AttributeError):
        pair.public = b""  # type: ignore[misc]


def test_seal_round_trip_with_pair_or_private() -> None:
    pair = crypto.keypair_generate()
    sealed = crypto.seal(pair.public, b"case key")
    assert crypto.unseal(pair, sealed) == b"case key"
    assert crypto.unseal(pair.private, sealed) == b"case key"


def test_unseal_failures() -> None:
    pair, other = crypto.keypair_generate(), crypto.keypair_generate()
    sealed = crypto.seal(pair.public, b"case key")
    with pytest.raises(DecryptionError):
        crypto.unseal(other, sealed)
    with pytest.raises(DecryptionError):
        crypto.unseal(pair, _flip(sealed, 100))
    with pytest.raises(DecryptionError):
        crypto.unseal(pair, sealed[:20])
    with pytest.raises(ValueError):
        crypto.unseal(b"not a key", sealed)


def test_wrap_round_trip() -> None:
    pair = crypto.keypair_generate()
    case_key = crypto.random_key()
    wrapped = crypto.wrap_key(pair.public, case_key, context=b"case:A")
    assert b"case:A" not in wrapped
    assert crypto.unwrap_key(pair.private, wrapped, context=b"case:A") == case_key


def test_wrap_is_bound_to_its_context() -> None:
    pair = crypto.keypair_generate()
    wrapped = crypto.wrap_key(pair.public, crypto.random_key(), context=b"case:A")
    for other in (b"case:B", b"case:", b"case:AA"):
        with pytest.raises(DecryptionError, match="different context"):
            crypto.unwrap_key(pair.private, wrapped, context=other)


def test_unwrap_rejects_plain_sealed_boxes_and_other_recipients() -> None:
    pair, other = crypto.keypair_generate(), crypto.keypair_generate()
    with pytest.raises(DecryptionError):
        crypto.unwrap_key(pair.private, crypto.seal(pair.public, b"raw"), context=b"case:A")
    wrapped = crypto.wrap_key(pair.public, crypto.random_key(), context=b"case:A")
    with pytest.raises(DecryptionError):
        crypto.unwrap_key(other.private, wrapped, context=b"case:A")
    with pytest.raises(ValueError):
        crypto.wrap_key(pair.public, crypto.random_key(), context=b"")


# --------------------------------------------------------------------------
# Password-protected private keys
# --------------------------------------------------------------------------


def test_kdf_params_presets() -> None:
    assert KdfParams.interactive() == KdfParams(3, 64 * 1024, 1)
    assert KdfParams.for_tests() == KdfParams(1, 8 * 1024, 1)
    with pytest.raises(ValueError):
        KdfParams(time_cost=1, memory_cost_kib=1024, parallelism=1)
    with pytest.raises(ValueError):
        KdfParams(time_cost=0, memory_cost_kib=8192, parallelism=1)


def test_password_round_trip_and_documented_format() -> None:
    private = crypto.keypair_generate().private
    params = KdfParams.for_tests()
    blob = crypto.password_protect(private, "correct horse", params=params)
    assert crypto.password_unprotect(blob, "correct horse") == private
    fmt, t, m, p = struct.unpack_from(">BIIB", blob)
    assert (fmt, t, m, p) == (crypto.PASSWORD_FORMAT, 1, 8192, 1)
    salt, nonce = blob[10:26], blob[26:38]
    key = hash_secret_raw(b"correct horse", salt, 1, 8192, 1, 32, Type.ID)
    assert AESGCM(key).decrypt(nonce, blob[38:], blob[:38]) == private


def test_password_salts_are_random() -> None:
    params = KdfParams.for_tests()
    one = crypto.password_protect(b"k" * 32, "pw", params=params)
    two = crypto.password_protect(b"k" * 32, "pw", params=params)
    assert one[10:26] != two[10:26]


def test_password_is_nfc_normalised() -> None:
    blob = crypto.password_protect(b"k" * 32, "caf\u00e9", params=KdfParams.for_tests())
    assert crypto.password_unprotect(blob, "cafe\u0301") == b"k" * 32


def test_wrong_password_vs_corrupted_blob() -> None:
    blob = crypto.password_protect(b"k" * 32, "right", params=KdfParams.for_tests())
    with pytest.raises(WrongPassword):
        crypto.password_unprotect(blob, "wrong")
    # Parses, fails authentication: indistinguishable from a wrong password.
    with pytest.raises(WrongPassword):
        crypto.password_unprotect(_flip(blob, 8 * 40), "right")
    # Cannot even be parsed: corruption.
    with pytest.raises(DecryptionError):
        crypto.password_unprotect(blob[:20], "right")
    with pytest.raises(DecryptionError, match="unknown format"):
        crypto.password_unprotect(b"\x09" + blob[1:], "right")
    huge = blob[:5] + struct.pack(">I", 2**31) + blob[9:]
    with pytest.raises(DecryptionError, match="memory_cost_kib"):
        crypto.password_unprotect(huge, "right")
    assert not issubclass(WrongPassword, DecryptionError)


def test_password_params_cannot_be_downgraded() -> None:
    params = KdfParams(time_cost=2, memory_cost_kib=8192, parallelism=1)
    blob = crypto.password_protect(b"k" * 32, "right", params=params)
    downgraded = blob[:1] + struct.pack(">I", 1) + blob[5:]
    # Even with the right password, edited params do not authenticate.
    with pytest.raises(WrongPassword):
        crypto.password_unprotect(downgraded, "right")


def test_password_rejects_empty_password() -> None:
    with pytest.raises(ValueError):
        crypto.password_protect(b"k" * 32, "", params=KdfParams.for_tests())


# --------------------------------------------------------------------------
# Session protection
# --------------------------------------------------------------------------


def test_session_round_trip() -> None:
    session_key = crypto.session_key_generate()
    assert len(session_key) == 32
    blob = crypto.session_protect(session_key, b"private", session_id="s-1")
    assert b"private" not in blob
    assert crypto.session_unprotect(session_key, blob, session_id="s-1") == b"private"


def test_session_binding_and_tampering() -> None:
    session_key = crypto.session_key_generate()
    blob = crypto.session_protect(session_key, b"private", session_id="s-1")
    with pytest.raises(DecryptionError, match="this session"):
        crypto.session_unprotect(session_key, blob, session_id="s-2")
    with pytest.raises(DecryptionError):
        crypto.session_unprotect(crypto.session_key_generate(), blob, session_id="s-1")
    for bit in range(len(blob) * 8):
        with pytest.raises(DecryptionError):
            crypto.session_unprotect(session_key, _flip(blob, bit), session_id="s-1")
    with pytest.raises(DecryptionError):
        crypto.session_unprotect(session_key, blob[:10], session_id="s-1")


# --------------------------------------------------------------------------
# Blind index
# --------------------------------------------------------------------------

INDEX_KEY = bytes(range(32))


def test_blind_index_is_pinned_to_its_documented_encoding() -> None:
    def lp(b: bytes) -> bytes:
        return struct.pack(">I", len(b)) + b

    message = lp(b"tropa.vault.blind.v1") + lp(b"name") + lp(b"ivan petrenko")
    expected = hmac.new(INDEX_KEY, message, hashlib.sha256).hexdigest()
    got = crypto.blind_index(INDEX_KEY, "  Ivan  PETRENKO ", kind="name")
    assert got == expected
    # Regression pin: a change here breaks every stored index.
    assert got == "c769586373d584b171bdc1412027562adfea13b558785f076d85bc6fbb60e200"


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Ivan", "  ivan\t"),
        ("\uff29\uff36\uff21\uff2e", "ivan"),  # full-width letters (NFKC)
        ("Stra\u00dfe", "STRASSE"),  # casefold, not lower
        ("Caf\u00e9", "cafe\u0301"),  # composed vs decomposed
        ("Anna \n Maria", "anna maria"),
    ],
)
def test_blind_index_normalisation_equates(left: str, right: str) -> None:
    assert crypto.blind_index(INDEX_KEY, left, kind="name") == crypto.blind_index(
        INDEX_KEY, right, kind="name"
    )


def test_blind_index_separates_kinds_keys_and_words() -> None:
    base = crypto.blind_index(INDEX_KEY, "anna maria", kind="name")
    assert len(base) == 64 and int(base, 16) >= 0
    assert crypto.blind_index(INDEX_KEY, "annamaria", kind="name") != base
    assert crypto.blind_index(INDEX_KEY, "anna maria", kind="city") != base
    assert crypto.blind_index(crypto.random_key(), "anna maria", kind="name") != base


def test_blind_index_rejects_weak_inputs() -> None:
    with pytest.raises(ValueError):
        crypto.blind_index(b"short", "x", kind="name")
    with pytest.raises(ValueError):
        crypto.blind_index(INDEX_KEY, "x", kind="")
    with pytest.raises(ValueError):
        crypto.blind_index(INDEX_KEY, " \t ", kind="name")


# --------------------------------------------------------------------------
# Misc
# --------------------------------------------------------------------------


def test_random_keys_are_fresh() -> None:
    keys = {crypto.random_key() for _ in range(16)}
    assert len(keys) == 16 and all(len(k) == 32 for k in keys)


def test_exception_hierarchy() -> None:
    for exc in (DecryptionError, WrongPassword, crypto.MissingWrap, UnknownKeyVersion):
        assert issubclass(exc, VaultError)
    assert issubclass(TruncatedStream, DecryptionError)
    assert isinstance(KeyPair(b"a", b"b"), KeyPair)
