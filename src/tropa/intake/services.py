"""The write-only side of intake: remember a conversation, then seal it into a case.

The process that runs these holds the server field keyring (for its own
conversation state) and public keys; it never holds a key that opens a case.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from tropa.cases.models import Case
from tropa.cases.services import IntakeKeys, case_append_inbound, case_seal
from tropa.intake.models import Conversation
from tropa.vault import services as vault

STATE_LIFETIME = timedelta(hours=24)


def _chat_index(channel: str, chat_id: str) -> str:
    return vault.blind_index(chat_id, kind=f"chat:{channel}")


def conversation_find(*, channel: str, chat_id: str) -> Conversation | None:
    return (
        Conversation.objects.filter(
            channel=channel, chat_index=_chat_index(channel, chat_id), expires_at__gt=timezone.now()
        )
        .select_related("case")
        .first()
    )


@transaction.atomic
def conversation_save(*, channel: str, chat_id: str, state: dict) -> Conversation:
    conversation = conversation_find(channel=channel, chat_id=chat_id)
    if conversation is None:
        Conversation.objects.filter(
            channel=channel, chat_index=_chat_index(channel, chat_id)
        ).delete()
        conversation = Conversation(channel=channel, chat_index=_chat_index(channel, chat_id))
    conversation.state = state
    conversation.expires_at = timezone.now() + STATE_LIFETIME
    conversation.save()
    return conversation


@transaction.atomic
def conversation_complete(
    *,
    conversation: Conversation,
    keys: IntakeKeys,
    identity: dict[str, str],
    answers: list[str],
    **metadata: object,
) -> Case:
    """Seal the answers into a new case and forget them: the state row keeps
    only the link to the case, for appending later messages."""
    case = case_seal(keys=keys, identity=identity, answers=answers, **metadata)  # type: ignore[arg-type]
    conversation.case = case
    conversation.state = {"completed": True}
    conversation.save()
    return case


def conversation_append(*, conversation: Conversation, text: str) -> None:
    """A later message from the applicant: sealed to the case public key."""
    if conversation.case is None:
        raise ValueError("the conversation has no case yet")
    case_append_inbound(case=conversation.case, text=text)


def conversations_expire() -> int:
    deleted, _ = Conversation.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
