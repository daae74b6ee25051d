"""Every golden conversation of tests/intake/golden, replayed through the real
channels: the web chat (HTTP forms) and Telegram (Bot API stand-in, polling,
the outbox). What the applicant sees must be what the engine's golden says."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from asgiref.sync import sync_to_async
from django.test import Client

from tests.conftest import Organisation
from tests.telegram.conftest import TOKEN, run
from tropa.intake.channels.telegram.bot import bot_create
from tropa.intake.channels.telegram.polling import poll_once
from tropa.intake.channels.telegram.ratelimit import OutboxScheduler
from tropa.intake.channels.telegram.sender import TelegramSender
from tropa.intake.channels.telegram.standin import StandIn
from tropa.intake.models import Delivery, OutboundMessage

pytestmark = pytest.mark.django_db
GOLDEN = sorted((Path(__file__).parents[1] / "intake" / "golden").glob("*.yaml"))
T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
CHAT = 515151


class Clock:
    """The engine's clock, moved by the golden files' `after_minutes`."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return T0 + self.offset


def _pusher(standin: StandIn, spec: dict[str, Any], shown: list[list[str]]) -> Any:
    """What the applicant's Telegram app sends for one golden step."""
    if spec.get("kind") == "start":
        return lambda: standin.push_text(CHAT, "/start")
    if "press" in spec or "choice" in spec:
        data = _button(spec, shown)
        return lambda: standin.push_callback(CHAT, data, 1)
    if "file" in spec:
        caption = spec.get("text") or None
        return lambda: standin.push_photo(CHAT, b"\xff\xd8 a photo", caption)
    text = str(spec["text"]) * spec.get("repeat", 1)
    return lambda: standin.push_text(CHAT, text)


def _matches(said: list[str], expected: list[Any], where: str) -> None:
    assert len(said) == len(expected), f"{where}: the applicant saw {said}"
    for text, want in zip(said, expected, strict=True):
        if isinstance(want, dict):
            assert want["contains"] in text, f"{where}: {want['contains']!r} not in {text!r}"
        else:
            assert text == want, f"{where}: {text!r} != {want!r}"


def _button(spec: dict[str, Any], shown: list[list[str]]) -> str:
    if "choice" in spec:
        return str(spec["choice"])
    wanted = str(spec["press"])
    values = [value for value, _ in shown if value.rpartition(":")[2] == wanted]
    assert values, f"no button {wanted!r} among {shown}"
    return values[-1]


def _new_texts(since: int) -> list[str]:
    return [row.text for row in OutboundMessage.objects.filter(pk__gt=since).order_by("pk")]


def _last_pk() -> int:
    return OutboundMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@pytest.fixture
def clock() -> Any:
    engine_clock = Clock()
    with (
        mock.patch("tropa.intake.runtime.DjangoClock.now", lambda self: engine_clock.now()),
        mock.patch("tropa.intake.runtime.CaseCodenames.codename", lambda self: "Birch-42"),
    ):
        yield engine_clock


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_golden_through_the_web_chat(
    org: Organisation, clock: Clock, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A golden file types faster than a person; the rate limit has its own test.
    monkeypatch.setattr("tropa.intake.channels.web.services.MAX_MESSAGES_PER_MINUTE", 1000)
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    client = Client()
    since = _last_pk()
    client.post("/chat/", {"start": "1"})
    _matches(_new_texts(since), doc["start"]["expect"], f"{path.name} start")
    after_panic = False
    for number, spec in enumerate(doc["steps"], start=1):
        where = f"{path.name} step {number}"
        clock.offset += timedelta(minutes=spec.get("after_minutes", 0))
        if "file" in spec:
            continue  # the web chat takes no uploads yet (the documents issue adds them)
        shown = client.get("/chat/").context["buttons"]
        since = _last_pk()
        if spec.get("kind") == "start":
            client.post("/chat/", {"text": "/start"})
        elif "press" in spec or "choice" in spec:
            client.post("/chat/", {"choice": _button(spec, shown)})
        else:
            client.post("/chat/", {"text": str(spec["text"]) * spec.get("repeat", 1)})
        if after_panic:
            # The wipe also ended the browser session, so the web chat starts
            # afresh in the default language where Telegram keeps his.
            after_panic = False
            continue
        if spec.get("events") == ["panic"]:
            client, after_panic = Client(), True
        # The web chat delivers by rendering; the outbox rows hold what was shown.
        _matches(_new_texts(since), spec.get("expect", []), where)


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_golden_through_telegram(org: Organisation, clock: Clock, path: Path) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    with StandIn() as standin:
        run(_telegram_scenario, doc, path.name, standin, clock)


async def _telegram_scenario(
    doc: dict[str, Any], name: str, standin: StandIn, clock: Clock
) -> None:
    bot = bot_create(token=TOKEN, api_base=standin.url)
    sender = TelegramSender(
        bot,
        OutboxScheduler(global_per_second=1000, per_chat_per_second=1000, clock=time.time),
        worker="golden",
    )

    async def exchange(push: Any) -> list[str]:
        before = len(standin.texts(CHAT))
        push()
        await poll_once(bot, timeout=0)
        while await sync_to_async(
            OutboundMessage.objects.filter(
                status=Delivery.QUEUED, conversation__channel="telegram"
            ).exists
        )():
            wait = await sender.send_one()
            await sender.drain()
            if wait:
                await asyncio.sleep(wait)
        return standin.texts(CHAT)[before:]

    def markup() -> list[list[str]]:
        sends = [c for c in standin.sent if c.method == "sendMessage" and c.chat_id == CHAT]
        for call in reversed(sends):
            rows = (call.params.get("reply_markup") or {}).get("inline_keyboard")
            if rows:
                return [[row[0]["callback_data"], row[0]["text"]] for row in rows]
        return []

    said = await exchange(lambda: standin.push_text(CHAT, "/start"))
    _matches(said, doc["start"]["expect"], f"{name} start")
    for number, spec in enumerate(doc["steps"], start=1):
        where = f"{name} step {number}"
        clock.offset += timedelta(minutes=spec.get("after_minutes", 0))
        push = _pusher(standin, spec, markup())
        _matches(await exchange(push), spec.get("expect", []), where)
    await bot.session.close()
