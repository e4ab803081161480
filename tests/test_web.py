"""The web page through a real `policytrail serve` process and headless Chromium (Debian's,
driven by Playwright). Screenshots go to test-artifacts/ for people to look at."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import httpx

from crawler.pipeline import record_changes
from db import store
from tests.web_fixtures import ARTIFACTS, HOSTILE_V2, add_live_version, open_page


def test_policy_list(server: tuple[str, Path], browser: object) -> None:
    page = open_page(browser, server[0] + "/", "policies.png")
    rows = page.locator("table tr")  # type: ignore[attr-defined]
    assert rows.count() == 3
    assert "larkspur-privacy" in page.inner_text("table")  # type: ignore[attr-defined]


def test_timeline_with_chart_and_change_markers(server: tuple[str, Path], browser: object) -> None:
    page = open_page(browser, server[0] + "/p/larkspur-privacy", "timeline.png")
    assert page.locator("svg circle").count() == 5  # type: ignore[attr-defined]
    assert page.locator("svg circle.sub").count() == 4  # type: ignore[attr-defined]
    text = page.inner_text("main")  # type: ignore[attr-defined]
    assert "'Biometric Data'" in text and "first record" in text
    assert page.locator("svg a circle").count() == 5  # every change mark links to its diff
    assert page.locator("link[rel=alternate][type='application/atom+xml']").count() == 1  # type: ignore[attr-defined]
    page.locator("table a", has_text=re.compile("^diff$")).first.click()  # type: ignore[attr-defined]
    versions = store.history(store.connect_readonly(server[1]), 1)
    heading = page.inner_text("h1")  # type: ignore[attr-defined]
    assert f"{versions[3]['uid']} → {versions[4]['uid']}" in heading


def test_diff_side_by_side_and_inline(server: tuple[str, Path], browser: object) -> None:
    page = open_page(browser, server[0] + "/p/larkspur-privacy/diff?a=3&b=4", "diff.png")
    assert "Sharing → How We Share Information" in page.inner_text("main")  # type: ignore[attr-defined]
    assert page.locator(".grid del", has_text="servers and").count() == 1  # type: ignore[attr-defined]
    assert page.locator("details").count() >= 2  # unchanged sections folded

    assert re.search(r"moved from section \d+ to \d+", page.inner_text("main"))  # type: ignore[attr-defined]
    page.click("text=Inline")  # type: ignore[attr-defined]
    assert page.locator(".grid").count() == 0  # type: ignore[attr-defined]
    assert page.locator("ins", has_text="and send e-mail").count() == 1  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "diff-inline.png"), full_page=True)  # type: ignore[attr-defined]


def test_version_changes_and_search_pages(server: tuple[str, Path], browser: object) -> None:
    base = server[0]
    page = open_page(browser, base + "/p/larkspur-privacy/v/2", "version.png")
    assert re.search(r"/v/2018-05-25-[0-9a-f]{6}$", page.url)  # type: ignore[attr-defined]  # an old link redirects
    heading = page.locator(".policy-html h2", has_text="Legal Bases for Processing")  # type: ignore[attr-defined]
    assert heading.count() == 1  # the markdown rendered: a heading, not "## ..."
    page = open_page(browser, base + "/changes", "changes.png")
    # A header row, Larkspur's four changes and Evil Corp's one.
    assert page.locator("table tr").count() == 6  # type: ignore[attr-defined]
    page = open_page(browser, base + "/search?q=biometric", "search.png")
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
        page = open_page(browser, base + path)
        assert page.evaluate("window.pwned") is None, path  # type: ignore[attr-defined]
        assert page.evaluate("document.scripts.length") == 0, path  # type: ignore[attr-defined]
        assert page.locator("a[href^='javascript:'], img, [onerror], [onmouseover]").count() == 0
        page.hover("main")  # type: ignore[attr-defined]
        assert page.dialogs == [], path  # type: ignore[attr-defined]
    page = open_page(browser, base + "/p/evil-terms/v/2", "hostile.png")
    assert "<script>window.pwned = 1</script>" in page.inner_text(".policy-html")  # type: ignore[attr-defined]
    headers = httpx.get(base + "/p/evil-terms/v/1", follow_redirects=True).headers
    assert "script-src" not in headers["content-security-policy"]
    assert "default-src 'none'" in headers["content-security-policy"]


def test_read_only_and_live_while_writing(server: tuple[str, Path]) -> None:
    base, db_path = server
    assert httpx.post(base + "/p/larkspur-privacy").status_code == 405
    missing = httpx.get(base + "/p/nope")
    assert missing.status_code == 404 and "<h1>Not found (404)</h1>" in missing.text
    # Another process writes while the server reads.
    db = store.connect(db_path)
    now = datetime(2026, 2, 1, tzinfo=UTC)
    pid = store.policy_id(db, "evil-terms")
    assert pid is not None
    add_live_version(db, pid, HOSTILE_V2 + "\nNew clause.\n", "20260201000000", now)
    record_changes(db, pid, now)
    db.close()
    page = httpx.get(base + "/p/evil-terms")
    assert page.status_code == 200 and "3 versions" in page.text
