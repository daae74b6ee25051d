"""The Telegram channel through a real HTTP exchange with a Bot API stand-in."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client, override_settings

from tests.conftest import Organisation, keychain_of
from tests.telegram.conftest import TOKEN, run
from tropa.cases.models import Case
from tropa.cases.services import case_unlock
from tropa.intake.channels.telegram.bot import bot_create
from tropa.intake.channels.telegram.models import ChatMessage
from tropa.intake.channels.telegram.polling import poll_once
from tropa.intake.channels.telegram.ratelimit import OutboxScheduler
from tropa.intake.channels.telegram.sender import TelegramSender
from tropa.intake.channels.telegram.standin import StandIn
from tropa.intake.models import Conversation, Delivery, OutboundMessage

pytestmark = pytest.mark.django_db
CHAT = 424242


class Phone:
    """An applicant's Telegram client, as far as the tests need one."""

    def __init__(self, standin: StandIn, chat_id: int = CHAT) -> None:
        self.standin = standin
        self.chat_id = chat_id
        self.bot = bot_create(token=TOKEN, api_base=standin.url)
        # Telegram's 1 message/s per chat would make each test take minutes; the
        # limits themselves are proven by the scheduler's tests and `tropa bench` P3.
        fast = OutboxScheduler(global_per_second=1000, per_chat_per_second=1000, clock=time.time)
        self.sender = TelegramSender(self.bot, fast, worker="test")

    async def flush(self) -> None:
        """Deliver everything the bot has: updates in, replies out."""
        await poll_once(self.bot, timeout=0)
        for _ in range(200):
            if not await sync_to_async(_queued)():
                break
            wait = await self.sender.send_one()
            await self.sender.drain()
            if wait:
                await asyncio.sleep(wait)

    def last_message(self) -> dict[str, Any]:
        sends = [
            call
            for call in self.standin.sent
            if call.method == "sendMessage" and call.chat_id == self.chat_id
        ]
        return sends[-1].params

    def buttons(self) -> list[tuple[str, str]]:
        markup = self.last_message().get("reply_markup") or {}
        return [
            (row[0]["callback_data"], row[0]["text"]) for row in markup.get("inline_keyboard", [])
        ]

    async def press(self, label: str) -> None:
        matches = [value for value, text in self.buttons() if label.casefold() in text.casefold()]
        assert matches, f"no button {label!r} in {self.buttons()}"
        message_id = await sync_to_async(_last_bot_message_id)()
        self.standin.push_callback(self.chat_id, matches[0], message_id)
        await self.flush()

    async def say(self, text: str) -> None:
        self.standin.push_text(self.chat_id, text)
        await self.flush()

    async def close(self) -> None:
        await self.bot.session.close()


def _queued() -> bool:
    return OutboundMessage.objects.filter(
        status=Delivery.QUEUED, conversation__channel="telegram"
    ).exists()


def _last_bot_message_id() -> int:
    ids = OutboundMessage.objects.exclude(external_id="").values_list("external_id", flat=True)
    return max(int(x) for x in ids)


def _bot_message_ids() -> set[int]:
    ids = OutboundMessage.objects.exclude(external_id="").values_list("external_id", flat=True)
    return {int(x) for x in ids}


async def _complete(phone: Phone, *, pin: str | None = None, language: str = "English") -> None:
    english = language == "English"
    await phone.say("/start")
    await phone.press(language)
    await phone.press("myself" if english else "себя")
    await phone.press("Mobilised" if english else "Мобилизован")
    await phone.press("days" if english else "дн")
    await phone.press("Yes" if english else "Да")
    await phone.press("Yes" if english else "Да")  # foreign passport: yes
    await phone.say("13/2030")  # invalid month first
    await phone.say("11/2030")
    await phone.press("Yes" if english else "Да")
    await phone.press(phone.buttons()[0][1])
    await phone.press(phone.buttons()[0][1])
    await phone.say("Sent to the front on Friday" if english else "В пятницу отправляют на фронт")
    if pin:
        await phone.press("Yes" if english else "Да")
        await phone.say(pin)
    else:
        await phone.press("No" if english else "Нет")
    await phone.press("Yes" if english else "Да")


