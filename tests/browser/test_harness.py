"""The harness itself: the real server answers and Debian's Chromium renders what it serves."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tests.browser.conftest import LiveApp, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Page


def test_harness_renders_a_page(page: Page, live_app: LiveApp) -> None:
    response = page.goto("/health")
    assert response is not None and response.status == 200
    assert json.loads(page.locator("body").inner_text()) == {"status": "ok"}
    assert page.viewport_size == {"width": 1366, "height": 768}
    path = screenshot(page, "harness")
    assert path.stat().st_size > 0
