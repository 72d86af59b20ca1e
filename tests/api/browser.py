"""What the browser tests share: Debian's Chromium, the app served by uvicorn, and the
screenshots at 1280 and 700 px (docs/screenshots)."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from argon2 import PasswordHasher

from connector.access import users
from connector.api import create_app
from tests.conftest import REPO

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = REPO / "docs/screenshots"
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"


def chromium() -> str:
    """The browser's path; skips the test where it is not installed."""
    if CHROMIUM is None:
        pytest.skip(
            "Debian's chromium is not installed (`which chromium chromium-browser` found "
            "nothing): apt-get install chromium to run the browser test"
        )
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(sqlite_runtime, monkeypatch) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The app served by uvicorn on 127.0.0.1; yields its base URL. Passwords are
    hashed cheaply, so that signing in takes no time."""
    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    port = _free_port()
    config = uvicorn.Config(
        create_app(sqlite_runtime), host="127.0.0.1", port=port, log_level="warning"
    )
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not instance.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(10)


def at_both_widths(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Screenshots at 1280 and 700 px; at 700 nothing is wider than the window and no
    period is wrapped. The page is left at 1280 px."""
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(SCREENSHOTS / f"{name}-1280.png"), full_page=True)
    page.set_viewport_size({"width": 700, "height": 900})
    assert page.evaluate(OVERFLOW) <= 0, f"{name} is wider than a 700 px window"
    for period in page.locator(".period").all():
        box = period.bounding_box()
        assert box is not None and box["height"] < 30, f"a period wraps on {name}"
    page.screenshot(path=str(SCREENSHOTS / f"{name}-700.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
