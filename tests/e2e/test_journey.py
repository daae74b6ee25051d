"""A case's first hour, end to end: an applicant writes to the Telegram bot, a
coordinator hands the case to the legal team, a caseworker on a 360-px phone
answers him (the answer reaches the Bot API), asks for verification, the
coordinator verifies, and evacuation is added. Screenshots go to docs/screenshots."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import DemoServer
from tropa.intake.channels.telegram.standin import StandIn

pytestmark = [pytest.mark.server, pytest.mark.browser]
CHAT = 8_800_555
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _settle(standin: StandIn, before: int, *, timeout: float = 20) -> list[str]:
    """Wait for the bot's replies to one message, and return them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        texts = standin.texts(CHAT)
        if len(texts) > before:
            # A step may send two messages, and Telegram allows one per second
            # per chat: wait until the bot has been quiet for longer than that.
            while True:
                time.sleep(1.3)
                if len(standin.texts(CHAT)) == len(texts):
                    return texts[before:]
                texts = standin.texts(CHAT)
        time.sleep(0.1)
    raise AssertionError(f"the bot did not answer; it said {standin.texts(CHAT)[-2:]}")


def _buttons(standin: StandIn) -> list[tuple[str, str]]:
    for call in reversed(
        [c for c in standin.sent if c.method == "sendMessage" and c.chat_id == CHAT]
    ):
        rows = (call.params.get("reply_markup") or {}).get("inline_keyboard")
        if rows:
            return [(row[0]["callback_data"], row[0]["text"]) for row in rows]
    return []


def _press(standin: StandIn, label: str | None = None) -> list[str]:
    buttons = _buttons(standin)
    matches = [value for value, text in buttons if label is None or label in text]
    assert matches, f"no button {label!r} among {[text for _, text in buttons]}"
    data = matches[0]
    before = len(standin.texts(CHAT))
    standin.push_callback(CHAT, data, 1)
    return _settle(standin, before)


def _say(standin: StandIn, text: str) -> list[str]:
    before = len(standin.texts(CHAT))
    standin.push_text(CHAT, text)
    return _settle(standin, before)


def _applicant_writes(standin: StandIn) -> str:
    _say(standin, "/start")
    for label in ("English", "For myself", "Mobilised", "days", "Yes", "No", "Yes"):
        _press(standin, label)
    _press(standin)  # region
    _press(standin)  # help wanted
    _say(standin, "My unit is being sent to the front on Friday.")
    _press(standin, "No")  # no duress PIN
    said = _press(standin, "Yes")  # consent
    codename = re.search(r"\b[A-Z][a-z]+-\d{2,5}\b", " ".join(said))
    assert codename, said
    return codename.group(0)


def _log_in(page: Any, server: DemoServer, username: str) -> None:
    page.goto(server.url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", server.password(username))
    page.click("main form button[type=submit]")
    page.wait_for_url("**/accounts/login/code/")
    page.fill("#id_code", server.totp(username))
    page.click("main form button[type=submit]")
    page.wait_for_url("**/accounts/home/")


def _open_case(page: Any, server: DemoServer, codename: str) -> None:
    page.goto(server.url + "/cases/")
    page.click(f"table.queue a:text('{codename}')")
    page.wait_for_url("**/cases/*/")


def test_first_hour_of_a_case(browser: Any, demo_server: DemoServer, telegram: StandIn) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    codename = _applicant_writes(telegram)

    desk = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    coordinator = desk.new_page()
    coordinator.set_default_timeout(10_000)
    coordinator.console_messages = []
    coordinator.on("console", lambda message: coordinator.console_messages.append(message.text))
    _log_in(coordinator, demo_server, "coordinator2")
    coordinator.goto(demo_server.url + "/cases/")
    assert codename in coordinator.inner_text("table.queue")
    coordinator.screenshot(path=str(SCREENSHOTS / "queue-desktop.png"), full_page=True)
    coordinator.keyboard.press("j")  # the keyboard moves through the queue
    first = coordinator.locator("table.queue tbody a").first.inner_text()
    assert coordinator.evaluate("document.activeElement.textContent") == first
    coordinator.keyboard.press("/")
    assert coordinator.evaluate("document.activeElement.id") == "f-status"
    coordinator.select_option("#f-status", "new")  # htmx swaps the results in place
    coordinator.click("form.filters button[type=submit]")
    coordinator.wait_for_url("**/cases/?status=new**")
    assert codename in coordinator.inner_text("#queue-results")
    assert not [m for m in coordinator.console_messages if "Content Security Policy" in m]
    _open_case(coordinator, demo_server, codename)
    assert "My unit is being sent to the front on Friday." in coordinator.inner_text(".timeline")
    coordinator.select_option("#id_kind", "legal")
    coordinator.click("button:text('Add service')")

    phone = browser.new_context(
        locale="en-US", viewport={"width": 360, "height": 740}, is_mobile=True
    )
    caseworker = phone.new_page()
    caseworker.set_default_timeout(10_000)
    _log_in(caseworker, demo_server, "legal")
    caseworker.goto(demo_server.url + "/cases/")
    assert codename in caseworker.inner_text("table.queue")
    caseworker.screenshot(path=str(SCREENSHOTS / "queue-phone.png"), full_page=True)
    _open_case(caseworker, demo_server, codename)
    before = len(telegram.texts(CHAT))
    caseworker.fill("#id_reply", "Hello, I am from the legal team. Are you safe right now?")
    caseworker.click("button:text('Send reply')")
    assert (
        _settle(telegram, before)[-1]
        == "Lynx: Hello, I am from the legal team. Are you safe right now?"
    )
    caseworker.click("form.inline-actions button[value=triage]")
    caseworker.click("form.inline-actions button[value=verification]")
    assert "verification" in caseworker.inner_text(".case-head").lower()
    caseworker.screenshot(path=str(SCREENSHOTS / "case-phone.png"), full_page=True)

    coordinator.reload()
    coordinator.select_option("#id_verified", "yes")
    coordinator.fill("#id_reason", "Documents and video call match")
    coordinator.click("button:text('Record decision')")
    assert "verified" in coordinator.inner_text(".case-head")

    caseworker.reload()
    caseworker.select_option("#id_kind", "evacuation")
    caseworker.click("button:text('Add service')")
    assert "evacuation" in caseworker.inner_text("section:has(h2:text('Services'))")
    coordinator.reload()
    coordinator.screenshot(path=str(SCREENSHOTS / "case-desktop.png"), full_page=True)
    desk.close()
    phone.close()
