"""A case: clear metadata for the queue, everything identifying under the case key.

In clear (cannot identify anyone): codename, status, category, urgency,
language, coarse region, channel, timestamps. Encrypted: identity details,
intake answers, messages, notes.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from tropa.vault import crypto
from tropa.vault.fields import (
    EncryptedBytesField,
    EncryptedJSONField,
    EncryptedTextField,
    Keyring,
    OwnKey,
)


class Status(models.TextChoices):
    """The workflow's states (tropa.cases.workflow holds the allowed moves)."""

    NEW = "new", _("new")
    TRIAGE = "triage", _("triage")
    VERIFICATION = "verification", _("verification")
    IN_PROGRESS = "in_progress", _("in progress")
    ON_THE_MOVE = "on_the_move", _("on the move")
    SAFE = "safe", _("safe")
    HIDDEN = "hidden", _("staying hidden")
    LEGAL = "legal", _("avoided service legally")
    LOST_CONTACT = "lost_contact", _("lost contact")
    CLOSED = "closed", _("closed")


class Outcome(models.TextChoices):
    """How a case ended: the fixed list every closed case records, and what the
    public figures count. Changing it is a code change (and a migration)."""

    LEFT_FRONT_ABROAD = "left_front_abroad", _("left the front and is safe abroad")
    LEFT_FRONT_HIDING = "left_front_hiding", _("left the front and hides inside the country")
    AVOIDED_LEGALLY = "avoided_legally", _("avoided mobilisation or conscription legally")
    AVOIDED_BY_LEAVING = "avoided_by_leaving", _("avoided service by leaving the country")
    PROTECTION_GRANTED = "protection_granted", _("visa or asylum granted")
    LOST_CONTACT = "lost_contact", _("lost contact")
    DECLINED_HELP = "declined_help", _("declined help")
    SUSPECTED_INFILTRATION = "suspected_infiltration", _("suspected infiltration")


