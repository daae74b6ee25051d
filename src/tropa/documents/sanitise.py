"""Check an uploaded photo of a document and re-encode it without metadata, in memory.

Pure: bytes in, bytes out, no Django, no file names, and nothing is ever
written to disk (Pillow reads from and writes to `io.BytesIO`), so the
caller decides where plaintext may live: the Django layer streams the result
straight into encrypted storage (S9).

What is refused (`Refused.code`), in the order it is checked:

    empty             no bytes at all
    too_large         more than `max_bytes`
    pdf_refused       a PDF ("%PDF-" in the first 1 KiB, where readers look)
    unsupported_type  anything but JPEG, PNG, WebP (and AVIF/HEIC when Pillow
                      reads it; HEIC needs a plug-in Tropa does not install)
    corrupt           the image's structure is broken or truncated, or Pillow
                      cannot decode it
    polyglot          another file hides in the image: a ZIP, PDF, HTML or
                      script signature after the image's end or inside its
                      metadata, or more than a few hundred bytes after its end
    too_many_pixels   the header declares more than `max_pixels`; read from
                      the bytes before Pillow allocates anything (S10)

The type comes from the bytes (magic numbers), never from a name or a
declared content type. The structure (JPEG segments, PNG chunks, RIFF
chunks) is walked by hand, so the end of the image, the metadata and the
dimensions are known before decoding.

Cleaning decodes the pixels, applies the EXIF orientation, and encodes a
new file from the pixels alone: JPEG at quality 90 (PNG stays PNG; WebP and
AVIF become JPEG, or PNG when they have transparency). Nothing of the
original is copied: EXIF (GPS, camera make, model and serial numbers, maker
notes, thumbnails), XMP, ICC profiles (whose descriptions name devices and
vendors), comments, IPTC, PNG text and time chunks, extra images (MPF gain
maps and depth maps) and animation frames are dropped, and `Cleaned.removed`
lists what was there. Dropping the ICC profile may shift the colours of a
wide-gamut photo slightly; legibility does not depend on it.

`downscale` limits the long side (4000 px by default): a 12-megapixel phone
photo (4000 x 3000) passes untouched, and at 4000 px a passport page or an
internal passport spread still shows its smallest print and MRZ at well over
the ~300 dpi OCR wants, while a 48-50 MP photo shrinks to a quarter of its
size. JPEGs are reduced while decoding (`Image.draft`), which is also faster.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from PIL import Image

MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000
DOWNSCALE = 4000
JPEG_QUALITY = 90
# Bytes after the image's end that are tolerated when they carry no known
# signature (some encoders pad); more is refused as a hidden payload.
TRAILING_ALLOWANCE = 256

SIGNATURES = (
    b"pk\x03\x04",
    b"pk\x05\x06",
    b"%pdf-",
    b"<html",
    b"<!doctype",
    b"<script",
    b"<svg",
    b"<iframe",
    b"<?php",
    b"#!/",
    b"\x7felf",
    b"rar!\x1a\x07",
    b"7z\xbc\xaf\x27\x1c",
)
# Metadata is binary (maker notes, ICC profiles, thumbnails): only signatures
# of four bytes or more are rare enough there not to refuse honest photos.
PAYLOAD_SIGNATURES = tuple(signature for signature in SIGNATURES if len(signature) >= 4)
HEIF_BRANDS = frozenset(
    (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1")
)
AVIF_BRANDS = frozenset((b"avif", b"avis"))

MESSAGES = {
    "empty": "The file is empty; send the photo again.",
    "too_large": "The file is {size}; the limit is {limit}. Send a smaller photo.",
    "pdf_refused": "PDFs are not accepted; send a photo of the page.",
    "pdf_javascript": (
        "PDFs are not accepted; send a photo of the page. This PDF also contains "
        "JavaScript, which can attack the device that opens it."
    ),
    "unsupported_type": "This kind of file is not accepted; send a photo (JPEG, PNG or WebP).",
    "heic": (
        "HEIC photos cannot be read here; send the photo as JPEG (on an iPhone: Settings, "
        "Camera, Formats, Most Compatible) or send a screenshot of it."
    ),
    "corrupt": "The image is damaged or incomplete; send the photo again.",
    "polyglot": (
        "The photo has other data attached to it (a hidden file, or the video of a "
        "'motion photo'); send a plain photo or a screenshot."
    ),
    "too_many_pixels": (
        "The image says it is {width} x {height} pixels, far more than a photo needs; "
        "send a normal photo."
    ),
}


class Refused(Exception):
    """The upload is not accepted; `message` tells the sender what to do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Cleaned:
    data: bytes
    content_type: str  # "image/jpeg" or "image/png"
    width: int
    height: int
    removed: tuple[str, ...]


