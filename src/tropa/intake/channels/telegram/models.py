from __future__ import annotations

from django.db import models


class ChatMessage(models.Model):
    """A message in an applicant's Telegram chat (his or the bot's), to delete later.

    Telegram lets a bot delete messages in a private chat, both sides, for 48
    hours; we delete after TROPA_AUTODELETE_HOURS (default 24) so a phone
    seized at a checkpoint shows as little as possible. The chat id is on the
    conversation, encrypted.
    """

    conversation = models.ForeignKey(
        "intake.Conversation", on_delete=models.CASCADE, related_name="telegram_messages"
    )
    message_id = models.BigIntegerField()
    delete_after = models.DateTimeField(db_index=True)
    deleted = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "message_id"], name="one_row_per_message"
            )
        ]

    def __str__(self) -> str:
        return f"telegram message {self.message_id}"


class PollOffset(models.Model):
    """The last update id processed in polling mode, so a restart neither repeats nor skips."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    offset = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"offset {self.offset}"
