"""The web chat's own state: which conversation a browser session talks in,
what it may see, and how a person comes back with codename and passphrase."""

from __future__ import annotations

import hmac
import secrets
import time
from datetime import timedelta
from typing import Any

from django.contrib.auth.hashers import check_password
from django.db import transaction
from django.utils import timezone

from tropa.accounts.services import failure_record, failures_recent
from tropa.intake import flows
from tropa.intake.models import Conversation, Delivery
from tropa.intake.services import (
    RELAYED_KEY_PREFIXES,
    TRANSCRIPT_LENGTH,
    Received,
    conversation_find,
    intake_receive,
)
from tropa.vault import services as vault

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
    """One message from the page; intake adds it and the answers to the transcript."""
    return intake_receive(channel=CHANNEL, address=chat_id, inbound=inbound)


def transcript_add(conversation: Conversation, author: str, text: str, *, before: int = 0) -> None:
    """A line in the page's transcript (`before`: that many lines from the end)."""
    transcript = list(conversation.transcript or [])
    position = max(0, len(transcript) - before)
    transcript.insert(position, {"from": author, "text": text})
    conversation.transcript = transcript
    conversation.save(update_fields=["transcript", "updated_at"])


def page_state(
    *, chat_id: str
) -> tuple[list[dict[str, str]], list[list[str]], Conversation | None]:
    """The transcript and the buttons of the last question; delivers queued replies.
    A page with nothing new reads only: no write lock, no commit."""
    conversation = conversation_find(channel=CHANNEL, chat_id=chat_id)
    if conversation is None:
        return [], [], None
    if conversation.outbox.filter(status=Delivery.QUEUED).exists():
        return _deliver(conversation)
    last = conversation.outbox.filter(status=Delivery.SENT).order_by("-created_at", "-id").first()
    buttons = (last.buttons or []) if last is not None else []
    return list(conversation.transcript or []), buttons, conversation


@transaction.atomic
def _deliver(
    conversation: Conversation,
) -> tuple[list[dict[str, str]], list[list[str]], Conversation]:
    """Queued replies onto the page, once: the rows are locked, so two tabs of one
    session cannot both add them to the transcript."""
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    pending = list(conversation.outbox.filter(status=Delivery.QUEUED).order_by("created_at", "id"))
    transcript = list(conversation.transcript or [])
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
    last = pending[-1] if pending else None
    return conversation.transcript, (last.buttons or []) if last else [], conversation


# Wrong passphrases allowed per codename in RETURN_WINDOW; then every attempt
# is refused, right or wrong, until the window has passed. Four words from
# WORDS are 22.6 bits: at this pace a guesser needs years for one codename.
RETURN_ATTEMPTS = 5
RETURN_WINDOW = timedelta(minutes=10)


def _passphrase_mac(conversation: Conversation, phrase: str) -> str:
    """Keyed with the blind-index key, which is outside the database: a seized
    database alone cannot test a single guess, so no slow hash is needed (it
    cost a third of a second of the web worker per finished intake)."""
    return "hmac$" + vault.blind_index(phrase, kind=f"passphrase:{conversation.uid}")


def _passphrase_matches(conversation: Conversation, phrase: str) -> bool:
    stored = conversation.passphrase_hash
    if stored.startswith("hmac$"):
        return hmac.compare_digest(stored, _passphrase_mac(conversation, phrase))
    return check_password(phrase, stored)  # issued before the keyed form


def passphrase_issue(conversation: Conversation) -> str:
    """Shown once, after intake: with the codename it brings the person back."""
    phrase = " ".join(secrets.choice(WORDS) for _ in range(4))
    conversation.passphrase_hash = _passphrase_mac(conversation, phrase)
    conversation.save(update_fields=["passphrase_hash", "updated_at"])
    return phrase


@transaction.atomic
def conversation_return(*, codename: str, passphrase: str) -> Conversation | None:
    """The conversation behind a codename, if the passphrase matches and the
    codename has not had too many wrong ones lately (an unknown codename
    counts the same, so the answer tells nothing)."""
    # Cleaned of control characters first: PostgreSQL refuses a NUL in a query (S10).
    name = flows.sanitise_text(codename).strip()
    phrase = " ".join(passphrase.lower().split())
    if not name or not phrase:
        return None
    # The staff login's failure table; the kind keeps the keys apart from usernames'.
    key = vault.blind_index(name, kind="webchat-return")
    if failures_recent(key, within=RETURN_WINDOW) >= RETURN_ATTEMPTS:
        return None
    conversation = (
        Conversation.objects.filter(channel=CHANNEL, case__codename__iexact=name)
        .exclude(passphrase_hash="")
        .first()
    )
    if conversation is not None and _passphrase_matches(conversation, phrase):
        return conversation
    failure_record(key)
    return None


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