def _refuse(code: str, message_key: str | None = None, **values: object) -> Refused:
    return Refused(code, MESSAGES[message_key or code].format(**values))


# --------------------------------------------------------------------------
# Structure
# --------------------------------------------------------------------------


@dataclass
class _Layout:
    """What the bytes declare, read without decoding."""

    width: int = 0
    height: int = 0
    end: int = 0  # where the image (and any extra images it declares) ends
    metadata: set[str] = field(default_factory=set)
    payloads: list[bytes] = field(default_factory=list)  # metadata to scan for signatures


def _sniff(data: bytes) -> str:
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp" and data[8:12] in AVIF_BRANDS:
        return "avif"
    if data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS:
        return "heic"
    if b"%PDF-" in data[:1024]:
        return "pdf"
    return "unknown"


_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE = frozenset(range(0xD0, 0xD8)) | {0x01}
# In entropy-coded data 0xFF is followed by 0x00 (stuffing), a restart
# marker or fill; anything else is the next marker.
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_APP_NAMES = (
    (b"Exif\x00", "exif"),
    (b"http://ns.adobe.com/xap/1.0/", "xmp"),
    (b"http://ns.adobe.com/xmp/extension/", "xmp"),
    (b"ICC_PROFILE\x00", "icc"),
    (b"MPF\x00", "extra_images"),
    (b"Photoshop 3.0\x00", "iptc"),
)


def _jpeg_segments(data: bytes, start: int, layout: _Layout) -> int:
    """Walk one JPEG from its SOI at `start`; return the offset after its EOI."""
    pos, n = start + 2, len(data)
    while True:
        if pos >= n or data[pos] != 0xFF:
            raise _refuse("corrupt")
        while pos < n and data[pos] == 0xFF:
            pos += 1
        if pos >= n:
            raise _refuse("corrupt")
        marker = data[pos]
        pos += 1
        if marker == 0xD9:
            return pos
        if marker in _STANDALONE:
            continue
        if pos + 2 > n:
            raise _refuse("corrupt")
        (length,) = struct.unpack_from(">H", data, pos)
        if length < 2 or pos + length > n:
            raise _refuse("corrupt")
        segment = data[pos + 2 : pos + length]
        pos += length
        if marker in _SOF and not layout.width and len(segment) >= 5:
            layout.height, layout.width = struct.unpack_from(">HH", segment, 1)
        elif 0xE1 <= marker <= 0xEF or marker == 0xFE:
            _jpeg_metadata(marker, segment, layout)
        if marker == 0xDA:
            found = _NEXT_MARKER.search(data, pos)
            if found is None:
                raise _refuse("corrupt")  # truncated: the image data never ends
            pos = found.start()


def _jpeg_metadata(marker: int, segment: bytes, layout: _Layout) -> None:
    layout.payloads.append(segment)
    if marker == 0xFE:
        layout.metadata.add("comment")
        return
    for prefix, name in _APP_NAMES:
        if segment.startswith(prefix):
            layout.metadata.add(name)
            return
    if marker != 0xEE:  # APP14 "Adobe" only describes the colour transform
        layout.metadata.add("app_segments")


def _jpeg(data: bytes) -> _Layout:
    layout = _Layout()
    layout.end = _jpeg_segments(data, 0, layout)
    if "extra_images" in layout.metadata:
        # MPF (gain maps of "Ultra HDR" photos, depth maps) appends whole
        # JPEGs after the first; walk them so they do not count as a payload.
        while data.startswith(b"\xff\xd8\xff", layout.end):
            layout.end = _jpeg_segments(data, layout.end, _Layout(payloads=layout.payloads))
    if not layout.width or not layout.height:
        raise _refuse("corrupt")
    return layout


_PNG_NAMES = {
    b"tEXt": "png_text",
    b"zTXt": "png_text",
    b"iTXt": "png_text",
    b"eXIf": "exif",
    b"iCCP": "icc",
    b"tIME": "png_time",
    b"acTL": "animation",
}


def _png(data: bytes) -> _Layout:
    layout, pos, n = _Layout(), 8, len(data)
    while True:
        if pos + 12 > n:
            raise _refuse("corrupt")
        length, kind = struct.unpack_from(">I4s", data, pos)
        body_end = pos + 8 + length
        if length > 0x7FFFFFFF or body_end + 4 > n:
            raise _refuse("corrupt")
        (crc,) = struct.unpack_from(">I", data, body_end)
        if zlib.crc32(data[pos + 4 : body_end]) != crc:
            raise _refuse("corrupt")
        body = data[pos + 8 : body_end]
        if pos == 8:
            if kind != b"IHDR" or length < 8:
                raise _refuse("corrupt")
            layout.width, layout.height = struct.unpack_from(">II", body)
        name = _PNG_NAMES.get(kind)
        if name is not None:
            if name == "png_text" and body.startswith(b"XML:com.adobe.xmp\x00"):
                name = "xmp"
            layout.metadata.add(name)
            layout.payloads.append(body)
        pos = body_end + 4
        if kind == b"IEND":
            layout.end = pos
            return layout


