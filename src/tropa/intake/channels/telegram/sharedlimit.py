"""Telegram's flood limits shared by every bot worker, kept in Redis.

One bot token has one ceiling (about 30 messages/s overall, 1/s per chat) however many
machines send for it. Each worker still orders its queue with the in-process
``ratelimit.OutboxScheduler``; before it claims a message it asks this module for a slot,
and the answer is decided inside Redis by one Lua script, so two workers can never both
take the last slot of a second. The single-machine default needs none of this.

- **Overall**: the same sliding-window log as ``ratelimit.SlidingWindow`` (at most
  ``c = max(1, floor(r))`` sends in any ``(t - c / r, t]``), as a sorted set of send
  instants. The clock is Redis's own ``TIME``, so the workers' clocks need not agree.
- **Per chat**: a "not before" instant per chat. A grant sets it a lease ahead (the
  request is in flight: nobody else may write to that chat), and the answer sets it one
  interval after the answer, as the in-process scheduler does: a request that spent long
  in flight must not let the next one to that chat arrive early.

Redis would otherwise hold a list of who is being written to, so chats are named only
by an opaque key the caller derives (``chat_key``: a keyed HMAC of the chat id); values
are instants, members random tickets. Nothing here logs.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, cast

GRANTED: Final = "ok"
CHAT: Final = "chat"
"""Refused because this chat was written to within its interval (or is being written to)."""
OVERALL: Final = "global"
"""Refused because the bot's own ceiling is reached."""

MICRO = 1_000_000

# Lua numbers are doubles and Redis turns a number into a string with 14 digits, which
# would cut microsecond instants to a tenth of a second: every number leaves as '%.0f'.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local chat_free = tonumber(redis.call('GET', KEYS[2]) or '0')
if chat_free > now then
  return {'chat', string.format('%.0f', chat_free - now)}
end
local capacity = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now - window))
local count = redis.call('ZCARD', KEYS[1])
if count >= capacity then
  local oldest = redis.call('ZRANGE', KEYS[1], count - capacity, count - capacity, 'WITHSCORES')
  return {'global', string.format('%.0f', tonumber(oldest[2]) + window - now)}
end
redis.call('ZADD', KEYS[1], string.format('%.0f', now), ARGV[4])
redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
local lease = tonumber(ARGV[3])
redis.call('SET', KEYS[2], string.format('%.0f', now + lease), 'PX', math.ceil(lease / 1000) + 1000)
return {'ok', string.format('%.0f', now)}
"""

_RELEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local after = tonumber(ARGV[1])
if after <= 0 then
  redis.call('DEL', KEYS[1])
  return 0
end
redis.call('SET', KEYS[1], string.format('%.0f', now + after), 'PX', math.ceil(after / 1000) + 1000)
return 1
"""

_REFUND = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return 1
"""

Script = Callable[..., Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Grant:
    """The answer to ``acquire``: a ticket, or what refused and for how long (seconds)."""

    scope: str
    wait: float = 0.0
    ticket: str = ""

    @property
    def ok(self) -> bool:
        return self.scope == GRANTED


class SharedLimit:
    """Slots under one bot's ceiling, for any number of workers on one Redis.

    ``client`` is a ``redis.asyncio.Redis``; only ``register_script`` is used, so a test
    may pass anything that has it.
    """

    def __init__(
        self,
        client: Any,
        *,
        global_per_second: float,
        per_chat_per_second: float,
        prefix: str = "tropa:telegram",
        lease_seconds: float = 30.0,
    ) -> None:
        for rate in (global_per_second, per_chat_per_second):
            if not rate > 0 or math.isinf(rate):
                raise ValueError("a rate must be a positive, finite number per second")
        capacity = max(1, math.floor(global_per_second))
        self.capacity = capacity
        self.window_seconds = capacity / global_per_second
        self.per_chat_interval = 1.0 / per_chat_per_second
        self.lease_seconds = lease_seconds
        self._prefix = prefix
        self._acquire = cast(Script, client.register_script(_ACQUIRE))
        self._release = cast(Script, client.register_script(_RELEASE))
        self._refund = cast(Script, client.register_script(_REFUND))

    @property
    def _log_key(self) -> str:
        return f"{self._prefix}:sent"

    def _chat_key(self, chat: str) -> str:
        return f"{self._prefix}:chat:{chat}"

    async def acquire(self, chat: str) -> Grant:
        """A slot for one message to ``chat`` (an opaque key), counted now if granted."""
        ticket = secrets.token_hex(8)
        scope, value = await self._acquire(
            keys=[self._log_key, self._chat_key(chat)],
            args=[
                self.capacity,
                _micro(self.window_seconds),
                _micro(self.lease_seconds),
                ticket,
            ],
        )
        scope = scope.decode() if isinstance(scope, bytes) else str(scope)
        if scope == GRANTED:
            return Grant(GRANTED, 0.0, ticket)
        return Grant(scope, int(value) / MICRO)

    async def release(self, chat: str, *, after: float) -> None:
        """The request to ``chat`` is answered: the next one may go ``after`` seconds from now
        (one interval after a success, ``retry_after`` after a 429)."""
        await self._release(keys=[self._chat_key(chat)], args=[_micro(max(0.0, after))])

    async def refund(self, chat: str, grant: Grant) -> None:
        """Nothing was sent after all (another worker had claimed the row): give it back."""
        await self._refund(keys=[self._log_key, self._chat_key(chat)], args=[grant.ticket])


def _micro(seconds: float) -> int:
    return math.ceil(seconds * MICRO)
