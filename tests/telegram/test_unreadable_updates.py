"""An update aiogram cannot validate (a shape newer than it, or a broken one) costs only
itself: the others in the same getUpdates answer are handled, the offset moves past it,
and nothing of it is logged (S8, S10)."""

from __future__ import annotations

import logging
import time

import pytest

from tests.conftest import Organisation
from tests.telegram.conftest import poll
from tropa.intake import services as intake
from tropa.intake.channels.telegram.models import PollOffset
from tropa.intake.channels.telegram.standin import StandIn

pytestmark = pytest.mark.django_db
CHAT = 700_101
CANARY = "Канарейкин 4509771234"


def test_an_unreadable_update_does_not_stop_the_bot(
    org: Organisation, standin: StandIn, caplog: pytest.LogCaptureFixture
) -> None:
    chat = {"id": CHAT, "type": "private", "first_name": CANARY}
    sender = {"id": CHAT, "is_bot": False, "first_name": CANARY}
    standin.push_update({"message": {"message_id": "x", "from": sender, "text": CANARY}})
    standin.push_update({"edited_message": {"message_id": 3, "chat": chat, "text": CANARY}})
    standin.push_text(CHAT, "/start")
    with caplog.at_level(logging.DEBUG):
        assert poll(standin) == 3
    conversation = intake.conversation_find(channel="telegram", chat_id=str(CHAT))
    assert conversation is not None and conversation.outbox.count() == 1  # the first question
    assert poll(standin) == 0  # all three confirmed: none comes back
    assert PollOffset.objects.get().offset > 0
    assert CANARY not in caplog.text and "4509771234" not in caplog.text
    assert "did not validate" in caplog.text


def test_updates_after_an_unreadable_one_keep_coming(org: Organisation, standin: StandIn) -> None:
    standin.push_update(
        {
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": "?", "type": "private"},
            }
        }
    )
    assert poll(standin) == 1
    standin.push_text(CHAT, "/start")
    assert poll(standin) == 1
    assert intake.conversation_find(channel="telegram", chat_id=str(CHAT)) is not None
