"""Atheris harness: any bytes -> sanitise -> a clean image or `Refused`, nothing else."""

from __future__ import annotations

import io
import sys

import _setup  # noqa: F401  (puts src/ on the path)
import atheris

with atheris.instrument_imports(include=["tropa"]):
    from tropa.documents.sanitise import DOWNSCALE, Refused, sanitise

from PIL import Image  # noqa: E402


def TestOneInput(data: bytes) -> None:  # noqa: N802
    try:
        cleaned = sanitise(data)
    except Refused as refusal:
        assert refusal.code and refusal.message
        return
    assert cleaned.content_type in ("image/jpeg", "image/png")
    with Image.open(io.BytesIO(cleaned.data)) as image:
        image.load()
        assert image.size == (cleaned.width, cleaned.height)
        assert max(image.size) <= DOWNSCALE
        assert not image.getexif()


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
