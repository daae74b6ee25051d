"""Polling mode: fetch updates with getUpdates and hand each to intake, in order."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiogram import Bot
from aiogram.exceptions import ClientDecodeError, TelegramNetworkError, TelegramServerError
from asgiref.sync import sync_to_async
from django.db import transaction

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


@transaction.atomic
def _handle_all(raws: list[dict[str, Any]], next_offset: int) -> None:
    """Every update of one getUpdates answer and the new offset, in one commit:
    a restart neither repeats nor skips any of them."""
    parsed = [update for update in map(services.parse_update, raws) if update is not None]
    services.updates_handle(parsed)
    _offset_save(next_offset)


async def _handle_one_by_one(raws: list[dict[str, Any]]) -> None:
    for raw in raws:
        try:
            await sync_to_async(_handle)(raw)
        except Exception:  # one bad update must not stop the bot (it is logged without content)
            logger.exception("update %s could not be handled", raw["update_id"])
        await sync_to_async(_offset_save)(raw["update_id"] + 1)


async def _get_updates(bot: Bot, *, offset: int, timeout: int) -> list[dict[str, Any]]:
    """The raw updates of one getUpdates answer.

    aiogram validates the whole answer against its models first. One update it cannot
    validate (a shape newer than this aiogram, or a broken one) would fail that answer on
    every retry, and so stop the bot for good; its error also quotes the update. Such an
    answer is read from its JSON instead: `parse_update` checks every field itself and
    ignores what it does not understand.
    """
    try:
        updates = await bot.get_updates(offset=offset, timeout=timeout, allowed_updates=ALLOWED)
    except ClientDecodeError as error:
        result = error.data.get("result") if isinstance(error.data, dict) else None
        if not isinstance(result, list):
            raise
        logger.warning("a getUpdates answer did not validate; read as plain JSON")
        return [
            raw for raw in result if isinstance(raw, dict) and type(raw.get("update_id")) is int
        ]
    return [update.model_dump(mode="json", by_alias=True, exclude_none=True) for update in updates]


async def poll_once(bot: Bot, *, timeout: int = 20) -> int:
    """One getUpdates round, handled in one transaction; if that fails, update by
    update, so that one bad update costs only itself."""
    offset = await sync_to_async(_offset)()
    raws = await _get_updates(bot, offset=offset, timeout=timeout)
    if not raws:
        return 0
    try:
        await sync_to_async(_handle_all)(raws, raws[-1]["update_id"] + 1)
    except Exception:
        logger.exception("a batch of %d updates failed; handling them one by one", len(raws))
        await _handle_one_by_one(raws)
    for raw in raws:
        callback = raw.get("callback_query")
        if isinstance(callback, dict) and isinstance(callback.get("id"), str):
            await bot.answer_callback_query(callback["id"])
    return len(raws)


async def poll(bot: Bot, stop: asyncio.Event, *, timeout: int = 20) -> None:
    while not stop.is_set():
        try:
            await poll_once(bot, timeout=timeout)
        except (TelegramNetworkError, TelegramServerError, ClientDecodeError):
            # ClientDecodeError here: an answer that is not even JSON. Never log its text.
            logger.warning("telegram unavailable while polling; retrying")
            await asyncio.sleep(1)
