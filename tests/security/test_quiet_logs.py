"""S8, quiet logs: every process Tropa runs, at DEBUG, says nothing about applicants.

The real processes run as a deployment runs them: the management commands that set up
(`tropa demo --no-serve`: migrations, staff, keys) and answer (`tropa relay`), the web
app (`tropa serve`: gunicorn and its error log), the job worker (`tropa worker`) and the
Telegram bot (`tropa bot --polling`, against the loopback Bot API stand-in). Every one
logs at DEBUG (TROPA_LOG_LEVEL) and every byte it writes to stdout and stderr is kept.

Then canaries go through every door: an intake over the web chat from a distinctive
loopback address (127.83.14.201, the socket's REMOTE_ADDR) with a distinctive user agent
and X-Forwarded-For, a photo upload, an intake over Telegram from an applicant whose
name and Telegram id are canaries, a photo with a caption (fetched by the worker), a
caseworker's reply to each, hostile HTTP (broken request lines, bad headers, a forged
form, unknown paths, a bad webhook), and updates of shapes the bot does not expect.
Finally the logs are searched for every canary: raw, UTF-16 (both byte orders),
base64, percent-encoded and JSON-escaped. Zero hits.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlparse

import pytest

from tropa.bench.runner import free_port
from tropa.intake.channels.telegram.standin import StandIn

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
BOT_TOKEN = "123456:QUIET-logs"
WEBHOOK_SECRET = "quiet-logs-webhook-secret"
# All of 127.0.0.0/8 is loopback on Linux: a client bound to this address reaches the
# server on 127.0.0.1, and the server sees it as the client's address.
CLIENT_ADDRESS = "127.83.14.201"
TELEGRAM_ID = 7_345_901_122
OTHER_CHAT = 5_550_001  # an applicant who writes after the bad updates

CANARIES = {
    "surname": "Канарейкин",
    "full_name": "Канарейкин Фёдор Игнатьевич",
    "latin_name": "Kanareykin",
    "phone": "+79165550199",
    "phone_digits": "79165550199",
    "passport": "4509771234",
    "passport_spaced": "4509 771234",
    "telegram_id": str(TELEGRAM_ID),
    "user_agent": "CanaryBrowser/7.31",
    "forwarded_ip": "203.0.113.77",
    "client_ip": CLIENT_ADDRESS,
    "free_text": "под Белгородом в пятницу",
    "message": "CANARY-MSG-kestrel-lilac",
    "reply": "CANARY-REPLY-harbour-quince",
    "caption": "CANARY-CAPTION-walnut-fjord",
    "photo_camera": "CanaryCam-Seized-77",
}
USER_AGENT = f"Mozilla/5.0 (X11; Linux x86_64) {CANARIES['user_agent']} (Kanareykin build)"
DESCRIPTION = (
    f"Меня зовут {CANARIES['full_name']}, телефон {CANARIES['phone']}, паспорт "
    f"{CANARIES['passport_spaced']}. Меня забирают в часть {CANARIES['free_text']}."
)


# ------------------------------------------------------------------- searching


def encodings(value: str) -> dict[str, bytes]:
    """The forms a value takes in a log line or a dumped object."""
    raw = value.encode()
    forms = {
        "raw": raw,
        "utf-16-le": value.encode("utf-16-le"),
        "utf-16-be": value.encode("utf-16-be"),
        "base64": base64.b64encode(raw).rstrip(b"="),
        "base64url": base64.urlsafe_b64encode(raw).rstrip(b"="),
        "percent": quote(value, safe="").encode(),
        "percent-plus": quote(value, safe="").replace("%20", "+").encode(),
        "json": json.dumps(value)[1:-1].encode(),
        "repr-bytes": repr(raw)[2:-1].encode(),
    }
    # base64 of a value inside a longer text starts at any of three offsets, and its
    # last characters depend on what follows it.
    for shift in (0, 1, 2):
        encoded = base64.b64encode(b"\0" * shift + raw)[4 if shift else 0 :]
        forms[f"base64+{shift}"] = encoded.rstrip(b"=")[:-2]
    return forms


def hits(blob: bytes, canaries: dict[str, str]) -> list[str]:
    """Every (canary, form) found in blob, case-insensitively for the ASCII forms."""
    folded = blob.lower()
    found = []
    for name, value in canaries.items():
        for form, needle in encodings(value).items():
            haystack = blob if form.startswith("base64") else folded
            probe = needle if form.startswith("base64") else needle.lower()
            if probe and probe in haystack:
                found.append(f"{name} ({form})")
    return found


def test_the_search_finds_every_form_it_looks_for() -> None:
    value = CANARIES["full_name"]
    for form, needle in encodings(value).items():
        blob = b"2026-01-01 DEBUG x " + needle + b" tail"
        assert f"full_name ({form})" in hits(blob, {"full_name": value}), form
    for prefix in ("", "a", "ab", "abc"):
        embedded = base64.b64encode((prefix + value + " suffix").encode())
        assert hits(embedded, {"full_name": value}), prefix
    assert not hits(b"nothing to see", CANARIES)


# ------------------------------------------------------------------- processes


@dataclass
class Stack:
    url: str
    port: int
    data_dir: Path
    env: dict[str, str]
    logs: dict[str, Path] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    totp_secrets: dict[str, str] = field(default_factory=dict)
    used_steps: dict[str, int] = field(default_factory=dict)

    def start(self, name: str, *args: str) -> None:
        log = self.logs.setdefault(name, self.data_dir / f"{name}.log")
        with log.open("ab") as out:
            self.processes[name] = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "tropa.cli", *args],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def run(self, name: str, *args: str, stdin: str = "") -> str:
        """A management command to its end; its output is a log like any other."""
        result = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "tropa.cli", *args],
            env=self.env,
            input=stdin.encode(),
            capture_output=True,
            timeout=180,
        )
        with self.logs.setdefault(name, self.data_dir / f"{name}.log").open("ab") as out:
            out.write(result.stdout + result.stderr)
        assert result.returncode == 0, (result.stdout + result.stderr).decode()[-2000:]
        return result.stdout.decode()

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def totp(self, username: str) -> str:
        """The current code; if this user already spent it, the next one (reuse is refused)."""
        from django_otp.oath import totp

        secret = self.totp_secrets[username]
        key = base64.b32decode(secret + "=" * (-len(secret) % 8))
        while (step := int(time.time()) // 30) == self.used_steps.get(username):
            time.sleep(0.5)
        self.used_steps[username] = step
        return f"{totp(key):06d}"


def _wait_for_port(port: int, stack: Stack) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the web app never listened:\n" + stack.logs["web"].read_text()[-2000:])


@pytest.fixture(scope="module")
def telegram() -> Iterator[StandIn]:
    with StandIn() as standin:
        yield standin


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, telegram: StandIn) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("quiet-logs")
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TROPA_") and key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    } | {
        "PYTHONPATH": str(ROOT / "src"),
        "PYTHONUNBUFFERED": "1",
        "TROPA_DATA_DIR": str(data_dir),
        "TROPA_LOG_LEVEL": "DEBUG",
        "TROPA_SECURE_COOKIES": "0",
        "TROPA_SSL_REDIRECT": "0",
        "TROPA_TELEGRAM_TOKEN": BOT_TOKEN,
        "TROPA_TELEGRAM_API": telegram.url,
        "TROPA_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    stack = Stack(url=f"http://127.0.0.1:{port}", port=port, data_dir=data_dir, env=env)
    output = stack.run("demo", "demo", "--data-dir", str(data_dir), "--no-serve", "--no-qr")
    _read_totp_secrets(output, stack)
    try:
        stack.start("web", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2")
        stack.start("worker", "worker", "--workers", "1")
        stack.start("bot", "bot", "--polling")
        _wait_for_port(port, stack)
        yield stack
    finally:
        stack.stop()


def _read_totp_secrets(output: str, stack: Stack) -> None:
    username = None
    for line in output.splitlines():
        login = re.match(r"^(\S+) / tropa-demo-", line)
        if login:
            username = login.group(1)
        if line.startswith("TOTP: otpauth://") and username:
            query = parse_qs(urlparse(line.split(" ", 1)[1].strip()).query)
            stack.totp_secrets[username] = query["secret"][0]
    assert {"coordinator", "coordinator2", "legal"} <= set(stack.totp_secrets), output[-2000:]


# ------------------------------------------------------------------- the web chat


class Browser:
    """An applicant's browser without JavaScript, from a distinctive address."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.page = ""

    def request(
        self, method: str, path: str, body: bytes = b"", content_type: str = ""
    ) -> http.client.HTTPResponse:
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=30, source_address=(CLIENT_ADDRESS, 0)
        )
        headers = {
            "User-Agent": USER_AGENT,
            "X-Forwarded-For": f"{CANARIES['forwarded_ip']}, {CLIENT_ADDRESS}",
            "X-Real-IP": CANARIES["forwarded_ip"],
            "Accept-Language": "en",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if content_type:
            headers["Content-Type"] = content_type
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if value and "max-age=0" not in header.lower():
                self.cookies[name.strip()] = value
            else:
                self.cookies.pop(name.strip(), None)
        text = response.read().decode(errors="replace")
        if response.status == 200:
            self.page = text
        connection.close()
        return response

    def get(self, path: str = "/chat/") -> None:
        assert self.request("GET", path).status == 200

    def token(self) -> str:
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', self.page)
        assert match, self.page[-500:]
        return match.group(1)

    def post(self, fields: dict[str, str], path: str = "/chat/") -> None:
        body = urlencode({"csrfmiddlewaretoken": self.token(), **fields}).encode()
        response = self.request("POST", path, body, "application/x-www-form-urlencoded")
        assert response.status == 302, response.status
        self.get()

    def press(self, prefix: str) -> None:
        values = re.findall(r'name="choice" value="([^"]+)"', self.page)
        matches = [v for v in values if v.startswith(prefix)]
        assert matches, f"no {prefix} among {values}"
        self.post({"choice": matches[0]})

    def upload(self, data: bytes) -> None:
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"'
            f"\r\n\r\n{self.token()}\r\n".encode(),
            f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\n'
            "internal_passport\r\n".encode(),
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{CANARIES["latin_name"]}-passport.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n".encode()
            + data
            + b"\r\n",
            f"--{boundary}--\r\n".encode(),
        ]
        response = self.request(
            "POST", "/chat/upload/", b"".join(parts), f"multipart/form-data; boundary={boundary}"
        )
        assert response.status == 302, response.status
        self.get()


