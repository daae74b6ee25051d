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
