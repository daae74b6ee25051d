"""P10: a surge of synthetic applicants through the real channels, answered by
simulated caseworkers, with every message accounted for at the end.

What is real: the Telegram worker (`tropa bot --polling`, a subprocess: polling,
intake, the outbox sender with its scheduler) talking to the loopback Bot API
stand-in, which enforces Telegram's ceiling (30 messages/s, 1/s per chat); the
web chat served by gunicorn with 2 workers over real HTTP (forms, CSRF, session
cookies, the per-session rate limit, the Argon2 passphrase at the end); the
caseworkers' queue (`cases.selectors.queue`), the case file (`case_open`), the
reply (`intake.services.relay_reply`) and the status move that sends a bulk
notice (`case_transition`), each with the caseworker's own keychain, which opens
a case only through the coordinators' team key the caseworker holds (they are
on triage duty). The database is a fresh SQLite file (or --database-url).

What is simulated: the people. Applicants arrive on a ramp, a peak and a tail,
read each question before answering (a Telegram applicant answers only what
the stand-in delivered; a web applicant reloads the page), give varied answers,
sometimes type instead of pressing a button or type something the flow does
not understand, and some write again after intake or answer the volunteer.
Caseworkers take the most urgent unanswered case from the queue, read it and
write at a human pace; `pace` scales every human delay (1.0: a few seconds per
button, tens of seconds per text or reply; compressed about tenfold from life).
The only coordination the product does not do itself: two simulated caseworkers
never open the same case at once (in life they see each other's assignment).

The run is a child process (`python -m tropa.bench.surge_bench`) on its own
data directory, so no other benchmark's cases sit in its queue. At the end the
bot and gunicorn are stopped and every message is checked: each applicant's
inbound messages in his conversation (the flow's message counter) and, after
intake, in his case (decrypted with an auditor's keychain); each outbound row
delivered exactly once (Telegram: the stand-in's record; web: the page the
applicant saw), still queued, or lost.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import html
import json
import math
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from tropa.bench.runner import Result, free_port, verdict

T = TypeVar("T")
BOT_TOKEN = "123456:SURGE-bench"  # noqa: S105  (the stand-in takes any token)
PASSWORD = "surge-bench-not-a-secret"  # noqa: S105  (throwaway staff, throwaway database)
ALIAS_PREFIX = "Surge volunteer"
CEILING = 30
WEB_WORKERS = 2
# The web chat allows 20 messages a minute per session; a person never sends
# two within 3 s, so the simulated ones don't either (the limit is still handled).
WEB_MIN_GAP = 3.05
HTTP_TIMEOUT = 60.0
SAMPLE_SECONDS = 1.0
WEBHOOK_PATH = "/telegram/webhook/"
WEBHOOK_SECRET = "surge-bench-webhook-secret"  # noqa: S105  (loopback, throwaway)
# Telegram's default max_connections: that many updates in flight to a webhook at once.
WEBHOOK_CONNECTIONS = 40
WEBHOOK_ATTEMPTS = 5


# ------------------------------------------------------------------ configuration


@dataclass(frozen=True)
class SurgeConfig:
    applicants: int
    seconds: float
    caseworkers: int = 40
    telegram_share: float = 0.5
    pace: float = 1.0  # scales every human delay
    settle: float = 600.0  # at most this long after the last arrival
    ceiling: int = CEILING
    seed: int = 10
    # "polling": `tropa bot --polling` fetches updates; "webhook": the stand-in posts
    # them to the web app and `tropa bot` only sends.
    telegram_mode: str = "polling"


def arrival_times(count: int, seconds: float, rng: random.Random) -> list[float]:
    """`count` arrivals over `seconds`: a ramp to a peak (from 20% to 100% of the
    peak rate over the first 40%), the peak, then a tail falling to 30%.
    Inverse-CDF sampling of that rate, jittered within each arrival's slot."""
    steps = 1000
    shape = [_surge_shape(i / steps) for i in range(steps + 1)]
    cdf = [0.0]
    for i in range(steps):
        cdf.append(cdf[-1] + (shape[i] + shape[i + 1]) / 2)
    total = cdf[-1]
    times = []
    for n in range(count):
        target = (n + rng.random()) / count * total
        i = min(bisect.bisect_left(cdf, target), steps) or 1
        low, high = cdf[i - 1], cdf[i]
        fraction = (target - low) / (high - low) if high > low else 0.0
        times.append((i - 1 + fraction) / steps * seconds)
    return sorted(times)


def _surge_shape(x: float) -> float:
    if x < 0.4:
        return 0.2 + 0.8 * x / 0.4
    if x < 0.6:
        return 1.0
    return 1.0 - 0.7 * (x - 0.6) / 0.4


# --------------------------------------------------------------- the people


@dataclass
class Applicant:
    key: str
    channel: str  # "telegram" | "web"
    arrival: float
    rng: random.Random
    chat_id: int = 0  # Telegram
    session_key: str = ""  # web: to find the conversation afterwards
    accepted: int = 0  # inbound messages the service took
    description: str = ""
    followups: list[str] = field(default_factory=list)
    codename: str = ""
    started_at: float = 0.0
    completed_at: float | None = None
    replies: list[tuple[float, str]] = field(default_factory=list)  # human replies seen
    notices: int = 0
    received: list[tuple[int, str]] = field(default_factory=list)  # Telegram (message id, text)
    refused: int = 0  # web: refused by the session rate limit
    uncertain: int = 0  # web: a message sent without an answer (timed out)
    # Web: follow-ups whose post got no answer: the service may or may not have
    # taken them, and the person saw an error (counted as one), not a receipt.
    followups_uncertain: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    waiting_for: str = "arrival"
    finished: bool = False

    def think(self, low: float, high: float, pace: float) -> float:
        return pace * self.rng.uniform(low, high)


DESCRIPTIONS = (
    "We were told the unit leaves for the front within days.",
    "A summons came to my parents' address and I am not there.",
    "I signed a contract before and now they will not let me end it.",
    "My brother was wounded, he is in a hospital and they want him back.",
    "I left my unit and I am hiding, I need to know what to do next.",
    "I have no foreign passport and the border worries me.",
    "We need a lawyer, the enlistment office keeps calling.",
)


def _description(applicant: Applicant) -> str:
    base = applicant.rng.choice(DESCRIPTIONS)
    return f"{base} (synthetic applicant {applicant.key})"


def _followup(applicant: Applicant) -> str:
    number = len(applicant.followups) + 1
    return f"Is anyone there? I still need help. (synthetic applicant {applicant.key}, #{number})"


def _choose(applicant: Applicant, buttons: list[tuple[str, str]]) -> tuple[str, str]:
    """(kind, value): a button's value, its label typed out, or now and then
    something the flow does not understand."""
    roll = applicant.rng.random()
    value, label = _weighted_button(applicant, buttons)
    if roll < 0.02:
        return "text", "sorry, what?"
    if roll < 0.07:
        return "text", label
    return "choice", value


def _weighted_button(applicant: Applicant, buttons: list[tuple[str, str]]) -> tuple[str, str]:
    question = buttons[0][0].split(":", 1)[0]
    by_value = {value.split(":", 1)[-1]: (value, label) for value, label in buttons}
    preferred = {
        "language": [("ru", 0.7), ("en", 0.3)],
        "who": [("self", 0.8), ("relative", 0.2)],
        "docs_foreign": [("yes", 0.2), ("no", 0.8)],
        "duress_offer": [("yes", 0.25), ("no", 0.75)],
        "consent": [("yes", 1.0)],  # everyone agrees: a declined intake has no case to check
        "docs_foreign_expiry": [("unknown", 1.0)],
    }.get(question)
    if preferred:
        values = [v for v, _ in preferred if v in by_value]
        weights = [w for v, w in preferred if v in by_value]
        if values:
            return by_value[applicant.rng.choices(values, weights)[0]]
    return applicant.rng.choice(buttons)