_WEBP_NAMES = {b"EXIF": "exif", b"XMP ": "xmp", b"ICCP": "icc", b"ANIM": "animation"}


def _webp(data: bytes) -> _Layout:
    (size,) = struct.unpack_from("<I", data, 4)
    layout = _Layout(end=8 + size + (size & 1))
    if size < 4 or layout.end > len(data):
        raise _refuse("corrupt")
    pos = 12
    while pos + 8 <= 8 + size:
        kind, length = struct.unpack_from("<4sI", data, pos)
        body = data[pos + 8 : pos + 8 + length]
        if len(body) < length:
            raise _refuse("corrupt")
        _webp_chunk(kind, body, layout)
        pos += 8 + length + (length & 1)
    if not layout.width or not layout.height:
        raise _refuse("corrupt")
    return layout


def _webp_chunk(kind: bytes, body: bytes, layout: _Layout) -> None:
    if kind == b"VP8X" and len(body) >= 10:
        layout.width = 1 + int.from_bytes(body[4:7], "little")
        layout.height = 1 + int.from_bytes(body[7:10], "little")
    elif kind == b"VP8 " and len(body) >= 10 and not layout.width:
        if body[3:6] != b"\x9d\x01\x2a":
            raise _refuse("corrupt")
        width, height = struct.unpack_from("<HH", body, 6)
        layout.width, layout.height = width & 0x3FFF, height & 0x3FFF
    elif kind == b"VP8L" and len(body) >= 5 and not layout.width:
        if body[0] != 0x2F:
            raise _refuse("corrupt")
        (bits,) = struct.unpack_from("<I", body, 1)
        layout.width, layout.height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    elif kind in _WEBP_NAMES:
        layout.metadata.add(_WEBP_NAMES[kind])
        layout.payloads.append(body)


def _isobmff(data: bytes) -> _Layout:
    """AVIF/HEIC: walk the top-level boxes; Pillow reports the dimensions."""
    pos, n = 0, len(data)
    while pos + 8 <= n:
        size, kind = struct.unpack_from(">I4s", data, pos)
        if size == 1 and pos + 16 <= n:
            (size,) = struct.unpack_from(">Q", data, pos + 8)
        elif size == 0:
            size = n - pos
        if size < 8 or not kind.isascii() or pos + size > n:
            break  # not a box: what follows is trailing data
        pos += size
    return _Layout(end=pos)


_LAYOUTS: dict[str, Callable[[bytes], _Layout]] = {
    "jpeg": _jpeg,
    "png": _png,
    "webp": _webp,
    "avif": _isobmff,
    "heic": _isobmff,
}


def _refuse_polyglot(data: bytes, layout: _Layout) -> None:
    trailing = data[layout.end :]
    if trailing.strip(b"\x00") and (len(trailing) > TRAILING_ALLOWANCE or _has_signature(trailing)):
        raise _refuse("polyglot")
    if any(_has_signature(payload, PAYLOAD_SIGNATURES) for payload in layout.payloads):
        raise _refuse("polyglot")


def _has_signature(chunk: bytes, signatures: tuple[bytes, ...] = SIGNATURES) -> bool:
    lowered = chunk.lower()
    return any(signature in lowered for signature in signatures)


def _refuse_bomb(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise _refuse("too_many_pixels", width=f"{width:,}", height=f"{height:,}")


# --------------------------------------------------------------------------
# Pixels
# --------------------------------------------------------------------------

_PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "avif": "AVIF", "heic": "AVIF"}
_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_GPS_IFD, _EXIF_IFD, _MAKER_NOTE = 0x8825, 0x8769, 0x927C
_CAMERA_TAGS = (0x010F, 0x0110)  # Make, Model
_CAMERA_EXIF_TAGS = (0xA430, 0xA431, 0xA433, 0xA434, 0xA435)  # owner, serials, lens


