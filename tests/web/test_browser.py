"""End to end: the pages in a real headless Chromium (Debian's chromium and chromium-driver,
driven by selenium), from the live server on 127.0.0.1, at a phone's width and a desktop's.

Each page must load with nothing in the browser's console (a blocked style, a CSP violation or
a failed request would be there), show its heading, fit the phone's width without scrolling
sideways, and the adherence page must draw its chart. Set ``WEARSYNC_SCREENSHOTS=<dir>`` to keep
a full-page screenshot of each page (``docs/`` holds the committed ones).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import ROUTINE, Site

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None or CHROMEDRIVER is None,
        reason="no headless browser: install Debian's chromium and chromium-driver "
        "(apt-get install -y chromium chromium-driver)",
    ),
    pytest.mark.slow,
]

SIZES = {"phone": (390, 844), "desktop": (1280, 900)}
PAGES = {
    "routine": ("", ROUTINE.title),
    "adherence": ("adherence", "Adherence"),
    "history": ("history", "History"),
    "subscribe": ("subscribe", "Subscribe to the calendar"),
}
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """Chromium with a fresh profile, its console log kept for the test."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    assert CHROMIUM is not None and CHROMEDRIVER is not None
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def visit(driver: Any, url: str, size: tuple[int, int]) -> dict[str, Any]:
    """Load ``url`` at ``size`` (a mobile viewport below 600 px) and report what the page shows."""
    from selenium.webdriver.common.by import By

    width, height = size
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )
    driver.get(url)
    charts = driver.find_elements(By.CSS_SELECTOR, "svg.chart")
    return {
        "title": driver.title,
        "h1": driver.find_element(By.TAG_NAME, "h1").text,
        "console": driver.get_log("browser"),
        "scroll_width": driver.execute_script("return document.documentElement.scrollWidth"),
        "inner_width": driver.execute_script("return window.innerWidth"),
        "charts": [(c.size["width"], c.size["height"], c.is_displayed()) for c in charts],
        "bars": len(driver.find_elements(By.CSS_SELECTOR, "svg.chart rect.done")),
        "qr": len(driver.find_elements(By.CSS_SELECTOR, ".qr svg")),
        "tables": len(driver.find_elements(By.TAG_NAME, "table")),
        "body_color": driver.execute_script(
            "return getComputedStyle(document.body).backgroundColor"
        ),
    }


def screenshot(driver: Any, size: tuple[int, int], path: Path) -> None:
    """The whole page at ``size``'s width, as PNG."""
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {
            "width": size[0],
            "height": min(height, 4000),
            "deviceScaleFactor": 1,
            "mobile": size[0] < 600,
        },
    )
    path.write_bytes(driver.get_screenshot_as_png())


async def test_every_page_loads_in_a_real_browser_at_phone_and_desktop_width(
    site: Site, browser: Any, tmp_path: Path
) -> None:
    keep = os.environ.get("WEARSYNC_SCREENSHOTS")
    for device, size in SIZES.items():
        for name, (path, heading) in PAGES.items():
            seen = await asyncio.to_thread(visit, browser, site.root + path, size)
            where = f"{name} at {device} width"
            assert seen["console"] == [], f"{where}: console says {seen['console']}"
            assert seen["h1"] == heading, where
            assert seen["title"].startswith(name.capitalize()), where
            assert seen["scroll_width"] <= seen["inner_width"], f"{where}: scrolls sideways"
            assert seen["body_color"] == "rgb(255, 255, 255)", f"{where}: the stylesheet applies"
            if name == "adherence":
                assert seen["charts"], f"{where}: no chart"
                assert all(w > 0 and h > 0 and shown for w, h, shown in seen["charts"]), where
                assert seen["bars"] > 0 and seen["tables"] >= 2, where
            if name == "subscribe":
                assert seen["qr"] == 1, where
            if keep:
                shot = Path(keep) / f"web-{name}-{device}.png"
                await asyncio.to_thread(screenshot, browser, size, shot)
                assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
