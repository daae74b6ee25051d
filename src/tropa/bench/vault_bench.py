"""Vault benchmarks: field AEAD, case-key unwrap, and P8 (encryption overhead on intake writes)."""

from __future__ import annotations

import contextlib
import os
import statistics
import time
from collections.abc import Iterator
from unittest import mock

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nacl.bindings import crypto_scalarmult

from tropa.bench.runner import Result, rate, verdict
from tropa.vault import crypto

FIELD = os.urandom(200)  # a typical identity field or short message

# Opening a case file (P5) decrypts ~30 fields and ~200 timeline entries and
# unwraps one or two keys within 50 ms; these floors keep the crypto under a
# fifth of that budget: 230 decrypts in 10 ms, two unwraps in 2 ms.
MIN_FIELD_OPS = 23_000
MIN_UNWRAP_OPS = 1_000


def _raw_aes_rates(seconds: float, repeats: int) -> tuple[float, float]:
    key, nonce, aad = os.urandom(32), os.urandom(12), os.urandom(40)
    aes = AESGCM(key)
    blob = aes.encrypt(nonce, FIELD, aad)
    return (
        rate(lambda: aes.encrypt(os.urandom(12), FIELD, aad), seconds=seconds, repeats=repeats),
        rate(lambda: aes.decrypt(nonce, blob, aad), seconds=seconds, repeats=repeats),
    )


def bench_fields(seconds: float, repeats: int) -> list[Result]:
    raw_encrypt, raw_decrypt = _raw_aes_rates(seconds, repeats)
    key = crypto.random_key()
    aad = crypto.field_aad(model="cases.case", row_id="7f1c", field="identity", version=1)
    blob = crypto.field_encrypt(key, FIELD, aad=aad, key_version=1)
    keyring = {1: key}

    def encrypt() -> None:
        crypto.field_encrypt(
            key,
            FIELD,
            aad=crypto.field_aad(model="cases.case", row_id="7f1c", field="identity", version=1),
            key_version=1,
        )

    encrypt_rate = rate(encrypt, seconds=seconds, repeats=repeats)
    decrypt_rate = rate(
        lambda: crypto.field_decrypt(keyring, blob, aad=aad), seconds=seconds, repeats=repeats
    )
    return [
        Result(
            "V1",
            "field encrypt (200 B, row-bound AAD)",
            encrypt_rate,
            "ops/s",
            raw_encrypt,
            "raw AES-256-GCM encrypt",
            encrypt_rate / raw_encrypt,
            f">= {MIN_FIELD_OPS:,} ops/s (P5 budget)",
            verdict(encrypt_rate >= MIN_FIELD_OPS),
        ),
        Result(
            "V2",
            "field decrypt (200 B, row-bound AAD)",
            decrypt_rate,
            "ops/s",
            raw_decrypt,
            "raw AES-256-GCM decrypt",
            decrypt_rate / raw_decrypt,
            f">= {MIN_FIELD_OPS:,} ops/s (P5 budget)",
            verdict(decrypt_rate >= MIN_FIELD_OPS),
        ),
    ]


def bench_unwrap(seconds: float, repeats: int) -> list[Result]:
    scalar, point = os.urandom(32), crypto.keypair_generate().public
    raw = rate(lambda: crypto_scalarmult(scalar, point), seconds=seconds, repeats=repeats)
    pair, case_key = crypto.keypair_generate(), crypto.random_key()
    wrapped = crypto.wrap_key(pair.public, case_key, context=b"tropa.case:1")
    unwrap = rate(
        lambda: crypto.unwrap_key(pair.private, wrapped, context=b"tropa.case:1"),
        seconds=seconds,
        repeats=repeats,
    )
    # A sealed-box open costs one X25519 multiplication plus hashing and a MAC.
    return [
        Result(
            "V3",
            "case-key unwrap (sealed box, context-bound)",
            unwrap,
            "ops/s",
            raw,
            "raw X25519 scalar multiplication",
            unwrap / raw,
            f">= {MIN_UNWRAP_OPS:,} ops/s (P5 budget)",
            verdict(unwrap >= MIN_UNWRAP_OPS),
        ),
    ]


@contextlib.contextmanager
def _encryption_off() -> Iterator[None]:
    """The same write path with every cryptographic step replaced by a copy.

    Only the benchmark does this, to measure what encryption costs; there is
    no setting that turns encryption off.
    """
    fixed = crypto.keypair_generate()
    with (
        mock.patch.object(
            crypto,
            "field_encrypt",
            lambda key, plaintext, *, aad, key_version: b"\x01\x00\x01" + plaintext,
        ),
        mock.patch.object(crypto, "wrap_key", lambda public, key, *, context: key),
        mock.patch.object(crypto, "keypair_generate", lambda: fixed),
        mock.patch.object(crypto, "random_key", lambda: b"k" * 32),
    ):
        yield


def _intake_write() -> None:
    from tropa.cases.services import IntakeKeys, case_append_inbound, case_seal

    case = case_seal(
        keys=IntakeKeys.load(),
        identity={
            "name": "Bench Person",
            "phone": "+7 900 000-00-00",
            "telegram_id": "123456789",
            "passport_number": "4500 123456",
            "region_detail": "near the station",
        },
        answers=[
            "Mobilised",
            "Within days",
            "Internal passport",
            "Legal help",
            "A longer free text " * 10,
        ],
        category="mobilised",
        urgency=90,
        language="ru",
        region="central",
        channel="telegram",
    )
    case_append_inbound(case=case, text="Are you there?")


def bench_p8(cases: int, repeats: int) -> list[Result]:
    def timed() -> float:
        start = time.perf_counter()
        for _ in range(cases):
            _intake_write()
        return cases / (time.perf_counter() - start)

    encrypted, plain = [], []
    for _ in range(repeats):  # interleaved, so drift on a noisy machine hits both alike
        encrypted.append(timed())
        with _encryption_off():
            plain.append(timed())
    enc, off = statistics.median(encrypted), statistics.median(plain)
    overhead = off / enc
    return [
        Result(
            "P8",
            "intake write path (seal case + message), encryption on",
            enc,
            "cases/s",
            off,
            "same path, encryption off",
            overhead,
            "time ratio <= 1.5",
            verdict(overhead <= 1.5),
        ),
    ]
