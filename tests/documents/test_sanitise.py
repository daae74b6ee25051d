"""The upload sanitiser: metadata goes, hostile files are refused, nothing else escapes.

Every image here is synthetic (gradients drawn with Pillow); the camera,
places and comments are invented.
"""

from __future__ import annotations

import io
import struct
import warnings
import zipfile
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms
from PIL.PngImagePlugin import PngInfo

from tropa.documents.sanitise import Cleaned, Refused, sanitise

MAKE = "TropaTestCam"
GPS_TEXT = b"ASCII\x00\x00\x00GPS-FIX-INVENTED"


def picture(width: int = 96, height: int = 64, mode: str = "RGB") -> Image.Image:
    """A deterministic photo-like picture: three gradients, no randomness."""
    gradient = Image.linear_gradient("L")
    channels = [
        gradient.resize((width, height)),
        gradient.rotate(90).resize((width, height)),
        gradient.rotate(45).resize((width, height)),
    ]
    image = Image.merge("RGB", channels)
    return image if mode == "RGB" else image.convert(mode)


def exif_bytes(*, orientation: int = 1, thumbnail: bytes | None = None) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = MAKE
    exif[0x0110] = "Model Seven"
    exif[0x0112] = orientation
    exif.get_ifd(0x8769)[0x927C] = b"maker notes of an invented camera"
    exif.get_ifd(0x8769)[0xA431] = "SERIAL-0000"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (55.0, 45.0, 0.0)
    gps[3], gps[4] = "E", (37.0, 36.0, 0.0)
    gps[0x1B] = GPS_TEXT
    raw = exif.tobytes()
    return raw if thumbnail is None else _with_thumbnail(raw, thumbnail)


def _with_thumbnail(raw: bytes, thumbnail: bytes) -> bytes:
    """Append IFD1 with a JPEG thumbnail, as cameras do (Pillow does not write one)."""
    tiff = bytearray(raw[6:])
    endian = ">" if tiff[:2] == b"MM" else "<"
    (ifd0,) = struct.unpack_from(endian + "I", tiff, 4)
    (count,) = struct.unpack_from(endian + "H", tiff, ifd0)
    if len(tiff) % 2:
        tiff += b"\x00"
    ifd1 = len(tiff)
    struct.pack_into(endian + "I", tiff, ifd0 + 2 + 12 * count, ifd1)
    start = ifd1 + 2 + 2 * 12 + 4
    tiff += struct.pack(endian + "H", 2)
    tiff += struct.pack(endian + "HHII", 0x0201, 4, 1, start)
    tiff += struct.pack(endian + "HHII", 0x0202, 4, 1, len(thumbnail))
    tiff += struct.pack(endian + "I", 0) + thumbnail
    return b"Exif\x00\x00" + bytes(tiff)


def jpeg(image: Image.Image | None = None, **options: object) -> bytes:
    out = io.BytesIO()
    (image or picture()).save(out, "JPEG", quality=85, **options)
    return out.getvalue()


def srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def tagged_jpeg(orientation: int = 1) -> bytes:
    thumbnail = jpeg(picture(16, 12))
    return jpeg(
        exif=exif_bytes(orientation=orientation, thumbnail=thumbnail),
        xmp=b"<x:xmpmeta><rdf:Description about='invented place'/></x:xmpmeta>",
        icc_profile=srgb_profile(),
        comment=b"shot near an invented border crossing",
    )


def png(image: Image.Image | None = None, **options: object) -> bytes:
    out = io.BytesIO()
    (image or picture()).save(out, "PNG", **options)
    return out.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def refusal(data: bytes, **options: int) -> Refused:
    with pytest.raises(Refused) as refused:
        sanitise(data, **options)
    return refused.value


# --------------------------------------------------------------------------
# Metadata
# --------------------------------------------------------------------------


def test_a_jpeg_with_gps_camera_and_thumbnail_comes_out_with_none():
    original = tagged_jpeg()
    assert MAKE.encode() in original and b"GPS" in original
    assert original.count(b"\xff\xd8\xff") == 2  # the photo and its thumbnail

    cleaned = sanitise(original)

    assert cleaned.content_type == "image/jpeg"
    assert set(cleaned.removed) >= {
        "exif", "gps", "camera", "maker_notes", "thumbnail", "xmp", "icc", "comment"
    }  # fmt: skip
    assert MAKE.encode() not in cleaned.data
    assert b"GPS" not in cleaned.data
    assert b"SERIAL" not in cleaned.data and b"invented" not in cleaned.data
    assert cleaned.data.count(b"\xff\xd8\xff") == 1
    out = Image.open(io.BytesIO(cleaned.data))
    assert len(out.getexif()) == 0
    assert not {"exif", "icc_profile", "xmp", "comment"} & set(out.info)
    assert (cleaned.width, cleaned.height) == out.size == (96, 64)


def test_the_exif_orientation_is_applied_before_it_is_dropped():
    cleaned = sanitise(tagged_jpeg(orientation=6))  # rotated 90 degrees by the camera

    assert (cleaned.width, cleaned.height) == (64, 96)
    assert Image.open(io.BytesIO(cleaned.data)).size == (64, 96)


