"""A coordinator opens the statistics on the demo data, in Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import DemoServer
from tests.e2e.test_browser import _log_in, page_factory  # noqa: F401  (fixture)

pytestmark = [pytest.mark.server, pytest.mark.browser]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_coordinator_opens_the_dashboard(page_factory: Any, demo_server: DemoServer) -> None:  # noqa: F811
    page = page_factory()
    page.set_viewport_size({"width": 1280, "height": 900})
    _log_in(page, demo_server, "coordinator2")
    page.click("nav a:text('Статистика')")
    page.wait_for_url("**/reports/")
    assert page.locator("svg.chart").count() == 3
    assert page.locator("table.report").count() >= 4  # categories, channels, replies, outcomes
    # The demo's hundreds of synthetic cases give real numbers, not only "x".
    numbers = [cell for cell in page.locator("table.report td").all_inner_texts() if cell.isdigit()]
    assert any(int(cell) >= 10 for cell in numbers)
    page.screenshot(path=str(SCREENSHOTS / "dashboard-desktop.png"), full_page=True)
    page.select_option("#f-period", "week")
    page.click("form.filters button")
    page.wait_for_url("**/reports/?period=week")
    assert page.locator("svg.chart").count() == 3
    page.click("text=Публичные цифры")
    page.wait_for_url("**/reports/public/")
    assert "помогли уйти с фронта" in page.inner_text("main")
    assert not [text for text in page.console_messages if "Content Security Policy" in text]
