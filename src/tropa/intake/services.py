"""The write-only side of intake: run the flow, remember the conversation,
seal it into a case, relay later messages, and queue what goes back.

The process that runs these holds the server field keyring (its own
conversation state, chat addresses, the outbox) and public keys; it never
holds a key that opens a case.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from tropa.cases.models import Case
from tropa.cases.notify import applicant_action, applicant_file
from tropa.cases.services import IntakeKeys, case_append_inbound, case_flag_compromised, case_seal
from tropa.intake import flows
from tropa.intake.models import Conversation, Delivery, OutboundMessage, Priority
from tropa.intake.rows import rows_insert, rows_update
from tropa.intake.runtime import engine
from tropa.vault import services as vault

logger = logging.getLogger(__name__)
# A little longer than the flow's own timeout, so the engine sees the expiry first.
STATE_LIFETIME = timedelta(hours=25)
TRANSCRIPT_LENGTH = 30
# Outbound messages that did not come from the flow (a caseworker's reply, a
# notice about the case), recognisable by their idempotency keys.
RELAYED_KEY_PREFIXES = ("reply:", "notice:")


def _chat_index(channel: str, chat_id: str) -> str:
    return vault.blind_index(chat_id, kind=f"chat:{channel}")


def _live() -> Q:
    return Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())


def conversation_find(*, channel: str, chat_id: str) -> Conversation | None:
    return (
        Conversation.objects.filter(
            _live(), channel=channel, chat_index=_chat_index(channel, chat_id)
        )
        .select_related("case")
        .first()
    )


def conversation_for_chat(*, channel: str, chat_id: str) -> Conversation:
    """The chat's conversation (created if new), locked until the transaction ends."""
    return _conversation_for_update(channel, chat_id)


def conversations_for_chats(*, channel: str, chat_ids: Sequence[str]) -> dict[str, Conversation]:
    """Several chats' conversations by chat id (created if new), locked until the
    transaction ends."""
    return _conversations_for_update(channel, chat_ids)


def _conversation_for_update(channel: str, chat_id: str) -> Conversation:
    """The chat's conversation, locked: one message per chat at a time, in order."""
    return _conversations_for_update(channel, [chat_id])[chat_id]


def _conversations_for_update(channel: str, chat_ids: Sequence[str]) -> dict[str, Conversation]:
    """The conversations of these chats (created if new), locked in id order so
    that two workers locking overlapping sets cannot deadlock; one query for
    the lot."""
    indexes = {chat_id: _chat_index(channel, chat_id) for chat_id in dict.fromkeys(chat_ids)}
    found = {
        conversation.chat_index: conversation
        for conversation in Conversation.objects.select_for_update()
        .filter(channel=channel, chat_index__in=list(indexes.values()))
        .order_by("pk")
    }
    # An expired row is still used: the engine tells the person it started over.
    # Rows nobody comes back to are deleted by the hourly job.
    return {
        chat_id: found.get(index) or _conversation_create(channel, chat_id, index)
        for chat_id, index in indexes.items()
    }


def _conversation_create(channel: str, chat_id: str, index: str) -> Conversation:
    try:
        with transaction.atomic():
            return Conversation.objects.create(
                channel=channel,
                chat_index=index,
                address=chat_id,
                transcript=[],
                expires_at=timezone.now() + STATE_LIFETIME,
            )
    except IntegrityError:  # the same chat's first two messages raced; take the winner's row
        return Conversation.objects.select_for_update().get(channel=channel, chat_index=index)


@transaction.atomic
def conversation_save(*, channel: str, chat_id: str, state: dict[str, Any]) -> Conversation:
    conversation = _conversation_for_update(channel, chat_id)
    conversation.state = state
    conversation.save()
    return conversation


@transaction.atomic
def conversation_complete(
    *,
    conversation: Conversation,
    keys: IntakeKeys,
    identity: dict[str, str],
    answers: list[str],
    **metadata: Any,
) -> Case:
    """Seal the answers into a new case and forget them: the conversation keeps
    only the link to the case (to append later messages) and the chat address."""
    case = case_seal(keys=keys, identity=identity, answers=answers, **metadata)
    _attach(conversation, case)
    conversation.state = {"completed": True}
    conversation.save()
    return case


def _attach(conversation: Conversation, case: Case) -> None:
    """From now on the conversation only relays to this case, and lives as long as it."""
    conversation.case = case
    conversation.expires_at = None


def conversation_append(*, conversation: Conversation, text: str) -> None:
    """A later message from the applicant: sealed to the case public key."""
    if conversation.case is None:
        raise ValueError("the conversation has no case yet")
    case_append_inbound(case=conversation.case, text=text)


def conversations_expire() -> int:
    """Forget unfinished intakes past their lifetime (their answers were never sealed)."""
    deleted, _ = Conversation.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


