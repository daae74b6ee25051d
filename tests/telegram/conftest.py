from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync

from tropa.intake.channels.telegram.standin import StandIn

TOKEN = "123456:TEST-token"


@pytest.fixture
def standin() -> Iterator[StandIn]:
    server = StandIn().start()
    try:
        yield server
    finally:
        server.stop()


def run(scenario: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> Any:
    """Run an async scenario so that its database calls happen in the test's own
    thread (asgiref sends thread-sensitive sync calls back to the outer thread)."""
    return async_to_sync(scenario)(*args)


def poll(standin: StandIn) -> int:
    """One getUpdates round against the stand-in, as the polling worker does it."""
    from tropa.intake.channels.telegram.bot import bot_create
    from tropa.intake.channels.telegram.polling import poll_once

    async def scenario() -> int:
        bot = bot_create(token=TOKEN, api_base=standin.url)
        try:
            return await poll_once(bot, timeout=0)
        finally:
            await bot.session.close()

    return int(run(scenario))
