"""The real thing: `tropa demo` in a subprocess, driven over HTTP and by Debian Chromium."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tropa.intake.channels.telegram.standin import StandIn

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class DemoServer:
    url: str
    output: list[str]
    totp_secrets: dict[str, str] = field(default_factory=dict)
    used_steps: dict[str, int] = field(default_factory=dict)

    def password(self, username: str) -> str:
        return f"tropa-demo-{username}"

    def totp(self, username: str) -> str:
        """The current code; if this user already spent it, wait for the next step
        (a reused code is refused, as it should be)."""
        import base64

        from django_otp.oath import totp

        secret = self.totp_secrets[username]
        key = base64.b32decode(secret + "=" * (-len(secret) % 8))
        while (step := int(time.time()) // 30) == self.used_steps.get(username):
            time.sleep(0.5)
        self.used_steps[username] = step
        return f"{totp(key):06d}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _clean_env(data_dir: Path) -> dict[str, str]:
    """The environment a person has after a fresh clone: none of the test run's settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TROPA_") and key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2] / "src")
    env["PYTHONUNBUFFERED"] = "1"
    return env


BOT_TOKEN = "123456:DEMO-e2e"


@pytest.fixture(scope="session")
def telegram() -> Iterator[StandIn]:
    """A loopback Bot API that the demo's bot worker talks to."""
    with StandIn() as standin:
        yield standin


@pytest.fixture(scope="session")
def demo_server(
    tmp_path_factory: pytest.TempPathFactory, telegram: StandIn
) -> Iterator[DemoServer]:
    data_dir = tmp_path_factory.mktemp("demo")
    port = _free_port()
    env = _clean_env(data_dir) | {
        "TROPA_TELEGRAM_TOKEN": BOT_TOKEN,
        "TROPA_TELEGRAM_API": telegram.url,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tropa.cli",
            "demo",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
            "--workers",
            "2",
            "--no-qr",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    server = DemoServer(url=f"http://127.0.0.1:{port}", output=[])
    bot = None
    try:
        _read_until_listening(process, server)
        _wait_for_port(port)
        # The Telegram worker, as a deployment runs it beside the web app.
        bot = subprocess.Popen(
            [sys.executable, "-m", "tropa.cli", "bot", "--polling"],
            env=env | {"TROPA_DATA_DIR": str(data_dir), "TROPA_SECURE_COOKIES": "0"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        yield server
    finally:
        for child in (bot, process):
            if child is not None:
                os.killpg(child.pid, signal.SIGTERM)
                child.wait(timeout=20)


def _read_until_listening(process: subprocess.Popen[str], server: DemoServer) -> None:
    deadline = time.monotonic() + 120
    username = None
    assert process.stdout is not None
    for line in process.stdout:
        server.output.append(line)
        login = re.match(r"^(\S+) / tropa-demo-", line)
        if login:
            username = login.group(1)
        if line.startswith("TOTP: otpauth://") and username:
            query = parse_qs(urlparse(line.split(" ", 1)[1].strip()).query)
            server.totp_secrets[username] = query["secret"][0]
        if "Listening on" in line:
            return
        if time.monotonic() > deadline:
            break
    raise AssertionError("tropa demo did not start:\n" + "".join(server.output))


def _wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the demo server never accepted a connection")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Per module: Playwright's sync API keeps an event loop running in this thread
    while it is open, which would break later tests that start their own loop."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian Chromium is missing: run scripts/system-deps.sh (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