# ------------------------------------------------------------ the live path


@dataclass
class Received:
    conversation: Conversation
    outbound: list[OutboundMessage] = field(default_factory=list)
    wiped: bool = False
    completed: bool = False  # this message finished intake: a case was sealed


def _normalised(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold()


def _is_panic(text: str) -> bool:
    return bool(text) and _normalised(text) in {_normalised(w) for w in settings.INTAKE_PANIC_WORDS}


def _duress_index(conversation: Conversation, pin: str) -> str:
    return vault.blind_index(pin, kind=f"duress:{conversation.uid}")


class _Writes:
    """What handling messages changes in conversations and the outbox, written
    together just before the commit: one INSERT for every reply and one
    prepared UPDATE for every conversation, instead of an ORM save per row.
    Anything other than a plain flow step (a case sealed or appended to, a
    wipe, an app's answer) writes at once, so `flush` runs before it and rows
    keep the order in which they were made."""

    def __init__(self) -> None:
        self.conversations: dict[int, Conversation] = {}
        self.outbound: list[OutboundMessage] = []

    def flush(self) -> None:
        rows_insert(OutboundMessage, self.outbound)
        rows_update(Conversation, list(self.conversations.values()))
        self.outbound, self.conversations = [], {}


@transaction.atomic
def intake_receive(
    *, channel: str, address: str, inbound: flows.Inbound, language: str | None = None
) -> Received:
    """One inbound message from an applicant, end to end: flow step, sealing or
    relaying, the replies queued. Never raises on what the applicant sent."""
    writes = _Writes()
    received = _receive(_conversation_for_update(channel, address), inbound, language, writes)
    writes.flush()
    return received


def intake_receive_batch(
    *,
    channel: str,
    messages: Sequence[tuple[str, flows.Inbound]],
    conversations: Mapping[str, Conversation] | None = None,
) -> list[Received]:
    """Several chats' messages (e.g. one getUpdates answer) in one transaction:
    one lookup, one INSERT of the replies, one UPDATE statement and one commit
    for the lot (group commit), each message handled as `intake_receive` would,
    in order. If anything fails the whole batch rolls back; the caller handles
    the messages again one at a time, so one bad message costs only itself.
    `conversations` are those the caller already locked in this transaction
    (`conversations_for_chats`), by chat id; the others are looked up here."""
    with transaction.atomic():
        writes = _Writes()
        missing = [address for address, _ in messages if address not in (conversations or {})]
        conversations = {**(conversations or {}), **_conversations_for_update(channel, missing)}
        received = [
            _receive(conversations[address], inbound, None, writes) for address, inbound in messages
        ]
        writes.flush()
    return received


def _receive(
    conversation: Conversation, inbound: flows.Inbound, language: str | None, writes: _Writes
) -> Received:
    if _is_panic(inbound.text):
        writes.flush()
        return _wipe(conversation)
    echo = _echo(conversation, inbound)
    state = _state_of(conversation)
    if state is None:
        # A new chat: the flow starts, and the first message is its first answer
        # (a "/start" or the web chat's Start button simply shows the first question).
        started = engine().start(language=language)
        if inbound.kind == "start":
            return _finish(conversation, started, relay=True, writes=writes)
        state = started.state
    if conversation.case_id and _is_duress_pin(conversation, inbound.text):
        # Answer as after any message, but nothing reaches the case, the case
        # is flagged for the coordinators, and nothing more is sent to this chat.
        writes.flush()
        conversation.duress_at = conversation.duress_at or timezone.now()
        case_flag_compromised(case_id=conversation.case_id, reason="duress_pin")
        step = engine().step(state, inbound)
        return _finish(conversation, step, relay=False, writes=writes, echo=echo)
    if conversation.case_id and inbound.kind == "choice" and inbound.choice:
        writes.flush()
        answer = applicant_action(conversation.case_id, inbound.choice)
        if answer is not None:
            # A button of an app (a journey check-in): answered by that app, not the flow.
            return _answered(conversation, answer, echo=echo)
    step = engine().step(state, inbound)
    if any(event.kind == "panic" for event in step.events):
        writes.flush()
        return _wipe(conversation)
    return _finish(conversation, step, relay=True, writes=writes, echo=echo)


def _echo(conversation: Conversation, inbound: flows.Inbound) -> str | None:
    """The applicant's own line for a channel that shows a transcript: what he
    typed, or the label of the button he pressed."""
    if conversation.channel not in TRANSCRIPT_CHANNELS or inbound.kind == "start":
        return None
    # Cleaned as the engine cleans what it keeps: no bidi overrides on the page,
    # and no lone surrogates, which cannot be stored as UTF-8 (S10).
    if inbound.choice:
        return _pressed_label(conversation, inbound.choice) or flows.sanitise_text(inbound.choice)
    return flows.sanitise_text(inbound.text) or None


def _pressed_label(conversation: Conversation, value: str) -> str | None:
    """What the pressed button said (its value is for machines)."""
    if conversation.pk is None:
        return None
    for message in conversation.outbox.order_by("-created_at", "-id")[:5]:
        for button_value, label in message.buttons or []:
            if button_value == value:
                return str(label)
    return None


def _answered(conversation: Conversation, text: str, *, echo: str | None) -> Received:
    if echo:
        transcript = [*(conversation.transcript or []), {"from": "you", "text": echo}]
        conversation.transcript = transcript[-TRANSCRIPT_LENGTH:]
        conversation.save(update_fields=["transcript", "updated_at"])
    received = Received(conversation)
    if not conversation.duress_at:
        outbound = OutboundMessage(
            conversation=conversation,
            priority=Priority.LIVE,
            idempotency_key=f"notice:{conversation.case_id}:{timezone.now().timestamp():.6f}",
            status=Delivery.QUEUED,
        )
        outbound.text = text
        outbound.buttons = []
        outbound.save()
        received.outbound = [outbound]
    return received


def _is_duress_pin(conversation: Conversation, text: str) -> bool:
    # Cleaned as the PIN was when it was saved; raw text may hold lone surrogates
    # (a Telegram update can escape them in JSON), which cannot be hashed.
    candidate = flows.sanitise_text(text)
    return bool(conversation.duress_index and candidate) and (
        _duress_index(conversation, candidate) == conversation.duress_index
    )


def _state_of(conversation: Conversation) -> flows.State | None:
    if conversation.case_id is not None:
        return _completed_state(conversation)
    if not conversation.state:
        return None
    return flows.migrate_state(conversation.state, engine().flow)


def _completed_state(conversation: Conversation) -> flows.State:
    """A conversation that has a case: the engine only relays from here on, and
    holds no answers (they are sealed in the case)."""
    kept = conversation.state if isinstance(conversation.state, dict) else {}
    if kept.get("completed") and "node" in kept:
        return replace(flows.migrate_state(kept, engine().flow), completed=True, answers={})
    start = engine().start(language=kept.get("language")).state
    return replace(start, completed=True, answers={})


# Channels that show the conversation themselves (a web page) keep a short
# transcript; a Telegram chat is the transcript.
TRANSCRIPT_CHANNELS = {"web", "console"}
# Events whose handling writes to other tables at once (a case sealed or appended to).
WRITING_EVENTS = {"completed", "relay"}


def _finish(
    conversation: Conversation,
    step: flows.Step,
    *,
    relay: bool,
    writes: _Writes,
    echo: str | None = None,
) -> Received:
    received = Received(conversation)
    had_case = conversation.case_id is not None
    if any(event.kind in WRITING_EVENTS for event in step.events):
        writes.flush()
    for event in step.events:
        _handle_event(conversation, event, relay=relay)
    # The engine drops the answers from its state on completion, so the state
    # can be kept: it carries the language and the relay counter.
    conversation.state = step.state.to_dict()
    if conversation.case_id is None and conversation.expires_at is not None:
        conversation.expires_at = timezone.now() + STATE_LIFETIME
    # Once sealed, the answers are forgotten here, the transcript included.
    transcript = (
        [] if conversation.case_id and not had_case else list(conversation.transcript or [])
    )
    queued = [
        _outbound(conversation, message, key=f"{step.state.message_count}.{number}")
        for number, message in enumerate(step.outbound)
    ]
    writes.outbound.extend(queued)
    received.outbound = queued
    if echo:
        transcript.append({"from": "you", "text": echo})
    transcript.extend({"from": "tropa", "text": message.text} for message in step.outbound)
    if conversation.channel in TRANSCRIPT_CHANNELS:
        conversation.transcript = transcript[-TRANSCRIPT_LENGTH:]
    writes.conversations[conversation.pk] = conversation
    received.completed = conversation.case_id is not None and not had_case
    return received


def _handle_event(conversation: Conversation, event: flows.Event, *, relay: bool) -> None:
    if event.kind == "completed":
        _seal(conversation, dict(event.data))
    elif event.kind == "relay" and relay and conversation.case_id:
        text = str(event.data.get("text", ""))
        file_ref = event.data.get("file_ref")
        if file_ref:
            # The documents app fetches the file from the channel, cleans and
            # encrypts it (a job); the message records that it came.
            text = f"{text}\n[file: {conversation.channel}]".strip()
            applicant_file(conversation.case, conversation.channel, str(file_ref))
        case_append_inbound(case=conversation.case, text=text)
    elif event.kind == "declined":
        conversation.expires_at = timezone.now() + timedelta(minutes=10)


def _seal(conversation: Conversation, data: dict[str, Any]) -> None:
    answers = dict(data.get("answers", {}))
    pin = str(dict(data.get("secrets", {})).get("duress_pin", "") or "").strip()
    language = str(data.get("language") or "")
    identity = {"telegram_id": conversation.address} if conversation.channel == "telegram" else {}
    case = case_seal(
        keys=IntakeKeys.load(),
        identity=identity,
        answers=flows.describe_answers(engine().flow, answers, language=language or "ru"),
        category=str(data.get("category") or ""),
        urgency=int(data.get("urgency") or 0),
        language=language,
        region=str(answers.get("region", "")),
        channel=conversation.channel,
        codename=str(data.get("codename") or "") or None,
    )
    _attach(conversation, case)
    if pin:
        conversation.duress_index = _duress_index(conversation, pin)
    logger.info("intake completed case=%s", case.pk)


def _outbound(
    conversation: Conversation, message: flows.Outbound, *, key: str, priority: int = Priority.LIVE
) -> OutboundMessage:
    # A channel that shows a transcript has it there already, in this transaction:
    # only what comes later (a caseworker's reply, a notice) waits to be shown.
    shown = conversation.channel in TRANSCRIPT_CHANNELS
    outbound = OutboundMessage(
        conversation=conversation,
        priority=priority,
        idempotency_key=f"{conversation.uid}:{key}:{timezone.now().timestamp():.6f}",
        status=Delivery.SENT if shown else Delivery.QUEUED,
        sent_at=timezone.now() if shown else None,
    )
    outbound.text = message.text
    outbound.buttons = [[button.value, button.label] for button in message.buttons]
    return outbound


def _wipe(conversation: Conversation) -> Received:
    """The panic word: the chat is cleared on the phone, nothing is answered, and
    an unfinished intake's answers are forgotten (only the language it was in
    stays, so the next message is answered in it). A sealed case stays for the
    caseworkers."""
    from tropa.intake.signals import chat_wipe_requested

    chat_wipe_requested(conversation)
    conversation.outbox.filter(status=Delivery.QUEUED).delete()
    conversation.transcript = []
    if conversation.case_id is None:
        kept = conversation.state if isinstance(conversation.state, dict) else {}
        conversation.state = engine().start(language=kept.get("language")).state.to_dict()
    conversation.save()
    logger.info("intake chat wiped")
    return Received(conversation, wiped=True)


# ------------------------------------------------------------ staff replies


@transaction.atomic
def relay_reply(
    *, case: Case, keychain: vault.Keychain, text: str, sensitive: bool = False
) -> OutboundMessage | None:
    """A caseworker's reply: kept in the case (case key) and queued to the applicant,
    signed with the caseworker's alias. A case under duress gets nothing sent; a
    reply marked sensitive (a route, a contact, a plan) is refused for a case that
    is not verified or is flagged."""
    from tropa.accounts.models import Staff
    from tropa.audit.models import Action
    from tropa.audit.services import audit_record
    from tropa.cases.models import CaseEntry, EntryKind
    from tropa.cases.services import TransitionRefused, case_unlock, sensitive_allowed

    case = Case.objects.get(pk=case.pk) if not case.is_unlocked else case
    if sensitive and (refusal := sensitive_allowed(case)) is not None:
        raise TransitionRefused(refusal)
    case_unlock(case=case, keychain=keychain)
    author = Staff.objects.get(pk=keychain.staff_id)
    entry = CaseEntry(case=case, kind=EntryKind.MESSAGE_OUT, author=author)
    entry.body = text
    entry.save()
    audit_record(action=Action.CASE_REPLIED, actor_id=author.pk, case_id=case.pk)
    conversation = Conversation.objects.select_for_update().filter(case=case).first()
    if conversation is None:
        return None
    outbound = OutboundMessage(
        conversation=conversation,
        priority=Priority.LIVE,
        idempotency_key=f"reply:{entry.uid}",
        status=Delivery.WITHHELD if conversation.duress_at else Delivery.QUEUED,
    )
    outbound.text = f"{author.alias}: {text}"
    outbound.buttons = []
    outbound.save()
    Case.objects.filter(pk=case.pk, first_reply_at=None).update(first_reply_at=timezone.now())
    return outbound


def applicant_notify(case: Case, text: str, buttons: Sequence[tuple[str, str]] = ()) -> None:
    """A notice about his case (a status change, a check-in prompt), queued behind
    live replies. Nothing is sent to a chat under duress."""
    conversation = Conversation.objects.filter(case=case).first()
    if conversation is None or conversation.duress_at:
        return
    outbound = OutboundMessage(
        conversation=conversation,
        priority=Priority.BULK,
        idempotency_key=f"notice:{case.pk}:{timezone.now().timestamp():.6f}",
    )
    outbound.text = text
    outbound.buttons = [[value, label] for value, label in buttons]
    outbound.save()
