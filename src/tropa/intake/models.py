"""Intake's own memory of a conversation and of what it still has to send.

Everything here is encrypted under the server field keyring, which the
intake process holds: the chat address (a Telegram chat id) so that replies
can reach the applicant, the flow state while intake runs, a short
transcript for the web chat, and outgoing messages until they are sent. None
of it opens a case: the case itself is sealed to keys intake does not have.
The chat address is found again only through its blind index.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from tropa.vault.fields import EncryptedJSONField, EncryptedTextField, Keyring


class ServerKeyed(models.Model):
    # Encrypted under the server field keyring (`tropa keys rotate-field-key` rotates it).
    VAULT_SERVER_KEYED = True

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    class Meta:
        abstract = True

    def vault_keyring(self) -> Keyring:
        from tropa.vault.services import server_keyring

        return server_keyring()


class Conversation(ServerKeyed):
    channel = models.CharField(max_length=16)
    chat_index = models.CharField(max_length=64)
    address = EncryptedTextField()
    state = EncryptedJSONField()
    transcript = EncryptedJSONField()
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.CASCADE)
    # Blind index of the duress PIN; typing the PIN later flags the case silently.
    duress_index = models.CharField(max_length=64, blank=True)
    duress_at = models.DateTimeField(null=True, blank=True)
    # Web chat: the codename plus this passphrase (hashed) lets the person return.
    passphrase_hash = models.CharField(max_length=256, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # While intake runs, the conversation expires; once it has a case it lives as long.
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "chat_index"], name="one_conversation_per_chat"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} conversation {self.pk}"


class Delivery(models.TextChoices):
    QUEUED = "queued", _("queued")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
    WITHHELD = "withheld", _("withheld (duress)")


class Priority(models.IntegerChoices):
    LIVE = 0, _("reply in a live conversation")
    BULK = 1, _("notification")


class OutboundMessage(ServerKeyed):
    """A message waiting to reach an applicant; its text is erased once delivered."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="outbox")
    text = EncryptedTextField()
    buttons = EncryptedJSONField()
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.LIVE)
    idempotency_key = models.CharField(max_length=80, unique=True)
    status = models.CharField(max_length=12, choices=Delivery.choices, default=Delivery.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    not_before = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    external_id = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["status", "priority", "created_at"])]

    def __str__(self) -> str:
        return f"outbound {self.pk} ({self.status})"
