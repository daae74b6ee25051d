"""S10, the upload views: any file a caseworker or an applicant sends is stored
clean or refused with a reason, never a 500, and a refusal writes nothing.

The files are mutations of small valid photos (see strategies.py); the kind
field is hostile text. After each upload the Document rows and the encrypted
files on disk are counted: one more of each on success, none on refusal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import event, given
from hypothesis import strategies as st

from tests.conftest import Organisation, in_english, sign_in
from tests.fuzz.conftest import fuzz_settings
from tests.fuzz.strategies import SEEDS, form_text, mutated, seed_bytes
from tests.volunteers.conftest import sealed_case
from tropa.cases.models import Case
from tropa.documents.models import Document
from tropa.documents.sanitise import Refused, sanitise
from tropa.intake.channels.web.services import SESSION_CHAT, SESSION_NOTICE
from tropa.intake.services import conversation_for_chat

# Pillow warns about the broken EXIF it reads in mutated files; the EXIF is dropped anyway.
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:(Corrupt EXIF|Truncated File|Metadata):UserWarning"),
]

kinds = st.sampled_from(["military_id", "foreign_passport", "other"]) | form_text


def accepted(data: bytes) -> bool:
    try:
        sanitise(data)
    except Refused as refusal:
        event(f"refused: {refusal.code}")
        return False
    event("accepted")
    return True


def vault_files(media: Path) -> int:
    root = media / "vault"
    return sum(1 for path in root.rglob("*") if path.is_file()) if root.exists() else 0


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def _stored_once_or_not_at_all(media: Path, before: tuple[int, int], data: bytes) -> None:
    grew = (Document.objects.count() - before[0], vault_files(media) - before[1])
    assert grew == ((1, 1) if accepted(data) else (0, 0))


@fuzz_settings(40)
@given(data=mutated(seed_bytes), kind=kinds)
def test_a_caseworkers_upload_is_stored_clean_or_refused(
    org: Organisation, media: Path, data: bytes, kind: str
) -> None:
    case = Case.objects.first() or sealed_case()
    client = in_english(sign_in(Client(), org.coordinator))
    before = (Document.objects.count(), vault_files(media))
    upload = SimpleUploadedFile("scan.jpg", data, "image/jpeg")
    response = client.post(f"/documents/case/{case.pk}/upload/", {"kind": kind, "file": upload})
    assert response.status_code == 302
    if kind in {"military_id", "foreign_passport", "other"}:
        _stored_once_or_not_at_all(media, before, data)
    else:  # the form refuses an unknown kind before the file is looked at
        assert (Document.objects.count(), vault_files(media)) == before


def applicant_browser(case: Case) -> Client:
    """A web chat whose request is registered (sealed to `case`), in a fresh session."""
    browser = in_english(Client())
    session = browser.session
    chat_id = f"fuzz-{session.session_key or id(browser)}-{Document.objects.count()}"
    session[SESSION_CHAT] = chat_id
    session.save()
    conversation = conversation_for_chat(channel="web", chat_id=chat_id)
    conversation.case, conversation.expires_at = case, None
    conversation.save()
    return browser


@fuzz_settings(40)
@given(data=mutated(seed_bytes), kind=kinds)
def test_an_applicants_upload_is_stored_clean_or_refused(
    org: Organisation, media: Path, data: bytes, kind: str
) -> None:
    case = Case.objects.first() or sealed_case()
    browser = applicant_browser(case)
    before = (Document.objects.count(), vault_files(media))
    upload = SimpleUploadedFile("photo.jpg", data, "image/jpeg")
    response = browser.post("/chat/upload/", {"kind": kind, "file": upload})
    assert response.status_code == 302
    _stored_once_or_not_at_all(media, before, data)
    page = browser.get("/chat/")
    assert page.status_code in (200, 400)  # 400: the page shows why the file was refused
    if page.status_code == 400:
        assert page.context["error"]
    lines = [line["text"] for line in page.context["transcript"]]
    assert all(len(line) < 200 for line in lines), "the kind field was echoed into the chat"


@pytest.mark.parametrize("where", ["staff", "applicant"])
def test_a_file_over_the_limit_is_refused_and_nothing_is_written(
    org: Organisation, media: Path, settings: Any, where: str
) -> None:
    settings.UPLOAD_MAX_BYTES = 64 * 1024
    case = sealed_case()
    oversized = SEEDS["png_bomb"] + b"\x00" * (settings.UPLOAD_MAX_BYTES)
    upload = SimpleUploadedFile("big.png", oversized, "image/png")
    if where == "staff":
        client = in_english(sign_in(Client(), org.coordinator))
        response = client.post(
            f"/documents/case/{case.pk}/upload/", {"kind": "other", "file": upload}
        )
    else:
        client = applicant_browser(case)
        response = client.post("/chat/upload/", {"kind": "other", "file": upload})
        assert "too large" in client.session[SESSION_NOTICE]
    assert response.status_code == 302
    assert (Document.objects.count(), vault_files(media)) == (0, 0)


def test_an_unknown_kind_is_shown_as_other_not_echoed(org: Organisation, media: Path) -> None:
    """Found by the fuzzer: the web chat put the raw `kind` field (any length, bidi
    overrides included) into the applicant's transcript."""
    browser = applicant_browser(sealed_case())
    hostile = "\u202e" + "k" * 5000
    photo = SimpleUploadedFile("photo.jpg", SEEDS["jpeg_exif"], "image/jpeg")
    assert browser.post("/chat/upload/", {"kind": hostile, "file": photo}).status_code == 302
    lines = [line["text"] for line in browser.get("/chat/").context["transcript"]]
    assert "[other document]" in lines and not [line for line in lines if "kkk" in line]
    assert Document.objects.get().kind == "other"
