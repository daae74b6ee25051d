"""What an attacker (or a broken client) sends, as Hypothesis strategies.

Shared by the fuzz tests: hostile text (controls, bidi overrides, lone
surrogates, huge sizes), arbitrary JSON, byte-level mutations of good files,
and the synthetic seed files those mutations start from.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from typing import Any

from hypothesis import strategies as st
from PIL import Image

# Characters that have broken text handling somewhere before: NUL and other
# C0/C1 controls, bidi embeddings, overrides and isolates, zero-width joiners,
# a BOM, combining marks, line and paragraph separators, and lone surrogates
# (JSON can carry them as "\ud800"; UTF-8 cannot encode them).
NASTY_CHARS = (
    "\x00\x01\x07\x08\x0b\x0c\x1b\x7f\x85\x9b\r\t\n"
    "\u200b\u200c\u200d\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e"
    "\u2066\u2067\u2068\u2069\ufeff\ufffd\u0301\u0489\U0001f4a3\ud800\udfff"
)
nasty_char = st.sampled_from(NASTY_CHARS)
any_char = st.characters(codec=None) | st.characters(categories=["Cs"]) | nasty_char

# A repeated unit stands in for a huge message without generating megabytes of
# random choices (Hypothesis would spend the budget on drawing them).
huge_text = st.builds(
    lambda unit, count: unit * count,
    st.sampled_from(["a", "я", "\u202e", "\x00", "😀", "ab\u200d", "/start "]),
    st.sampled_from([4001, 4097, 10_001, 100_000]),
)
hostile_text = st.one_of(
    st.text(any_char, max_size=60),
    st.text(nasty_char, max_size=20),
    st.sampled_from(["", " ", "/start", "/START@bot x", "wipe", " WIPE ", "стереть", "/forget"]),
    huge_text,
)

# What a form field can carry: an HTTP client sends bytes, and Django decodes them
# with replacement, so lone surrogates cannot arrive (raw bodies test broken UTF-8).
form_text = hostile_text.map(lambda text: re.sub("[\ud800-\udfff]", "\ufffd", text))

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(any_char, max_size=40)
)


def json_values(max_leaves: int = 30) -> st.SearchStrategy[Any]:
    return st.recursive(
        json_scalars,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=10), children, max_size=5)
        ),
        max_leaves=max_leaves,
    )


# -- byte mutations ------------------------------------------------------------


def _flip(data: bytes, at: int, value: int) -> bytes:
    if not data:
        return data
    at %= len(data)
    return data[:at] + bytes([value]) + data[at + 1 :]


def _insert(data: bytes, at: int, chunk: bytes) -> bytes:
    at %= len(data) + 1
    return data[:at] + chunk + data[at:]


def _delete(data: bytes, at: int, length: int) -> bytes:
    at %= len(data) + 1
    return data[:at] + data[at + length :]


def _truncate(data: bytes, at: int, _: Any) -> bytes:
    return data[: at % (len(data) + 1)]


def _duplicate(data: bytes, at: int, length: int) -> bytes:
    at %= len(data) + 1
    return data[:at] + data[at : at + length] + data[at:]


# Signatures a polyglot hides after or inside an image.
PAYLOADS = (
    b"PK\x03\x04" + b"\x00" * 26,
    b"%PDF-1.7\n1 0 obj << /JavaScript (app.alert(1)) >>",
    b"<html><script>alert(1)</script></html>",
    b"<?php system($_GET['c']); ?>",
    b"\x7fELF\x02\x01\x01",
    b"\xff\xd9",
    b"\xff\xd8\xff\xe1\xff\xff",
    b"\xff" * 64,
    b"\x00" * 300,
)

_mutation = st.one_of(
    st.tuples(st.just(_flip), st.integers(0, 2**20), st.integers(0, 255)),
    st.tuples(st.just(_insert), st.integers(0, 2**20), st.binary(min_size=1, max_size=16)),
    st.tuples(st.just(_insert), st.integers(0, 2**20), st.sampled_from(PAYLOADS)),
    st.tuples(st.just(_delete), st.integers(0, 2**20), st.integers(1, 64)),
    st.tuples(st.just(_truncate), st.integers(0, 2**20), st.none()),
    st.tuples(st.just(_duplicate), st.integers(0, 2**20), st.integers(1, 256)),
)


def mutated(seeds: st.SearchStrategy[bytes], max_mutations: int = 6) -> st.SearchStrategy[bytes]:
    """A seed file with a few flips, insertions, deletions, truncations or splices."""

    def apply(seed: bytes, mutations: list[tuple[Any, int, Any]]) -> bytes:
        for mutate, at, argument in mutations:
            seed = mutate(seed, at, argument)
        return seed

    return st.builds(apply, seeds, st.lists(_mutation, max_size=max_mutations))


# -- seed files (synthetic, made here) ---------------------------------------------


def _picture(width: int, height: int, mode: str) -> Image.Image:
    gradient = Image.linear_gradient("L")
    rgb = Image.merge(
        "RGB", [gradient.rotate(angle).resize((width, height)) for angle in (0, 90, 45)]
    )
    return rgb if mode == "RGB" else rgb.convert(mode)


def _exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "FuzzCam"
    exif[0x0112] = 6
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (55.0, 45.0, 0.0)
    return exif.tobytes()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(side: int = 20_000) -> bytes:
    """A decompression bomb: about 50 KB that inflate to a 1-bit image of side x side."""
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte, then the packed pixels
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def _encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def seed_files() -> dict[str, bytes]:
    """Small, valid files of every type the sanitiser meets, plus a PDF and a bomb."""
    rgb = _picture(24, 16, "RGB")
    return {
        "jpeg_exif": _encode(rgb, "JPEG", quality=80, exif=_exif()),
        "jpeg_progressive": _encode(rgb, "JPEG", progressive=True, comment=b"fuzz comment"),
        "png": _encode(rgb, "PNG"),
        "png_alpha": _encode(_picture(16, 16, "RGBA"), "PNG", exif=_exif()),
        "png_palette": _encode(_picture(16, 8, "P"), "PNG", transparency=0),
        "webp": _encode(rgb, "WEBP", quality=70, exif=_exif()),
        "webp_lossless": _encode(_picture(16, 16, "RGBA"), "WEBP", lossless=True),
        "pdf": b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
        "png_bomb": png_bomb(),
        # Under the pixel limit, so it is decoded: 36 MP from a few kilobytes.
        "png_bomb_allowed": png_bomb(6000),
    }


SEEDS = seed_files()
seed_bytes = st.sampled_from(sorted(SEEDS.values()))
