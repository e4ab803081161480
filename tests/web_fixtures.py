"""Fixtures for the browser tests: a real `policytrail serve` over the Larkspur demo history
(plus a hostile policy), and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawler.demo import PywbArchive
from crawler.live.browser import CHROMIUM_ARGS as BROWSER_ARGS
from crawler.pipeline import record_changes
from db import store
from tests.conftest import run_cli, write_config
from tests.servers import serve_on_free_port

ARTIFACTS = Path(__file__).parents[1] / "test-artifacts"
# The browser tests start Chromium as policytrail's browser fetcher does.
CHROMIUM_ARGS = list(BROWSER_ARGS)
HOSTILE_V1 = """# Terms | Evil Corp

## Scripts

Hello <script>window.pwned = 1</script> there.

[click me](javascript:window.pwned=2) and <img src=x onerror="window.pwned=3">
"""
HOSTILE_V2 = HOSTILE_V1.replace("there.", "there, friend. <b onmouseover=window.pwned=4>x</b>")


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail(
            "Chromium is not installed: scripts/setup installs Debian's chromium "
            "(apt-get install chromium)"
        )
    return path


def add_live_version(db: store.Database, pid: int, text: str, ts: str, now: datetime) -> None:
    """A text seen by a live check at `ts`, as `check` would record it."""
    store.add_seen_text(db, pid, text, ts, "https://evil.example/terms", now, title="Evil")


def add_hostile_policy(db_path: Path) -> None:
    db = store.connect(db_path)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    pid = store.upsert_policy(db, "evil-terms", "https://evil.example/terms", "terms", now)
    for ts, text in (("20240101000000", HOSTILE_V1), ("20250101000000", HOSTILE_V2)):
        add_live_version(db, pid, text, ts, now)
    record_changes(db, pid, now)
    db.close()


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, pywb_archive: PywbArchive
) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("web")
    config = write_config(folder, pywb_archive.url)
    assert run_cli("--config", str(config), "backfill")[0] == 0
    add_hostile_policy(folder / "test.db")
    process, base = serve_on_free_port(config)
    try:
        yield base, folder / "test.db"
    finally:
        process.terminate()
        process.wait(10)
        assert process.stderr is not None
        process.stderr.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


def open_page(browser: object, url: str, shot: str | None = None) -> object:
    page = browser.new_page(viewport={"width": 1280, "height": 1000})  # type: ignore[attr-defined]
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.dialogs = dialogs
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    if shot:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / shot), full_page=True)
    return page