def _text_answer(applicant: Applicant, prompt: str, prompts: Prompts) -> str:
    if prompt in prompts.pin:
        return str(applicant.rng.randrange(10_000, 99_999_999))
    if prompt in prompts.expiry:
        return f"{applicant.rng.randrange(1, 13):02d}/20{applicant.rng.randrange(27, 35)}"
    applicant.description = _description(applicant)
    return applicant.description


@dataclass(frozen=True)
class Prompts:
    """What the simulated people recognise, read from the flow itself."""

    pin: frozenset[str]
    expiry: frozenset[str]
    text: frozenset[str]  # questions answered by typing
    done_prefixes: tuple[str, ...]
    done_pattern: re.Pattern[str]

    @classmethod
    def load(cls) -> Prompts:
        from tropa.intake.flows import default_flow

        flow = default_flow()

        def texts(item: str) -> frozenset[str]:
            return frozenset(flow.text(item, language) for language in flow.languages)

        typed = [q for q in flow.questions() if q.kind == "text"]
        done = [flow.text("done.text", language) for language in flow.languages]
        pattern = "|".join(
            re.escape(t).replace(re.escape("{codename}"), rf"(?P<c{n}>\S+?)")
            for n, t in enumerate(done)
        )
        return cls(
            pin=texts("duress_pin.prompt"),
            expiry=texts("docs_foreign_expiry.prompt"),
            text=frozenset().union(*(texts(q.text) for q in typed)),
            done_prefixes=tuple(t.split("{codename}")[0] for t in done),
            done_pattern=re.compile(pattern, re.S),
        )

    def codename_in(self, text: str) -> str | None:
        found = self.done_pattern.fullmatch(text)
        if not found:
            return None
        return next((value for value in found.groupdict().values() if value), None)


# ---------------------------------------------------------------- the stand-in


class SurgeStandIn:
    """The Bot API stand-in, with a hook on every accepted sendMessage so that
    each simulated applicant reads his own chat without scanning all calls."""

    def __init__(self, on_message: Callable[[dict[str, Any], float], None]) -> None:
        from tropa.intake.channels.telegram.standin import StandIn

        hook = on_message

        class Hooked(StandIn):
            def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
                message = super()._send_message(params)
                hook(message, time.monotonic())
                return message

        self.server = Hooked()


