"""Building the aiogram Bot and running the worker (polling and/or outbox)."""

from __future__ import annotations

import asyncio
import os
import signal
import time

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from django.conf import settings

from tropa.intake.channels.telegram.polling import poll
from tropa.intake.channels.telegram.ratelimit import OutboxScheduler
from tropa.intake.channels.telegram.sender import TelegramSender
from tropa.intake.channels.telegram.sharedlimit import SharedLimit


def bot_create(*, token: str | None = None, api_base: str | None = None) -> Bot:
    token = token or settings.TELEGRAM_BOT_TOKEN
    if not token:
        raise ValueError("TROPA_TELEGRAM_TOKEN is not set")
    api = TelegramAPIServer.from_base(api_base or settings.TELEGRAM_API_BASE)
    return Bot(token=token, session=AiohttpSession(api=api))


# Aim a little under Telegram's limits: requests in flight reach the server
# with some jitter, and a 429 costs far more than 3% of throughput.
SAFETY = 0.97


def scheduler_create(
    *, global_per_second: float | None = None, per_chat_per_second: float | None = None
) -> OutboxScheduler:
    overall = global_per_second or settings.TELEGRAM_GLOBAL_PER_SECOND
    per_chat = per_chat_per_second or settings.TELEGRAM_PER_CHAT_PER_SECOND
    return OutboxScheduler(
        global_per_second=overall * SAFETY,
        per_chat_per_second=per_chat * SAFETY,
        clock=time.time,
    )


def shared_limit_create(
    *, redis_url: str | None = None, global_per_second: float | None = None
) -> SharedLimit | None:
    """The ceiling shared by every bot worker through Redis, or None on one machine."""
    url = settings.REDIS_URL if redis_url is None else redis_url
    if not url:
        return None
    from redis.asyncio import Redis

    overall = global_per_second or settings.TELEGRAM_GLOBAL_PER_SECOND
    return SharedLimit(
        Redis.from_url(url),
        global_per_second=overall * SAFETY,
        per_chat_per_second=settings.TELEGRAM_PER_CHAT_PER_SECOND * SAFETY,
    )


async def run(bot: Bot, *, polling: bool, stop: asyncio.Event | None = None) -> None:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass  # not the main thread (tests)
    sender = TelegramSender(
        bot,
        scheduler_create(),
        worker=f"{os.uname().nodename}:{os.getpid()}",
        shared=shared_limit_create(),
    )
    tasks = [asyncio.create_task(sender.run(stop))]
    if polling:
        tasks.append(asyncio.create_task(poll(bot, stop)))
    try:
        await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await bot.session.close()
