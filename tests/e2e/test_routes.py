"""An evacuation caseworker plans a route for a verified demo case, starts the
journey, sees the missed check-in alarm and switches to a backup, in Chromium."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import DemoServer
from tests.e2e.test_browser import _log_in, page_factory  # noqa: F401  (fixture)

pytestmark = [pytest.mark.server, pytest.mark.browser]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_caseworker_plans_a_route_and_switches_to_a_backup_after_a_missed_check_in(
    page_factory: Any,  # noqa: F811
    demo_server: DemoServer,
) -> None:
    page = page_factory()
    page.set_viewport_size({"width": 1280, "height": 900})
    _log_in(page, demo_server, "evacuation")
    page.goto(demo_server.url + "/cases/?status=in_progress&verified=yes&team=evacuation")
    page.click("table.queue tbody tr:first-child a")
    page.click("#route-link")
    page.wait_for_url("**/journeys/case/*/")

    page.check("input[name=documents][value=internal_passport]")
    page.click("#plan-route")
    page.wait_for_url("**/journeys/case/*/plan/*/")
    main = page.inner_text("main")
    assert "Основной маршрут" in main and "Запасной 1" in main
    assert "загранпаспорт" not in page.inner_text("#route-0 .legs")  # not held, never used
    page.screenshot(path=str(SCREENSHOTS / "route-plan-desktop.png"), full_page=True)

    # The person left two days ago and has not checked in since.
    departed = (datetime.now() - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    page.fill("#dep-0", departed)
    page.fill("#grace-0", "30")
    page.click("#route-0 ~ form .start-journey >> nth=0")
    page.wait_for_url("**/journeys/case/*/")
    assert "Путь начат" in page.inner_text(".messages")

    # The worker beside the demo server raises the alarm within seconds.
    deadline = time.monotonic() + 40
    while "пропущена" not in page.inner_text("table.check-ins"):
        assert time.monotonic() < deadline, page.inner_text("main")
        time.sleep(1)
        page.reload()
    assert page.locator("nav a.badge.bad").count() == 1  # the alarm count in the header

    page.click(".switch-route >> nth=0")
    page.wait_for_url("**/journeys/case/*/")
    assert "Переключено на запасной маршрут" in page.inner_text(".messages")
    assert "пропущена" not in page.inner_text("table.check-ins")  # new route, fresh check-ins
    page.screenshot(path=str(SCREENSHOTS / "journey-desktop.png"), full_page=True)
    assert not [text for text in page.console_messages if "Content Security Policy" in text]
