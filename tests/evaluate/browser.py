"""Open an HTML file in headless Chromium (Debian's chromium + chromedriver) via Selenium."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,2000",
)


def require_browser() -> None:
    """Fail (CI sets MEDADAPT_REQUIRE_BROWSER=1) or skip with the reason when absent."""
    if Path(CHROMIUM).exists() and Path(DRIVER).exists():
        return
    message = "Debian packages chromium and chromium-driver are needed (.ci/run installs them)"
    if os.environ.get("MEDADAPT_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


def open_page(path: Path, screenshot: Path) -> dict:
    """Load ``path``; return image load states, console messages, and save a screenshot."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={screenshot.parent / 'chrome-profile'}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        driver.get(path.resolve().as_uri())
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth]);"
        )
        title = driver.title
        driver.save_screenshot(str(screenshot))
        console = driver.get_log("browser")
    finally:
        driver.quit()
    return {"images": images, "console": console, "title": title}