class Case(OwnKey, models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    codename = models.CharField(max_length=32, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    category = models.CharField(max_length=32, blank=True)
    urgency = models.PositiveSmallIntegerField(default=0)
    language = models.CharField(max_length=8, blank=True)
    region = models.CharField(max_length=32, blank=True)
    channel = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=32, blank=True, choices=Outcome.choices)
    # "Possibly compromised" (duress PIN, suspicious behaviour, duplicate
    # documents): the case is frozen for coordinators; the reason is a code.
    compromised_at = models.DateTimeField(null=True, blank=True)
    compromised_reason = models.CharField(max_length=32, blank=True)
    # Whoever raised the flag never gets the case from the matcher, even after
    # a coordinator clears it.
    flagged_by = models.ForeignKey(
        "accounts.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set by a coordinator's decision; routes, plans and contacts wait for it.
    verified_at = models.DateTimeField(null=True, blank=True)
    # For the queue: the SLA counts to the first human reply.
    first_reply_at = models.DateTimeField(null=True, blank=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    # The case's own X25519 pair: intake seals new messages to the public half
    # without being able to read anything; the private half is under the case key.
    public_key = models.BinaryField()
    private_key = EncryptedBytesField()
    identity = EncryptedJSONField()

    class Meta:
        indexes = [
            models.Index(fields=["status", "-urgency", "created_at"]),
            # The coordinators' queue orders everything open by these two.
            models.Index(fields=["-urgency", "created_at"], name="case_queue_order"),
        ]

    def __str__(self) -> str:
        return self.codename


class EntryKind(models.TextChoices):
    ANSWER = "answer", _("intake answer")
    MESSAGE_IN = "message_in", _("message from the applicant")
    MESSAGE_OUT = "message_out", _("message to the applicant")
    NOTE = "note", _("internal note")
    STATUS = "status", _("status change")
    SERVICE = "service", _("service")
    ASSIGNMENT = "assignment", _("assignment")
    VERIFICATION = "verification", _("verification")
    JOURNEY = "journey", _("route and journey")
    APPLICATION = "application", _("visa or asylum application")


class CaseEntry(models.Model):
    """One timeline item. Entries written by intake carry their own key, sealed
    to the case public key (write-only); staff entries use the case key."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(max_length=16, choices=EntryKind.choices)
    author = models.ForeignKey(
        "accounts.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    entry_key_wrapped = models.BinaryField(null=True, blank=True)
    body = EncryptedTextField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} in case {self.case_id}"

    def entry_context(self) -> bytes:
        return f"tropa.case-entry:{self.uid}".encode()

    def vault_keyring(self) -> Keyring:
        if self.entry_key_wrapped is None:
            return self.case.vault_keyring()
        key = self.__dict__.get("_entry_key")
        if key is None:
            key = crypto.unwrap_key(
                self.case.private_key, bytes(self.entry_key_wrapped), context=self.entry_context()
            )
            self.__dict__["_entry_key"] = key
        return {1: key}


class CaseIndex(models.Model):
    """Blind index of an identifying value (passport number, Telegram id) for
    duplicate detection: a keyed HMAC, the key outside the database."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="indexes")
    kind = models.CharField(max_length=32)
    digest = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["kind", "digest"])]

    def __str__(self) -> str:
        return f"{self.kind} index of case {self.case_id}"


class Verification(models.Model):
    """The checklist that stands between a new case and anything sensitive."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("pending")
        VERIFIED = "verified", _("verified")
        REJECTED = "rejected", _("rejected")

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="verification")
    documents_checked = models.BooleanField(default=False)
    call_at = models.DateTimeField(null=True, blank=True)
    call_link = EncryptedTextField()  # under the case key
    call_done = models.BooleanField(default=False)
    decision = models.CharField(max_length=12, choices=Decision.choices, default=Decision.PENDING)
    reason = EncryptedTextField()
    decided_by = models.ForeignKey(
        "accounts.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"verification of case {self.case_id}"

    def vault_keyring(self) -> Keyring:
        return self.case.vault_keyring()


class ServiceStatus(models.TextChoices):
    REQUESTED = "requested", _("requested")
    IN_PROGRESS = "in_progress", _("in progress")
    DONE = "done", _("done")
    CANCELLED = "cancelled", _("cancelled")


# A service someone still has to do (the matcher's waiting work, a volunteer's load).
OPEN_SERVICE_STATUSES = (ServiceStatus.REQUESTED, ServiceStatus.IN_PROGRESS)


class CaseService(models.Model):
    """One service a case needs (legal, psychological, evacuation, documents, visa),
    owned by the team of that kind, with its own status and assignee."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="services")
    kind = models.CharField(max_length=32)
    status = models.CharField(
        max_length=16, choices=ServiceStatus.choices, default=ServiceStatus.REQUESTED
    )
    assignee = models.ForeignKey(
        "accounts.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When it was done or cancelled: the backlog chart counts what was open on a day.
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "kind"], name="one_service_of_a_kind")
        ]
        indexes = [
            models.Index(fields=["kind", "status"]),
            models.Index(fields=["assignee", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for case {self.case_id}"


class ServiceSession(models.Model):
    """A consultation or psychological session: when, how long, and an encrypted note."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    service = models.ForeignKey(CaseService, on_delete=models.CASCADE, related_name="sessions")
    held_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField()
    note = EncryptedTextField()
    author = models.ForeignKey(
        "accounts.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["held_at"]

    def __str__(self) -> str:
        return f"session of service {self.service_id}"

    def vault_keyring(self) -> Keyring:
        return self.service.case.vault_keyring()


class QuickReply(models.Model):
    """A saved, translated answer to a common question; coordinators keep the list."""

    title = models.CharField(_("title"), max_length=80)
    text_ru = models.TextField(_("text in Russian"), max_length=4000)
    text_en = models.TextField(_("text in English"), max_length=4000)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def text_for(self, language: str) -> str:
        return self.text_en if language == "en" else self.text_ru
