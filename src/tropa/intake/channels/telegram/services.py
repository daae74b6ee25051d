"""Telegram, on the Django side: turn updates into intake messages, remember
which chat messages to delete, and wipe a chat on the panic word."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tropa.intake import flows
from tropa.intake.channels.telegram.models import ChatMessage
from tropa.intake.models import Conversation
from tropa.intake.services import Received, conversation_for_chat, intake_receive

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
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        return None
    if isinstance(data.get("message"), dict):
        return _parse_message(data["update_id"], data["message"])
    if isinstance(data.get("callback_query"), dict):
        return _parse_callback(data["update_id"], data["callback_query"])
    return None


def _private_chat_id(message: dict[str, Any]) -> int | None:
    chat = message.get("chat")
    if not isinstance(chat, dict) or chat.get("type") != "private":
        return None
    chat_id = chat.get("id")
    return chat_id if isinstance(chat_id, int) and not isinstance(chat_id, bool) else None


def _parse_message(update_id: int, message: dict[str, Any]) -> ParsedUpdate | None:
    chat_id = _private_chat_id(message)
    message_id = message.get("message_id")
    if chat_id is None or not isinstance(message_id, int):
        return None
    text = message.get("text") if isinstance(message.get("text"), str) else ""
    caption = message.get("caption") if isinstance(message.get("caption"), str) else ""
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
        file_id = photos[-1].get("file_id")  # the largest size comes last
        return file_id if isinstance(file_id, str) else None
    document = message.get("document")
    if isinstance(document, dict) and isinstance(document.get("file_id"), str):
        return document["file_id"]
    return None


def _parse_callback(update_id: int, callback: dict[str, Any]) -> ParsedUpdate | None:
    message = callback.get("message")
    data = callback.get("data")
    callback_id = callback.get("id")
    if not (isinstance(message, dict) and isinstance(data, str) and isinstance(callback_id, str)):
        return None
    chat_id = _private_chat_id(message)
    if chat_id is None:
        return None
    return ParsedUpdate(
        update_id, chat_id, None, flows.Inbound(kind="choice", choice=data[:64]), callback_id
    )


@transaction.atomic
def update_handle(update: ParsedUpdate) -> Received:
    """Run one update through intake; the applicant's own message is remembered
    first, so that it is deleted with the rest (at once, for the panic word)."""
    if update.message_id is not None:
        conversation = conversation_for_chat(channel=CHANNEL, chat_id=str(update.chat_id))
        message_remember(conversation, update.message_id)
    return intake_receive(channel=CHANNEL, address=str(update.chat_id), inbound=update.inbound)


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
