"""Documents: receive (clean, then encrypt), view (decrypt, watermark), read the
facts from the MRZ, warn, and destroy the images when they are no longer needed.

Receiving needs only the case's public key, so intake (which cannot read a
case) stores documents too. The uploaded bytes live in memory only: they are
cleaned by `sanitise` (metadata stripped, re-encoded) and encrypted straight
into the vault (`vault.files`); the original is never stored.
"""

from __future__ import annotations

import io
import shutil
import subprocess  # noqa: S404  (Tesseract, an optional Debian package, on stdin/stdout)
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from tropa.accounts.models import Staff
from tropa.audit.models import Action
from tropa.audit.services import audit_record
from tropa.cases.models import Case, CaseEntry, EntryKind
from tropa.cases.services import case_append_inbound, case_unlock, document_number_index
from tropa.documents import mrz
from tropa.documents.models import Document, DocumentKind
from tropa.documents.sanitise import Cleaned, Refused, sanitise
from tropa.vault import services as vault
from tropa.vault.files import SealedFile, file_destroy, file_open, file_seal

# Blind-index kinds per document kind: the same number in another case flags it.
NUMBER_INDEX = {
    DocumentKind.INTERNAL_PASSPORT: "passport_number",
    DocumentKind.FOREIGN_PASSPORT: "foreign_passport_number",
}

__all__ = ["Refused"]


# The sanitiser's refusals, as the person who sent the file reads them.
REFUSALS = {
    "too_large": gettext_lazy("The file is too large (at most 20 MB). Send a normal photo."),
    "too_many_pixels": gettext_lazy("The image is far larger than a photo. Send a normal photo."),
    "corrupt": gettext_lazy("The image is damaged or incomplete. Take the photo again."),
    "polyglot": gettext_lazy("The file holds something besides the image. Send the photo only."),
    "pdf_refused": gettext_lazy("PDFs are not accepted. Send a photo of the page instead."),
    "unsupported_type": gettext_lazy(
        "Only photos (JPEG, PNG or WebP) are accepted. On an iPhone, send the photo as JPEG."
    ),
    "empty": gettext_lazy("The file is empty."),
}


def refusal_text(error: Refused) -> str:
    """What the sender of a refused file reads, in the active language."""
    return str(REFUSALS.get(error.code, error.message))


# ------------------------------------------------------------------- receive


@transaction.atomic
def document_receive(
    *, case: Case, data: bytes, kind: str, source: str, uploaded_by: Staff | None = None
) -> Document:
    """Clean and store an upload for a case; `Refused` (nothing stored) if it is
    not a plain photo. Needs no keychain: the file key is sealed to the case."""
    if kind not in DocumentKind.values:
        kind = DocumentKind.OTHER
    cleaned: Cleaned = sanitise(data)
    sealed = file_seal(public_key=bytes(case.public_key), src=io.BytesIO(cleaned.data))
    try:
        document = Document.objects.create(
            case=case,
            kind=kind,
            source=source,
            content_type=cleaned.content_type,
            size=len(cleaned.data),
            width=cleaned.width,
            height=cleaned.height,
            removed=list(cleaned.removed),
            file_name=sealed.name,
            wrapped_key=sealed.wrapped_key,
            uploaded_by=uploaded_by,
        )
    except BaseException:
        file_destroy(sealed.name)
        raise
    case_append_inbound(
        case=case, text=f"document received: {kind} ({source})", kind=EntryKind.MESSAGE_IN
    )
    audit_record(
        action=Action.DOCUMENT_STORED,
        actor_id=uploaded_by.pk if uploaded_by else None,
        case_id=case.pk,
        detail={"document_id": document.pk, "kind": kind},
    )
    return document


def document_kind_set(*, document: Document, keychain: vault.Keychain, kind: str) -> None:
    """A caseworker says what a document is (a photo from Telegram arrives as "other")."""
    if kind not in DocumentKind.values:
        raise ValueError(f"unknown document kind {kind!r}")
    case_unlock(case=document.case, keychain=keychain)
    Document.objects.filter(pk=document.pk).update(kind=kind)


# ---------------------------------------------------------------------- view


def _plaintext(document: Document, keychain: vault.Keychain) -> bytes:
    case = case_unlock(case=document.case, keychain=keychain)
    if document.is_destroyed or document.wrapped_key is None:
        raise FileNotFoundError("the image was destroyed; the facts remain")
    sealed = SealedFile(name=document.file_name, wrapped_key=bytes(document.wrapped_key))
    return file_open(sealed=sealed, private_key=bytes(case.private_key))