def _photo() -> bytes:
    from PIL import Image

    image = Image.new("RGB", (640, 480), (120, 90, 60))
    exif = Image.Exif()
    exif[0x010F] = CANARIES["photo_camera"]
    exif[0x010E] = CANARIES["full_name"]  # ImageDescription
    exif.get_ifd(0x8825).update({1: "N", 2: (50.0, 36.0, 0.0), 3: "E", 4: (36.0, 35.0, 0.0)})
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def _web_intake(stack: Stack) -> str:
    browser = Browser(stack.port)
    browser.get()
    browser.post({"start": "1"})
    for prefix in ("language:en", "who:self", "category:mobilised", "urgency:days"):
        browser.press(prefix)
    browser.press("docs_internal:yes")
    browser.press("docs_foreign:yes")
    browser.post({"text": "03/2029"})
    for prefix in ("docs_military_id:yes", "region:central", "help:legal"):
        browser.press(prefix)
    browser.post({"text": DESCRIPTION})
    browser.press("duress_offer:yes")
    browser.post({"text": CANARIES["passport"]})  # not a PIN: asked again
    browser.post({"text": "4821"})
    browser.press("consent:yes")
    codename = re.search(r'class="codename">([^<]+)<', browser.page)
    assert codename, browser.page[-1000:]
    browser.post({"text": f"{CANARIES['message']} {CANARIES['phone']}"})
    browser.upload(_photo())
    assert "Photo received" in browser.page, browser.page[-1000:]
    return codename.group(1)


