"""For tests: a headless Chromium driven by Selenium (Debian's ``chromium`` and ``chromium-driver``).

``with chromium() as driver: driver.get(url)`` gives a fresh browser (its own profile, gone
afterwards); :func:`browser_problem` says why none can run here, and
:func:`require_browser` turns that into a pytest skip, or a failure where the browser must
be (as root in CI, where ``make browser`` installs it). :func:`log_in` logs in to the
dashboard; :func:`save_screenshot` writes the whole page, not just the window. To look at an
SVG file: ``driver.get(path.as_uri())``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: where Debian (``chromium``) and others put the browser, and its WebDriver
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
DRIVERS = ("chromedriver",)
INSTALL = "as root: `make browser` (Debian: apt-get install chromium chromium-driver)"
#: the tallest screenshot :func:`save_screenshot` takes, in CSS pixels
MAX_SHOT_HEIGHT = 6000


def _which(names: tuple[str, ...]) -> str | None:
    return next((found for found in map(shutil.which, names) if found), None)


def browser_problem() -> str | None:
    """Why no headless browser can run here (None: :func:`chromium` works)."""
    try:
        import selenium  # noqa: F401  (imported only to learn whether it is installed)
    except ImportError:
        return "selenium is not installed (pip install -r requirements-dev.txt)"
    if _which(BROWSERS) is None:
        return f"no chromium on the PATH ({INSTALL})"
    if _which(DRIVERS) is None:
        return f"no chromedriver on the PATH ({INSTALL})"
    return None


def require_browser() -> None:
    """Skip the calling test (or module) if no browser can run here; as root in CI (where
    ``.ci/run`` installs it) fail instead, since a missing browser there is a broken set-up."""
    import pytest

    problem = browser_problem()
    if problem is None:
        return
    if os.geteuid() == 0 and os.environ.get("CI"):
        pytest.fail(f"the browser tests must run in CI as root, but: {problem}")
    pytest.skip(f"no headless browser: {problem}")


@contextlib.contextmanager
def chromium(width: int = 1400, height: int = 1000) -> Iterator[Any]:
    """A headless Chromium (a Selenium ``WebDriver``) with a profile of its own, quit afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    problem = browser_problem()
    if problem:
        raise RuntimeError(problem)
    # Selenium Manager would look for browsers and drivers online; both are given here.
    os.environ.setdefault("SE_AVOID_STATS", "true")
    with tempfile.TemporaryDirectory(prefix="stacksim-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = str(_which(BROWSERS))
        for arg in (
            "--headless=new",
            "--no-sandbox",  # root (CI) cannot use the setuid sandbox
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
        ):
            options.add_argument(arg)
        driver = webdriver.Chrome(options=options, service=Service(executable_path=str(_which(DRIVERS))))
        try:
            yield driver
        finally:
            driver.quit()


def log_in(driver: Any, url: str, user: str, password: str, project: str | None = None, timeout: float = 30) -> None:
    """Log in to the dashboard of the stacksim at ``url`` as ``user`` on ``project`` (by default
    the project named as the user), and wait for the first page after the login."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{url.rstrip('/')}/dashboard/login")
    driver.find_element(By.ID, "username").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "project").send_keys(project or user)
    driver.find_element(By.ID, "login").click()
    WebDriverWait(driver, timeout).until(lambda d: d.current_url.endswith("/dashboard/topology"))


def save_screenshot(driver: Any, path: Path) -> Path:
    """Write a PNG of the whole page (up to :data:`MAX_SHOT_HEIGHT` pixels tall) to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    size = driver.get_window_size()
    width = driver.execute_script("return document.documentElement.scrollWidth")
    height = driver.execute_script("return document.documentElement.scrollHeight")
    try:
        driver.set_window_size(max(size["width"], width + 40), min(max(size["height"], height + 140), MAX_SHOT_HEIGHT))
        driver.save_screenshot(str(path))
    finally:
        driver.set_window_size(size["width"], size["height"])
    return path