class TelegramHub:
    """Messages from the stand-in's thread to each applicant's inbox on the driver's loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.inboxes: dict[int, asyncio.Queue[tuple[int, str, list[tuple[str, str]], float]]] = {}
        self.sent_at: list[float] = []
        # Everything that reached each chat, whether or not its person still reads it.
        self.delivered: dict[int, list[tuple[int, str]]] = defaultdict(list)
        self.closed = False

    def inbox(self, chat_id: int) -> asyncio.Queue[tuple[int, str, list[tuple[str, str]], float]]:
        return self.inboxes.setdefault(chat_id, asyncio.Queue())

    def on_message(self, message: dict[str, Any], at: float) -> None:
        # The stand-in's thread, its lock held: hand over and return at once.
        chat_id = message["chat"]["id"]
        markup = message.get("reply_markup") or {}
        buttons = [
            (str(row[0].get("callback_data", "")), str(row[0].get("text", "")))
            for row in markup.get("inline_keyboard", [])
            if row
        ]
        item = (int(message["message_id"]), str(message.get("text", "")), buttons, at)
        self.sent_at.append(at)
        self.delivered[chat_id].append((item[0], item[1]))
        if not self.closed:
            try:
                self.loop.call_soon_threadsafe(self._put, chat_id, item)
            except RuntimeError:  # the driver's loop is gone: the run is over
                pass

    def _put(self, chat_id: int, item: tuple[int, str, list[tuple[str, str]], float]) -> None:
        self.inbox(chat_id).put_nowait(item)


# ------------------------------------------------------------------ the run


@dataclass
class Caseworker:
    staff: Any
    keychain: Any
    replies: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class Run:
    config: SurgeConfig
    prompts: Prompts
    standin: Any
    hub: TelegramHub
    web_url: str
    pool: ThreadPoolExecutor
    started: float = field(default_factory=time.monotonic)
    applicants: list[Applicant] = field(default_factory=list)
    caseworkers: list[Caseworker] = field(default_factory=list)
    claimed: set[int] = field(default_factory=set)
    replies_made: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    reply_rows: list[int | None] = field(default_factory=list)  # outbox rows of those replies
    samples: list[dict[str, float]] = field(default_factory=list)
    http_latency: list[float] = field(default_factory=list)
    http_errors: Counter[str] = field(default_factory=Counter)
    stop_people: asyncio.Event = field(default_factory=asyncio.Event)
    connector: Any = None
    webhook_slots: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(WEBHOOK_CONNECTIONS)
    )

    def now(self) -> float:
        return time.monotonic() - self.started

    async def db(self, function: Callable[..., T], *args: Any) -> T:
        """Django work off the event loop, on a small pool of threads of its own."""
        return await asyncio.get_running_loop().run_in_executor(self.pool, function, *args)


async def _pause(run: Run, seconds: float) -> bool:
    """Sleep unless the run is told to stop; False if it was."""
    try:
        await asyncio.wait_for(run.stop_people.wait(), timeout=max(seconds, 0))
    except TimeoutError:
        return True
    return False


# ----------------------------------------------------------- Telegram applicant


async def telegram_applicant(run: Run, applicant: Applicant) -> None:
    inbox = run.hub.inbox(applicant.chat_id)
    pace = run.config.pace
    applicant.started_at = run.now()
    applicant.waiting_for = "start"
    await telegram_send(run, applicant, "/start")
    question: tuple[int, str, list[tuple[str, str]]] | None = None
    while True:
        applicant.waiting_for = "reply" if applicant.completed_at else "question"
        message = await _next_message(run, inbox)
        if message is None:
            return
        question = _read(run, applicant, message) or question
        if applicant.completed_at is not None:
            if not await _after_intake_telegram(run, applicant, inbox):
                return
            applicant.finished = True
            return
        if question is None or not inbox.empty():
            continue  # answer the latest question only (a welcome comes before one)
        answered = await _answer_telegram(run, applicant, question, pace)
        question = None
        if not answered:
            return


async def telegram_send(
    run: Run, applicant: Applicant, text: str, *, button_of: int | None = None
) -> None:
    """The applicant writes (or presses a button under message `button_of`): in
    polling mode the update waits at the stand-in for getUpdates; in webhook mode
    the stand-in posts it to the web app as Telegram does, retrying on failure."""
    standin, chat = run.standin, applicant.chat_id
    if run.config.telegram_mode == "polling":
        if button_of is None:
            standin.push_text(chat, text)
        else:
            standin.push_callback(chat, text, button_of)
        applicant.accepted += 1
        return
    if button_of is None:
        update = standin.text_update(chat, text)
    else:
        update = standin.callback_update(chat, text, button_of)
    await _deliver_webhook(run, applicant, update)


async def _deliver_webhook(run: Run, applicant: Applicant, update: dict[str, Any]) -> None:
    for attempt in range(WEBHOOK_ATTEMPTS):
        reason = ""
        async with run.webhook_slots:
            try:
                delivery = await run.standin.deliver_webhook_async(
                    run.web_url + WEBHOOK_PATH, WEBHOOK_SECRET, update, timeout=HTTP_TIMEOUT
                )
                status = delivery.status
            except Exception as error:  # a timeout or a refused connection
                status, reason = 0, type(error).__name__
        if status == 200:
            applicant.accepted += 1
            return
        # Telegram retries an update the webhook did not take; each failure is an error.
        applicant.errors.append(f"webhook {status or reason}")
        if not await _pause(run, 2.0 * (attempt + 1)):
            return


async def _next_message(
    run: Run, inbox: asyncio.Queue[tuple[int, str, list[tuple[str, str]], float]]
) -> tuple[int, str, list[tuple[str, str]], float] | None:
    getter = asyncio.ensure_future(inbox.get())
    stopper = asyncio.ensure_future(run.stop_people.wait())
    done, _ = await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if getter in done:
        return getter.result()
    getter.cancel()
    return None


def _read(
    run: Run, applicant: Applicant, message: tuple[int, str, list[tuple[str, str]], float]
) -> tuple[int, str, list[tuple[str, str]]] | None:
    """Take in one delivered message; return it if it asks something."""
    message_id, text, buttons, at = message
    applicant.received.append((message_id, text))
    if text.startswith(ALIAS_PREFIX):
        applicant.replies.append((at - run.started, text))
        return None
    codename = run.prompts.codename_in(text)
    if codename:
        applicant.codename = codename
        applicant.completed_at = at - run.started
        return None
    if buttons or text in run.prompts.text:
        return message_id, text, buttons
    if applicant.completed_at is not None or applicant.codename:
        applicant.notices += 1
    return None


async def _answer_telegram(
    run: Run, applicant: Applicant, question: tuple[int, str, list[tuple[str, str]]], pace: float
) -> bool:
    message_id, text, buttons = question
    if buttons:
        kind, value = _choose(applicant, buttons)
        delay = applicant.think(2, 6, pace)
    else:
        kind, value = "text", _text_answer(applicant, text, run.prompts)
        delay = applicant.think(6, 20, pace)
    if not await _pause(run, delay):
        return False
    await telegram_send(run, applicant, value, button_of=message_id if kind == "choice" else None)
    return True


async def _after_intake_telegram(
    run: Run,
    applicant: Applicant,
    inbox: asyncio.Queue[tuple[int, str, list[tuple[str, str]], float]],
) -> bool:
    """Some write again while they wait; everyone waits for a person's reply,
    and some answer it."""
    applicant.waiting_for = "followup"
    for _ in range(_followup_count(applicant)):
        if not await _pause(run, applicant.think(15, 60, run.config.pace)):
            return False
        text = _followup(applicant)
        applicant.followups.append(text)
        await telegram_send(run, applicant, text)
    while not applicant.replies:
        applicant.waiting_for = "reply"
        message = await _next_message(run, inbox)
        if message is None:
            return False
        _read(run, applicant, message)
    if applicant.rng.random() < 0.5:
        if not await _pause(run, applicant.think(6, 20, run.config.pace)):
            return False
        text = f"Thank you, I am here. (synthetic applicant {applicant.key}, answer)"
        applicant.followups.append(text)
        await telegram_send(run, applicant, text)
    return True


def _followup_count(applicant: Applicant) -> int:
    return applicant.rng.choices((0, 1, 2, 3), (0.55, 0.25, 0.12, 0.08))[0]


# ---------------------------------------------------------------- web applicant


PAGE_BUTTON = re.compile(r'<button type="submit" name="choice" value="([^"]*)">(.*?)</button>')
PAGE_LINE = re.compile(r'<li class="from-(\w+)">(.*?)</li>', re.S)
PAGE_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
PAGE_CODENAME = re.compile(r'<strong class="codename">([^<]+)</strong>')


@dataclass
class Page:
    status: int
    csrf: str
    buttons: list[tuple[str, str]]
    lines: list[tuple[str, str]]
    codename: str
    redirected: bool


def _page(status: int, body: str, redirected: bool) -> Page:
    def clean(text: str) -> str:
        return html.unescape(re.sub(r"<br\s*/?>", "\n", text)).strip()

    found = PAGE_CSRF.search(body)
    codename = PAGE_CODENAME.search(body)
    return Page(
        status=status,
        csrf=found.group(1) if found else "",
        buttons=[(html.unescape(v), clean(label)) for v, label in PAGE_BUTTON.findall(body)],
        lines=[(who, clean(text)) for who, text in PAGE_LINE.findall(body)],
        codename=html.unescape(codename.group(1)).strip() if codename else "",
        redirected=redirected,
    )


class WebError(Exception):
    pass


async def _request(run: Run, http: Any, method: str, data: dict[str, str] | None = None) -> Page:
    import aiohttp

    start = time.monotonic()
    try:
        async with http.request(method, "/chat/", data=data) as response:
            body = await response.text()
            page = _page(response.status, body, bool(response.history))
    except (aiohttp.ClientError, TimeoutError) as error:
        run.http_errors[type(error).__name__] += 1
        raise WebError(type(error).__name__) from None
    run.http_latency.append(time.monotonic() - start)
    if page.status >= 500 or (page.status >= 400 and page.status != 400):
        run.http_errors[f"HTTP {page.status}"] += 1
        raise WebError(f"HTTP {page.status}")
    return page


async def web_applicant(run: Run, applicant: Applicant) -> None:
    import aiohttp

    jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1, as a browser keeps them
    timeout = aiohttp.ClientTimeout(total=HTTP_TIMEOUT)
    applicant.started_at = run.now()
    applicant.waiting_for = "start"
    async with aiohttp.ClientSession(
        base_url=run.web_url,
        connector=run.connector,
        connector_owner=False,
        cookie_jar=jar,
        timeout=timeout,
    ) as http:
        try:
            await _web_flow(run, applicant, http)
        except WebError as error:
            applicant.errors.append(str(error))
        finally:
            applicant.session_key = _session_key(jar, run.web_url)


def _session_key(jar: Any, url: str) -> str:
    from django.conf import settings
    from yarl import URL

    cookie = jar.filter_cookies(URL(url)).get(settings.SESSION_COOKIE_NAME)
    return cookie.value if cookie is not None else ""


async def _web_flow(run: Run, applicant: Applicant, http: Any) -> None:
    page = await _request(run, http, "GET")
    page = await _web_post(run, applicant, http, page, {"start": "1"})
    last_post = time.monotonic()
    while page.codename == "" and applicant.completed_at is None:
        applicant.waiting_for = "question"
        answer, delay = _web_answer(run, applicant, page)
        if answer is None:
            # Mid-intake, yet the page asks nothing: the person is stuck.
            applicant.errors.append("web page without a question")
            return
        delay = max(delay, WEB_MIN_GAP - (time.monotonic() - last_post))
        if not await _pause(run, delay):
            return
        page = await _web_post(run, applicant, http, page, answer)
        last_post = time.monotonic()
    applicant.codename = page.codename
    applicant.completed_at = run.now()
    applicant.waiting_for = "followup"
    await _after_intake_web(run, applicant, http, page)


def _web_answer(run: Run, applicant: Applicant, page: Page) -> tuple[dict[str, str] | None, float]:
    if page.buttons:
        kind, value = _choose(applicant, page.buttons)
        delay = applicant.think(2, 6, run.config.pace)
        return ({"choice": value} if kind == "choice" else {"text": value}), delay
    asked = next((text for who, text in reversed(page.lines) if who == "tropa"), "")
    if asked in run.prompts.text:
        text = _text_answer(applicant, asked, run.prompts)
        return {"text": text}, applicant.think(6, 20, run.config.pace)
    return None, 0.0


async def _web_post(
    run: Run, applicant: Applicant, http: Any, page: Page, data: dict[str, str]
) -> Page:
    """One message: POST, then the redirect to the chat page (302 = received)."""
    while True:
        try:
            answer = await _request(run, http, "POST", {"csrfmiddlewaretoken": page.csrf, **data})
        except WebError:
            # No answer in time: the message may or may not have been taken. The
            # person gives up here; the check allows for either.
            applicant.uncertain += 1
            raise
        if answer.redirected:
            applicant.accepted += 1
            _web_replies(run, applicant, answer)
            return answer
        # 400: the session's rate limit (graceful refusal); anything else is a defect.
        applicant.refused += 1
        if applicant.refused > 20:
            raise WebError("refused repeatedly")
        if not await _pause(run, 20.0):
            raise WebError("stopped while refused")
        page = answer


async def _web_followup(run: Run, applicant: Applicant, http: Any, page: Page, text: str) -> Page:
    """A message after intake, expected in the case once the service took it."""
    try:
        answer = await _web_post(run, applicant, http, page, {"text": text})
    except WebError:
        applicant.followups_uncertain.append(text)
        raise
    applicant.followups.append(text)
    return answer


def _web_replies(run: Run, applicant: Applicant, page: Page) -> None:
    seen = {text for _, text in applicant.replies}
    for who, text in page.lines:
        if who == "tropa" and text.startswith(ALIAS_PREFIX) and text not in seen:
            applicant.replies.append((run.now(), text))
            seen.add(text)


async def _after_intake_web(run: Run, applicant: Applicant, http: Any, page: Page) -> None:
    for _ in range(_followup_count(applicant)):
        if not await _pause(run, max(applicant.think(15, 60, run.config.pace), WEB_MIN_GAP)):
            return
        text = _followup(applicant)
        page = await _web_followup(run, applicant, http, page, text)
    while not applicant.replies:
        applicant.waiting_for = "reply"
        # No JavaScript: a person waiting reloads the page now and then.
        if not await _pause(run, applicant.think(10, 25, run.config.pace)):
            return
        page = await _request(run, http, "GET")
        _web_replies(run, applicant, page)
    if applicant.rng.random() < 0.5:
        if not await _pause(run, max(applicant.think(6, 20, run.config.pace), WEB_MIN_GAP)):
            return
        text = f"Thank you, I am here. (synthetic applicant {applicant.key}, answer)"
        await _web_followup(run, applicant, http, page, text)
    applicant.finished = True


# ----------------------------------------------------------------- caseworkers


def _pick(caseworker: Caseworker, claimed: set[int]) -> int | None:
    """The most urgent, longest-waiting case nobody has answered, from the real queue."""
    from tropa.cases import selectors

    cases = selectors.queue(
        staff=caseworker.staff, keychain=caseworker.keychain, filters=selectors.QueueFilters()
    )
    cases = cases.filter(first_reply_at__isnull=True, compromised_at__isnull=True)
    found: int | None = cases.exclude(pk__in=list(claimed)).values_list("pk", flat=True).first()
    return found


def _read_case(caseworker: Caseworker, case_id: int) -> int:
    """Open the case file as the page does: unlock, then decrypt the timeline."""
    from tropa.cases import selectors
    from tropa.cases.models import Case
    from tropa.cases.services import case_open

    case = case_open(case=Case.objects.get(pk=case_id), keychain=caseworker.keychain)
    lengths = [len(str(entry.body or "")) for entry in selectors.case_timeline(case)]
    return sum(lengths)


def _reply(caseworker: Caseworker, case_id: int, text: str, triage: bool) -> int | None:
    """Reply, and now and then triage; the queued row's id, to find it at the end."""
    from tropa.cases.models import Case
    from tropa.cases.services import case_transition
    from tropa.intake.services import relay_reply

    case = Case.objects.get(pk=case_id)
    row = relay_reply(case=case, keychain=caseworker.keychain, text=text)
    if triage:
        # Triage after the first answer: the verification notice goes out as bulk.
        case_transition(case=case, target="triage", keychain=caseworker.keychain)
        case_transition(case=case, target="verification", keychain=caseworker.keychain)
    return row.pk if row is not None else None


