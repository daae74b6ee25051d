"""The outbox scheduler keeps Telegram's limits and the helpline's ordering rules.

Everything runs on a simulated clock. Every decision the scheduler makes is checked against
an independent reference model of the rules (``Reference`` below), so the tests do not
trust the scheduler's own bookkeeping.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tropa.intake.channels.telegram.ratelimit import BULK, LIVE, Candidate, OutboxScheduler


def on_grid(t: float) -> float:
    """Round to 1/1024 s. Sums and differences of such instants are exact in binary floats,
    so the reference model can judge decisions made exactly at a window's edge without any
    float slack (a slack either way would hide real mistakes at exactly those instants)."""
    return round(t * 1024) / 1024


class SimClock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class Pause:
    """A 429 the simulated Telegram answers at ``at``: ``chat_id`` None means the global limit."""

    at: float
    chat_id: int | None
    seconds: float


@dataclass
class Reference:
    """The rules, written out plainly, to judge each decision of the scheduler."""

    global_per_second: float
    per_chat_per_second: float
    sends: list[tuple[float, Candidate]] = field(default_factory=list)
    by_chat: dict[int, list[float]] = field(default_factory=dict)
    paused: dict[int | None, float] = field(default_factory=dict)

    @staticmethod
    def window(rate: float) -> tuple[int, float]:
        capacity = max(1, math.floor(rate))
        return capacity, capacity / rate

    def record(self, at: float, candidate: Candidate) -> None:
        self.sends.append((at, candidate))
        self.by_chat.setdefault(candidate.chat_id, []).append(at)

    def pause(self, chat_id: int | None, until: float) -> None:
        self.paused[chat_id] = max(until, self.paused.get(chat_id, -math.inf))

    @staticmethod
    def in_window(times: list[float], now: float, length: float) -> int:
        """How many of ``times`` (ascending) lie in (now - length, now]."""
        count = 0
        for t in reversed(times):
            if t <= now - length:
                break
            count += 1
        return count

    def global_free(self, now: float) -> bool:
        capacity, length = self.window(self.global_per_second)
        recent = self.in_window([t for t, _ in self.sends[-capacity - 1 :]], now, length)
        return recent < capacity and now >= self.paused.get(None, -math.inf)

    def chat_free(self, chat_id: int, now: float) -> bool:
        capacity, length = self.window(self.per_chat_per_second)
        recent = self.in_window(self.by_chat.get(chat_id, []), now, length)
        return recent < capacity and now >= self.paused.get(chat_id, -math.inf)

    @staticmethod
    def heads(queue: Iterable[Candidate]) -> dict[int, Candidate]:
        heads: dict[int, Candidate] = {}
        for candidate in queue:
            head = heads.get(candidate.chat_id)
            if head is None or candidate.created_at < head.created_at:
                heads[candidate.chat_id] = candidate
        return heads

    def sendable(self, queue: list[Candidate], now: float) -> list[Candidate]:
        if not self.global_free(now):
            return []
        return [
            head
            for head in self.heads(queue).values()
            if head.not_before <= now and self.chat_free(head.chat_id, now)
        ]

    def check_choice(self, chosen: Candidate, queue: list[Candidate], now: float) -> None:
        rivals = self.sendable(queue, now)
        assert chosen in rivals, "broke a limit, a pause, a not_before or FIFO"
        if chosen.priority == BULK:
            assert all(c.priority == BULK for c in rivals), "bulk went before a live reply"
        urgent: dict[int, int] = {}
        for q in queue:
            urgent[q.chat_id] = min(q.priority, urgent.get(q.chat_id, BULK))
        peers = [
            c
            for c in rivals
            if c.priority == chosen.priority and urgent[c.chat_id] == urgent[chosen.chat_id]
        ]
        assert all(chosen.created_at <= c.created_at for c in peers), "not oldest first"


def simulate(
    arrivals: list[Candidate],
    *,
    global_per_second: float = 30,
    per_chat_per_second: float = 1,
    pauses: Iterable[Pause] = (),
    check: bool = True,
) -> tuple[list[tuple[float, Candidate]], Reference]:
    """Run a sender loop on a simulated clock; messages appear in the queue at created_at."""
    clock = SimClock()
    scheduler = OutboxScheduler(
        global_per_second=global_per_second, per_chat_per_second=per_chat_per_second, clock=clock
    )
    reference = Reference(global_per_second, per_chat_per_second)
    pending = sorted(arrivals, key=lambda c: c.created_at)
    events = sorted(pauses, key=lambda p: p.at)
    queue: list[Candidate] = []
    for _ in range(100 * len(arrivals) + 100):  # a bound, so a livelock fails instead of hangs
        while pending and pending[0].created_at <= clock.now:
            queue.append(pending.pop(0))
        while events and events[0].at <= clock.now:
            event = events.pop(0)
            scheduler.record_retry_after(event.chat_id, event.seconds)
            reference.pause(event.chat_id, clock.now + event.seconds)
        if not (pending or queue):
            return reference.sends, reference
        chosen, wait = scheduler.next_due(queue)
        if chosen is not None:
            if check:
                reference.check_choice(chosen, queue, clock.now)
            reference.record(clock.now, chosen)
            scheduler.record_sent(chosen.chat_id, clock.now)
            queue.remove(chosen)
            continue
        assert wait > 0
        if check:
            assert not reference.sendable(queue, clock.now), "idle while work could go"
            if not math.isinf(wait):
                assert reference.sendable(queue, clock.now + wait), "overslept"
        next_arrival = pending[0].created_at if pending else math.inf
        next_event = events[0].at if events else math.inf
        clock.now = min(clock.now + wait, next_arrival, next_event)
    raise AssertionError("the simulation did not finish")


def steady_load(
    count: int, chats: int, per_second: float, *, seed: int = 1, live_share: float = 0.3
) -> list[Candidate]:
    rng = random.Random(seed)
    return [
        Candidate(
            id=f"m{i}",
            chat_id=rng.randrange(chats),
            priority=LIVE if rng.random() < live_share else BULK,
            created_at=on_grid(i / per_second),
        )
        for i in range(count)
    ]


def max_in_window(times: list[float], length: float = 1.0) -> int:
    """The most events in any half-open window (t - length, t]."""
    best, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - length:
            start += 1
        best = max(best, end - start + 1)
    return best


@pytest.fixture(scope="module")
def saturated() -> list[tuple[float, Candidate]]:
    # 3000 messages to 400 chats arriving at 45/s: the bot is the bottleneck for ~100 s.
    sends, _ = simulate(steady_load(3000, chats=400, per_second=45), check=False)
    return sends


def test_saturated_rate_is_within_5_percent_of_30_per_second(saturated: list) -> None:
    times = [t for t, _ in saturated]
    assert len(times) == 3000
    # count over whole seconds: (n - 1) / span would overstate a rate that is sent in bursts
    seconds = math.floor(times[-1])
    assert seconds > 10
    rate = sum(t < seconds for t in times) / seconds
    assert 30 * 0.95 <= rate <= 30
    # and over every ten-second stretch, not just on average
    for start in range(0, int(times[-1]) - 10, 5):
        inside = [t for t in times if start <= t < start + 10]
        assert 285 <= len(inside) <= 300


def test_saturated_never_exceeds_30_in_any_second(saturated: list) -> None:
    assert max_in_window([t for t, _ in saturated]) == 30


def test_saturated_never_exceeds_1_per_second_per_chat(saturated: list) -> None:
    by_chat: dict[int, list[float]] = {}
    for t, candidate in saturated:
        by_chat.setdefault(candidate.chat_id, []).append(t)
    assert max(max_in_window(times) for times in by_chat.values()) == 1


def test_saturated_keeps_fifo_per_chat(saturated: list) -> None:
    by_chat: dict[int, list[float]] = {}
    for _, candidate in saturated:
        by_chat.setdefault(candidate.chat_id, []).append(candidate.created_at)
    assert all(created == sorted(created) for created in by_chat.values())


def test_every_decision_follows_the_rules_under_load() -> None:
    # The same kind of load, smaller, with each decision judged by the reference model.
    pauses = [Pause(5.0, 3, 4.0), Pause(9.0, None, 2.0)]
    sends, _ = simulate(steady_load(600, chats=40, per_second=40), pauses=pauses)
    assert len(sends) == 600


def test_every_decision_follows_the_rules_when_many_chats_compete() -> None:
    # With few chats, per-chat and global windows fall into step and few heads compete for
    # each free slot. Many chats with a few messages each, arriving at 2.5 times the global
    # rate, make dozens of heads compete for every slot, live and bulk mixed.
    rng = random.Random(2)
    arrivals = [
        Candidate(
            f"m{i}", rng.randrange(300), rng.choice([LIVE, BULK]), on_grid(rng.uniform(0, 20))
        )
        for i in range(1500)
    ]
    sends, _ = simulate(arrivals, pauses=[Pause(12.0, None, 1.0)])
    assert len(sends) == 1500


def test_live_replies_overtake_a_broadcast_backlog() -> None:
    broadcast = [Candidate(f"b{i}", 1000 + i, BULK, created_at=0.0) for i in range(900)]
    replies = [Candidate(f"r{i}", i, LIVE, created_at=5.0 + i) for i in range(10)]
    sends, _ = simulate(broadcast + replies)
    sent_at = {c.id: t for t, c in sends}
    # each reply leaves within one global slot of arriving, although 700+ bulk were older
    assert all(sent_at[r.id] == r.created_at for r in replies)
    assert max(sent_at.values()) == pytest.approx(909 / 30, abs=1)


def test_a_later_live_reply_waits_behind_earlier_bulk_in_the_same_chat() -> None:
    queue = [
        Candidate("bulk", 7, BULK, created_at=1.0),
        Candidate("live", 7, LIVE, created_at=2.0),
        Candidate("other", 8, LIVE, created_at=3.0),
    ]
    sends, _ = simulate(queue)
    order = [c.id for _, c in sends]
    assert order.index("bulk") < order.index("live")


def test_a_chat_with_a_live_reply_stuck_behind_bulk_goes_first_among_bulk() -> None:
    clock = SimClock(10.0)
    scheduler = OutboxScheduler(clock=clock)
    queue = [
        Candidate("older-bulk", 1, BULK, created_at=1.0),
        Candidate("blocking-bulk", 2, BULK, created_at=2.0),
        Candidate("stuck-live", 2, LIVE, created_at=3.0),
    ]
    assert scheduler.next_due(queue) == (queue[1], 0.0)


def test_a_later_message_never_overtakes_one_with_not_before_in_the_future() -> None:
    clock = SimClock(0.0)
    scheduler = OutboxScheduler(clock=clock)
    queue = [
        Candidate("later", 5, BULK, created_at=0.0, not_before=3.0),
        Candidate("now", 5, LIVE, created_at=1.0),
    ]
    assert scheduler.next_due(queue) == (None, 3.0)


def test_oldest_first_then_least_recently_served_chat() -> None:
    clock = SimClock(100.0)
    scheduler = OutboxScheduler(clock=clock)
    scheduler.record_sent(1, at=98.0)
    scheduler.record_sent(2, at=97.0)
    queue = [
        Candidate("a", 1, BULK, 5.0),
        Candidate("b", 2, BULK, 5.0),
        Candidate("c", 3, BULK, 6.0),
    ]
    assert scheduler.next_due(queue)[0] == queue[1]
    assert scheduler.next_due(queue[:1] + queue[2:])[0] == queue[0]


def test_a_chat_429_pauses_only_that_chat() -> None:
    arrivals = [Candidate(f"a{i}", 1, LIVE, created_at=0.0) for i in range(10)]
    arrivals += [Candidate(f"b{i}", 2, LIVE, created_at=0.0) for i in range(10)]
    sends, _ = simulate(arrivals, pauses=[Pause(2.5, 1, 5.0)])
    chat_1 = [t for t, c in sends if c.chat_id == 1]
    chat_2 = [t for t, c in sends if c.chat_id == 2]
    assert not [t for t in chat_1 if 2.5 <= t < 7.5]
    assert chat_1[3] == pytest.approx(7.5)
    assert chat_2 == pytest.approx([float(i) for i in range(10)])


def test_a_global_429_pauses_everything() -> None:
    arrivals = [Candidate(f"m{i}", i, BULK, created_at=0.0) for i in range(200)]
    sends, _ = simulate(arrivals, pauses=[Pause(1.5, None, 3.0)])
    times = [t for t, _ in sends]
    assert not [t for t in times if 1.5 <= t < 4.5]
    assert 4.5 in times


def test_a_shorter_429_does_not_cut_a_longer_pause() -> None:
    clock = SimClock(0.0)
    scheduler = OutboxScheduler(clock=clock)
    scheduler.record_retry_after(4, 10)
    scheduler.record_retry_after(4, 2)
    assert scheduler.next_due([Candidate("x", 4, LIVE, 0.0)]) == (None, 10.0)
    scheduler.record_retry_after(None, 20)
    scheduler.record_retry_after(None, 1)
    assert scheduler.next_due([Candidate("y", 5, LIVE, 0.0)]) == (None, 20.0)


def test_empty_queue_waits_for_new_work() -> None:
    assert OutboxScheduler(clock=SimClock()).next_due([]) == (None, math.inf)


def test_fractional_rate_20_per_minute() -> None:
    arrivals = [Candidate(f"m{i}", -100123, BULK, created_at=0.0) for i in range(20)]
    # 3.0000000000000004 s is not a grid length, so the exact reference can't judge here.
    sends, _ = simulate(arrivals, per_chat_per_second=20 / 60, check=False)
    times = [t for t, _ in sends]
    assert times[-1] == pytest.approx(19 * 3.0)
    assert max_in_window(times, 60.0) == 20


def test_forgets_idle_chats() -> None:
    clock = SimClock()
    scheduler = OutboxScheduler(clock=clock)
    for chat_id in range(1000):
        clock.now = chat_id / 30
        scheduler.record_sent(chat_id, clock.now)
    assert len(scheduler._chats) <= 61


def test_rejects_nonsense_rates() -> None:
    for bad in (0, -1, math.inf, math.nan):
        with pytest.raises(ValueError):
            OutboxScheduler(global_per_second=bad, clock=SimClock())
        with pytest.raises(ValueError):
            OutboxScheduler(per_chat_per_second=bad, clock=SimClock())


def test_backoff_is_exponential_capped_and_deterministic() -> None:
    low = OutboxScheduler(clock=SimClock(), rng=lambda: 0.0)
    high = OutboxScheduler(clock=SimClock(), rng=lambda: 0.999999)
    assert [low.backoff(n) for n in range(1, 9)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    assert [round(high.backoff(n), 3) for n in (1, 2, 3, 7, 10_000)] == [1, 2, 4, 60, 60]
    seeded = [OutboxScheduler(clock=SimClock(), rng=random.Random(7).random) for _ in range(2)]
    assert [seeded[0].backoff(3) for _ in range(5)] == [seeded[1].backoff(3) for _ in range(5)]
    with pytest.raises(ValueError):
        low.backoff(0)


# --- properties -------------------------------------------------------------------------

candidates = st.lists(
    st.builds(
        Candidate,
        id=st.uuids().map(str),
        chat_id=st.integers(1, 6),
        priority=st.sampled_from([LIVE, BULK]),
        # whole seconds too: many messages at one instant make heads compete for a slot
        created_at=st.one_of(st.integers(0, 3).map(float), st.floats(0, 5).map(on_grid)),
        not_before=st.one_of(st.just(0.0), st.floats(0, 8).map(on_grid)),
    ),
    max_size=40,
)
pauses = st.lists(
    st.builds(
        Pause,
        at=st.floats(0, 10).map(on_grid),
        chat_id=st.one_of(st.none(), st.integers(1, 6)),
        seconds=st.integers(1, 5).map(float),
    ),
    max_size=3,
)


@settings(max_examples=100, deadline=None)
@given(
    arrivals=candidates,
    pauses=pauses,
    global_per_second=st.sampled_from([2.0, 3.0, 5.0, 30.0]),
    per_chat_per_second=st.sampled_from([0.5, 1.0, 2.0, 4.0]),
)
def test_property_every_decision_follows_the_rules(
    arrivals: list[Candidate],
    pauses: list[Pause],
    global_per_second: float,
    per_chat_per_second: float,
) -> None:
    # check_choice judges limits, pauses, FIFO, priority and age on every send; simulate
    # also fails on idling while something could go, on oversleeping and on livelock.
    sends, _ = simulate(
        arrivals,
        pauses=pauses,
        global_per_second=global_per_second,
        per_chat_per_second=per_chat_per_second,
    )
    assert sorted(c.id for _, c in sends) == sorted(c.id for c in arrivals)
    global_cap, global_len = Reference.window(global_per_second)
    assert max_in_window([t for t, _ in sends], global_len) <= global_cap
    chat_cap, chat_len = Reference.window(per_chat_per_second)
    for chat_id in {c.chat_id for c in arrivals}:
        times = [t for t, c in sends if c.chat_id == chat_id]
        assert max_in_window(times, chat_len) <= chat_cap


@settings(max_examples=100, deadline=None)
@given(attempts=st.lists(st.integers(1, 200), min_size=1, max_size=20), seed=st.integers())
def test_property_backoff_stays_in_its_band(attempts: list[int], seed: int) -> None:
    scheduler = OutboxScheduler(clock=SimClock(), rng=random.Random(seed).random)
    for attempt in attempts:
        step = min(60.0, 2.0 ** min(attempt - 1, 64))
        assert step / 2 <= scheduler.backoff(attempt) <= step
