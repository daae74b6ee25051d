"""The Telegram outbox worker: sends queued messages within Telegram's limits,
deletes chat messages when they are due, and never sends one message twice
on purpose.

Delivery is claimed atomically (`UPDATE … WHERE status = 'queued'`), so two
workers never send the same row. A worker that dies between Telegram's
answer and marking the row sent leaves it `sending`; after STALE it is
queued again — the one window where a message can arrive twice, preferred
to losing it.

Several workers on several machines share one bot's ceiling through Redis
(`sharedlimit.SharedLimit`, when TROPA_REDIS_URL is set): each still orders
its own queue, and asks Redis for a slot before it claims a row.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from asgiref.sync import sync_to_async
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from redis.exceptions import RedisError

from tropa.intake.channels.telegram import services
from tropa.intake.channels.telegram.ratelimit import Candidate, OutboxScheduler
from tropa.intake.channels.telegram.sharedlimit import CHAT, OVERALL, Grant, SharedLimit
from tropa.intake.models import Conversation, Delivery, OutboundMessage

logger = logging.getLogger(__name__)
STALE = timedelta(seconds=60)
MAX_ATTEMPTS = 8
BATCH = 500
# How long a read of the queue heads is reused: sending then costs one claim
# and one API call, not a queue scan per message.
SNAPSHOT_SECONDS = 0.25
MAX_IN_FLIGHT = 8
# Handled update ids are forgotten this often (see services.handled_updates_forget).
FORGET_EVERY = 3600.0


def _requeue_stale() -> None:
    stale = timezone.now() - STALE
    OutboundMessage.objects.filter(status=Delivery.SENDING, claimed_at__lt=stale).update(
        status=Delivery.QUEUED
    )


def _heads(addresses: dict[int, int]) -> list[Candidate]:
    """The oldest queued message of each chat: only a chat's head may go next
    (per-chat order), so only heads are read however long the backlog is.
    `addresses` caches decrypted chat ids by conversation id across calls."""
    now = timezone.now()
    queued = OutboundMessage.objects.filter(status=Delivery.QUEUED)
    first = queued.filter(conversation=OuterRef("conversation")).order_by("created_at", "id")
    rows = (
        queued.filter(conversation__channel=services.CHANNEL, pk=Subquery(first.values("pk")[:1]))
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now + timedelta(seconds=5)))
        .order_by("priority", "created_at", "id")
        .values_list("pk", "conversation_id", "priority", "created_at", "not_before")[:BATCH]
    )
    heads = []
    for pk, conversation_id, priority, created_at, not_before in rows:
        if conversation_id not in addresses:
            address = Conversation.objects.get(pk=conversation_id).address
            addresses[conversation_id] = int(address)
        heads.append(
            Candidate(
                id=str(pk),
                chat_id=addresses[conversation_id],
                priority=priority,
                created_at=created_at.timestamp(),
                not_before=not_before.timestamp() if not_before else 0.0,
            )
        )
    return heads


def _claim(row_id: int, worker: str) -> OutboundMessage | None:
    claimed = OutboundMessage.objects.filter(pk=row_id, status=Delivery.QUEUED).update(
        status=Delivery.SENDING, claimed_by=worker, claimed_at=timezone.now()
    )
    if not claimed:
        return None
    row = OutboundMessage.objects.select_related("conversation").get(pk=row_id)
    _ = (row.text, row.buttons)  # decrypt here, in the same hop as the claim
    return row


def _sent(row: OutboundMessage, message_id: int) -> None:
    row.status = Delivery.SENT
    row.sent_at = timezone.now()
    row.external_id = str(message_id)
    row.text = None  # delivered: the server keeps no copy of the text
    row.save(update_fields=["status", "sent_at", "external_id", "text"])
    services.message_remember(row.conversation, message_id)


def _retry(row: OutboundMessage, *, after: float, failed: bool = False) -> None:
    row.attempts += 1
    row.status = Delivery.FAILED if failed or row.attempts >= MAX_ATTEMPTS else Delivery.QUEUED
    row.not_before = timezone.now() + timedelta(seconds=after)
    row.save(update_fields=["attempts", "status", "not_before"])


def _keyboard(buttons: Any) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    rows = [
        [InlineKeyboardButton(text=str(label), callback_data=str(value))]
        for value, label in buttons
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _chat_key(chat_id: int) -> str:
    # Redis is a copy of who is being written to: it gets a keyed HMAC, never the id.
    from tropa.vault.services import blind_index

    return blind_index(str(chat_id), kind="telegram:ratelimit")[:32]


class TelegramSender:
    def __init__(
        self,
        bot: Bot,
        scheduler: OutboxScheduler,
        *,
        worker: str,
        shared: SharedLimit | None = None,
    ) -> None:
        self.bot = bot
        self.scheduler = scheduler
        self.worker = worker
        self.shared = shared
        self._chat_keys: dict[int, str] = {}
        self._inflight: set[asyncio.Task[None]] = set()
        self._snapshot: list[Candidate] = []
        self._fresh_until = 0.0
        self._addresses: dict[int, int] = {}

    async def send_one(self) -> float:
        """Send the next due message; return how long to wait before calling again."""
        if time.monotonic() >= self._fresh_until or not self._snapshot:
            await sync_to_async(_requeue_stale)()
            self._snapshot = await sync_to_async(_heads)(self._addresses)
            self._fresh_until = time.monotonic() + SNAPSHOT_SECONDS
        if not self._snapshot:
            return 0.2
        # Several requests in flight: one round trip to Telegram takes longer than
        # 1/30 s, so sending one at a time could never reach the ceiling. A free place is
        # awaited before the decision, so a send is counted when it really leaves.
        if len(self._inflight) >= MAX_IN_FLIGHT:
            await asyncio.wait(self._inflight, return_when=asyncio.FIRST_COMPLETED)
        chosen, wait = self.scheduler.next_due(self._snapshot)
        if chosen is None:
            return min(max(wait, 0.005), 0.5)
        grant = await self._shared_slot(chosen.chat_id)
        if grant is not None and not grant.ok:
            return 0.0 if grant.scope == CHAT else min(grant.wait, 0.5)
        # This chat's next message becomes its head at the next snapshot.
        self._snapshot = [c for c in self._snapshot if c.chat_id != chosen.chat_id]
        row = await sync_to_async(_claim)(int(chosen.id), self.worker)
        if row is None:
            if grant is not None and self.shared is not None:
                await self._shared_call(self.shared.refund(self._key(chosen.chat_id), grant))
            return 0.0
        # Counted when the request leaves, so the next decision already sees it.
        self.scheduler.record_sent(chosen.chat_id, time.time())
        task = asyncio.create_task(self._deliver(row, chosen.chat_id))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)
        return 0.0

    def _key(self, chat_id: int) -> str:
        key = self._chat_keys.get(chat_id)
        if key is None:
            key = self._chat_keys[chat_id] = _chat_key(chat_id)
        return key

    async def _shared_slot(self, chat_id: int) -> Grant | None:
        """A slot under the ceiling all workers share; None without Redis.

        A refusal is also noted in the local scheduler, so the next pick is another chat
        (a chat another worker is writing to) or waits (the shared second is full).
        """
        if self.shared is None:
            return None
        try:
            grant = await self.shared.acquire(self._key(chat_id))
        except RedisError:
            # Without the shared account no worker may send: it could break the ceiling.
            logger.warning("redis unavailable; the outbox waits")
            return Grant(OVERALL, 1.0)
        if not grant.ok:
            wait = min(grant.wait, self.scheduler.per_chat_interval)
            self.scheduler.record_retry_after(chat_id if grant.scope == CHAT else None, wait)
        return grant

    async def _shared_release(self, chat_id: int, after: float) -> None:
        if self.shared is not None:
            await self._shared_call(self.shared.release(self._key(chat_id), after=after))

    async def _shared_call(self, call: Any) -> None:
        try:
            await call
        except RedisError:  # the lease runs out by itself
            logger.warning("redis unavailable while releasing a slot")

    async def drain(self) -> None:
        """Wait until every request in flight has its answer recorded."""
        while self._inflight:
            await asyncio.wait(set(self._inflight))

    async def _deliver(self, row: OutboundMessage, chat_id: int) -> None:
        text, buttons = row.text, row.buttons  # already decrypted by _claim
        try:
            message = await self.bot.send_message(
                chat_id, text or "…", reply_markup=_keyboard(buttons)
            )
        except TelegramRetryAfter as error:
            self.scheduler.record_retry_after(chat_id, float(error.retry_after))
            await self._shared_release(chat_id, float(error.retry_after))
            await sync_to_async(_retry)(row, after=float(error.retry_after))
            logger.warning("telegram 429: retry after %ss", error.retry_after)
            return
        except (TelegramServerError, TelegramNetworkError):
            await self._shared_release(chat_id, self.scheduler.per_chat_interval)
            await sync_to_async(_retry)(row, after=self.scheduler.backoff(row.attempts + 1))
            logger.warning("telegram unavailable; outbound %s retried", row.pk)
            return
        except (TelegramForbiddenError, TelegramBadRequest):
            await self._shared_release(chat_id, self.scheduler.per_chat_interval)
            await sync_to_async(_retry)(row, after=0, failed=True)
            logger.warning("telegram refused outbound %s", row.pk)
            return
        # The chat's next message waits a full interval from *this* answer: a
        # request that spent long in flight must not let the next one arrive early.
        self.scheduler.record_retry_after(chat_id, self.scheduler.per_chat_interval)
        await self._shared_release(chat_id, self.scheduler.per_chat_interval)
        await sync_to_async(_sent)(row, message.message_id)

    async def delete_due(self) -> int:
        due = await sync_to_async(services.deletions_due)()
        for row_id, chat_id, message_id in due:
            try:
                await self.bot.delete_message(chat_id, message_id)
            except TelegramBadRequest:
                pass  # already gone, or older than 48 h: nothing more we can do
            except (TelegramServerError, TelegramNetworkError, TelegramRetryAfter):
                return 0
            await sync_to_async(services.deletion_done)(row_id)
        return len(due)

    async def run(self, stop: asyncio.Event) -> None:
        last_deletion = 0.0
        try:
            await self._loop(stop, last_deletion)
        finally:
            await self.drain()

    async def _loop(self, stop: asyncio.Event, last_deletion: float) -> None:
        last_forget = 0.0
        while not stop.is_set():
            wait = await self.send_one()
            if time.time() - last_deletion > 1.0:
                await self.delete_due()
                last_deletion = time.time()
            if time.time() - last_forget > FORGET_EVERY:
                await sync_to_async(services.handled_updates_forget)()
                last_forget = time.time()
            if wait:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=wait)
                except TimeoutError:
                    pass