# ------------------------------------------------------------------- Telegram


def _settle(standin: StandIn, before: int, *, timeout: float = 20) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        texts = standin.texts(TELEGRAM_ID)
        if len(texts) > before:
            while True:  # a step may send two messages, one per second per chat
                time.sleep(1.3)
                if len(standin.texts(TELEGRAM_ID)) == len(texts):
                    return texts[before:]
                texts = standin.texts(TELEGRAM_ID)
        time.sleep(0.1)
    raise AssertionError(f"the bot did not answer: {standin.texts(TELEGRAM_ID)[-2:]}")


def _press(standin: StandIn, prefix: str) -> list[str]:
    for call in reversed([c for c in standin.sent if c.method == "sendMessage"]):
        rows = (call.params.get("reply_markup") or {}).get("inline_keyboard")
        if call.chat_id == TELEGRAM_ID and rows:
            values = [button["callback_data"] for row in rows for button in row]
            break
    else:
        raise AssertionError("no buttons")
    matches = [v for v in values if v.startswith(prefix)]
    assert matches, f"no {prefix} among {values}"
    before = len(standin.texts(TELEGRAM_ID))
    standin.push_callback(TELEGRAM_ID, matches[0], 1)
    return _settle(standin, before)


def _say(standin: StandIn, text: str) -> list[str]:
    before = len(standin.texts(TELEGRAM_ID))
    standin.push_text(TELEGRAM_ID, text, first_name=CANARIES["full_name"])
    return _settle(standin, before)