async def caseworker_loop(run: Run, caseworker: Caseworker, rng: random.Random) -> None:
    pace = run.config.pace
    while not run.stop_people.is_set():
        try:
            case_id = await run.db(_pick, caseworker, set(run.claimed))
            if case_id is None or case_id in run.claimed:
                await _pause(run, pace * rng.uniform(2, 4))
                continue
            run.claimed.add(case_id)
            try:
                await _handle_case(run, caseworker, rng, case_id)
            finally:
                run.claimed.discard(case_id)
        except Exception as error:  # a simulated person reports it and goes on
            caseworker.errors.append(type(error).__name__)
            await _pause(run, 1.0)


async def _handle_case(run: Run, caseworker: Caseworker, rng: random.Random, case_id: int) -> None:
    pace = run.config.pace
    if not await _pause(run, pace * rng.uniform(2, 6)):
        return
    await run.db(_read_case, caseworker, case_id)
    if not await _pause(run, pace * rng.uniform(6, 20)):
        return
    number = len(run.replies_made[case_id]) + 1
    # Unique, so the checks can find each reply again.
    text = f"Hello, we have read your request and are working on it. (reply {case_id}.{number})"
    row = await run.db(_reply, caseworker, case_id, text, number == 1 and rng.random() < 0.6)
    run.replies_made[case_id].append(text)
    run.reply_rows.append(row)
    caseworker.replies += 1


# ------------------------------------------------------------------ monitoring


def _sample() -> dict[str, float]:
    from django.db.models import Count

    from tropa.cases.models import Case
    from tropa.intake.models import OutboundMessage

    outbox = (
        OutboundMessage.objects.filter(status__in=["queued", "sending"])
        .values("conversation__channel", "priority")
        .annotate(n=Count("*"))
    )
    queued = {(row["conversation__channel"], row["priority"]): row["n"] for row in outbox}
    return {
        "cases": Case.objects.count(),
        "unanswered": Case.objects.filter(first_reply_at__isnull=True).count(),
        "tg_live": queued.get(("telegram", 0), 0),
        "tg_bulk": queued.get(("telegram", 1), 0),
        "web_pending": queued.get(("web", 0), 0) + queued.get(("web", 1), 0),
    }


async def monitor(run: Run, until: asyncio.Event, console: Any) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    with progress:
        task = progress.add_task("surge", total=len(run.applicants))
        while not until.is_set():
            sample = await run.db(_sample)
            sample["t"] = run.now()
            sample["arrived"] = sum(1 for a in run.applicants if a.waiting_for != "arrival")
            sample["sent_tg"] = len(run.hub.sent_at)
            sample["http_p"] = len(run.http_latency)
            run.samples.append(sample)
            done = sum(1 for a in run.applicants if a.completed_at is not None)
            line = (
                f"P10 arrived {sample['arrived']:.0f} · unanswered "
                f"{sample['unanswered']:.0f} · tg queue {sample['tg_live']:.0f}"
                f"+{sample['tg_bulk']:.0f} · intake done"
            )
            progress.update(task, completed=done, description=line)
            if not console.is_terminal and len(run.samples) % 15 == 0:
                # A log (CI) shows no live bar: a line now and then instead.
                console.print(f"t={sample['t']:.0f}s {line} {done}")
            try:
                await asyncio.wait_for(until.wait(), timeout=SAMPLE_SECONDS)
            except TimeoutError:
                pass


# ------------------------------------------------------------------ processes


