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


def open_page(path: Path, screenshot: Path, wait_for: str | None = None) -> dict:
    """Load ``path`` (a file, or a URL given as text); return image load states, console
    messages and the texts of the elements matching the CSS selector ``wait_for`` (waited for
    up to 30 s: a page drawn by its scripts), and save a screenshot."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={screenshot.parent / 'chrome-profile'}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        driver.get(path if isinstance(path, str) else path.resolve().as_uri())
        found = []
        if wait_for is not None:
            WebDriverWait(driver, 30).until(
                lambda d: d.find_elements(By.CSS_SELECTOR, wait_for)
            )  # fmt: skip
            found = [e.text for e in driver.find_elements(By.CSS_SELECTOR, wait_for)]
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth]);"
        )
        title = driver.title
        driver.save_screenshot(str(screenshot))
        console = driver.get_log("browser")
    finally:
        driver.quit()
    return {"images": images, "console": console, "title": title, "found": found}
