"""An application for a visa, a humanitarian visa or asylum, tracked per case.

In clear (the queue needs them, they name nobody): kind, destination country,
stage, decision, dates and the next deadline. Under the case key: notes and
which case documents support it.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from tropa.vault.fields import EncryptedJSONField, EncryptedTextField, Keyring


class Kind(models.TextChoices):
    VISA = "visa", _("visa")
    HUMANITARIAN_VISA = "humanitarian_visa", _("humanitarian visa")
    ASYLUM = "asylum", _("asylum")


class Stage(models.TextChoices):
    PREPARING = "preparing", _("preparing")
    SUBMITTED = "submitted", _("submitted")
    INTERVIEW = "interview", _("interview")
    DECIDED = "decided", _("decided")
    APPEALED = "appealed", _("appealed")


class Decision(models.TextChoices):
    GRANTED = "granted", _("granted")
    REFUSED = "refused", _("refused")


class DeadlineKind(models.TextChoices):
    DOCUMENTS = "documents", _("documents due")
    BIOMETRICS = "biometrics", _("biometrics appointment")
    INTERVIEW = "interview", _("interview")
    APPEAL = "appeal", _("appeal due")
    OTHER = "other", _("other")


class Application(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="applications")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    country = models.CharField(max_length=2)  # ISO 3166 alpha-2
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.PREPARING)
    decision = models.CharField(max_length=16, choices=Decision.choices, blank=True)
    submitted_on = models.DateField(null=True, blank=True)
    interview_on = models.DateField(null=True, blank=True)
    decided_on = models.DateField(null=True, blank=True)
    deadline = models.DateField(null=True, blank=True)
    deadline_kind = models.CharField(max_length=16, choices=DeadlineKind.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        "accounts.Staff", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    notes = EncryptedTextField()
    documents = EncryptedJSONField()  # short references to the case's documents

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["deadline"], name="application_deadline")]

    def __str__(self) -> str:
        return f"{self.kind} application of case {self.case_id}"

    def vault_keyring(self) -> Keyring:
        return self.case.vault_keyring()

    @property
    def is_open(self) -> bool:
        return self.stage != Stage.DECIDED