def _telegram_intake(standin: StandIn) -> str:
    _say(standin, "/start")
    for prefix in ("language:en", "who:self", "category:awol", "urgency:days"):
        _press(standin, prefix)
    for prefix in ("docs_internal:no", "docs_foreign:no", "docs_military_id:yes"):
        _press(standin, prefix)
    _press(standin, "region:south")
    _press(standin, "help:evacuation")
    _say(standin, DESCRIPTION)
    _press(standin, "duress_offer:no")
    said = _press(standin, "consent:yes")
    codename = re.search(r"\b[A-Z][a-z]+-\d{2,5}\b", " ".join(said))
    assert codename, said
    _say(standin, f"{CANARIES['message']} {CANARIES['phone']}")
    standin.push_photo(TELEGRAM_ID, _photo(), caption=CANARIES["caption"])
    return codename.group(0)


def _bad_updates(standin: StandIn) -> None:
    """Shapes the bot does not expect, full of canaries: ignored, and never logged."""
    sender = {"id": TELEGRAM_ID, "is_bot": False, "first_name": CANARIES["full_name"]}
    chat = {"id": TELEGRAM_ID, "type": "private", "first_name": CANARIES["full_name"]}
    standin.push_update({"message": {"message_id": "x", "from": sender, "text": DESCRIPTION}})
    standin.push_update({"message": {"message_id": 9, "chat": chat, "text": {"a": DESCRIPTION}}})
    standin.push_update({"edited_message": {"message_id": 3, "chat": chat, "text": DESCRIPTION}})
    standin.push_update({"canary_update": {"user": sender, "phone": CANARIES["phone"]}})
    standin.push_update(
        {
            "message": {
                "message_id": 10,
                "chat": chat,
                "from": sender,
                "contact": {
                    "phone_number": CANARIES["phone"],
                    "first_name": CANARIES["full_name"],
                    "user_id": TELEGRAM_ID,
                },
                "date": int(time.time()),
            }
        }
    )
    standin.push_callback(TELEGRAM_ID, f"nonsense:{CANARIES['passport']}", 1)
    # The bot is still listening: someone else who writes now gets the first question.
    standin.push_text(OTHER_CHAT, "/start")
    standin.wait_sent("sendMessage", chat_id=OTHER_CHAT, timeout=30)


# ------------------------------------------------------------------- hostile HTTP


def _raw(port: int, payload: bytes) -> bytes:
    with socket.create_connection(
        ("127.0.0.1", port), timeout=10, source_address=(CLIENT_ADDRESS, 0)
    ) as sock:
        sock.sendall(payload)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except (TimeoutError, ConnectionResetError):
            pass
        return b"".join(chunks)