def _child_env(standin_url: str, ceiling: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "TROPA_TELEGRAM_GLOBAL_PER_SECOND": str(ceiling),
            "TROPA_TELEGRAM_TOKEN": BOT_TOKEN,
            "TROPA_TELEGRAM_API": standin_url,
            "TROPA_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "TROPA_SECURE_COOKIES": "0",
            "TROPA_SSL_REDIRECT": "0",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    return subprocess.Popen(  # noqa: S603  (our own interpreter and modules)
        command, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )


def _wait_http(url: str, timeout: float = 60.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/chat/", timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the web chat did not start")


def _wait_polling(standin: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(call.method == "getUpdates" for call in standin.calls):
            return
        time.sleep(0.2)
    raise RuntimeError("the Telegram worker did not start polling")


def _stop(process: subprocess.Popen[bytes], timeout: float = 60.0) -> int | None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    return process.returncode


def _cpu_seconds(pid: int) -> float:
    """CPU time of a process and its live children (gunicorn's workers), from
    /proc: where the machine's two cores went. 0 where /proc is not there."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(_cpu_seconds(int(child)) for child in children)


LOG_ERROR = re.compile(
    r"Traceback|could not be handled|refused outbound|\[ERROR\]| ERROR |\[CRITICAL\]| CRITICAL "
)


def _log_errors(path: Path) -> list[str]:
    """Lines of a child's log that report an error (the logs hold no message text)."""
    if not path.exists():
        return []
    lines = path.read_text(errors="replace").splitlines()
    return [line[:200] for line in lines if LOG_ERROR.search(line)]


# ------------------------------------------------------------------ setup


def _staff_setup(count: int) -> tuple[list[tuple[Any, Any]], Any]:
    """Caseworkers on triage duty (members of the coordinators' team, so they hold
    its key and see every new case through it) and an auditor for the checks."""
    from django.test.utils import override_settings

    from tropa.accounts.models import Role
    from tropa.accounts.services import staff_create
    from tropa.vault import services as vault
    from tropa.vault.models import TeamKey

    # These people never log in, so their login hash may be cheap: Argon2 would
    # cost most of a second each on this machine, before the surge even starts.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        people = [
            staff_create(
                username=f"surge-{n:03d}",
                alias=f"{ALIAS_PREFIX} {n:03d}",
                role=Role.CASEWORKER,
                password=PASSWORD,
                teams=["coordinators"],
            )
            for n in range(count)
        ]
        auditor = staff_create(
            username="surge-auditor",
            alias="Surge auditor",
            role=Role.COORDINATOR,
            password=PASSWORD,
        )
    # `bench.main._prepare` made the team keys before anyone could hold them (and
    # dropped the recovery half): made again now, they are wrapped for these people.
    TeamKey.objects.exclude(wraps__staff__isnull=False).delete()
    vault.team_keys_ensure()
    keychains = [(s, vault.keychain_unlock(staff=s, password=PASSWORD)) for s in people]
    return keychains, vault.keychain_unlock(staff=auditor, password=PASSWORD)


def _prepare_child(data_dir: Path, database_url: str | None) -> None:
    os.environ["TROPA_VAULT_KDF"] = "test"  # staff keys only: not on the surge's path
    # Plain HTTP on loopback: the same cookie names here as in gunicorn.
    os.environ["TROPA_SECURE_COOKIES"] = "0"
    os.environ["TROPA_SSL_REDIRECT"] = "0"
    from tropa.bench.main import _prepare

    _prepare(data_dir, database_url)


# ------------------------------------------------------------------ driving


async def drive(run: Run, console: Any) -> dict[str, float]:
    config = run.config
    monitor_done = asyncio.Event()
    watcher = asyncio.create_task(monitor(run, monitor_done, console))
    staff_rng = random.Random(config.seed + 1)
    workers = [
        asyncio.create_task(caseworker_loop(run, cw, random.Random(staff_rng.random())))
        for cw in run.caseworkers
    ]
    tasks = []
    for applicant in run.applicants:
        await asyncio.sleep(max(0.0, applicant.arrival - run.now()))
        runner = telegram_applicant if applicant.channel == "telegram" else web_applicant
        tasks.append(asyncio.create_task(_guarded(run, applicant, runner)))
    arrivals_end = run.now()
    deadline = arrivals_end + config.settle
    while run.now() < deadline and not _quiet(run, tasks):
        await asyncio.sleep(0.5)
    settled = run.now()
    run.stop_people.set()
    await asyncio.gather(*tasks, *workers, return_exceptions=True)
    monitor_done.set()
    await watcher
    return {"arrivals_end": arrivals_end, "settled": settled}


def _quiet(run: Run, tasks: list[asyncio.Task[None]]) -> bool:
    """Everyone is done, every case answered, nothing left to send."""
    if not all(task.done() for task in tasks) or not run.samples:
        return False
    last = run.samples[-1]
    return last["unanswered"] == 0 and last["tg_live"] == 0 and last["tg_bulk"] == 0


async def _guarded(
    run: Run, applicant: Applicant, runner: Callable[[Run, Applicant], Awaitable[None]]
) -> None:
    try:
        await runner(run, applicant)
    except Exception as error:  # a defect of the simulation or the service: reported
        applicant.errors.append(f"{type(error).__name__}: {error}"[:200])


# ------------------------------------------------------------------ checking


@dataclass
class Checked:
    conversations_missing: int = 0
    inbound_missing: int = 0
    inbound_extra: int = 0
    case_messages_missing: int = 0
    case_messages_extra: int = 0
    descriptions_missing: int = 0
    replies_missing: int = 0
    outbound_failed: int = 0
    outbound_vanished: int = 0  # a caseworker's reply without its outbox row
    outbound_undelivered: int = 0  # marked sent, never reached the applicant
    outbound_duplicated: int = 0
    outbound_queued: int = 0
    outbound_sending: int = 0
    outbound_withheld: int = 0
    cases_unlinked: int = 0  # given a codename, yet his chat is in no case or another

    @property
    def lost(self) -> int:
        return (
            self.conversations_missing
            + self.inbound_missing
            + self.case_messages_missing
            + self.descriptions_missing
            + self.replies_missing
            + self.outbound_failed
            + self.outbound_vanished
            + self.outbound_undelivered
            + self.cases_unlinked
        )

    @property
    def duplicated(self) -> int:
        return self.inbound_extra + self.case_messages_extra + self.outbound_duplicated


def _conversation(applicant: Applicant) -> Any:
    from django.contrib.sessions.backends.db import SessionStore

    from tropa.intake.channels.web.services import SESSION_CHAT
    from tropa.intake.services import conversation_find

    if applicant.channel == "telegram":
        return conversation_find(channel="telegram", chat_id=str(applicant.chat_id))
    if not applicant.session_key:
        return None
    chat_id = SessionStore(session_key=applicant.session_key).get(SESSION_CHAT)
    return conversation_find(channel="web", chat_id=chat_id) if chat_id else None


def check(run: Run, auditor: Any) -> Checked:
    """Every message of every applicant, where it must be."""
    result = Checked()
    for applicant in run.applicants:
        if applicant.accepted:
            _check_applicant(run, applicant, auditor, result)
    _check_outbox_totals(result)
    _check_reply_rows(run, result)
    return result


def _check_reply_rows(run: Run, result: Checked) -> None:
    """Every reply a caseworker sent was queued, and its row is still there."""
    from tropa.intake.models import OutboundMessage

    ids = [pk for pk in run.reply_rows if pk is not None]
    found = OutboundMessage.objects.filter(pk__in=ids).count()
    result.outbound_vanished = len(run.reply_rows) - found


def _check_applicant(run: Run, applicant: Applicant, auditor: Any, result: Checked) -> None:
    conversation = _conversation(applicant)
    if conversation is None:
        result.conversations_missing += 1
        return
    # The opening /start (or the Start button) starts the flow and is not one of
    # the messages its counter counts.
    expected = applicant.accepted - 1
    counted = int((conversation.state or {}).get("message_count", 0))
    result.inbound_missing += max(0, expected - counted)
    result.inbound_extra += max(0, counted - expected - applicant.uncertain)
    if conversation.case_id is not None:
        _check_case(run, applicant, conversation, auditor, result)
    elif applicant.completed_at is not None:
        result.cases_unlinked += 1
    _check_delivery(run, applicant, conversation, result)


def _check_case(
    run: Run, applicant: Applicant, conversation: Any, auditor: Any, result: Checked
) -> None:
    from tropa.cases import selectors
    from tropa.cases.models import Case, EntryKind
    from tropa.cases.services import case_unlock

    case = case_unlock(case=Case.objects.get(pk=conversation.case_id), keychain=auditor)
    if applicant.codename and case.codename != applicant.codename:
        result.cases_unlinked += 1  # told one codename, his chat is in another case
    entries = selectors.case_timeline(case)
    answers = "\n".join(str(e.body or "") for e in entries if e.kind == EntryKind.ANSWER)
    if applicant.description and applicant.description not in answers:
        result.descriptions_missing += 1
    inbound = Counter(str(e.body) for e in entries if e.kind == EntryKind.MESSAGE_IN)
    expected = Counter(applicant.followups)
    maybe = Counter(applicant.followups_uncertain)
    result.case_messages_missing += sum((expected - inbound).values())
    result.case_messages_extra += sum((inbound - expected - maybe).values())
    outbound = Counter(str(e.body) for e in entries if e.kind == EntryKind.MESSAGE_OUT)
    made = Counter(run.replies_made.get(case.pk, []))
    result.replies_missing += sum((made - outbound).values())


def _check_delivery(run: Run, applicant: Applicant, conversation: Any, result: Checked) -> None:
    """Outbound rows of this conversation against what reached the applicant."""
    rows = list(conversation.outbox.values_list("status", "external_id", "idempotency_key"))
    if applicant.channel == "telegram":
        delivered = run.hub.delivered.get(applicant.chat_id, [])
        sent = Counter(external for status, external, _ in rows if status == "sent")
        received = Counter(str(message_id) for message_id, _ in delivered)
        result.outbound_undelivered += sum((sent - received).values())
        result.outbound_duplicated += sum((received - sent).values())
        texts = Counter(text for _, text in delivered if text.startswith(ALIAS_PREFIX))
        result.outbound_duplicated += sum(n - 1 for n in texts.values() if n > 1)
    else:
        # A web reply is delivered when it is on the person's page: seen by the
        # simulated browser, or in the transcript the page shows (a page whose
        # answer the browser gave up waiting for still put it there).
        shown = sum(1 for s, _, key in rows if s == "sent" and key.startswith("reply:"))
        seen = len(applicant.replies)
        on_page = sum(
            1
            for line in conversation.transcript or []
            if str(line.get("text", "")).startswith(ALIAS_PREFIX)
        )
        result.outbound_undelivered += max(0, shown - max(seen, on_page))
        result.outbound_duplicated += max(0, seen - shown)


def _check_outbox_totals(result: Checked) -> None:
    from django.db.models import Count

    from tropa.intake.models import OutboundMessage

    statuses = dict(
        OutboundMessage.objects.values("status").annotate(n=Count("*")).values_list("status", "n")
    )
    result.outbound_failed = statuses.get("failed", 0)
    result.outbound_queued = statuses.get("queued", 0)
    result.outbound_sending = statuses.get("sending", 0)
    result.outbound_withheld = statuses.get("withheld", 0)


# ------------------------------------------------------------------ figures


def kaplan_meier(durations: list[tuple[float, bool]], quantile: float) -> float | None:
    """The time by which `quantile` of cases had a first reply, counting cases
    still unanswered at the end as censored (their wait so far is a lower bound).
    None if the run ended before that share was answered."""
    survival = 1.0
    at_risk = len(durations)
    for duration, answered in sorted(durations, key=lambda d: (d[0], not d[1])):
        if answered:
            survival *= 1 - 1 / at_risk
            if 1 - survival >= quantile - 1e-12:
                return duration
        at_risk -= 1
    return None


def _reply_times(run_end: Any) -> tuple[list[tuple[float, bool]], int]:
    from tropa.cases.models import Case

    durations = []
    for created, replied in Case.objects.values_list("created_at", "first_reply_at"):
        if replied is not None:
            durations.append(((replied - created).total_seconds(), True))
        else:
            durations.append(((run_end - created).total_seconds(), False))
    return durations, sum(1 for _, answered in durations if answered)


def _outbox_delays() -> dict[str, dict[str, float]]:
    """Queue time (created → sent) of Telegram messages, by kind."""
    from tropa.intake.models import OutboundMessage

    rows = OutboundMessage.objects.filter(
        conversation__channel="telegram", status="sent"
    ).values_list("priority", "idempotency_key", "created_at", "sent_at")
    kinds: dict[str, list[float]] = defaultdict(list)
    for priority, key, created, sent in rows:
        kind = "reply" if key.startswith("reply:") else "bulk" if priority else "flow"
        kinds[kind].append((sent - created).total_seconds())
    return {kind: _summary(values) for kind, values in kinds.items()}


def _summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0, "median": 0.0, "p95": 0.0}
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "median": statistics.median(ordered),
        "p95": ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)],
    }


