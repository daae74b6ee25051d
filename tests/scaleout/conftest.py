"""The scale-out tests: several processes on one PostgreSQL and one Redis.

`make test-scaleout` starts both on loopback (scripts/with-postgres.sh and
scripts/with-redis.sh) and runs `pytest -m scaleout`; without them these tests skip.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tropa.intake.channels.telegram.standin import StandIn


@pytest.fixture
def standin() -> Iterator[StandIn]:
    with StandIn() as server:
        yield server
