"""Documents of a case: cleaned images, encrypted on disk, and the facts read from them.

In clear: kind, where it came from, size, type, dimensions, which metadata
was stripped, when. The image is a file encrypted with its own key, sealed to
the case's public key (so intake can store what it cannot read back). The
facts (expiry, nationality, MRZ checks) are under the case key; the number
itself is never stored, only its blind index (`cases.CaseIndex`).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from tropa.vault.fields import EncryptedJSONField, Keyring


class DocumentKind(models.TextChoices):
    INTERNAL_PASSPORT = "internal_passport", _("internal passport")
    FOREIGN_PASSPORT = "foreign_passport", _("foreign passport")
    MILITARY_ID = "military_id", _("military ID")
    SUMMONS = "summons", _("summons")
    MEDICAL_RECORD = "medical_record", _("medical record")
    OTHER = "other", _("other document")


class Source(models.TextChoices):
    TELEGRAM = "telegram", _("Telegram")
    WEB = "web", _("web chat")
    STAFF = "staff", _("caseworker")


class Document(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=24, choices=DocumentKind.choices)
    source = models.CharField(max_length=16, choices=Source.choices)
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    removed = models.JSONField(default=list)  # kinds of metadata stripped, e.g. ["exif", "gps"]
    file_name = models.CharField(max_length=64, blank=True)  # empty once destroyed
    wrapped_key = models.BinaryField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        "accounts.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    destroyed_at = models.DateTimeField(null=True, blank=True)
    facts = EncryptedJSONField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} of case {self.case_id}"

    def vault_keyring(self) -> Keyring:
        return self.case.vault_keyring()

    @property
    def is_destroyed(self) -> bool:
        return self.destroyed_at is not None
