"""S10, the upload pipeline's pure core: any bytes give a clean photo or a refusal.

The inputs are mutations of small valid JPEG, PNG and WebP files (with EXIF
and GPS), a PDF and two decompression bombs: flipped, inserted, deleted and
duplicated bytes, truncations, and payloads (ZIP, PDF, HTML, ELF) spliced in.
"""

from __future__ import annotations

import io

import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from PIL import Image

from tests.fuzz.conftest import fuzz_settings
from tests.fuzz.strategies import PAYLOADS, SEEDS, mutated, seed_bytes
from tropa.documents.sanitise import DOWNSCALE, MESSAGES, Refused, sanitise

# Pillow warns about the broken EXIF it reads in mutated files; the EXIF is dropped anyway.
pytestmark = pytest.mark.filterwarnings("ignore:(Corrupt EXIF|Truncated File|Metadata):UserWarning")
# What a refusal may say; anything else escaping sanitise() is a crash.
REFUSAL_CODES = frozenset(MESSAGES) - {"pdf_javascript", "heic"}
# The payloads that carry a file signature (ZIP, PDF, HTML, PHP, ELF).
SIGNED_PAYLOADS = PAYLOADS[:5]


def check(data: bytes) -> None:
    try:
        cleaned = sanitise(data)
    except Refused as refusal:
        event(f"refused: {refusal.code}")
        assert refusal.code in REFUSAL_CODES
        assert refusal.message and "{" not in refusal.message
        return
    event(f"cleaned: {cleaned.content_type}")
    assert cleaned.content_type in ("image/jpeg", "image/png")
    # Encoded from the pixels alone: nothing spliced into the input comes out.
    assert not [payload for payload in SIGNED_PAYLOADS if payload in cleaned.data]
    with Image.open(io.BytesIO(cleaned.data)) as image:
        image.load()
        assert image.size == (cleaned.width, cleaned.height)
        assert max(image.size) <= DOWNSCALE
        assert not image.getexif(), "metadata survived the re-encoding"
        assert not {"exif", "icc_profile", "xmp", "comment"} & set(image.info)


@fuzz_settings(300)
@given(mutated(seed_bytes))
def test_mutated_images_are_cleaned_or_refused(data: bytes) -> None:
    check(data)


@fuzz_settings(100)
@given(st.binary(max_size=2048))
def test_random_bytes_are_refused(data: bytes) -> None:
    check(data)


@fuzz_settings(100)
@given(
    seed=st.sampled_from(["jpeg_exif", "png", "webp"]),
    payload=st.sampled_from(SIGNED_PAYLOADS),
    padding=st.binary(max_size=400),
)
def test_a_file_appended_to_a_photo_is_refused_or_dropped(
    seed: str, payload: bytes, padding: bytes
) -> None:
    """Polyglots: whatever follows the image never comes out of the sanitiser."""
    data = SEEDS[seed] + padding + payload
    try:
        cleaned = sanitise(data)
    except Refused as refusal:
        assert refusal.code in ("polyglot", "corrupt")
        return
    assert payload not in cleaned.data


def test_the_decompression_bomb_is_refused_before_decoding() -> None:
    with pytest.raises(Refused) as refused:
        sanitise(SEEDS["png_bomb"])
    assert refused.value.code == "too_many_pixels"