def document_view(*, document: Document, keychain: vault.Keychain) -> bytes:
    """The image as a JPEG with the viewer's alias and the time across it, audited."""
    from PIL import Image, ImageDraw, ImageFont

    viewer = Staff.objects.get(pk=keychain.staff_id)
    plain = _plaintext(document, keychain)
    with Image.open(io.BytesIO(plain)) as opened:
        image = opened.convert("RGB")
    mark = f"{viewer.alias} · {timezone.now():%Y-%m-%d %H:%M} UTC · Tropa"
    size = max(14, image.width // 40)
    font = ImageFont.load_default(size=size)
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    step_y = size * 6
    for row, y in enumerate(range(0, image.height, step_y)):
        for x in range(-(row % 2) * size * 8, image.width, size * len(mark) // 2 + size * 4):
            draw.text((x, y), mark, font=font, fill=(200, 0, 0, 90))
    marked = Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB")
    out = io.BytesIO()
    marked.save(out, format="JPEG", quality=85)
    audit_record(
        action=Action.DOCUMENT_VIEWED,
        actor_id=viewer.pk,
        case_id=document.case_id,
        detail={"document_id": document.pk},
    )
    return out.getvalue()


# --------------------------------------------------------------------- facts


def ocr_available() -> bool:
    return shutil.which("tesseract") is not None


def mrz_from_image(*, document: Document, keychain: vault.Keychain) -> str | None:
    """The MRZ lines read by Tesseract, or None when it is not installed or
    finds nothing. The image goes through a pipe, never a file."""
    binary = shutil.which("tesseract")
    if binary is None:
        return None
    plain = _plaintext(document, keychain)
    result = subprocess.run(  # noqa: S603  (fixed arguments, no shell)
        [
            binary,
            "stdin",
            "stdout",
            "--psm",
            "6",
            "-c",
            "tessedit_char_whitelist=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<",
        ],
        input=plain,
        capture_output=True,
        timeout=60,
        check=False,
    )
    lines = [
        line.replace(" ", "")
        for line in result.stdout.decode("ascii", "ignore").splitlines()
        if line.count("<") >= 2
    ]
    return "\n".join(lines[-3:]) if lines else None


@dataclass(frozen=True)
class FactsSaved:
    result: mrz.MrzResult
    duplicates: list[int]


@transaction.atomic
def document_facts_from_mrz(
    *, document: Document, keychain: vault.Keychain, text: str, today: date | None = None
) -> FactsSaved:
    """Parse the MRZ (MrzError if it is not one), keep the facts under the case
    key and the number as a blind index; the same number in another case flags
    this one for the coordinators."""
    result = mrz.parse(text, today=today or timezone.localdate())
    case = case_unlock(case=document.case, keychain=keychain)
    document.case = case
    document.facts = {
        "format": result.format,
        "document_code": result.document_code,
        "issuing_state": result.issuing_state,
        "nationality": result.nationality,
        "expiry_date": result.expiry_date.isoformat() if result.expiry_date else None,
        "birth_date": result.birth_date.isoformat() if result.birth_date else None,
        "number_tail": result.document_number[-2:],
        "checks": result.checks,
        "confidence": result.confidence,
        "problems": list(result.problems),
        "corrections": list(result.corrections),
    }
    document.save(update_fields=["facts"])
    duplicates: list[int] = []
    index_kind = NUMBER_INDEX.get(DocumentKind(document.kind))
    if index_kind and result.document_number:
        duplicates = document_number_index(
            case=case, kind=index_kind, value=result.document_number, by_id=keychain.staff_id
        )
    entry = CaseEntry(case=case, kind=EntryKind.VERIFICATION, author_id=keychain.staff_id)
    entry.body = (
        f"MRZ read from {document.kind}: confidence {result.confidence}, "
        f"checks {sum(result.checks.values())}/{len(result.checks)}"
    )
    entry.save()
    return FactsSaved(result=result, duplicates=duplicates)


# ------------------------------------------------------------------ warnings


@dataclass(frozen=True)
class Warning:
    code: str  # "no_foreign_passport" | "foreign_passport_expiring" | "expired"
    document_id: int | None = None
    expiry: date | None = None


def document_warnings(case: Case, *, today: date | None = None) -> list[Warning]:
    """What matters for routes: no foreign passport, or one expiring within
    `DOCUMENT_EXPIRY_WARNING_MONTHS` (needs the case unlocked to read facts)."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=30 * settings.DOCUMENT_EXPIRY_WARNING_MONTHS)
    warnings = []
    documents = list(Document.objects.filter(case=case))
    passports = [d for d in documents if d.kind == DocumentKind.FOREIGN_PASSPORT]
    if not passports:
        warnings.append(Warning("no_foreign_passport"))
    for document in documents:
        document.case = case
        expiry_text = (document.facts or {}).get("expiry_date")
        if not expiry_text:
            continue
        expiry = date.fromisoformat(expiry_text)
        if expiry < today:
            warnings.append(Warning("expired", document.pk, expiry))
        elif document.kind == DocumentKind.FOREIGN_PASSPORT and expiry <= horizon:
            warnings.append(Warning("foreign_passport_expiring", document.pk, expiry))
    return warnings


# ----------------------------------------------------------------- retention


def documents_due(*, now: datetime | None = None) -> list[int]:
    """Images kept past `DOCUMENT_RETENTION_DAYS` after the case was verified or closed."""
    now = now or timezone.now()
    limit = now - timedelta(days=settings.DOCUMENT_RETENTION_DAYS)
    due = Document.objects.filter(destroyed_at=None).filter(
        Q(case__verified_at__lte=limit) | Q(case__closed_at__lte=limit)
    )
    return list(due.order_by("pk").values_list("pk", flat=True))


@transaction.atomic
def document_destroy(*, document_id: int, by: Staff | None = None) -> None:
    """Crypto-shred the image (its wrapped key and its file); the facts stay."""
    document = Document.objects.select_for_update().get(pk=document_id)
    if document.is_destroyed:
        return
    name = document.file_name
    Document.objects.filter(pk=document.pk).update(
        destroyed_at=timezone.now(), wrapped_key=None, file_name=""
    )
    transaction.on_commit(lambda: file_destroy(name))
    audit_record(
        action=Action.DOCUMENT_DESTROYED,
        actor_id=by.pk if by else None,
        case_id=document.case_id,
        detail={"document_id": document.pk},
    )


def documents_retention_run(*, now: datetime | None = None) -> int:
    due = documents_due(now=now)
    for document_id in due:
        document_destroy(document_id=document_id)
    return len(due)
