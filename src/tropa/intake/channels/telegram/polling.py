"""Polling mode: fetch updates with getUpdates and hand each to intake, in order."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError, TelegramServerError
from asgiref.sync import sync_to_async

from tropa.intake.channels.telegram import services
from tropa.intake.channels.telegram.models import PollOffset

logger = logging.getLogger(__name__)
ALLOWED = ["message", "callback_query"]


def _offset() -> int:
    return PollOffset.objects.get_or_create(pk=1)[0].offset


def _offset_save(offset: int) -> None:
    PollOffset.objects.update_or_create(pk=1, defaults={"offset": offset})


def _handle(raw: dict[str, Any]) -> None:
    parsed = services.parse_update(raw)
    if parsed is not None:
        services.update_handle(parsed)


async def poll_once(bot: Bot, *, timeout: int = 20) -> int:
    """One getUpdates round; each update is handled and its offset saved before the next."""
    offset = await sync_to_async(_offset)()
    updates = await bot.get_updates(offset=offset, timeout=timeout, allowed_updates=ALLOWED)
    for update in updates:
        raw = update.model_dump(mode="json", by_alias=True, exclude_none=True)
        try:
            await sync_to_async(_handle)(raw)
        except Exception:  # one bad update must not stop the bot (it is logged without content)
            logger.exception("update %s could not be handled", update.update_id)
        callback = raw.get("callback_query")
        if isinstance(callback, dict) and isinstance(callback.get("id"), str):
            await bot.answer_callback_query(callback["id"])
        await sync_to_async(_offset_save)(update.update_id + 1)
    return len(updates)


async def poll(bot: Bot, stop: asyncio.Event, *, timeout: int = 20) -> None:
    while not stop.is_set():
        try:
            await poll_once(bot, timeout=timeout)
        except (TelegramNetworkError, TelegramServerError):
            logger.warning("telegram unavailable while polling; retrying")
            await asyncio.sleep(1)
