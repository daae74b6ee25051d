"""Telegram, on the Django side: turn updates into intake messages, remember
which chat messages to delete, and wipe a chat on the panic word."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from tropa.intake import flows
from tropa.intake.channels.telegram.models import ChatMessage, HandledUpdate
from tropa.intake.models import Conversation
from tropa.intake.services import (
    Received,
    conversation_for_chat,
    conversations_for_chats,
    intake_receive,
    intake_receive_batch,
)

logger = logging.getLogger(__name__)
CHANNEL = "telegram"
MAX_TEXT = 4096  # Telegram's own limit for one message


@dataclass(frozen=True)
class ParsedUpdate:
    """The only parts of a Telegram update intake looks at."""

    update_id: int
    chat_id: int
    message_id: int | None
    inbound: flows.Inbound
    callback_id: str | None = None


def parse_update(data: Any) -> ParsedUpdate | None:
    """A private-chat message or button press, or None for anything else.

    Strict at the edge: every field is checked for type here; an update of
    any other shape (a group, a channel post, an edit, a sticker...) is
    acknowledged and ignored, so Telegram does not resend it forever.
    """
    update_id = _int64(data.get("update_id")) if isinstance(data, dict) else None
    if update_id is None:
        return None
    if isinstance(data.get("message"), dict):
        return _parse_message(update_id, data["message"])
    if isinstance(data.get("callback_query"), dict):
        return _parse_callback(update_id, data["callback_query"])
    return None


# Telegram's ids fit in 64 bits (chat ids in 52); anything bigger is not from
# Telegram and would overflow a BIGINT column.
_INT64 = range(-(2**63), 2**63)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _int64(value: Any) -> int | None:
    return value if type(value) is int and value in _INT64 else None


def _text(value: Any) -> str:
    """A string field, or "" if it is not one. JSON may escape lone surrogates
    ("\\ud800"), which UTF-8 cannot encode; they become U+FFFD here."""
    return _SURROGATE.sub("\ufffd", value) if isinstance(value, str) else ""


def _private_chat_id(message: dict[str, Any]) -> int | None:
    chat = message.get("chat")
    if not isinstance(chat, dict) or chat.get("type") != "private":
        return None
    return _int64(chat.get("id"))


def _parse_message(update_id: int, message: dict[str, Any]) -> ParsedUpdate | None:
    chat_id = _private_chat_id(message)
    message_id = _int64(message.get("message_id"))
    if chat_id is None or message_id is None:
        return None
    text = _text(message.get("text"))
    caption = _text(message.get("caption"))
    file_ref = _file_ref(message)
    if file_ref:
        inbound = flows.Inbound(kind="file", text=caption[:MAX_TEXT], file_ref=file_ref)
    elif text.strip() == "/start" or text.startswith("/start "):
        inbound = flows.Inbound(kind="start")
    elif text:
        inbound = flows.Inbound(kind="text", text=text[:MAX_TEXT])
    else:
        return None
    return ParsedUpdate(update_id, chat_id, message_id, inbound)


def _file_ref(message: dict[str, Any]) -> str | None:
    photos = message.get("photo")
    if isinstance(photos, list) and photos and isinstance(photos[-1], dict):
        return _text(photos[-1].get("file_id")) or None  # the largest size comes last
    document = message.get("document")
    if isinstance(document, dict):
        return _text(document.get("file_id")) or None
    return None


def _parse_callback(update_id: int, callback: dict[str, Any]) -> ParsedUpdate | None:
    message = callback.get("message")
    data = callback.get("data")
    callback_id = callback.get("id")
    if not (isinstance(message, dict) and isinstance(data, str) and isinstance(callback_id, str)):
        return None
    data, callback_id = _text(data), _text(callback_id)
    chat_id = _private_chat_id(message)
    if chat_id is None:
        return None
    return ParsedUpdate(
        update_id, chat_id, None, flows.Inbound(kind="choice", choice=data[:64]), callback_id
    )


# Telegram keeps an unconfirmed update for 24 hours; a day more is margin enough.
HANDLED_UPDATES_KEPT = timedelta(hours=48)


@transaction.atomic
def update_handle(update: ParsedUpdate) -> Received | None:
    """Run one update through intake; the applicant's own message is remembered
    first, so that it is deleted with the rest (at once, for the panic word).

    None when this update was handled before: its id is recorded in the same
    transaction as everything it caused, so a redelivery changes nothing, and a
    worker killed halfway rolls back both and the redelivery does the work.
    """
    if not _update_first_time(update.update_id):
        logger.info("telegram update %s already handled", update.update_id)
        return None
    if update.message_id is not None:
        conversation = conversation_for_chat(channel=CHANNEL, chat_id=str(update.chat_id))
        message_remember(conversation, update.message_id)
    return intake_receive(channel=CHANNEL, address=str(update.chat_id), inbound=update.inbound)


@transaction.atomic
def updates_handle(updates: Sequence[ParsedUpdate]) -> int:
    """One getUpdates answer in one transaction (group commit): each update as
    `update_handle` would handle it, in order, with one lookup, one INSERT per
    table and one commit for the lot. Returns how many were new. If anything
    fails, nothing is kept and the caller handles the updates one at a time."""
    ids = [update.update_id for update in updates]
    seen = set(HandledUpdate.objects.filter(update_id__in=ids).values_list("update_id", flat=True))
    fresh = list({u.update_id: u for u in updates if u.update_id not in seen}.values())
    if not fresh:
        return 0
    now = timezone.now()
    HandledUpdate.objects.bulk_create(
        HandledUpdate(update_id=u.update_id, handled_at=now) for u in fresh
    )
    # The applicant's own messages are remembered first, so that a panic word
    # later in the batch deletes them too.
    typed = [u for u in fresh if u.message_id is not None]
    conversations = conversations_for_chats(
        channel=CHANNEL, chat_ids=[str(u.chat_id) for u in typed]
    )
    delete_after = now + timedelta(hours=settings.INTAKE_AUTODELETE_HOURS)
    ChatMessage.objects.bulk_create(
        (
            ChatMessage(
                conversation=conversations[str(u.chat_id)],
                message_id=u.message_id,
                delete_after=delete_after,
            )
            for u in typed
        ),
        ignore_conflicts=True,
    )
    intake_receive_batch(
        channel=CHANNEL,
        messages=[(str(u.chat_id), u.inbound) for u in fresh],
        conversations=conversations,
    )
    return len(fresh)


def _update_first_time(update_id: int) -> bool:
    # A savepoint, so a duplicate leaves the outer transaction usable. On PostgreSQL a
    # second delivery racing the first waits on the key until the first commits.
    try:
        with transaction.atomic():
            HandledUpdate.objects.create(update_id=update_id, handled_at=timezone.now())
    except IntegrityError:
        return False
    return True


def handled_updates_forget() -> int:
    """Drop update ids older than Telegram would ever redeliver."""
    cutoff = timezone.now() - HANDLED_UPDATES_KEPT
    deleted, _ = HandledUpdate.objects.filter(handled_at__lt=cutoff).delete()
    return deleted


def message_remember(conversation: Conversation, message_id: int) -> None:
    ChatMessage.objects.get_or_create(
        conversation=conversation,
        message_id=message_id,
        defaults={
            "delete_after": timezone.now() + timedelta(hours=settings.INTAKE_AUTODELETE_HOURS)
        },
    )


def chat_wipe(conversation: Conversation) -> None:
    """The panic word: every message we know of in this chat is due for deletion now."""
    ChatMessage.objects.filter(conversation=conversation, deleted=False).update(
        delete_after=timezone.now()
    )


def deletions_due(limit: int = 100) -> list[tuple[int, int, int]]:
    """(row id, chat id, message id) of messages to delete now."""
    rows = (
        ChatMessage.objects.filter(deleted=False, delete_after__lte=timezone.now())
        .select_related("conversation")
        .order_by("delete_after")[:limit]
    )
    return [(row.pk, int(row.conversation.address), row.message_id) for row in rows]


def deletion_done(row_id: int) -> None:
    ChatMessage.objects.filter(pk=row_id).update(deleted=True)