def _hostile_http(stack: Stack) -> None:
    name = quote(CANARIES["full_name"])
    ua = USER_AGENT.encode()
    lines = [
        # broken request lines and headers: refused by gunicorn itself
        f"GET /chat/?name={name} HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n".encode(),
        f"GET /chat/{CANARIES['passport']} SPDY\r\n\r\n".encode(),
        f"G\x01T /chat/?p={CANARIES['phone_digits']} HTTP/1.1\r\n\r\n".encode(),
        b"GET /chat/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: " + ua + b"\r\n"
        b"X-Bad\x01Header: " + CANARIES["latin_name"].encode() + b"\r\n\r\n",
        b"GET /chat/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: " + ua + b"\r\n"
        b"Content-Length: abc" + CANARIES["passport"].encode() + b"\r\n\r\n",
        b"GET /chat/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Long: " + b"A" * 9000 + b"\r\n\r\n",
        b"GET /" + b"k" * 9000 + CANARIES["latin_name"].encode() + b" HTTP/1.1\r\n\r\n",
        # well-formed, but refused by Django
        b"GET /chat/ HTTP/1.1\r\nHost: " + CANARIES["latin_name"].encode() + b".example\r\n"
        b"User-Agent: " + ua + b"\r\n\r\n",
        f"GET /chat/{name}/{CANARIES['passport']}/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode(),
        f"GET /cases/?q={name} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode(),
    ]
    for payload in lines:
        _raw(stack.port, payload)
    browser = Browser(stack.port)
    # A forged form (no CSRF cookie or token), a message far too long, a bad webhook.
    browser.request(
        "POST",
        "/chat/",
        urlencode({"text": DESCRIPTION}).encode(),
        "application/x-www-form-urlencoded",
    )
    browser.get()
    browser.post({"start": "1"})
    too_long = urlencode({"csrfmiddlewaretoken": browser.token(), "text": DESCRIPTION * 200})
    browser.request("POST", "/chat/", too_long.encode(), "application/x-www-form-urlencoded")
    browser.request(
        "POST",
        f"/chat/?phone={CANARIES['phone']}",
        b"\xff\xfe" + DESCRIPTION.encode(),
        "application/x-www-form-urlencoded; charset=utf-16",
    )
    for secret in ("wrong", WEBHOOK_SECRET):
        for body in (
            b"{not json " + DESCRIPTION.encode(),
            json.dumps(
                {
                    "update_id": 1,
                    "message": {
                        "chat": {"id": TELEGRAM_ID},
                        "text": DESCRIPTION,
                        "from": {"first_name": CANARIES["full_name"]},
                    },
                }
            ).encode(),
        ):
            connection = http.client.HTTPConnection(
                "127.0.0.1", stack.port, timeout=30, source_address=(CLIENT_ADDRESS, 0)
            )
            connection.request(
                "POST",
                "/telegram/webhook/",
                body=body,
                headers={
                    "X-Telegram-Bot-Api-Secret-Token": secret,
                    "User-Agent": USER_AGENT,
                    "Content-Type": "application/json",
                },
            )
            connection.getresponse().read()
            connection.close()


# ------------------------------------------------------------------- replies


def _reply(stack: Stack, username: str, codename: str, text: str) -> None:
    password = f"tropa-demo-{username}"
    output = stack.run(
        "relay",
        "relay",
        "--username",
        username,
        "reply",
        codename,
        text,
        stdin=f"{password}\n{stack.totp(username)}\n",
    )
    assert "queued" in output, output


def _wait(condition: Any, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


# ------------------------------------------------------------------- the test


def test_no_process_logs_an_applicant(stack: Stack, telegram: StandIn) -> None:
    web_codename = _web_intake(stack)
    telegram_codename = _telegram_intake(telegram)
    _wait(lambda: any(c.method == "getFile" for c in telegram.sent), "the worker fetched no photo")
    _bad_updates(telegram)
    _hostile_http(stack)

    reply = f"{CANARIES['reply']} {CANARIES['full_name']}"
    _reply(stack, "coordinator", telegram_codename, reply)
    _reply(stack, "coordinator2", web_codename, reply)
    stack.run(
        "relay",
        "relay",
        "--username",
        "legal",
        "list",
        stdin=f"tropa-demo-legal\n{stack.totp('legal')}\n",
    )
    for command in (("audit", "verify"), ("retention", "run"), ("retention", "show")):
        stack.run(command[0], *command)
    _wait(lambda: any(reply in t for t in telegram.texts(TELEGRAM_ID)), "the reply never left")
    time.sleep(2)  # let the bot and the worker write whatever they would write
    stack.stop()

    logs = {name: path.read_bytes() for name, path in stack.logs.items()}
    # The logs are really at DEBUG and really written: an empty log proves nothing.
    assert b" DEBUG " in logs["bot"] and b" DEBUG " in logs["worker"], logs["bot"][-500:]
    assert b"Booting worker" in logs["web"] or b"Listening" in logs["web"], logs["web"][-500:]
    leaks = {name: found for name, blob in logs.items() if (found := hits(blob, CANARIES))}
    assert not leaks, _explain(leaks, logs)


def _explain(leaks: dict[str, list[str]], logs: dict[str, bytes]) -> str:
    lines = []
    for name, found in leaks.items():
        lines.append(f"{name}: {', '.join(found)}")
        text = logs[name].decode(errors="replace")
        for canary in CANARIES.values():
            for line in text.splitlines():
                if canary.lower() in line.lower():
                    lines.append(f"    {line[:300]}")
    return "\n".join(dict.fromkeys(lines))
