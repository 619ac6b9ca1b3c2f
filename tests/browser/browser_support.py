"""What the browser tests share: where Chromium is, the app served over HTTP, screenshots.

The app is served on a localhost port (werkzeug, threaded, as gunicorn's gthread would); Twilio is
the emulator. Screenshots go to artifacts/ (git-ignored).
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from tests.e2e.conftest import Center

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def chromium() -> str | None:
    return CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")


@dataclasses.dataclass
class Served:
    center: Center
    url: str


def new_page(browser):  # type: ignore[no-untyped-def]
    """A page in a context of its own (its own cookies: one signed-in person), wide as a desk's
    screen, that remembers the page's script errors in `page.errors`."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    return page


def shot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    return path


def sign_in(page, url: str, login: str, password: str) -> None:  # type: ignore[no-untyped-def]
    """Through the real form, from any page that needs a session."""
    page.goto(f"{url}/console/login")
    page.fill("#login", login)
    page.fill("#password", password)
    page.click("button[type=submit]")
