"""Intake benchmarks: P1 (inbound messages end to end) and P3 (the Telegram outbox)."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from typing import TYPE_CHECKING

from django.db import connection, transaction

from tropa.bench.runner import Result, verdict
from tropa.intake import flows

if TYPE_CHECKING:
    from tropa.intake.models import Conversation

BENCH_TOKEN = "123456:" + "BENCH"  # the stand-in accepts any well-formed token
BENCH_CHATS = 900_000
TEXT = "We were told we leave for the front soon."


def _bare_commits_per_second(count: int) -> float:
    """The ceiling: one tiny INSERT and COMMIT at a time, same database, same settings."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_commit (id INTEGER PRIMARY KEY, v BLOB)")
    start = time.perf_counter()
    for _ in range(count):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("INSERT INTO bench_commit (v) VALUES (%s)", [b"x" * 64])
    return count / (time.perf_counter() - start)


_update_ids = itertools.count(1)


def _update(chat_id: int, inbound: flows.Inbound) -> dict[str, object]:
    """The Bot API's JSON for an applicant's message or button press."""
    chat = {"id": chat_id, "type": "private"}
    number = next(_update_ids)
    if inbound.kind == "choice":
        message = {"message_id": 1, "chat": chat, "date": 0}
        callback = {"id": f"cb{number}", "data": inbound.choice, "message": message}
        return {"update_id": number, "callback_query": callback}
    text = "/start" if inbound.kind == "start" else inbound.text
    return {"update_id": number, "message": {"message_id": number, "chat": chat, "text": text}}


def _drive(chats: int, messages_per_chat: int, *, batched: bool) -> tuple[int, float]:
    """Applicants answering the flow over Telegram: the first button if there is
    one, else a sentence. Batched, each round of every chat's next message is
    one getUpdates answer, handled as the polling worker does (one transaction
    with the offset); otherwise one transaction per update, as the webhook does.
    Returns the updates handled and the seconds spent handling them."""
    from tropa.intake.channels.telegram import polling
    from tropa.intake.channels.telegram import services as telegram
    from tropa.intake.services import conversation_find

    sent, spent = 0, 0.0
    last: dict[int, list[list[str]]] = {}
    for turn in range(messages_per_chat):
        updates = []
        for chat in range(chats):
            if turn == 0:
                inbound = flows.Inbound(kind="start")
            elif last.get(chat):
                inbound = flows.Inbound(kind="choice", choice=last[chat][0][0])
            else:
                inbound = flows.Inbound(kind="text", text=TEXT)
            updates.append(_update(BENCH_CHATS + chat, inbound))
        start = time.perf_counter()
        if batched:
            polling._handle_all(updates, int(str(updates[-1]["update_id"])) + 1)
        else:
            for update in updates:
                parsed = telegram.parse_update(update)
                assert parsed is not None
                telegram.update_handle(parsed)
        spent += time.perf_counter() - start
        for chat in range(chats):
            found = conversation_find(channel="telegram", chat_id=str(BENCH_CHATS + chat))
            last[chat] = _buttons_shown(found)
        sent += len(updates)
    return sent, spent


def _buttons_shown(conversation: Conversation | None) -> list[list[str]]:
    """What the applicant's phone shows next (read outside the measured time)."""
    head = conversation.outbox.order_by("-created_at", "-id").first() if conversation else None
    return list(head.buttons or []) if head else []


def _intake_rate(chats: int, messages_per_chat: int, *, batched: bool) -> float:
    from tropa.intake.channels.telegram.models import HandledUpdate, PollOffset
    from tropa.intake.models import Conversation

    count, seconds = _drive(chats, messages_per_chat, batched=batched)
    rate = count / seconds
    Conversation.objects.filter(channel="telegram").delete()
    HandledUpdate.objects.all().delete()
    PollOffset.objects.all().delete()
    return rate


def bench_p1(*, chats: int, messages_per_chat: int, repeats: int) -> list[Result]:
    ceilings, batched, single = [], [], []
    for _ in range(repeats):
        ceilings.append(_bare_commits_per_second(chats * messages_per_chat))
        batched.append(_intake_rate(chats, messages_per_chat, batched=True))
        single.append(_intake_rate(chats, messages_per_chat, batched=False))
    ceiling = statistics.median(ceilings)
    rate, one_by_one = statistics.median(batched), statistics.median(single)
    return [
        Result(
            "P1",
            f"intake: Telegram updates end to end (flow, encryption, commit), "
            f"{chats} chats' updates per getUpdates answer and commit",
            rate,
            "msg/s",
            ceiling,
            "bare SQLite INSERT+COMMIT",
            rate / ceiling,
            ">= 1000 msg/s and >= 0.5 of bare commits",
            verdict(rate >= 1000 and rate / ceiling >= 0.5),
        ),
        Result(
            "P1-single",
            "intake: one update per transaction (webhook mode)",
            one_by_one,
            "msg/s",
            ceiling,
            "bare SQLite INSERT+COMMIT",
            one_by_one / ceiling,
            ">= 1000 msg/s",
            verdict(one_by_one >= 1000),
        ),
    ]


