"""The web chat's own state: which conversation a browser session talks in,
what it may see, and how a person comes back with codename and passphrase."""

from __future__ import annotations

import secrets
import time
from datetime import timedelta
from typing import Any

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone

from tropa.intake import flows
from tropa.intake.models import Conversation, Delivery
from tropa.intake.services import (
    RELAYED_KEY_PREFIXES,
    TRANSCRIPT_LENGTH,
    Received,
    conversation_find,
    intake_receive,
)

CHANNEL = "web"
SESSION_CHAT = "tropa.webchat.id"
SESSION_RATE = "tropa.webchat.rate"
# A message for the next page view (e.g. why an upload was refused).
SESSION_NOTICE = "tropa.webchat.notice"
# Short everyday words: easy to remember, nothing that hints at the topic.
WORDS = (
    "apple river stone cloud maple window garden silver candle forest summer orange "
    "pencil bridge yellow winter thunder coffee island rocket violet meadow mirror "
    "blanket harbor lemon marble pepper ribbon saddle tunnel velvet walnut anchor "
    "basket copper dolphin feather hammer lantern mountain needle pocket rabbit "
    "shadow timber wagon zebra"
).split()
MAX_MESSAGES_PER_MINUTE = 20


def chat_id_new() -> str:
    return secrets.token_urlsafe(24)


def receive(*, chat_id: str, inbound: flows.Inbound) -> Received:
    label = _button_label(chat_id, inbound.choice) if inbound.choice else None
    received = intake_receive(channel=CHANNEL, address=chat_id, inbound=inbound)
    if not received.wiped and inbound.kind != "start":
        shown = inbound.text or label or inbound.choice or ""
        if shown:
            transcript_add(received.conversation, "you", shown, before=len(received.outbound))
    return received


def _button_label(chat_id: str, value: str) -> str | None:
    """What the pressed button said, for the transcript (its value is for machines)."""
    conversation = conversation_find(channel=CHANNEL, chat_id=chat_id)
    if conversation is None:
        return None
    for message in conversation.outbox.order_by("-created_at", "-id")[:5]:
        for button_value, label in message.buttons or []:
            if button_value == value:
                return str(label)
    return None


def transcript_add(conversation: Conversation, author: str, text: str, *, before: int = 0) -> None:
    """A line in the page's transcript (`before`: that many lines from the end)."""
    transcript = list(conversation.transcript or [])
    position = max(0, len(transcript) - before)
    transcript.insert(position, {"from": author, "text": text})
    conversation.transcript = transcript
    conversation.save(update_fields=["transcript", "updated_at"])


@transaction.atomic
def page_state(
    *, chat_id: str
) -> tuple[list[dict[str, str]], list[list[str]], Conversation | None]:
    """The transcript and the buttons of the last question; delivers queued replies."""
    conversation = conversation_find(channel=CHANNEL, chat_id=chat_id)
    if conversation is None:
        return [], [], None
    pending = list(conversation.outbox.filter(status=Delivery.QUEUED).order_by("created_at", "id"))
    transcript = list(conversation.transcript or [])
    if pending:
        # Flow messages are in the transcript already; replies and notices are not.
        transcript += [
            {"from": "tropa", "text": message.text}
            for message in pending
            if message.idempotency_key.startswith(RELAYED_KEY_PREFIXES)
        ]
        conversation.outbox.filter(pk__in=[m.pk for m in pending]).update(
            status=Delivery.SENT, sent_at=timezone.now()
        )
        conversation.transcript = transcript[-TRANSCRIPT_LENGTH:]
        conversation.save(update_fields=["transcript", "updated_at"])
        last = pending[-1]
    else:
        last = (
            conversation.outbox.filter(status=Delivery.SENT).order_by("-created_at", "-id").first()
        )
    buttons = (last.buttons or []) if last is not None else []
    return transcript, buttons, conversation


def passphrase_issue(conversation: Conversation) -> str:
    """Shown once, after intake: with the codename it brings the person back."""
    phrase = " ".join(secrets.choice(WORDS) for _ in range(4))
    conversation.passphrase_hash = make_password(phrase)
    conversation.save(update_fields=["passphrase_hash", "updated_at"])
    return phrase


def conversation_return(*, codename: str, passphrase: str) -> Conversation | None:
    """The conversation behind a codename, if the passphrase matches."""
    conversation = (
        Conversation.objects.filter(channel=CHANNEL, case__codename__iexact=codename.strip())
        .exclude(passphrase_hash="")
        .first()
    )
    if conversation is None:
        make_password(passphrase)  # the same work either way
        return None
    if not check_password(" ".join(passphrase.lower().split()), conversation.passphrase_hash):
        return None
    return conversation


def session_rate_ok(session: Any) -> bool:
    """Counts this post against the session's per-minute allowance (messages and uploads)."""
    allowed, history = rate_ok(session.get(SESSION_RATE, []), time.time())
    session[SESSION_RATE] = history
    return allowed


def rate_ok(history: list[float], now: float) -> tuple[bool, list[float]]:
    recent = [t for t in history if now - t < timedelta(minutes=1).total_seconds()]
    if len(recent) >= MAX_MESSAGES_PER_MINUTE:
        return False, recent
    return True, [*recent, now]