def test_the_original_bytes_are_never_returned():
    plain_jpeg, plain_png = jpeg(), png()

    assert sanitise(plain_jpeg).data != plain_jpeg  # re-encoded, not passed through
    assert sanitise(plain_png).data is not plain_png  # a PNG may re-encode to the same bytes


def test_png_text_time_icc_and_exif_chunks_are_dropped_and_png_stays_png():
    info = PngInfo()
    info.add_text("Author", "An Invented Person")
    info.add_itxt("Comment", "GPS 55.75 37.61 invented", zip=True)
    info.add(b"tIME", struct.pack(">HBBBBB", 2024, 1, 2, 3, 4, 5))
    original = png(pnginfo=info, icc_profile=srgb_profile(), exif=exif_bytes())

    cleaned = sanitise(original)

    assert cleaned.content_type == "image/png"
    assert set(cleaned.removed) >= {"png_text", "png_time", "icc", "exif", "gps", "camera"}
    out = Image.open(io.BytesIO(cleaned.data))
    out.load()
    assert out.format == "PNG"
    assert not out.text and "icc_profile" not in out.info and len(out.getexif()) == 0
    for secret in (b"Invented", b"GPS", MAKE.encode(), b"tIME", b"iCCP", b"eXIf"):
        assert secret not in cleaned.data


def test_a_png_named_jpg_is_detected_from_its_bytes_and_cleaned_as_png():
    # The function never sees a name: "passport.jpg" would be this PNG.
    cleaned = sanitise(png(picture(mode="RGBA")))

    assert cleaned.content_type == "image/png"
    assert Image.open(io.BytesIO(cleaned.data)).mode == "RGBA"


def test_a_webp_with_exif_becomes_a_clean_jpeg():
    out = io.BytesIO()
    picture().save(out, "WEBP", exif=exif_bytes(), quality=80)

    cleaned = sanitise(out.getvalue())

    assert cleaned.content_type == "image/jpeg"
    assert {"exif", "gps", "camera"} <= set(cleaned.removed)
    assert MAKE.encode() not in cleaned.data


def test_grey_cmyk_and_palette_images_are_encoded():
    assert sanitise(jpeg(picture(mode="L"))).content_type == "image/jpeg"
    assert sanitise(jpeg(picture(mode="CMYK"))).content_type == "image/jpeg"
    assert sanitise(png(picture(mode="P"))).content_type == "image/png"


def test_a_very_long_photo_is_downscaled_to_4000_pixels():
    wide = jpeg(picture(6000, 400))

    cleaned = sanitise(wide)

    assert (cleaned.width, cleaned.height) == (4000, 267)
    assert sanitise(wide, downscale=None).width == 6000


def test_extra_mpf_images_are_allowed_and_dropped():
    photo = jpeg()
    segment = b"MPF\x00" + bytes(24)
    with_mpf = photo[:2] + b"\xff\xe2" + struct.pack(">H", len(segment) + 2) + segment
    with_mpf += photo[2:] + jpeg(picture(32, 16))  # an appended gain map

    with pytest.warns(UserWarning):  # Pillow notices the invented MPF header
        cleaned = sanitise(with_mpf)

    assert "extra_images" in cleaned.removed
    assert cleaned.data.count(b"\xff\xd8\xff") == 1


# --------------------------------------------------------------------------
# Refusals
# --------------------------------------------------------------------------


def test_a_decompression_bomb_is_refused_before_decoding():
    header = struct.pack(">IIBBBBB", 50_000, 50_000, 8, 2, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header)
    bomb += png_chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + png_chunk(b"IEND", b"")

    refused = refusal(bomb)

    assert len(bomb) < 200
    assert refused.code == "too_many_pixels"
    assert "50,000 x 50,000" in refused.message


def test_a_jpeg_declaring_too_many_pixels_is_refused():
    small = jpeg()
    sof = small.index(b"\xff\xc0")
    bomb = small[: sof + 5] + struct.pack(">HH", 30_000, 30_000) + small[sof + 9 :]

    assert refusal(bomb).code == "too_many_pixels"
    assert refusal(jpeg(), max_pixels=1000).code == "too_many_pixels"


def test_a_jpeg_with_a_zip_appended_is_a_polyglot():
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("payload.txt", "invented payload")

    refused = refusal(jpeg() + archive.getvalue())

    assert refused.code == "polyglot"
    assert "send a plain photo" in refused.message


@pytest.mark.parametrize(
    "tail",
    [
        b"<html><body><script>alert(1)</script></body></html>",
        b"<SCRIPT>alert(1)</SCRIPT>",
        b"%PDF-1.7\n%%EOF",
        b"<?php echo 1; ?>",
        b"\x01" * 300,  # no signature, but too much to be padding
    ],
)
def test_anything_appended_after_the_image_is_a_polyglot(tail):
    assert refusal(jpeg() + tail).code == "polyglot"
    assert refusal(png() + tail).code == "polyglot"


def test_a_script_hidden_in_a_comment_is_a_polyglot():
    assert refusal(jpeg(comment=b"<script>alert(1)</script>")).code == "polyglot"