def _refusals(calls: list[Any], ceiling: int, window: float = 0.95) -> dict[str, int]:
    """Which limit each 429 met: the stand-in's window before it held a full second's
    worth overall ("global"), or already a message to that chat ("per_chat")."""
    accepted = [c for c in calls if c.method == "sendMessage" and c.status == 200]
    times = [c.at for c in accepted]
    by_chat: dict[Any, list[float]] = defaultdict(list)
    for call in accepted:
        by_chat[call.chat_id].append(call.at)
    found: Counter[str] = Counter()
    for call in (c for c in calls if c.status == 429):
        overall = bisect.bisect_right(times, call.at) - bisect.bisect_right(times, call.at - window)
        chat = by_chat.get(call.chat_id, [])
        mine = bisect.bisect_right(chat, call.at) - bisect.bisect_right(chat, call.at - window)
        found["global" if overall >= ceiling else "per_chat" if mine else "other"] += 1
    return dict(found)


def _send_rates(sent_at: list[float], started: float) -> dict[str, float]:
    """sendMessage accepted per second: the busiest one-second window and the
    mean over the seconds in which the outbox had something to send."""
    if not sent_at:
        return {"peak_1s": 0.0, "mean_busy": 0.0, "first": 0.0, "last": 0.0}
    ordered = sorted(sent_at)
    peak, low = 0, 0
    for high, at in enumerate(ordered):
        while ordered[low] <= at - 1.0:
            low += 1
        peak = max(peak, high - low + 1)
    per_second = Counter(int(at - ordered[0]) for at in ordered)
    full = [n for n in per_second.values() if n >= 1]
    return {
        "peak_1s": float(peak),
        "mean_busy": statistics.mean(full) if full else 0.0,
        "first": ordered[0] - started,
        "last": ordered[-1] - started,
    }


def _telegram_queue(sample: dict[str, float]) -> float:
    return sample["tg_live"] + sample["tg_bulk"]


def _saturated_rate(samples: list[dict[str, float]], ceiling: int) -> float:
    """Messages/s over the sampled seconds in which at least a second's worth
    was waiting (the ceiling, not the applicants, decided the pace)."""
    busy = 0.0
    sent = 0.0
    for before, after in zip(samples, samples[1:], strict=False):
        if min(_telegram_queue(before), _telegram_queue(after)) >= ceiling:
            busy += after["t"] - before["t"]
            sent += after["sent_tg"] - before["sent_tg"]
    return sent / busy if busy >= 2 else 0.0


def _drain_time(run: Run, arrivals_end: float, stopped: float, backlog: int) -> float:
    """Seconds after the last arrival until the Telegram queue was first empty;
    if it never was, the time until the stop plus what is left at the ceiling."""
    for sample in run.samples:
        if sample["t"] >= arrivals_end and _telegram_queue(sample) == 0:
            return sample["t"] - arrivals_end
    return stopped - arrivals_end + backlog / run.config.ceiling


