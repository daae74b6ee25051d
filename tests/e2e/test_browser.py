"""What a person sees in Debian Chromium against the running demo."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import DemoServer

pytestmark = [pytest.mark.server, pytest.mark.browser]


@pytest.fixture
def page_factory(browser: Any) -> Iterator[Any]:
    contexts = []

    def new_page() -> Any:
        context = browser.new_context(locale="ru-RU")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.console_messages = []  # every CSP violation shows up here
        page.on("console", lambda message: page.console_messages.append(message.text))
        return page

    yield new_page
    for context in contexts:
        context.close()


def _log_in(page: Any, server: DemoServer, username: str) -> None:
    page.goto(server.url + "/")
    assert page.url.endswith("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", server.password(username))
    page.click("button[type=submit]:text('Продолжить')")
    page.wait_for_url("**/accounts/login/code/")
    page.fill("#id_code", server.totp(username))
    page.click("form button[type=submit]:text('Войти')")
    page.wait_for_url("**/accounts/home/")


def test_coordinator_logs_in_with_password_and_code(
    page_factory: Any, demo_server: DemoServer
) -> None:
    page = page_factory()
    _log_in(page, demo_server, "coordinator")
    assert "Здравствуйте, Oriole" in page.inner_text("main")

    page.click("button[value=en]")
    assert "Hello, Oriole" in page.inner_text("main")

    page.click("text=Staff")
    page.wait_for_url("**/volunteers/")
    table = page.inner_text("table")
    for alias in ("Heron", "Lynx", "Otter", "Falcon", "Marten"):
        assert alias in table
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    assert cookies["tropa_session"]["httpOnly"] is True
    assert cookies["tropa_session"]["sameSite"] == "Strict"
    assert not [text for text in page.console_messages if "Content Security Policy" in text]


def test_wrong_code_keeps_the_door_shut(page_factory: Any, demo_server: DemoServer) -> None:
    page = page_factory()
    page.goto(demo_server.url + "/accounts/login/")
    page.fill("#id_username", "psychologist")
    page.fill("#id_password", demo_server.password("psychologist"))
    page.click("button[type=submit]:text('Продолжить')")
    page.wait_for_url("**/accounts/login/code/")
    page.fill("#id_code", "000000")
    page.click("form button[type=submit]:text('Войти')")
    assert "Код неверный, устарел или уже использован" in page.inner_text("main")
    page.goto(demo_server.url + "/accounts/home/")
    page.wait_for_url("**/accounts/login/")


def test_revoked_volunteer_is_thrown_out_at_once(
    page_factory: Any, demo_server: DemoServer
) -> None:
    volunteer, coordinator = page_factory(), page_factory()
    _log_in(volunteer, demo_server, "visa")
    _log_in(coordinator, demo_server, "coordinator2")

    coordinator.goto(demo_server.url + "/volunteers/")
    coordinator.click("tr:has-text('Marten') button:text('Отозвать')")
    assert "Marten" in coordinator.inner_text(".messages")

    volunteer.reload()
    volunteer.wait_for_url("**/accounts/login/?ended=1")
    assert "Ваша сессия завершилась" in volunteer.inner_text("main")


def test_caseworker_opens_only_the_cases_of_their_team(
    page_factory: Any, demo_server: DemoServer
) -> None:
    page = page_factory()
    _log_in(page, demo_server, "legal")
    page.click("header a:text('Дела')")
    page.wait_for_url("**/cases/")
    links = page.locator("table a")
    assert links.count() >= 1
    hrefs = links.evaluate_all("els => els.map(e => e.getAttribute('href'))")
    visible = {href.rstrip("/").rsplit("/", 1)[1] for href in hrefs}
    links.first.click()
    page.wait_for_url("**/cases/*/")
    assert "(synthetic)" in page.inner_text("main")  # the decrypted identity

    hidden = next(str(pk) for pk in range(1, 40) if str(pk) not in visible)
    response = page.goto(f"{demo_server.url}/cases/{hidden}/")
    assert response.status == 404


def test_web_chat_works_with_javascript_disabled(browser: Any, demo_server: DemoServer) -> None:
    """As in Tor Browser at its safest level: plain forms, nothing from elsewhere."""
    context = browser.new_context(java_script_enabled=False, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(demo_server.url + "/chat/")
    page.click("button[name=start]")
    for label in ("English", "For myself", "Mobilised", "A matter of days", "Yes", "No", "Yes"):
        page.click(f".choices button:has-text('{label}')")
    page.locator(".choices button").first.click()  # region
    page.locator(".choices button").first.click()  # help wanted
    page.fill("#id_text", "My unit is being sent to the front on Friday.")
    page.click("form.reply button[type=submit]:not([name])")
    page.click(".choices button:has-text('No')")  # no duress PIN
    page.click(".choices button:has-text('Yes')")  # consent
    codename = page.inner_text(".issued .codename")
    passphrase = page.inner_text(".issued .passphrase")
    assert codename and len(passphrase.split()) == 4
    assert codename in page.inner_text(".transcript")
    assert all(url.startswith(demo_server.url) for url in requested)
    cookies = {cookie["name"] for cookie in context.cookies()}
    assert cookies <= {"tropa_session", "tropa_csrf", "tropa_language"}
    context.close()
