"""Documents in the web app: uploads cleaned and encrypted, refusals that store
nothing, watermarked views never cached, MRZ facts under the case key, warnings,
duplicates and retention."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from PIL import Image

from tests.conftest import Organisation, audit_actions, in_english, keychain_of, sign_in
from tests.volunteers.conftest import sealed_case
from tropa.cases.models import Case
from tropa.documents import mrz
from tropa.documents.models import Document
from tropa.documents.services import document_facts_from_mrz, document_receive, documents_due

CAMERA = "CanaryCam Z9000"


def jpeg_with_gps(width: int = 640, height: int = 480) -> bytes:
    image = Image.new("RGB", (width, height), (120, 80, 40))
    exif = Image.Exif()
    exif[0x010F] = CAMERA  # Make
    exif[0x0110] = "Model CANARY"  # Model
    exif.get_ifd(0x8825).update({1: "N", 2: (55.0, 45.0, 30.0), 3: "E", 4: (37.0, 37.0, 0.0)})
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def td3(number: str, *, expiry: date, nationality: str = "UTO") -> str:
    """A synthetic passport MRZ with correct check digits (invented person)."""
    line1 = f"P<{nationality}TESTOV<<PRIMER".ljust(44, "<")
    birth = "900101"
    exp = expiry.strftime("%y%m%d")
    optional = "<" * 14
    body = (
        f"{number}{mrz.check_digit(number)}{nationality}{birth}{mrz.check_digit(birth)}M"
        f"{exp}{mrz.check_digit(exp)}{optional}{mrz.check_digit(optional)}"
    )
    composite = body[0:10] + body[13:20] + body[21:43]
    return f"{line1}\n{body}{mrz.check_digit(composite)}"


def _vault_bytes(settings: Any) -> bytes:
    root = Path(settings.MEDIA_ROOT) / "vault"
    return b"".join(p.read_bytes() for p in root.iterdir()) if root.exists() else b""


def _upload(client: Client, case: Case, content: bytes, kind: str = "foreign_passport") -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        f"/documents/case/{case.pk}/upload/",
        {"kind": kind, "file": SimpleUploadedFile("scan.jpg", content, "image/jpeg")},
    )


def test_an_upload_is_stored_without_metadata_and_encrypted(
    org: Organisation, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    case = sealed_case()
    client = in_english(sign_in(Client(), org.coordinator))
    response = _upload(client, case, jpeg_with_gps())
    assert response.status_code == 302
    document = Document.objects.get()
    assert {"exif", "gps"} <= set(document.removed)
    on_disk = _vault_bytes(settings)
    assert on_disk and CAMERA.encode() not in on_disk and b"\xff\xd8\xff" not in on_disk[:3]
    viewed = client.get(f"/documents/{document.pk}/image.jpg")
    assert viewed["Content-Type"] == "image/jpeg"
    assert viewed["Cache-Control"].startswith("no-store")
    shown = Image.open(io.BytesIO(viewed.content))
    assert not shown.getexif() and CAMERA.encode() not in viewed.content
    assert shown.getpixel((5, 5)) != (120, 80, 40) or shown.getpixel((300, 200)) != (120, 80, 40)
    assert "document.stored" in audit_actions() and "document.viewed" in audit_actions()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"%PDF-1.7\n1 0 obj << /OpenAction << /JS (app.alert(1)) >> >>", "PDFs are not"),
        (jpeg_with_gps()[:400], "damaged"),
        (jpeg_with_gps() + b"PK\x03\x04" + b"\x00" * 2000, "besides the image"),
        (b"MZ\x90\x00" + b"\x00" * 500, "Only photos"),
    ],
    ids=["pdf-with-javascript", "truncated", "polyglot-zip", "executable"],
)
def test_hostile_uploads_are_refused_with_a_message_and_nothing_stored(
    org: Organisation, settings: Any, tmp_path: Path, content: bytes, message: str
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    case = sealed_case()
    client = in_english(sign_in(Client(), org.coordinator))
    response = _upload(client, case, content)
    page = client.get(response["Location"]).content.decode()
    assert message in page
    assert not Document.objects.exists() and _vault_bytes(settings) == b""


def test_fifty_megabytes_never_reach_memory_or_disk(
    org: Organisation, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    case = sealed_case()
    client = in_english(sign_in(Client(), org.coordinator))
    response = _upload(client, case, b"\xff\xd8\xff\xe0" + b"\x00" * (50 * 1024 * 1024))
    assert "too large" in client.get(response["Location"]).content.decode()
    assert not Document.objects.exists() and _vault_bytes(settings) == b""


def test_a_png_named_jpg_is_treated_as_what_it_is(
    org: Organisation, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    out = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 20, 30)).save(out, format="PNG")
    document = document_receive(case=sealed_case(), data=out.getvalue(), kind="other", source="web")
    assert document.content_type == "image/png"


def test_mrz_facts_are_encrypted_and_a_second_case_with_the_number_is_flagged(
    org: Organisation, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    keychain = keychain_of(org.coordinator)
    number = "ZK7730291"
    text = td3(number, expiry=timezone.localdate() + timedelta(days=90))
    first, second = sealed_case(), sealed_case()
    for case in (first, second):
        document = document_receive(
            case=case, data=jpeg_with_gps(), kind="foreign_passport", source="staff"
        )
        saved = document_facts_from_mrz(document=document, keychain=keychain, text=text)
        assert all(saved.result.checks.values())
    assert saved.duplicates == [first.pk]
    assert Case.objects.get(pk=second.pk).compromised_reason == "duplicate_documents"
    assert Case.objects.get(pk=first.pk).compromised_at is None
    with connection.cursor() as cursor:
        for table in ("documents_document", "cases_caseindex", "cases_caseentry"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608  (fixed names)
            assert number not in repr(cursor.fetchall())
    # The foreign passport expires within six months: the case page says so.
    page = in_english(sign_in(Client(), org.coordinator)).get(f"/documents/case/{first.pk}/")
    assert "The foreign passport expires on" in page.content.decode()


def test_a_case_without_a_foreign_passport_is_warned(org: Organisation) -> None:
    case = sealed_case()
    page = in_english(sign_in(Client(), org.coordinator)).get(f"/documents/case/{case.pk}/")
    assert "No foreign passport in this case" in page.content.decode()


def test_images_are_destroyed_after_verification_and_the_facts_stay(
    org: Organisation, settings: Any, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    from tropa.documents.services import documents_retention_run

    settings.MEDIA_ROOT = str(tmp_path)
    case = sealed_case()
    keychain = keychain_of(org.coordinator)
    document = document_receive(
        case=case, data=jpeg_with_gps(), kind="foreign_passport", source="web"
    )
    document_facts_from_mrz(
        document=document,
        keychain=keychain,
        text=td3("AB1234567", expiry=timezone.localdate() + timedelta(days=900)),
    )
    Case.objects.filter(pk=case.pk).update(verified_at=timezone.now() - timedelta(days=31))
    assert documents_due() == [document.pk]
    with django_capture_on_commit_callbacks(execute=True):
        assert documents_retention_run() == 1
    assert _vault_bytes(settings) == b""
    kept = Document.objects.get()
    assert kept.is_destroyed and kept.wrapped_key is None
    page = in_english(sign_in(Client(), org.coordinator)).get(f"/documents/case/{case.pk}/")
    assert "The image was destroyed; the facts remain." in page.content.decode()
    assert org.coordinator.staff and "document.destroyed" in audit_actions()
    client = sign_in(Client(), org.coordinator)
    assert client.get(f"/documents/{kept.pk}/image.jpg").status_code == 404


def test_only_people_with_the_case_see_its_documents(
    org: Organisation, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    document = document_receive(
        case=sealed_case(), data=jpeg_with_gps(), kind="summons", source="web"
    )
    lawyer = sign_in(Client(), org.caseworker)
    assert lawyer.get(f"/documents/case/{document.case_id}/").status_code == 404
    assert lawyer.get(f"/documents/{document.pk}/image.jpg").status_code == 404


def test_the_applicant_sends_a_photo_from_the_web_chat(
    org: Organisation, settings: Any, tmp_path: Path
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tropa.intake.channels.web.services import SESSION_CHAT
    from tropa.intake.services import conversation_for_chat

    settings.MEDIA_ROOT = str(tmp_path)
    browser = in_english(Client())
    session = browser.session
    session[SESSION_CHAT] = "web-upload-chat"
    session.save()
    conversation = conversation_for_chat(channel="web", chat_id="web-upload-chat")
    # Before the request is registered there is nothing to attach a document to.
    assert "Send a photo of a document" not in browser.get("/chat/").content.decode()
    photo = SimpleUploadedFile("x.jpg", jpeg_with_gps(), "image/jpeg")
    browser.post("/chat/upload/", {"kind": "military_id", "file": photo})
    assert not Document.objects.exists()

    case = sealed_case()
    conversation.case, conversation.expires_at = case, None
    conversation.save()
    assert "Send a photo of a document" in browser.get("/chat/").content.decode()
    photo = SimpleUploadedFile("x.jpg", jpeg_with_gps(), "image/jpeg")
    browser.post("/chat/upload/", {"kind": "military_id", "file": photo})
    document = Document.objects.get()
    assert (document.kind, document.source, document.case_id) == ("military_id", "web", case.pk)
    page = browser.get("/chat/").content.decode()
    assert "Photo received and stored safely" in page
    bad = SimpleUploadedFile("x.jpg", b"%PDF-1.4 /JavaScript", "image/jpeg")
    browser.post("/chat/upload/", {"kind": "summons", "file": bad})
    assert "PDFs are not accepted" in browser.get("/chat/").content.decode()
    assert Document.objects.count() == 1


def test_without_tesseract_the_caseworker_types_the_mrz(
    org: Organisation, settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OCR is optional: without it there is no OCR button and asking for it says
    to type the lines in; typing them works the same."""
    monkeypatch.setattr("tropa.documents.services.shutil.which", lambda name: None)
    settings.MEDIA_ROOT = str(tmp_path)
    document = document_receive(
        case=sealed_case(), data=jpeg_with_gps(), kind="foreign_passport", source="web"
    )
    client = in_english(sign_in(Client(), org.coordinator))
    page = client.get(f"/documents/case/{document.case_id}/").content.decode()
    assert "Read from the photo (OCR)" not in page
    response = client.post(f"/documents/{document.pk}/mrz/", {"text": "", "ocr": "1"})
    assert "type them in" in client.get(response["Location"]).content.decode()
    text = td3("CD9876543", expiry=timezone.localdate() + timedelta(days=3000))
    response = client.post(f"/documents/{document.pk}/mrz/", {"text": text})
    assert "check digits pass" in client.get(response["Location"]).content.decode()