def _growth(samples: list[dict[str, float]], points: int = 10) -> list[dict[str, float]]:
    if not samples:
        return []
    step = max(1, len(samples) // points)
    chosen = samples[::step]
    if chosen[-1] is not samples[-1]:
        chosen.append(samples[-1])
    return chosen


# ------------------------------------------------------------------ the child


def child_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tropa.bench.surge_bench")
    parser.add_argument("--applicants", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--caseworkers", type=int, default=40)
    parser.add_argument("--pace", type=float, default=1.0)
    parser.add_argument("--settle", type=float, default=None)
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--telegram-mode", choices=("polling", "webhook"), default="polling")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--database-url")
    parser.add_argument("--report", type=Path, required=True, help="the full report, JSON")
    args = parser.parse_args(argv)
    config = SurgeConfig(
        applicants=args.applicants,
        seconds=args.seconds,
        caseworkers=args.caseworkers,
        pace=args.pace,
        settle=args.settle if args.settle is not None else max(60.0, args.seconds),
        seed=args.seed,
        telegram_mode=args.telegram_mode,
    )
    _prepare_child(args.data_dir, args.database_url)
    report = simulate(config, args.data_dir)
    args.report.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return 0


def _applicants(config: SurgeConfig) -> list[Applicant]:
    rng = random.Random(config.seed)
    people = []
    for n, arrival in enumerate(arrival_times(config.applicants, config.seconds, rng)):
        channel = "telegram" if rng.random() < config.telegram_share else "web"
        person = Applicant(
            key=f"s{n:05d}", channel=channel, arrival=arrival, rng=random.Random(rng.random())
        )
        person.chat_id = 700_000_000 + n if channel == "telegram" else 0
        people.append(person)
    return people


def simulate(config: SurgeConfig, data_dir: Path) -> dict[str, Any]:
    from rich.console import Console

    console = Console(stderr=True)
    began = time.monotonic()
    keychains, auditor = _staff_setup(config.caseworkers)
    console.print(f"P10: {config.caseworkers + 1} staff ready in {time.monotonic() - began:.1f} s")
    console.print(
        f"P10: {config.applicants:,} applicants over {config.seconds:.0f} s, "
        f"{config.caseworkers} caseworkers, pace {config.pace}, settle ≤ {config.settle:.0f} s, "
        f"Telegram by {config.telegram_mode}"
    )
    loop = asyncio.new_event_loop()
    hub = TelegramHub(loop)
    standin = SurgeStandIn(hub.on_message).server
    standin.start()
    standin.enforce_limits(global_per_second=config.ceiling, per_chat_per_second=1, allowance=0.05)
    port = free_port()
    env = _child_env(standin.url, config.ceiling)
    from tropa.core.management.commands.serve import gunicorn_command

    web = _start(
        gunicorn_command(bind=f"127.0.0.1:{port}", workers=WEB_WORKERS), env, data_dir / "web.log"
    )
    polling = ["--polling"] if config.telegram_mode == "polling" else []
    bot = _start(
        [sys.executable, "-m", "tropa.cli", "bot", *polling, "--api", standin.url],
        env,
        data_dir / "bot.log",
    )
    web_url = f"http://127.0.0.1:{port}"
    pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="surge-db")
    try:
        _wait_http(web_url)
        if polling:
            _wait_polling(standin)
        console.print(f"P10: web chat and Telegram worker up at {time.monotonic() - began:.1f} s")
        run, phases = loop.run_until_complete(
            _run(config, standin, hub, web_url, pool, keychains, console)
        )
        hub.closed = True
        stopped = time.monotonic()
        cpu = {
            "telegram_worker": _cpu_seconds(bot.pid),
            "web": _cpu_seconds(web.pid),
            "simulation": time.process_time(),  # people, stand-in, caseworkers, setup
            "wall": stopped - run.started,
        }
        codes = {"bot": _stop(bot), "web": _stop(web)}
        phases["stopped"] = stopped - run.started
        report = _report(run, phases, auditor, data_dir, codes)
        report["cpu_seconds"] = cpu
        return report
    finally:
        for process in (bot, web):
            _stop(process)
        standin.stop()
        pool.shutdown(wait=True)
        loop.close()


async def _run(
    config: SurgeConfig,
    standin: Any,
    hub: TelegramHub,
    web_url: str,
    pool: ThreadPoolExecutor,
    keychains: list[tuple[Any, Any]],
    console: Any,
) -> tuple[Run, dict[str, float]]:
    import aiohttp

    run = Run(config, Prompts.load(), standin, hub, web_url, pool)
    run.applicants = _applicants(config)
    run.caseworkers = [Caseworker(staff, keychain) for staff, keychain in keychains]
    run.connector = aiohttp.TCPConnector(limit=32)
    try:
        phases = await drive(run, console)
    finally:
        await run.connector.close()
    return run, phases


def _report(
    run: Run, phases: dict[str, float], auditor: Any, data_dir: Path, codes: dict[str, Any]
) -> dict[str, Any]:
    from django.utils import timezone

    from tropa.intake.models import OutboundMessage

    checked = check(run, auditor)
    durations, answered = _reply_times(timezone.now())
    telegram_backlog = OutboundMessage.objects.filter(
        conversation__channel="telegram", status__in=["queued", "sending"]
    ).count()
    log_errors = _log_errors(data_dir / "bot.log") + _log_errors(data_dir / "web.log")
    people = run.applicants
    errors = (
        sum(len(a.errors) for a in people)
        + sum(len(c.errors) for c in run.caseworkers)
        + len(log_errors)
    )
    rates = _send_rates(run.hub.sent_at, run.started)
    after = phases["arrivals_end"]
    drained = telegram_backlog == 0
    return {
        "config": asdict(run.config),
        "phases": phases,
        "applicants": _applicant_figures(people),
        "inbound_messages": sum(a.accepted for a in people),
        "errors": errors,
        "error_samples": (
            [e for a in people for e in a.errors][:5]
            + [e for c in run.caseworkers for e in c.errors][:5]
            + log_errors[:5]
        ),
        "http": {
            "requests": len(run.http_latency),
            "errors": dict(run.http_errors),
            "latency": _summary(run.http_latency),
            "refused_by_rate_limit": sum(a.refused for a in people),
            "unanswered_posts": sum(a.uncertain for a in people),
        },
        "checked": {**asdict(checked), "lost": checked.lost, "duplicated": checked.duplicated},
        "cases": {
            "created": len(durations),
            "answered": answered,
            "unanswered_at_end": len(durations) - answered,
            "first_reply_median_s": kaplan_meier(durations, 0.5),
            "first_reply_p95_s": kaplan_meier(durations, 0.95),
            "longest_wait_s": max((d for d, _ in durations), default=0.0),
            "replies": sum(c.replies for c in run.caseworkers),
        },
        "applicant_side_first_reply": _summary(
            [a.replies[0][0] - a.completed_at for a in people if a.replies and a.completed_at]
        ),
        "outbox": {
            "ceiling": run.config.ceiling,
            "sent": len(run.hub.sent_at),
            "too_many_requests": run.standin.too_many_requests,
            "too_many_requests_by_limit": _refusals(run.standin.calls, run.config.ceiling),
            "saturated_rate": _saturated_rate(run.samples, run.config.ceiling),
            **rates,
            "backlog_at_end": telegram_backlog,
            "drained": drained
            or any(s["t"] >= after and _telegram_queue(s) == 0 for s in run.samples),
            "time_to_drain_s": _drain_time(run, after, phases["stopped"], telegram_backlog),
            "delays": _outbox_delays(),
        },
        "queue_growth": _growth(run.samples),
        "peak_unanswered": max((s["unanswered"] for s in run.samples), default=0),
        "peak_telegram_queue": max((s["tg_live"] + s["tg_bulk"] for s in run.samples), default=0),
        "exit_codes": codes,
    }


