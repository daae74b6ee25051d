"""A coordinator runs the matcher on the demo data and accepts the proposal, in Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import DemoServer
from tests.e2e.test_browser import _log_in, page_factory  # noqa: F401  (fixture)

pytestmark = [pytest.mark.server, pytest.mark.browser]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_coordinator_runs_the_matcher_and_accepts(
    page_factory: Any,  # noqa: F811
    demo_server: DemoServer,
) -> None:
    page = page_factory()
    page.set_viewport_size({"width": 1280, "height": 900})
    _log_in(page, demo_server, "coordinator")
    page.click("nav a:text('Подбор')")
    page.wait_for_url("**/matching/")
    page.click("#run-matcher")
    page.wait_for_url("**/matching/*/")
    rows = page.locator("table.proposal tbody tr")
    assert rows.count() >= 5
    # Every row says why, and offers the other eligible volunteers.
    assert "в команде" in page.inner_text("table.proposal")
    assert "Не удалось назначить" in page.inner_text("main")
    page.screenshot(path=str(SCREENSHOTS / "matcher-desktop.png"), full_page=True)
    proposed = rows.count()

    page.click("#accept-proposal")
    page.wait_for_url("**/matching/*/")
    message = page.inner_text(".messages")
    assert f"{proposed} назначено" in message, message
    assert "принято" in page.inner_text("h1")

    page.goto(demo_server.url + "/volunteers/workload/")
    assert page.locator("svg.chart").count() == 1
    assert not [text for text in page.console_messages if "Content Security Policy" in text]
