"""P9: a 12-megapixel photo upload: metadata strip + encrypt + MRZ check (OCR excluded)."""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Callable

import numpy as np
from PIL import Image

from tropa.bench.runner import Result, verdict
from tropa.documents import mrz
from tropa.documents.sanitise import sanitise
from tropa.vault import crypto

TARGET_MS = 500.0
WIDTH, HEIGHT = 4000, 3000


def synthetic_photo() -> bytes:
    """A 4000 x 3000 JPEG that compresses like a phone photo, with EXIF and GPS.

    Gradients give it structure and uniform noise (the grain of a phone
    sensor in indoor light) keeps the file at a realistic few megabytes;
    a flat image would compress to almost nothing and flatter the figures.
    """
    rng = np.random.default_rng(9)
    across = np.linspace(0, 200, WIDTH, dtype=np.float32)[None, :]
    down = np.linspace(0, 200, HEIGHT, dtype=np.float32)[:, None]
    pixels = np.empty((HEIGHT, WIDTH, 3), dtype=np.uint8)
    for channel, (a, b) in enumerate(((0.7, 0.3), (0.4, 0.6), (0.2, 0.5))):
        base = (across * a + down * b).astype(np.uint8)
        pixels[:, :, channel] = base + rng.integers(0, 40, (HEIGHT, WIDTH), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "BenchCam", "Invented 12", 1
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (55.0, 45.0, 0.0), "E", (37.0, 36.0, 0.0)
    out = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(out, "JPEG", quality=92, exif=exif.tobytes())
    return out.getvalue()


def synthetic_mrz() -> str:
    """An internal-passport MRZ for an invented person, check digits computed."""
    name = mrz.encode_russian_name("ТЕСТОВ") + "<<" + mrz.encode_russian_name("ПРИМЕР ТЕСТОВИЧ")
    line1 = ("PNRUS" + name).ljust(44, "<")
    number, birth, optional = "009000123", "900115", "9150320990001<"

    def digit(data: str) -> str:
        return str(mrz.check_digit(data))

    line2 = number + digit(number) + "RUS" + birth + digit(birth) + "M" + "<" * 7
    line2 += optional + digit(optional)
    line2 += digit(line2[0:10] + line2[13:20] + line2[21:43])
    return line1 + "\n" + line2


def _upload(photo: bytes, key: bytes, text: str) -> None:
    cleaned = sanitise(photo)
    crypto.encrypt_stream(key, io.BytesIO(cleaned.data), io.BytesIO(), aad=b"tropa.bench:p9")
    mrz.parse(text)


def _decode(photo: bytes) -> None:
    with Image.open(io.BytesIO(photo)) as image:
        image.load()


def _ms(operation: Callable[..., object], *args: object) -> float:
    start = time.perf_counter()
    operation(*args)
    return (time.perf_counter() - start) * 1000


def bench_p9(*, repeats: int = 5) -> list[Result]:
    photo, text, key = synthetic_photo(), synthetic_mrz(), crypto.random_key()
    _upload(photo, key, text)  # warm up Pillow's codecs and the MRZ tables
    upload, decode = [], []
    for _ in range(repeats):  # interleaved, so drift on a noisy machine hits both alike
        upload.append(_ms(_upload, photo, key, text))
        decode.append(_ms(_decode, photo))
    median, reference = statistics.median(upload), statistics.median(decode)
    return [
        Result(
            "P9",
            "12-MP photo: strip metadata + encrypt + MRZ check (median)",
            median,
            "ms",
            reference,
            "decode only",
            median / reference,
            f"< {TARGET_MS:.0f} ms",
            verdict(median < TARGET_MS),
        )
    ]
