"""Which queued Telegram message goes out next, under Telegram's flood limits.

Pure logic: no I/O, no Django, no wall clock (the clock is injected), so the rules can be
tested over hours of simulated time in milliseconds.

Telegram's documented limits are about 30 messages per second for the whole bot and about
one message per second per chat; going over them earns a 429 with ``retry_after``, and a bot
that keeps going over them is throttled for longer. The scheduler therefore never relies on
the 429: it keeps its own account of what was sent and only hands out a message that fits.

Limits are kept as **sliding-window logs** (not token buckets): for a rate ``r`` per second
the scheduler allows at most ``c = max(1, floor(r))`` sends in any half-open window
``(t - c / r, t]``. For the defaults that is "at most 30 in any second" and "at most 1 per
second per chat", which is exactly how the limits are stated and how the test stand-in
enforces them. A saturated queue is sent at exactly ``r`` on average; fractional rates such
as 20 per minute (``r = 1 / 3``) become one send per three-second window.

Ordering, among messages that may be sent now:

1. a message never overtakes an earlier one to the same chat (per-chat FIFO: only the
   oldest queued message of each chat is eligible, even if it is bulk and a live reply waits
   behind it, and even if its ``not_before`` lies in the future);
2. live replies (priority 0) go before bulk (priority 1);
3. then a chat with a live reply stuck behind its head goes first, to clear the way;
4. then the oldest message first;
5. then the chat served least recently, then input order (so results are deterministic).

Fairness across chats comes from (1) and the per-chat limit: a chat with a thousand queued
messages competes with its one head only and cannot take more than its per-chat share.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

LIVE = 0
"""Priority of a reply in a live conversation: someone is waiting for it."""
BULK = 1
"""Priority of a notification or broadcast: nobody is waiting on this exact second."""

NEVER = -math.inf


@dataclass(frozen=True, slots=True)
class Candidate:
    """One queued outgoing message, as the scheduler sees it (no text: it needs none)."""

    id: str
    chat_id: int
    priority: int
    created_at: float
    not_before: float = 0.0


class SlidingWindow:
    """At most ``capacity`` events in any half-open window ``(t - length, t]``."""

    def __init__(self, per_second: float) -> None:
        if not per_second > 0 or math.isinf(per_second):
            raise ValueError("a rate must be a positive, finite number per second")
        self.capacity = max(1, math.floor(per_second))
        self.length = self.capacity / per_second
        # Expiry instants (send time + length), kept sorted. Storing the expiry instead of the
        # send time means "free at" and "pruned at" are the same float, so a caller that sleeps
        # exactly the returned delay is never refused again by a rounding error.
        self._expiries: list[float] = []

    def record(self, at: float) -> None:
        bisect.insort(self._expiries, at + self.length)

    def free_at(self, now: float) -> float:
        """The earliest instant at or after ``now`` at which one more event fits."""
        self._prune(now)
        excess = len(self._expiries) - self.capacity
        return now if excess < 0 else self._expiries[excess]

    def is_idle(self, now: float) -> bool:
        self._prune(now)
        return not self._expiries

    def _prune(self, now: float) -> None:
        expired = bisect.bisect_right(self._expiries, now)
        if expired:
            del self._expiries[:expired]


@dataclass(slots=True)
class _ChatState:
    window: SlidingWindow
    paused_until: float = NEVER
    last_sent: float = NEVER


@dataclass(slots=True)
class _Head:
    """The oldest queued message of one chat, and the most urgent priority queued behind it."""

    candidate: Candidate
    index: int
    urgent: int = field(default=BULK)


class OutboxScheduler:
    """Decides what to send next; the caller does the sending and reports back.

    Use: ``candidate, wait = scheduler.next_due(queue)``; if a candidate came back, call
    ``record_sent(candidate.chat_id, at)`` right when the request goes out (before awaiting
    it, so concurrent senders see it), else sleep ``wait`` seconds or until new work arrives
    (``wait`` is ``math.inf`` when the queue is empty). After a 429 call
    ``record_retry_after``; after a 5xx or network error sleep ``backoff(attempt)``.
    """

    def __init__(
        self,
        *,
        global_per_second: float = 30,
        per_chat_per_second: float = 1,
        clock: Callable[[], float],
        rng: Callable[[], float] = random.random,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
    ) -> None:
        self._clock = clock
        self._rng = rng
        self._per_chat_per_second = per_chat_per_second
        self._global = SlidingWindow(global_per_second)
        self._chats: dict[int, _ChatState] = {}
        self._global_paused_until = NEVER
        self._next_sweep = NEVER
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        SlidingWindow(per_chat_per_second)  # validate now rather than at the first send

    @property
    def per_chat_interval(self) -> float:
        """Seconds between two messages to one chat."""
        return 1.0 / self._per_chat_per_second

    def next_due(self, candidates: Sequence[Candidate]) -> tuple[Candidate | None, float]:
        """The message to send now, or ``(None, seconds to wait)``."""
        now = self._clock()
        best: _Head | None = None
        best_key: tuple[float, ...] = ()
        earliest = math.inf
        for chat_id, head in _heads(candidates).items():
            ready = self._chat_ready_at(chat_id, head.candidate, now)
            if ready > now:
                earliest = min(earliest, ready)
                continue
            key = self._order_key(chat_id, head)
            if best is None or key < best_key:
                best, best_key = head, key
        global_ready = max(self._global.free_at(now), self._global_paused_until)
        if best is not None:
            return (best.candidate, 0.0) if global_ready <= now else (None, global_ready - now)
        if math.isinf(earliest):
            return None, math.inf
        return None, max(earliest, global_ready) - now

    def record_sent(self, chat_id: int, at: float | None = None) -> None:
        """Count one send to ``chat_id`` at ``at`` (default: now) against both limits."""
        at = self._clock() if at is None else at
        self._global.record(at)
        chat = self._chat(chat_id)
        chat.window.record(at)
        chat.last_sent = max(chat.last_sent, at)
        self._sweep(at)

    def record_retry_after(self, chat_id: int | None, seconds: float) -> None:
        """Honour a 429: pause one chat, or everything when the limit hit was the bot's own."""
        until = self._clock() + max(0.0, seconds)
        if chat_id is None:
            self._global_paused_until = max(self._global_paused_until, until)
        else:
            chat = self._chat(chat_id)
            chat.paused_until = max(chat.paused_until, until)

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before retry ``attempt`` (1, 2, ...) after a 5xx or network error.

        Exponential with a cap and "equal jitter": half the step is fixed so a retry never
        comes back immediately, half is random so many senders don't retry in lockstep.
        """
        if attempt < 1:
            raise ValueError("attempt counts from 1")
        # The exponent is clamped so a huge attempt count cannot overflow the float.
        step = min(self._backoff_cap, self._backoff_base * 2.0 ** min(attempt - 1, 64))
        return step / 2 + self._rng() * step / 2

    def _chat(self, chat_id: int) -> _ChatState:
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = _ChatState(SlidingWindow(self._per_chat_per_second))
        return chat

    def _chat_ready_at(self, chat_id: int, head: Candidate, now: float) -> float:
        chat = self._chats.get(chat_id)
        if chat is None:
            return head.not_before
        return max(head.not_before, chat.paused_until, chat.window.free_at(now))

    def _order_key(self, chat_id: int, head: _Head) -> tuple[float, ...]:
        chat = self._chats.get(chat_id)
        last_sent = NEVER if chat is None else chat.last_sent
        candidate = head.candidate
        return (candidate.priority, head.urgent, candidate.created_at, last_sent, head.index)

    def _sweep(self, now: float) -> None:
        """Forget chats with nothing left to remember, at most once per window length.

        Without this a long-running bot keeps a state object for every chat it ever wrote to.
        Forgetting ``last_sent`` only affects the last tie-break, and only for chats that were
        served more than a window ago.
        """
        if now < self._next_sweep:
            return
        idle = [
            chat_id
            for chat_id, chat in self._chats.items()
            if chat.paused_until <= now and chat.window.is_idle(now)
        ]
        for chat_id in idle:
            del self._chats[chat_id]
        self._next_sweep = now + self._global.length


def _heads(candidates: Sequence[Candidate]) -> dict[int, _Head]:
    """Each chat's oldest message (ties: input order), and its most urgent queued priority."""
    heads: dict[int, _Head] = {}
    for index, candidate in enumerate(candidates):
        head = heads.get(candidate.chat_id)
        if head is None:
            heads[candidate.chat_id] = _Head(candidate, index, candidate.priority)
            continue
        head.urgent = min(head.urgent, candidate.priority)
        if candidate.created_at < head.candidate.created_at:
            head.candidate, head.index = candidate, index
    return heads