@pytest.mark.skipif(not __import__("shutil").which("tesseract"), reason="tesseract not installed")
def test_tesseract_reads_a_printed_mrz(org: Organisation, settings: Any, tmp_path: Path) -> None:
    from PIL import ImageDraw, ImageFont

    from tropa.documents.services import mrz_from_image

    settings.MEDIA_ROOT = str(tmp_path)
    text = td3("EF1357924", expiry=timezone.localdate() + timedelta(days=3000))
    image = Image.new("RGB", (1700, 260), "white")
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf", 34)
    ImageDraw.Draw(image).multiline_text((20, 40), text, fill="black", font=font, spacing=30)
    out = io.BytesIO()
    image.save(out, format="PNG")
    document = document_receive(case=sealed_case(), data=out.getvalue(), kind="other", source="web")
    read = mrz_from_image(document=document, keychain=keychain_of(org.coordinator))
    assert read is not None and mrz.parse(read).document_number == "EF1357924"


def test_a_caseworker_says_what_a_telegram_photo_is(
    org: Organisation, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    document = document_receive(
        case=sealed_case(), data=jpeg_with_gps(), kind="other", source="telegram"
    )
    client = sign_in(Client(), org.coordinator)
    client.post(f"/documents/{document.pk}/kind/", {"kind": "military_id"})
    assert Document.objects.get(pk=document.pk).kind == "military_id"
    assert client.post(f"/documents/{document.pk}/kind/", {"kind": "passport!"}).status_code == 404
    lawyer = sign_in(Client(), org.caseworker)
    assert lawyer.post(f"/documents/{document.pk}/kind/", {"kind": "other"}).status_code == 404