def test_a_full_intake_over_telegram_seals_a_case(org: Organisation, standin: StandIn) -> None:
    async def scenario() -> None:
        phone = Phone(standin)
        await _complete(phone)
        await phone.close()

    run(scenario)
    case = Case.objects.get()
    assert case.channel == "telegram"
    assert case.codename in standin.texts(CHAT)[-1] or any(
        case.codename in t for t in standin.texts(CHAT)
    )
    opened = case_unlock(case=case, keychain=keychain_of(org.coordinator))
    assert opened.identity == {"telegram_id": str(CHAT)}
    assert not OutboundMessage.objects.exclude(status=Delivery.SENT).exists()
    # Delivered texts are not kept on the server.
    assert all(row.text is None for row in OutboundMessage.objects.all())


def test_the_chat_id_is_stored_only_encrypted(org: Organisation, standin: StandIn) -> None:
    async def scenario() -> None:
        phone = Phone(standin)
        await phone.say("/start")
        await phone.close()

    run(scenario)
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("intake_conversation", "intake_outboundmessage", "telegram_chatmessage"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608
            assert str(CHAT).encode() not in repr(cursor.fetchall()).encode()


def test_panic_word_deletes_every_message_of_the_chat(org: Organisation, standin: StandIn) -> None:
    bot_ids_before_wipe: set[int] = set()

    async def scenario() -> None:
        phone = Phone(standin)
        await phone.say("/start")
        await phone.press("English")
        bot_ids_before_wipe.update(await sync_to_async(_bot_message_ids)())
        await phone.say("/forget")
        await phone.sender.delete_due()
        await phone.close()

    run(scenario)
    deleted = {message_id for chat, message_id in standin.deleted if chat == CHAT}
    bot_messages = bot_ids_before_wipe
    assert bot_messages and bot_messages <= deleted
    assert len(deleted) > len(
        bot_messages
    )  # the applicant's own messages too ("/start", "/forget")
    conversation = Conversation.objects.get(channel="telegram")
    assert not conversation.state["answers"] and conversation.transcript == []


def test_messages_are_deleted_after_the_configured_time(
    org: Organisation, standin: StandIn
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    async def scenario(stage: str) -> None:
        phone = Phone(standin)
        if stage == "talk":
            await phone.say("/start")
        else:
            await phone.sender.delete_due()
        await phone.close()

    run(scenario, "talk")
    assert ChatMessage.objects.count() >= 2
    run(scenario, "delete")
    assert standin.deleted == []  # nothing is due yet
    ChatMessage.objects.update(delete_after=timezone.now() - timedelta(seconds=1))
    run(scenario, "delete")
    assert len(standin.deleted) == ChatMessage.objects.count()
    assert not ChatMessage.objects.filter(deleted=False).exists()


def test_duress_pin_flags_the_case_and_reveals_nothing(org: Organisation, standin: StandIn) -> None:
    from tropa.intake.services import relay_reply

    async def talk(text: str) -> None:
        phone = Phone(standin)
        if text == "complete":
            await _complete(phone, pin="2580")
        else:
            await phone.say(text)
        await phone.close()

    run(talk, "complete")
    run(talk, "2580")
    case = Case.objects.get()
    assert case.compromised_reason == "duress_pin"
    assert standin.texts(CHAT)[-1]  # it answered, as to any message
    keychain = keychain_of(org.coordinator)
    relay_reply(
        case=case_unlock(case=case, keychain=keychain), keychain=keychain, text="Route: platform 4"
    )
    run(talk, "hello")
    assert not any("platform 4" in text for text in standin.texts(CHAT))
    assert OutboundMessage.objects.filter(status=Delivery.WITHHELD).count() == 1


def test_caseworker_reply_reaches_the_applicant_under_an_alias(
    org: Organisation, standin: StandIn
) -> None:
    from tropa.intake.services import relay_reply

    async def talk(what: str) -> None:
        phone = Phone(standin)
        if what == "complete":
            await _complete(phone)
        else:
            await phone.flush()
        await phone.close()

    run(talk, "complete")
    case = Case.objects.get()
    keychain = keychain_of(org.coordinator)
    relay_reply(
        case=case_unlock(case=case, keychain=keychain), keychain=keychain, text="We will call you"
    )
    run(talk, "flush")
    assert standin.texts(CHAT)[-1] == "Oriole: We will call you"


def test_a_429_is_honoured_and_nothing_is_lost_or_doubled(
    org: Organisation, standin: StandIn
) -> None:
    standin.fail_next("sendMessage", status=429, retry_after=1)
    standin.fail_next("sendMessage", status=502, times=1)

    async def scenario() -> None:
        phone = Phone(standin)
        await phone.say("/start")
        deadline = time.monotonic() + 10
        while await sync_to_async(_queued)() and time.monotonic() < deadline:
            wait = await phone.sender.send_one()
            await phone.sender.drain()
            if wait:
                await asyncio.sleep(wait)
        await phone.close()

    run(scenario)
    rows = list(OutboundMessage.objects.all())
    assert rows and all(row.status == Delivery.SENT for row in rows)
    delivered = [call for call in standin.sent if call.method == "sendMessage"]
    assert len(delivered) == len(rows)  # each message accepted exactly once
    assert len({row.external_id for row in rows}) == len(rows)


@override_settings(TELEGRAM_WEBHOOK_SECRET="s3cret-token")
def test_webhook_checks_the_secret_and_acknowledges_what_it_ignores(
    org: Organisation, standin: StandIn
) -> None:
    client = Client()
    update = {**standin.text_update(CHAT, "/start"), "update_id": 1}
    url = "/telegram/webhook/"
    assert client.post(url, update, content_type="application/json").status_code == 403
    wrong = client.post(
        url, update, content_type="application/json", HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN="nope"
    )
    assert wrong.status_code == 403
    headers = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": "s3cret-token"}
    assert (
        client.post(url, b"{not json", content_type="application/json", **headers).status_code
        == 200
    )
    channel_post = {
        "update_id": 5,
        "channel_post": {"message_id": 1, "chat": {"id": -100, "type": "channel"}},
    }
    assert (
        client.post(url, channel_post, content_type="application/json", **headers).status_code
        == 200
    )
    assert client.post(url, update, content_type="application/json", **headers).status_code == 200
    assert OutboundMessage.objects.filter(status=Delivery.QUEUED).exists()
    callback = {**standin.callback_update(CHAT, "language:en", 1), "update_id": 2}
    answered = client.post(url, callback, content_type="application/json", **headers)
    assert answered.json()["method"] == "answerCallbackQuery"


def test_a_photo_after_intake_is_recorded_in_the_case(org: Organisation, standin: StandIn) -> None:
    async def talk(what: str) -> None:
        phone = Phone(standin)
        if what == "complete":
            await _complete(phone)
        else:
            standin.push_photo(CHAT, b"\xff\xd8 photo bytes", "my military ID")
            await phone.flush()
        await phone.close()

    run(talk, "complete")
    run(talk, "photo")
    case = case_unlock(case=Case.objects.get(), keychain=keychain_of(org.coordinator))
    entries = list(case.entries.filter(kind="message_in"))
    for entry in entries:
        entry.case = case
    assert len(entries) == 1
    assert entries[0].body == "my military ID\n[file: telegram]"


def test_a_photo_after_intake_is_fetched_cleaned_and_stored(
    org: Organisation,
    standin: StandIn,
    settings: Any,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """getFile and the download from the Bot API, in memory; no GPS survives."""
    from tests.documents.test_documents_web import CAMERA, jpeg_with_gps
    from tropa.documents.models import Document

    settings.MEDIA_ROOT = str(tmp_path)
    settings.TELEGRAM_API_BASE = standin.url
    settings.TELEGRAM_BOT_TOKEN = TOKEN

    async def talk(what: str) -> None:
        phone = Phone(standin)
        if what == "complete":
            await _complete(phone)
        else:
            standin.push_photo(CHAT, jpeg_with_gps(), "my foreign passport")
            await phone.flush()
        await phone.close()

    run(talk, "complete")
    with django_capture_on_commit_callbacks(execute=True):
        run(talk, "photo")
    document = Document.objects.get()
    assert (document.source, document.case_id) == ("telegram", Case.objects.get().pk)
    assert "gps" in document.removed
    stored = b"".join(p.read_bytes() for p in (tmp_path / "vault").iterdir())
    assert CAMERA.encode() not in stored
    assert [c.method for c in standin.calls if c.method == "getFile"] == ["getFile"]