def _queue_outbox(chats: int, per_chat: int) -> int:
    from tropa.intake.models import OutboundMessage, Priority
    from tropa.intake.services import conversation_for_chat

    total = 0
    with transaction.atomic():
        for chat in range(chats):
            conversation = conversation_for_chat(channel="telegram", chat_id=str(10_000 + chat))
            for number in range(per_chat):
                message = OutboundMessage(
                    conversation=conversation,
                    priority=Priority.BULK if number % 2 else Priority.LIVE,
                    idempotency_key=f"p3:{chat}:{number}",
                )
                message.text, message.buttons = f"Message {number}", []
                message.save()
                total += 1
    return total


async def _send_all(standin_url: str, total: int, ceiling: int) -> float:
    from asgiref.sync import sync_to_async

    from tropa.intake.channels.telegram.bot import bot_create, scheduler_create
    from tropa.intake.channels.telegram.sender import TelegramSender
    from tropa.intake.models import Delivery, OutboundMessage

    bot = bot_create(token=BENCH_TOKEN, api_base=standin_url)
    scheduler = scheduler_create(global_per_second=ceiling, per_chat_per_second=1)
    sender = TelegramSender(bot, scheduler, worker="bench")
    remaining = sync_to_async(lambda: OutboundMessage.objects.exclude(status=Delivery.SENT).count())
    start = time.perf_counter()
    while await remaining():
        wait = await sender.send_one()
        if wait:
            await asyncio.sleep(wait)
        if not await sync_to_async(OutboundMessage.objects.filter(status=Delivery.QUEUED).exists)():
            await sender.drain()
    elapsed = time.perf_counter() - start
    await bot.session.close()
    return elapsed


def _steady_rate(sends: list[tuple[float, object]], *, per_chat: int, ceiling: int) -> float:
    """Messages/s while the ceiling is what binds: after the first second (the
    window starts empty and allows a second's worth at once) and while at least
    `ceiling` chats still have messages waiting (after that, 1/s per chat binds)."""
    if not sends:
        return 0.0
    remaining = {chat: per_chat for _, chat in sends}
    start, steady = sends[0][0] + 1.0, []
    for at, chat in sends:
        if at >= start and sum(1 for left in remaining.values() if left) >= ceiling:
            steady.append(at)
        remaining[chat] -= 1
    # Whole seconds only: sends cluster where the sliding window frees up, so a
    # span measured from first to last send would overstate the rate.
    seconds = int(steady[-1] - steady[0]) if steady else 0
    if seconds < 2:
        return 0.0
    return sum(1 for at in steady if at < steady[0] + seconds) / seconds


def bench_p3(*, chats: int, per_chat: int, ceiling: int = 30) -> list[Result]:
    from tropa.intake.channels.telegram.standin import StandIn
    from tropa.intake.models import Delivery, OutboundMessage

    total = _queue_outbox(chats, per_chat)
    with StandIn() as standin:
        # 50 ms of arrival jitter is tolerated, as real Telegram does: requests
        # in flight do not reach the server exactly in the order they left.
        standin.enforce_limits(global_per_second=ceiling, per_chat_per_second=1, allowance=0.05)
        elapsed = asyncio.run(_send_all(standin.url, total, ceiling))
        calls = [c for c in standin.sent if c.method == "sendMessage"]
        too_many = standin.too_many_requests
    sends = [(call.at, call.chat_id) for call in calls]
    achieved = _steady_rate(sends, per_chat=per_chat, ceiling=ceiling) or len(calls) / elapsed
    rows = list(OutboundMessage.objects.filter(idempotency_key__startswith="p3:"))
    lost = sum(1 for row in rows if row.status != Delivery.SENT)
    duplicated = len(calls) - len({(c.chat_id, c.params.get("text")) for c in calls})
    ratio = achieved / ceiling
    # Expected time: one message per chat per second bounds it when chats < ceiling.
    ok = abs(ratio - 1) <= 0.05 and too_many == 0 and lost == 0 and duplicated == 0
    detail = f"{len(calls)} sent, {too_many} 429s, {lost} lost, {duplicated} duplicated"
    return [
        Result(
            "P3",
            f"Telegram outbox vs stand-in ({detail})",
            achieved,
            "msg/s",
            float(ceiling),
            "configured ceiling",
            ratio,
            "within 5% of ceiling, 0 429s/lost/duplicated",
            verdict(ok),
        ),
    ]
