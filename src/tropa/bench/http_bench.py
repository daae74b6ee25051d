"""P2: the web chat over HTTP on loopback, two gunicorn workers, beside a bare WSGI app.

The web app runs exactly as `tropa serve` runs it (`serve.gunicorn_command`: sync
workers, no access log), against the bench's throwaway database. Simulated
applicants, each with a cookie jar of his own, follow real conversations through
`/chat/` as a browser without JavaScript would: fetch the page, post the form with
its CSRF token, follow the redirect, press one of the buttons on the page (or type
when there are none), get a codename, write once more, leave. Then a new applicant
(a new session) takes his place, so the per-session rate limit (S11) stays on and
is never hit by design; a refusal would count as an error.

Every HTTP request is one sample. The reference is the same client, with the same
number of applicants, against a bare WSGI app under the same gunicorn flags: what
a request/response on loopback costs this machine in the same run. Runs of the two
are interleaved and each figure is the median of the runs.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import aiohttp

from tropa.bench.runner import Result, free_port, verdict

WORKERS = 2
TARGET_RPS = 300.0
TARGET_P99_MS = 100.0
BARE_APP = "tropa.bench.http_bench:bare_app"
# A conversation is bounded: more posts than this means the flow went round in circles.
MAX_POSTS = 30
TIMEOUT = aiohttp.ClientTimeout(total=30)

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CHOICE_BUTTON = re.compile(r'name="choice" value="([^"]+)"')
ISSUED = 'class="codename"'

DESCRIPTIONS = (
    "We were told we leave for the front next week. I need advice on what to do.",
    "Меня вызвали в военкомат на пятницу, я не хочу ехать. Что делать?",
    "My brother got a summons yesterday and he is scared to go out.",
)


def bare_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The reference: a WSGI app that answers every request with a small page at once."""
    body = b"<!doctype html><title>ok</title><p>ok</p>"
    start_response(
        "200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))]
    )
    return [body]


# ------------------------------------------------------------------- servers


