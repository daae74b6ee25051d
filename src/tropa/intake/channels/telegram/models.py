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


class HandledUpdate(models.Model):
    """A Telegram update id already handled, written in the same transaction as its effects.

    Telegram sends an update again when it got no 200 for it (a web worker killed after
    the commit, a proxy timeout), and a polling worker killed between handling an update
    and saving the offset fetches it again. The primary key makes the second delivery a
    no-op: the applicant's message is in the case once and a check-in button counts once.
    Update ids are the bot's own counter and say nothing about the person; rows older
    than Telegram's redelivery horizon are deleted (`handled_updates_forget`).
    """

    update_id = models.BigIntegerField(primary_key=True)
    handled_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"update {self.update_id}"
