"""Polling hands a whole getUpdates answer to intake in one transaction (group
commit): what the applicants see must not change, a redelivered answer must
change nothing, and one bad update must cost only itself."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import Organisation
from tests.telegram.conftest import poll
from tropa.intake import services as intake
from tropa.intake.channels.telegram import services as telegram
from tropa.intake.channels.telegram.models import ChatMessage, HandledUpdate, PollOffset
from tropa.intake.channels.telegram.standin import StandIn
from tropa.intake.models import Conversation, OutboundMessage

pytestmark = pytest.mark.django_db
CHATS = [700_001 + n for n in range(20)]


def _replies(chat_id: int) -> list[str]:
    conversation = intake.conversation_find(channel="telegram", chat_id=str(chat_id))
    assert conversation is not None
    return [m.text for m in conversation.outbox.order_by("created_at", "id")]


def test_one_getupdates_answer_is_one_commit_and_each_chat_is_answered(
    org: Organisation, standin: StandIn
) -> None:
    for chat in CHATS:
        standin.push_text(chat, "/start")
    with CaptureQueriesContext(connection) as queries:
        assert poll(standin) == len(CHATS)
    writes = [q["sql"] for q in queries if q["sql"].split()[0] in {"INSERT", "UPDATE"}]
    # Per table one statement for the lot, not one per update (new chats get a row each).
    assert len(writes) <= len(CHATS) + 8, writes
    assert all(len(_replies(chat)) == 1 for chat in CHATS)
    assert PollOffset.objects.get().offset == HandledUpdate.objects.order_by("-pk")[0].pk + 1
    assert ChatMessage.objects.count() == len(CHATS)
    assert poll(standin) == 0  # the offset confirmed them all


def test_a_redelivered_batch_changes_nothing(org: Organisation, standin: StandIn) -> None:
    updates = [standin.text_update(chat, "/start") for chat in CHATS[:5]]
    for update in updates:
        standin.push_update(update)
    poll(standin)
    before = (OutboundMessage.objects.count(), ChatMessage.objects.count())
    # The same updates again, as after a worker killed before the offset reached Telegram.
    parsed = [telegram.parse_update(update) for update in updates]
    assert telegram.updates_handle([p for p in parsed if p is not None]) == 0
    assert (OutboundMessage.objects.count(), ChatMessage.objects.count()) == before


def test_a_bad_update_costs_only_itself(
    org: Organisation, standin: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    for chat in CHATS[:6]:
        standin.push_text(chat, "/start")
    poison = CHATS[3]
    real = intake._receive

    def receive(conversation: Conversation, inbound: Any, *args: Any) -> Any:
        if conversation.address == str(poison):
            raise RuntimeError("a bug")
        return real(conversation, inbound, *args)

    monkeypatch.setattr(intake, "_receive", receive)
    assert poll(standin) == 6
    for chat in CHATS[:6]:
        if chat == poison:
            continue
        assert len(_replies(chat)) == 1, chat
    # The offset moved past every update, the bad one included: it is not retried forever.
    assert poll(standin) == 0
    assert PollOffset.objects.get().offset > max(HandledUpdate.objects.values_list("pk", flat=True))


def test_a_panic_word_later_in_the_batch_wipes_what_came_before(
    org: Organisation, standin: StandIn
) -> None:
    chat = CHATS[0]
    standin.push_text(chat, "/start")
    standin.push_text(chat, "hello")
    standin.push_text(chat, "/forget")
    poll(standin)
    conversation = intake.conversation_find(channel="telegram", chat_id=str(chat))
    assert conversation is not None
    assert not conversation.outbox.filter(status="queued").exists()
    due = telegram.deletions_due()
    assert len([row for row in due if row[1] == chat]) == 3  # all three of his messages