def _server_env() -> dict[str, str]:
    """The bench's own environment (data dir, database, secrets), served over plain
    HTTP on loopback as the demo is: no Secure cookies, no redirect to HTTPS."""
    import tropa

    source = str(Path(tropa.__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH", "")
    return os.environ | {
        "TROPA_SECURE_COOKIES": "0",
        "TROPA_SSL_REDIRECT": "0",
        "PYTHONPATH": f"{source}{os.pathsep}{path}" if path else source,
    }


@contextmanager
def _gunicorn(app: str, log: IO[bytes]) -> Iterator[str]:
    """Serve `app` on a free loopback port; yields its base URL."""
    from tropa.core.management.commands.serve import gunicorn_command

    port = free_port()
    command = gunicorn_command(bind=f"127.0.0.1:{port}", workers=WORKERS, app=app)
    process = subprocess.Popen(  # noqa: S603  (our own interpreter and module)
        command, env=_server_env(), stdout=log, stderr=log, start_new_session=True
    )
    try:
        _wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn ended with {process.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not listen within a minute")


# ------------------------------------------------------------------- the client


@dataclass
class _Tally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    conversations: int = 0
    first_error: str = ""

    def error(self, what: str) -> None:
        self.errors += 1
        self.first_error = self.first_error or what


@dataclass(frozen=True)
class _Run:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    conversations: int
    first_error: str

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


class _Applicant:
    """One person in the web chat: his own cookies, his own conversation."""

    def __init__(
        self, http: Any, base: str, tally: _Tally, rng: random.Random, deadline: float
    ) -> None:
        self.http, self.base, self.tally, self.rng = http, base, tally, rng
        self.deadline = deadline
        self.page = ""

    async def _request(self, method: str, path: str, data: dict[str, str] | None = None) -> int:
        start = time.perf_counter()
        async with self.http.request(
            method, self.base + path, data=data, allow_redirects=False
        ) as response:
            body = await response.text()
        self.tally.latencies.append(time.perf_counter() - start)
        if response.status == 200:
            self.page = body
        return int(response.status)

    async def get(self, path: str = "/chat/") -> bool:
        status = await self._request("GET", path)
        if status != 200:
            self.tally.error(f"GET {path}: {status}")
        return status == 200

    async def post(self, fields: dict[str, str], path: str = "/chat/") -> bool:
        """A form post and the redirect it answers with, as a browser does."""
        token = CSRF_INPUT.search(self.page)
        if token is None:
            self.tally.error("no CSRF token on the page")
            return False
        status = await self._request("POST", path, {"csrfmiddlewaretoken": token[1], **fields})
        if status != 302:  # 400 includes the rate limit's refusal: an error here
            self.tally.error(f"POST {path}: {status}")
            return False
        return await self.get()

    def answer(self, last: str) -> dict[str, str]:
        """What this applicant does on the current page (`last`: his previous button)."""
        buttons = CHOICE_BUTTON.findall(self.page)
        if buttons and buttons[0].startswith("docs_foreign_expiry:") and self.rng.random() < 0.5:
            return {"text": f"0{self.rng.randint(1, 9)}/20{self.rng.randint(27, 35)}"}
        if buttons and buttons[0].startswith("consent:"):
            return {"choice": "consent:yes"}  # one who declines leaves no trace to measure
        if buttons:
            return {"choice": self.rng.choice(buttons)}
        if last == "duress_offer:yes":
            return {"text": str(self.rng.randint(1000, 99_999_999))}
        return {"text": self.rng.choice(DESCRIPTIONS)}

    async def converse(self) -> None:
        if not (await self.get() and await self.post({"start": "1"})):
            return
        last = ""
        for _ in range(MAX_POSTS):
            if ISSUED in self.page:
                await self.post({"text": "Спасибо, жду ответа."})
                await self.post({}, path="/chat/leave/")
                self.tally.conversations += 1
                return
            if time.perf_counter() > self.deadline:
                return
            fields = self.answer(last)
            last = fields.get("choice", "")
            if not await self.post(fields):
                return
        self.tally.error(f"no codename after {MAX_POSTS} answers")


async def _chat_applicant(
    connector: Any, base: str, tally: _Tally, rng: random.Random, deadline: float
) -> None:
    while time.perf_counter() < deadline:
        jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1 too
        async with aiohttp.ClientSession(
            connector=connector, connector_owner=False, cookie_jar=jar, timeout=TIMEOUT
        ) as http:
            try:
                await _Applicant(http, base, tally, rng, deadline).converse()
            except (aiohttp.ClientError, TimeoutError) as error:
                tally.error(type(error).__name__)


async def _bare_client(
    connector: Any, base: str, tally: _Tally, rng: random.Random, deadline: float
) -> None:
    async with aiohttp.ClientSession(
        connector=connector, connector_owner=False, timeout=TIMEOUT
    ) as http:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                async with http.get(base + "/chat/") as response:
                    await response.text()
            except (aiohttp.ClientError, TimeoutError) as error:
                tally.error(type(error).__name__)
                continue
            tally.latencies.append(time.perf_counter() - start)
            if response.status != 200:
                tally.error(f"GET: {response.status}")


async def _load(client: Callable[..., Any], base: str, *, applicants: int, seconds: float) -> _Run:
    tally = _Tally()
    # gunicorn's sync workers close every connection after the response anyway.
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    start = time.perf_counter()
    deadline = start + seconds
    try:
        async with asyncio.timeout(seconds + 60):
            await asyncio.gather(
                *(
                    client(connector, base, tally, random.Random(n), deadline)  # noqa: S311
                    for n in range(applicants)
                )
            )
    finally:
        await connector.close()
    elapsed = time.perf_counter() - start
    return _summary(tally, elapsed)


def _summary(tally: _Tally, elapsed: float) -> _Run:
    ms = sorted(1000 * t for t in tally.latencies) or [0.0]
    return _Run(
        requests=len(tally.latencies),
        seconds=elapsed,
        p50_ms=statistics.median(ms),
        p99_ms=ms[min(len(ms) - 1, int(0.99 * len(ms)))],
        errors=tally.errors,
        conversations=tally.conversations,
        first_error=tally.first_error,
    )


# ------------------------------------------------------------------- P2


def _measure(
    chat_url: str, bare_url: str, *, applicants: int, seconds: float, repeats: int
) -> tuple[list[_Run], list[_Run]]:
    # Warm-up: each worker imports Django and opens its database on first use.
    asyncio.run(_load(_chat_applicant, chat_url, applicants=applicants, seconds=min(2, seconds)))
    asyncio.run(_load(_bare_client, bare_url, applicants=applicants, seconds=0.5))
    chat, bare = [], []
    for _ in range(repeats):
        bare.append(
            asyncio.run(_load(_bare_client, bare_url, applicants=applicants, seconds=seconds))
        )
        chat.append(
            asyncio.run(_load(_chat_applicant, chat_url, applicants=applicants, seconds=seconds))
        )
    return chat, bare


def bench_p2(*, applicants: int = 8, seconds: float = 10.0, repeats: int = 3) -> list[Result]:
    with tempfile.TemporaryFile() as log:
        with (
            _gunicorn("tropa.wsgi:application", log) as chat_url,
            _gunicorn(BARE_APP, log) as bare_url,
        ):
            chat, bare = _measure(
                chat_url, bare_url, applicants=applicants, seconds=seconds, repeats=repeats
            )
        log.seek(0)
        server_log = log.read().decode(errors="replace")
    return _rows(chat, bare, applicants=applicants, server_log=server_log)


def _rows(chat: list[_Run], bare: list[_Run], *, applicants: int, server_log: str) -> list[Result]:
    rate = statistics.median(r.rate for r in chat)
    reference = statistics.median(r.rate for r in bare)
    p50 = statistics.median(r.p50_ms for r in chat)
    p99 = statistics.median(r.p99_ms for r in chat)
    bare_p99 = statistics.median(r.p99_ms for r in bare)
    errors = sum(r.errors for r in chat)
    conversations = sum(r.conversations for r in chat)
    first = next((r.first_error for r in chat if r.first_error), "")
    detail = (
        f"{applicants} applicants, {conversations} conversations, p50 {p50:.1f} ms, "
        f"p99 {p99:.1f} ms, {errors} errors" + (f" (first: {first})" if first else "")
    )
    if errors and server_log.strip():
        print(server_log[-2000:], file=sys.stderr)  # why the requests failed
    return [
        Result(
            "P2",
            f"web chat over HTTP, {WORKERS} gunicorn workers ({detail})",
            rate,
            "req/s",
            reference,
            f"bare WSGI app, same gunicorn and client, p99 {bare_p99:.1f} ms",
            rate / reference,
            f">= {TARGET_RPS:.0f} req/s, 0 errors",
            verdict(rate >= TARGET_RPS and errors == 0),
        ),
        Result(
            "P2-p99",
            f"web chat request latency p99 ({detail})",
            p99,
            "ms",
            bare_p99,
            "bare WSGI app p99, same gunicorn and client",
            p99 / bare_p99,
            f"< {TARGET_P99_MS:.0f} ms",
            verdict(p99 < TARGET_P99_MS),
        ),
    ]
