"""Both pages at desktop and phone width: nothing wider than the screen, no page error, and a
full-page screenshot of each kept in tests/browser/artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DESKTOP, PHONE, open_page


def _show_everything(page: Page, path: str) -> None:
    if path == "/admin":
        page.locator("#advanced > summary").click()
        expect(page.locator("#inject-preview")).not_to_be_empty()
    else:
        expect(page.locator(".chart-card").first).to_be_visible()
        expect(page.locator("#rel-ratings table")).to_be_visible()


@pytest.mark.parametrize("path", ["/admin", "/inspect"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "390px"])
def test_page_fits_the_screen_and_is_kept_as_a_screenshot(
    browser: Browser, server: str, artifacts: Path, path: str, viewport: dict
):
    page, errors = open_page(browser, f"{server}{path}", viewport)
    try:
        _show_everything(page, path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than a {viewport['width']}px screen"
        name = f"{path.strip('/')}-{viewport['width']}.png"
        page.screenshot(path=artifacts / name, full_page=True)
    finally:
        page.close()
    assert errors == []
