"""Intake's own short-lived memory of a conversation, encrypted under a server key.

The chat id is stored only as a blind index; the state (answers so far) is
encrypted; the row is deleted when the intake completes or expires.
"""

from __future__ import annotations

import uuid

from django.db import models

from tropa.vault.fields import EncryptedJSONField, Keyring


class Conversation(models.Model):
    # Encrypted under the server field keyring (rotated by `tropa keys rotate-field-key`).
    VAULT_SERVER_KEYED = True

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    channel = models.CharField(max_length=16)
    chat_index = models.CharField(max_length=64)
    state = EncryptedJSONField()
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.CASCADE)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "chat_index"], name="one_conversation_per_chat"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} conversation {self.pk}"

    def vault_keyring(self) -> Keyring:
        from tropa.vault.services import server_keyring

        return server_keyring()