def _open(data: bytes, kind: str, max_pixels: int, downscale: int | None) -> Image.Image:
    image = Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[kind]])
    _refuse_bomb(image.width, image.height, max_pixels)
    if downscale and kind == "jpeg" and max(image.size) > downscale:
        # Let libjpeg decode at 1/2, 1/4 or 1/8 scale, never below the limit.
        scale = downscale / max(image.size)
        image.draft(None, (int(image.width * scale) + 1, int(image.height * scale) + 1))
    image.load()
    return image


def _decode(data: bytes, kind: str, max_pixels: int, downscale: int | None) -> Image.Image:
    try:
        return _open(data, kind, max_pixels, downscale)
    except Refused:
        raise
    except Image.DecompressionBombError:
        raise _refuse("too_many_pixels", width="?", height="?") from None
    except Exception:
        # Pillow reports broken files with many exception types; none of them
        # may escape as anything but a refusal.
        if kind == "heic":
            raise _refuse("unsupported_type", "heic") from None
        raise _refuse("corrupt") from None


def _exif_details(image: Image.Image) -> tuple[set[str], int]:
    """What the EXIF block reveals, and the orientation to apply."""
    found: set[str] = set()
    try:
        exif = image.getexif()
        if not len(exif):
            return found, 1
        found.add("exif")
        if exif.get_ifd(_GPS_IFD) or _GPS_IFD in exif:
            found.add("gps")
        details = exif.get_ifd(_EXIF_IFD)
        if any(tag in exif for tag in _CAMERA_TAGS) or any(t in details for t in _CAMERA_EXIF_TAGS):
            found.add("camera")
        if _MAKER_NOTE in details:
            found.add("maker_notes")
        raw = image.info.get("exif", b"")
        if isinstance(raw, bytes) and b"\xff\xd8\xff" in raw[6:]:
            found.add("thumbnail")
        orientation = exif.get(0x0112, 1)
        return found, orientation if isinstance(orientation, int) else 1
    except Exception:
        # Broken EXIF is dropped like any other; its orientation cannot be trusted.
        return found | {"exif"}, 1


def _clean_pixels(image: Image.Image, orientation: int, downscale: int | None) -> Image.Image:
    method = _ORIENTATION.get(orientation)
    if method is not None:
        image = image.transpose(method)
    if downscale and max(image.size) > downscale:
        image.thumbnail((downscale, downscale), Image.Resampling.LANCZOS)
    return image


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode == "P" and "transparency" in image.info
    )


def _encode(image: Image.Image, kind: str) -> tuple[bytes, str]:
    png = kind == "png" or _has_alpha(image)
    transparency = image.info.get("transparency") if png else None
    if png and image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
        image = image.convert("RGBA")
    elif not png and image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    # The pixels only: Pillow writes a comment, an ICC profile or a
    # transparency key it finds in `info`, so nothing else may stay there.
    image.info = {}
    out = io.BytesIO()
    if png:
        options = {} if transparency is None else {"transparency": transparency}
        image.save(out, "PNG", **options)
        return out.getvalue(), "image/png"
    image.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue(), "image/jpeg"


# --------------------------------------------------------------------------
# The entry point
# --------------------------------------------------------------------------


def sanitise(
    data: bytes,
    *,
    max_bytes: int = MAX_BYTES,
    max_pixels: int = MAX_PIXELS,
    downscale: int | None = DOWNSCALE,
) -> Cleaned:
    """Refuse what is not a plain photo; re-encode the rest without metadata.

    Raises `Refused` (and nothing else) for any input bytes. The original
    bytes are never returned. `downscale=None` keeps the full size.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("sanitise() takes the uploaded bytes")
    data = bytes(data)
    if not data:
        raise _refuse("empty")
    if len(data) > max_bytes:
        raise _refuse("too_large", size=_megabytes(len(data)), limit=_megabytes(max_bytes))
    kind = _sniff(data)
    if kind == "pdf":
        scripted = b"/JavaScript" in data or b"/JS" in data
        raise _refuse("pdf_refused", "pdf_javascript" if scripted else None)
    if kind == "unknown":
        raise _refuse("unsupported_type")
    layout = _LAYOUTS[kind](data)
    _refuse_polyglot(data, layout)
    _refuse_bomb(layout.width, layout.height, max_pixels)
    image = _decode(data, kind, max_pixels, downscale)
    try:
        exif_found, orientation = _exif_details(image)
        removed = layout.metadata | exif_found
        for key, name in (("icc_profile", "icc"), ("xmp", "xmp"), ("comment", "comment")):
            if image.info.get(key):
                removed.add(name)
        cleaned = _clean_pixels(image, orientation, downscale)
        body, content_type = _encode(cleaned, kind)
    except Exception:
        raise _refuse("corrupt") from None
    return Cleaned(body, content_type, cleaned.width, cleaned.height, tuple(sorted(removed)))


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"