def test_a_little_zero_padding_after_the_image_is_tolerated():
    assert sanitise(jpeg() + bytes(4096)).content_type == "image/jpeg"
    assert sanitise(jpeg() + b"\x01\x02").content_type == "image/jpeg"


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.95])
def test_a_truncated_image_is_corrupt(cut):
    for data in (tagged_jpeg(), png()):
        refused = refusal(data[: int(len(data) * cut)])
        assert refused.code == "corrupt"
        assert "damaged or incomplete" in refused.message


def test_a_png_with_a_wrong_checksum_is_corrupt():
    data = bytearray(png())
    data[40] ^= 0xFF

    assert refusal(bytes(data)).code == "corrupt"


def test_a_50_mb_upload_is_refused_by_size():
    huge = b"\xff\xd8\xff\xe0" + bytes(50 * 1024 * 1024)

    refused = refusal(huge)

    assert refused.code == "too_large"
    assert "50.0 MB" in refused.message and "20.0 MB" in refused.message


def test_a_pdf_is_refused_and_its_javascript_mentioned():
    scripted = (
        b"%PDF-1.7\n1 0 obj << /Type /Catalog /OpenAction 2 0 R >> endobj\n"
        b"2 0 obj << /S /JavaScript /JS (app.alert(1)) >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF"
    )

    refused = refusal(scripted)

    assert refused.code == "pdf_refused"
    assert refused.message.startswith("PDFs are not accepted; send a photo of the page")
    assert "JavaScript" in refused.message
    assert "JavaScript" not in refusal(b"%PDF-1.4\n%%EOF").message
    assert refusal(b"junk before the header " + scripted).code == "pdf_refused"


def test_an_empty_upload_is_refused():
    refused = refusal(b"")

    assert (refused.code, refused.message) == ("empty", "The file is empty; send the photo again.")


def test_heic_is_refused_with_advice():
    heic = struct.pack(">I4s4sI", 24, b"ftyp", b"heic", 0) + b"mif1heic"
    heic += struct.pack(">I4s", 16, b"meta") + bytes(8)

    refused = refusal(heic)

    assert refused.code == "unsupported_type"
    assert "HEIC" in refused.message and "JPEG" in refused.message


@pytest.mark.parametrize(
    "data",
    [
        b"GIF89a" + bytes(20),
        b"BM" + bytes(60),
        b"PK\x03\x04" + bytes(30),
        b"<html><script>alert(1)</script></html>",
        bytes(range(256)) * 4,
    ],
)
def test_other_files_are_unsupported(data):
    refused = refusal(data)

    assert refused.code == "unsupported_type"
    assert "send a photo" in refused.message


# --------------------------------------------------------------------------
# Fuzzing: nothing but Refused ever escapes
# --------------------------------------------------------------------------


def _accept_or_refuse(data: bytes) -> Cleaned | None:
    try:
        cleaned = sanitise(data)
    except Refused as refused:
        assert refused.code in {
            "empty", "too_large", "pdf_refused", "unsupported_type", "corrupt", "polyglot",
            "too_many_pixels",
        }  # fmt: skip
        assert refused.message
        return None
    out = Image.open(io.BytesIO(cleaned.data))
    out.load()
    assert len(out.getexif()) == 0
    assert MAKE.encode() not in cleaned.data
    return cleaned


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096))
def test_random_bytes_are_refused(data):
    with pytest.raises(Refused):
        sanitise(data)


MAGIC = [b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF\x00\x00\x00\x00WEBP", b"%PDF-"]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(MAGIC), st.binary(max_size=2048))
def test_random_bytes_behind_a_magic_number_are_refused(magic, rest):
    assert _accept_or_refuse(magic + rest) is None


SAMPLES = {"jpeg": tagged_jpeg(), "png": png(), "jpeg6": tagged_jpeg(orientation=6)}
WEBP = io.BytesIO()
picture(32, 24).save(WEBP, "WEBP", exif=exif_bytes())
SAMPLES["webp"] = WEBP.getvalue()


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(SAMPLES[draw(st.sampled_from(sorted(SAMPLES)))])
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "overwrite"]))
        # Mostly behind the magic number, so the damage reaches the parsers.
        at = draw(st.integers(0, max(len(data) - 1, 0)) | st.integers(12, max(len(data) - 1, 12)))
        at = min(at, max(len(data) - 1, 0))
        if action == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif action == "truncate":
            del data[at:]
        else:
            data[at : at + 4] = draw(
                st.sampled_from([b"\xff\xd9", b"\xff\xda", b"\xff\xff\xff\xff"])
            )
    return bytes(data)


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(mutated())
def test_mutated_images_are_cleaned_or_refused(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns about some broken files
        _accept_or_refuse(data)


# --------------------------------------------------------------------------
# P9
# --------------------------------------------------------------------------


def test_bench_p9_reports_a_row():
    from tropa.bench.documents_bench import bench_p9

    rows = bench_p9(repeats=1)

    assert [row.id for row in rows] == ["P9"]
    assert rows[0].unit == "ms" and rows[0].verdict in ("PASS", "FAIL")
