"""Real-browser harness: the app served on a free loopback port, Playwright driving Debian's Chromium.

Screenshots of failing tests are saved under test-artifacts/.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from gradebook import create_app
from tests.conftest import ROOT, database_url

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "test-artifacts"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e" in str(item.path):
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # type: ignore[no-untyped-def]
    report = yield
    if report.when == "call":
        item.stash.setdefault(_FAILED, False)
        if report.failed:
            item.stash[_FAILED] = True
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def live_app(_app: Flask) -> Flask:
    """A second app on the same database, with CSRF on as in production."""
    return create_app({
        "TESTING": False,
        "SQLALCHEMY_DATABASE_URI": database_url(),
        "SECRET_KEY": "e2e-secret",
        "WTF_CSRF_ENABLED": True,
        "LOGIN_RATE_LIMIT": "10000 per minute",
        "LOGIN_ADDRESS_RATE_LIMIT": "10000 per minute",
        "RATELIMIT_STORAGE_URI": "memory://",
        "UPLOAD_FOLDER": _app.config["UPLOAD_FOLDER"],
        # This process's own outbox and job store (not instance/'s, which other xdist workers share).
        "MAIL_OUTBOX": _app.config["MAIL_OUTBOX"],
        "JOB_QUEUE_URL": _app.config["JOB_QUEUE_URL"],
    })


@pytest.fixture(scope="session")
def live_server(live_app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: bin/test installs Debian's chromium; the browser tests must not be skipped.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(app: Flask, browser, live_server: str, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """A fresh browser tab on the live server (the `app` fixture has just emptied the database)."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 860})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.js_errors = errors
    yield page
    if request.node.stash.get(_FAILED, False):
        ARTIFACTS.mkdir(exist_ok=True)
        name = request.node.nodeid.replace("/", "_").replace("::", "__")
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()


def screenshot(page, name: str, full_page: bool = True) -> Path:  # type: ignore[no-untyped-def]
    """Save a screenshot for people to look at (test-artifacts/screens/)."""
    path = ARTIFACTS / "screens" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full_page)
    return path


def log_in(page, email: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.get_by_label("E-mail or username").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