def _applicant_figures(people: list[Applicant]) -> dict[str, Any]:
    by_channel: dict[str, Counter[str]] = defaultdict(Counter)
    for person in people:
        figures = by_channel[person.channel]
        figures["total"] += 1
        figures["completed"] += person.completed_at is not None
        figures["finished"] += person.finished
        figures["wrote_after_intake"] += bool(person.followups)
        figures["saw_reply"] += bool(person.replies)
        figures[f"waiting_for_{person.waiting_for}"] += not person.finished
    durations = [p.completed_at - p.started_at for p in people if p.completed_at is not None]
    return {
        "total": len(people),
        "by_channel": {channel: dict(c) for channel, c in by_channel.items()},
        "intake_duration": _summary(durations),
    }


# ------------------------------------------------------------------ the parent


def bench_p10(
    *,
    applicants: int,
    seconds: float,
    caseworkers: int = 40,
    pace: float = 1.0,
    settle: float | None = None,
    database_url: str | None = None,
    report_path: Path | None = None,
    telegram_mode: str = "polling",
) -> list[Result]:
    """Run the surge in a child process on a fresh data directory; rows for the table."""
    with tempfile.TemporaryDirectory(prefix="tropa-surge-") as tmp:
        report_file = report_path or Path(tmp) / "surge.json"
        command = [
            sys.executable,
            "-m",
            "tropa.bench.surge_bench",
            "--applicants",
            str(applicants),
            "--seconds",
            str(seconds),
            "--caseworkers",
            str(caseworkers),
            "--pace",
            str(pace),
            "--data-dir",
            str(Path(tmp) / "data"),
            "--report",
            str(report_file),
            "--telegram-mode",
            telegram_mode,
        ]
        if settle is not None:
            command += ["--settle", str(settle)]
        if database_url:
            command += ["--database-url", database_url]
        code = subprocess.call(command, env=_clean_env())  # noqa: S603
        if code != 0 or not report_file.exists():
            return [_failed_row(f"the surge run exited with {code}")]
        report = json.loads(report_file.read_text())
    print_report(report)
    return rows(report)


def _clean_env() -> dict[str, str]:
    """The caller's environment without its Tropa settings (a test run's keys, its
    data directory): the child makes its own, like a fresh installation."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TROPA_") and key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env["DJANGO_SETTINGS_MODULE"] = "tropa.settings"
    env["TROPA_LOG_LEVEL"] = os.environ.get("TROPA_LOG_LEVEL", "WARNING")
    source = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH", "")]))
    return env


def _failed_row(why: str) -> Result:
    return Result("P10", f"surge ({why})", 0.0, "s", 0.0, "-", 0.0, "runs", "FAIL")


def rows(report: dict[str, Any]) -> list[Result]:
    cases, checked, outbox = report["cases"], report["checked"], report["outbox"]
    errors, lost, duplicated = report["errors"], checked["lost"], checked["duplicated"]
    median, p95 = cases["first_reply_median_s"], cases["first_reply_p95_s"]
    # Not reached (fewer than half answered by the end): the longest wait is a lower bound.
    longest = cases["longest_wait_s"]
    answered = f"{cases['answered']:,}/{cases['created']:,} cases answered"
    ceiling = float(outbox["ceiling"])
    rate = outbox["saturated_rate"] or outbox["peak_1s"]
    drain = f"{outbox['time_to_drain_s']:.0f} s" + ("" if outbox["drained"] else " est.")
    return [
        Result(
            "P10",
            f"surge of {report['applicants']['total']:,}: median time to first human reply "
            f"({answered}{'' if median is not None else '; lower bound'})",
            median if median is not None else longest,
            "s",
            float(errors + lost),
            "errors + lost messages",
            0.0,
            "0 errors, 0 lost; median reported",
            verdict(errors == 0 and lost == 0),
        ),
        Result(
            "P10-p95",
            "surge: p95 time to first human reply" + ("" if p95 is not None else " (lower bound)"),
            p95 if p95 is not None else longest,
            "s",
            float(cases["unanswered_at_end"]),
            "cases unanswered at the end",
            0.0,
            "reported",
            "PASS",
        ),
        Result(
            "P10-errors",
            f"surge: errors (lost, duplicated) of {report['inbound_messages']:,} messages in, "
            f"{outbox['sent']:,} to Telegram",
            float(errors),
            "errors",
            float(lost),
            f"lost ({duplicated} duplicated)",
            float(duplicated),
            "0 / 0 / 0",
            verdict(errors == 0 and lost == 0 and duplicated == 0),
        ),
        Result(
            "P10-outbox",
            f"surge: Telegram msg/s while saturated ({outbox['too_many_requests']} 429s; "
            f"backlog {outbox['backlog_at_end']:,} at end, drain {drain}; queued median: "
            f"replies {_delay(outbox, 'reply')}, bulk {_delay(outbox, 'bulk')})",
            rate,
            "msg/s",
            ceiling,
            "Telegram ceiling",
            rate / ceiling if ceiling else 0.0,
            "<= ceiling, 0 429s",
            verdict(rate <= ceiling * 1.05 and outbox["too_many_requests"] == 0),
        ),
    ]


def _delay(outbox: dict[str, Any], kind: str) -> str:
    figures = outbox["delays"].get(kind)
    return f"{figures['median']:.1f} s" if figures and figures["n"] else "-"


def print_report(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)
    summary = Table(title="P10 surge simulation", show_header=False)
    for key, value in _summary_lines(report):
        summary.add_row(key, value)
    console.print(summary)
    growth = Table(title="queue growth")
    for column in ("t (s)", "arrived", "cases", "unanswered", "tg live", "tg bulk", "tg sent"):
        growth.add_column(column, justify="right")
    for s in report["queue_growth"]:
        growth.add_row(
            *(f"{s[k]:,.0f}" for k in ("t", "arrived", "cases", "unanswered", "tg_live")),
            f"{s['tg_bulk']:,.0f}",
            f"{s['sent_tg']:,.0f}",
        )
    console.print(growth)


def _summary_lines(report: dict[str, Any]) -> Iterator[tuple[str, str]]:
    cases, checked, outbox = report["cases"], report["checked"], report["outbox"]
    people = report["applicants"]

    def seconds(value: float | None) -> str:
        return f"{value:,.1f} s" if value is not None else f"> {cases['longest_wait_s']:,.0f} s"

    yield "applicants", f"{people['total']:,}  {json.dumps(people['by_channel'])}"
    yield "intake duration", json.dumps(people["intake_duration"])
    yield "inbound messages", f"{report['inbound_messages']:,}"
    yield "errors", f"{report['errors']}  {report['error_samples'][:3]}"
    yield "lost / duplicated", f"{checked['lost']} / {checked['duplicated']}"
    yield "web requests", json.dumps(report["http"])
    yield "cases", f"{cases['created']:,} created, {cases['answered']:,} answered"
    yield (
        "first human reply",
        (
            f"median {seconds(cases['first_reply_median_s'])}, "
            f"p95 {seconds(cases['first_reply_p95_s'])}"
        ),
    )
    yield "peak queue", f"{report['peak_unanswered']:,.0f} unanswered cases"
    yield (
        "telegram outbox",
        (
            f"{outbox['sent']:,} sent, {outbox['saturated_rate']:.1f}/s while saturated "
            f"(ceiling {outbox['ceiling']}), busiest second {outbox['peak_1s']:.0f}, "
            f"{outbox['too_many_requests']} 429s {outbox['too_many_requests_by_limit']}"
        ),
    )
    yield "telegram queue delay", json.dumps(outbox["delays"])
    yield "CPU seconds", json.dumps(report.get("cpu_seconds", {}))
    yield (
        "backlog at end",
        (
            f"{outbox['backlog_at_end']:,} (queued {checked['outbound_queued']}, sending "
            f"{checked['outbound_sending']}); drain "
            f"{outbox['time_to_drain_s']:.0f} s{'' if outbox['drained'] else ' (estimated)'}"
        ),
    )


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))
