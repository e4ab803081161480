"""The web page through a real `policytrail serve` process and headless Chromium (Debian's,
driven by Playwright). Screenshots go to test-artifacts/ for people to look at."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from crawler.demo import PywbArchive
from crawler.pipeline import record_changes
from db import store
from tests.conftest import run_cli, write_config
from tests.servers import serve_on_free_port

ARTIFACTS = Path(__file__).parents[1] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOSTILE_V1 = """# Terms | Evil Corp

## Scripts

Hello <script>window.pwned = 1</script> there.

[click me](javascript:window.pwned=2) and <img src=x onerror="window.pwned=3">
"""
HOSTILE_V2 = HOSTILE_V1.replace("there.", "there, friend. <b onmouseover=window.pwned=4>x</b>")


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail(
            "Chromium is not installed: scripts/setup installs Debian's chromium "
            "(apt-get install chromium)"
        )
    return path


def _add_live_version(db: store.Database, pid: int, text: str, ts: str, now: datetime) -> None:
    """A text seen by a live check at `ts`, as `check` would record it."""
    with db.atomic():
        vid = store.record_version(
            db,
            pid,
            text=text,
            title="Evil",
            timestamp=ts,
            snapshot_id=None,
            extractor_version=1,
            now=now,
        )
        store.add_live_capture(
            db,
            pid,
            timestamp=ts,
            url="https://evil.example/terms",
            mimetype="text/html",
            status=200,
            digest=ts,
            state="fetched",
            reason=None,
            snapshot_id=None,
            version_id=vid,
            now=now,
        )


def _add_hostile_policy(db_path: Path) -> None:
    db = store.connect(db_path)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    pid = store.upsert_policy(db, "evil-terms", "https://evil.example/terms", "terms", now)
    for ts, text in (("20240101000000", HOSTILE_V1), ("20250101000000", HOSTILE_V2)):
        _add_live_version(db, pid, text, ts, now)
    record_changes(db, pid, now)
    db.close()


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, pywb_archive: PywbArchive
) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("web")
    config = write_config(folder, pywb_archive.url)
    assert run_cli("--config", str(config), "backfill")[0] == 0
    _add_hostile_policy(folder / "test.db")
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
        instance = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


def _page(browser: object, url: str, shot: str | None = None) -> object:
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


def test_policy_list(server: tuple[str, Path], browser: object) -> None:
    page = _page(browser, server[0] + "/", "policies.png")
    rows = page.locator("table tr")  # type: ignore[attr-defined]
    assert rows.count() == 3
    assert "larkspur-privacy" in page.inner_text("table")  # type: ignore[attr-defined]


def test_timeline_with_chart_and_change_markers(server: tuple[str, Path], browser: object) -> None:
    page = _page(browser, server[0] + "/p/larkspur-privacy", "timeline.png")
    assert page.locator("svg circle").count() == 5  # type: ignore[attr-defined]
    assert page.locator("svg circle.sub").count() == 4  # type: ignore[attr-defined]
    text = page.inner_text("main")  # type: ignore[attr-defined]
    assert "'Biometric Data'" in text and "first record" in text
    page.click("text=diff >> nth=0")  # type: ignore[attr-defined]
    assert "version 4" in page.inner_text("h1")  # type: ignore[attr-defined]


def test_diff_side_by_side_and_inline(server: tuple[str, Path], browser: object) -> None:
    page = _page(browser, server[0] + "/p/larkspur-privacy/diff?a=3&b=4", "diff.png")
    assert "Sharing → How We Share Information" in page.inner_text("main")  # type: ignore[attr-defined]
    assert page.locator(".grid del", has_text="servers and").count() == 1  # type: ignore[attr-defined]
    assert page.locator("details").count() >= 2  # unchanged sections folded
    import re

    assert re.search(r"moved from section \d+ to \d+", page.inner_text("main"))  # type: ignore[attr-defined]
    page.click("text=Inline")  # type: ignore[attr-defined]
    assert page.locator(".grid").count() == 0  # type: ignore[attr-defined]
    assert page.locator("ins", has_text="and send e-mail").count() == 1  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "diff-inline.png"), full_page=True)  # type: ignore[attr-defined]


def test_version_changes_and_search_pages(server: tuple[str, Path], browser: object) -> None:
    base = server[0]
    page = _page(browser, base + "/p/larkspur-privacy/v/2", "version.png")
    assert "## Legal Bases for Processing" in page.inner_text(".policy-text")  # type: ignore[attr-defined]
    page = _page(browser, base + "/changes", "changes.png")
    # A header row, Larkspur's four changes and Evil Corp's one.
    assert page.locator("table tr").count() == 6  # type: ignore[attr-defined]
    page = _page(browser, base + "/search?q=biometric", "search.png")
    assert page.inner_text("mark") == "Biometric"  # type: ignore[attr-defined]
    atom = httpx.get(base + "/changes.atom")
    assert atom.headers["content-type"].startswith("application/atom+xml")
    assert atom.text.count("<entry>") == 5  # the same five as the page


def test_archived_scripts_stay_inert(server: tuple[str, Path], browser: object) -> None:
    base = server[0]
    for path in (
        "/p/evil-terms/v/1",
        "/p/evil-terms/diff?a=1&b=2",
        "/search?q=pwned",
        "/p/evil-terms",
        "/changes?all=1",
    ):
        page = _page(browser, base + path)
        assert page.evaluate("window.pwned") is None, path  # type: ignore[attr-defined]
        assert page.evaluate("document.scripts.length") == 0, path  # type: ignore[attr-defined]
        assert page.locator("a[href^='javascript:'], img, [onerror], [onmouseover]").count() == 0
        page.hover("main")  # type: ignore[attr-defined]
        assert page.dialogs == [], path  # type: ignore[attr-defined]
    page = _page(browser, base + "/p/evil-terms/v/2", "hostile.png")
    assert "<script>window.pwned = 1</script>" in page.inner_text(".policy-text")  # type: ignore[attr-defined]
    headers = httpx.get(base + "/p/evil-terms/v/1").headers
    assert "script-src" not in headers["content-security-policy"]
    assert "default-src 'none'" in headers["content-security-policy"]


def test_read_only_and_live_while_writing(server: tuple[str, Path]) -> None:
    base, db_path = server
    assert httpx.post(base + "/p/larkspur-privacy").status_code == 405
    assert httpx.get(base + "/p/nope").status_code == 404
    # Another process writes while the server reads.
    db = store.connect(db_path)
    now = datetime(2026, 2, 1, tzinfo=UTC)
    pid = store.policy_id(db, "evil-terms")
    assert pid is not None
    _add_live_version(db, pid, HOSTILE_V2 + "\nNew clause.\n", "20260201000000", now)
    record_changes(db, pid, now)
    db.close()
    page = httpx.get(base + "/p/evil-terms")
    assert page.status_code == 200 and ">3</a>" in page.text
