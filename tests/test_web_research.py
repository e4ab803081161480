"""What a journalist relies on: stable version ids, pages that lead somewhere (no dead link, no
empty href), comparing any two versions or dates, every change reachable page by page, a phone
layout, and feeds that parse. Real `serve` processes and Debian's Chromium (Playwright)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import feedparser
import httpx
import pytest

from crawler.demo import PywbArchive
from crawler.pipeline import record_changes
from db import store
from tests.conftest import history_json, run_cli, write_config
from tests.servers import serve_on_free_port
from tests.web_fixtures import ARTIFACTS, open_page

NAME = "larkspur-privacy"


def test_version_ids_survive_a_partial_then_a_full_backfill(
    tmp_path: Path, pywb_archive: PywbArchive
) -> None:
    config = write_config(tmp_path, pywb_archive.url)
    assert run_cli("--config", str(config), "backfill", "--from", "2021")[0] == 0
    partial = history_json(config)
    texts = {}
    for version in partial:
        code, out = run_cli("--config", str(config), "show", NAME, "--version", str(version["uid"]))
        assert code == 0
        texts[version["uid"]] = out.split("\n", 1)[1]  # the text, after its provenance line
    assert run_cli("--config", str(config), "backfill")[0] == 0
    full = history_json(config)
    assert len(full) > len(partial)
    by_uid = {v["uid"]: v for v in full}
    for version in partial:
        uid = str(version["uid"])
        assert by_uid[uid]["text_sha256"] == version["text_sha256"]  # the same id, same text
        code, out = run_cli("--config", str(config), "show", NAME, "--version", uid)
        # The same text; its provenance line now names the earlier capture found.
        assert code == 0 and out.split("\n", 1)[1] == texts[uid]
    # The ordinals moved (older texts were found); the ids did not.
    assert [v["number"] for v in partial] != [by_uid[str(v["uid"])]["number"] for v in partial]
    # An id's hash part alone names the version too, as in a link made on another database.
    uid = str(partial[0]["uid"])
    code, out = run_cli("--config", str(config), "show", NAME, "--version", uid[11:])
    assert code == 0 and out.split("\n", 1)[1] == texts[uid]
    # The page a link made after the partial backfill names still shows that text.
    process, base = serve_on_free_port(config)
    try:
        for version in partial:
            page = httpx.get(f"{base}/p/{NAME}/v/{version['uid']}.md")
            assert page.status_code == 200 and page.text == texts[str(version["uid"])].lstrip("\n")
    finally:
        process.terminate()
        process.wait(10)
        assert process.stderr is not None
        process.stderr.close()


def test_feed_sink_files_parse(tmp_path: Path, pywb_archive: PywbArchive) -> None:
    config = write_config(tmp_path, pywb_archive.url)
    config.write_text(
        config.read_text() + '\n[[alert]]\nname = "feeds"\ntype = "feed"\ndir = "feeds"\n'
    )
    assert run_cli("--config", str(config), "backfill")[0] == 0  # feeds follow a backfill too
    for name in ("all.atom", f"{NAME}.atom", "problems.atom"):
        feed = feedparser.parse((tmp_path / "feeds" / name).read_bytes())
        assert not feed.bozo, (name, feed.get("bozo_exception"))
        assert feed.feed.author == "policytrail"
        assert any(link.rel == "self" for link in feed.feed.links)
        for entry in feed.entries:  # the archived captures of the new texts
            assert entry.link.startswith(pywb_archive.url)
            assert httpx.get(entry.link, follow_redirects=True).status_code == 200


def _hrefs(page: object) -> list[str]:
    return page.eval_on_selector_all(  # type: ignore[attr-defined, no-any-return]
        "a, link[rel=alternate]", "els => els.map(e => e.getAttribute('href'))"
    )


def test_every_link_leads_to_a_page(server: tuple[str, Path], browser: object) -> None:
    base = server[0]
    own = urlsplit(base).netloc
    seen: set[str] = set()
    todo = [base + "/"]
    checked_elsewhere: set[str] = set()
    while todo and len(seen) < 400:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        if url.endswith(".atom") or "format=" in url or url.endswith((".md", ".txt")):
            response = httpx.get(url)
            assert response.status_code == 200, url
            continue
        page = open_page(browser, url)
        for href in _hrefs(page):
            assert href and href.strip(), f"an empty href on {url}"
            target = urljoin(page.url, href).split("#")[0]  # type: ignore[attr-defined]
            parts = urlsplit(target)
            if parts.netloc == own:
                todo.append(target)
            elif parts.hostname == "127.0.0.1" and target not in checked_elsewhere:
                # Evidence: the archive's replay of a capture (pywb on another port).
                checked_elsewhere.add(target)
                assert httpx.get(target, follow_redirects=True).status_code == 200, target
            else:
                assert parts.scheme in ("http", "https"), target  # the policy's own URL
        page.close()  # type: ignore[attr-defined]
    assert len(seen) > 20 and checked_elsewhere  # the crawl reached versions, diffs, evidence


def test_compare_any_two_versions_or_dates(server: tuple[str, Path], browser: object) -> None:
    base = server[0]
    versions = store.history(store.connect_readonly(server[1]), 1)
    page = open_page(browser, f"{base}/p/{NAME}")
    page.select_option("select[name=a]", versions[0]["uid"])  # type: ignore[attr-defined]
    page.select_option("select[name=b]", versions[3]["uid"])  # type: ignore[attr-defined]
    page.click("text=Compare versions")  # type: ignore[attr-defined]
    assert f"{versions[0]['uid']} → {versions[3]['uid']}" in page.inner_text("h1")  # type: ignore[attr-defined]
    assert page.inner_text("nav.views a.active") == "Side by side"  # type: ignore[attr-defined]
    page.click("nav.views >> text=Inline")  # type: ignore[attr-defined]
    assert page.inner_text("nav.views a.active") == "Inline"  # type: ignore[attr-defined]
    # Dates: the versions in force at the end of each day.
    page = open_page(browser, f"{base}/p/{NAME}")
    page.fill("input[name=from]", "2019-01-01")  # type: ignore[attr-defined]
    page.fill("input[name=to]", "2024-06-01")  # type: ignore[attr-defined]
    page.click("text=Compare dates")  # type: ignore[attr-defined]
    assert f"{versions[1]['uid']} → {versions[4]['uid']}" in page.inner_text("h1")  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "compare-dates.png"), full_page=True)  # type: ignore[attr-defined]
    url = f"{base}/p/{NAME}/diff?from=2019-01-01&to=2024-06-01"
    data = httpx.get(url + "&format=json").json()
    assert (data["old"]["uid"], data["new"]["uid"]) == (versions[1]["uid"], versions[4]["uid"])
    markdown = httpx.get(url + "&format=md")
    assert (
        markdown.text.startswith("# ") and "attachment" in markdown.headers["content-disposition"]
    )
    assert (
        "<del>" in httpx.get(url + "&format=html").text
        or "<ins>" in httpx.get(url + "&format=html").text
    )


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A database of 3 policies whose texts changed 130 times in all."""
    folder = tmp_path_factory.mktemp("busy")
    config = write_config(folder, "http://127.0.0.1:9/unused")
    db = store.connect(folder / "test.db")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    total = 0
    for p, count in (("alpha", 60), ("beta", 50), ("gamma", 20)):
        pid = store.upsert_policy(
            db, f"{p}-privacy", f"https://{p}.example/privacy", "privacy", now
        )
        with db.atomic():
            for i in range(count + 1):
                when = datetime(2010, 1, 1, tzinfo=UTC) + timedelta(days=37 * i)
                text = f"# {p}\n\n## Data Retention\n\nWe keep data {i} days.\n"
                vid = store.record_version(
                    db,
                    pid,
                    text=text,
                    title=p,
                    timestamp=when.strftime("%Y%m%d%H%M%S"),
                    snapshot_id=None,
                    extractor_version=2,
                    now=now,
                )
                store.add_live_capture(
                    db,
                    pid,
                    timestamp=when.strftime("%Y%m%d%H%M%S"),
                    url=f"https://{p}.example/privacy",
                    mimetype="text/html",
                    status=200,
                    digest=str(i),
                    state="fetched",
                    reason=None,
                    snapshot_id=None,
                    version_id=vid,
                    now=now,
                )
        record_changes(db, pid, now)
        total += count
    db.close()
    process, base = serve_on_free_port(config)
    try:
        yield base, total
    finally:
        process.terminate()
        process.wait(10)
        assert process.stderr is not None
        process.stderr.close()


def test_every_change_is_reachable_page_by_page(
    busy_server: tuple[str, int], browser: object
) -> None:
    base, total = busy_server
    page = open_page(browser, base + "/changes")
    assert f"{total} changes" in page.inner_text("main")  # type: ignore[attr-defined]
    seen = 0
    while True:
        rows = page.locator("table tr").count() - 1  # type: ignore[attr-defined]
        seen += rows
        following = page.locator("a[rel=next]")  # type: ignore[attr-defined]
        if not following.count():
            break
        following.click()
    assert seen == total
    page.screenshot(path=str(ARTIFACTS / "changes-last-page.png"), full_page=True)  # type: ignore[attr-defined]
    # The last page holds the oldest change: alpha's first (2010-02-07).
    assert "2010-02-07" in page.inner_text("table")  # type: ignore[attr-defined]
    page = open_page(browser, base + "/changes?page=2", "changes-page-2.png")
    assert "page 2 of 3" in page.inner_text("main")  # type: ignore[attr-defined]
    # Filters: a policy, a date range and a section, each row linking to its diff.
    page = open_page(browser, base + "/changes?policy=gamma-privacy&from=2010&to=2011")
    rows = page.locator("table tr").count() - 1  # type: ignore[attr-defined]
    assert 0 < rows < 20
    page.locator("table a", has_text="diff").first.click()  # type: ignore[attr-defined]
    assert "gamma-privacy" in page.inner_text("h1")  # type: ignore[attr-defined]
    page = open_page(browser, base + "/changes?q=No+Such+Section")
    assert "No change matches" in page.inner_text("main")  # type: ignore[attr-defined]


PHONE_PAGES = (
    "/",
    f"/p/{NAME}",
    f"/p/{NAME}/v/2",
    f"/p/{NAME}/diff?a=3&b=4",
    "/changes",
    "/search?q=data",
)


def test_pages_fit_a_phone(server: tuple[str, Path], browser: object) -> None:
    for path in PHONE_PAGES:
        page = browser.new_page(viewport={"width": 390, "height": 844})  # type: ignore[attr-defined]
        page.goto(server[0] + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} scrolls sideways at 390 px ({width} px wide)"
        if path.startswith(f"/p/{NAME}/diff"):
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "diff-phone.png"), full_page=True)
        page.close()


def test_feeds_parse_and_lead_to_pages(server: tuple[str, Path]) -> None:
    base = server[0]
    for path in ("/changes.atom", f"/p/{NAME}/changes.atom"):
        url = base + path
        response = httpx.get(url)
        assert response.headers["content-type"].startswith("application/atom+xml")
        assert response.headers["x-content-type-options"] == "nosniff"
        feed = feedparser.parse(
            response.content,
            response_headers={
                "content-location": url,
                "content-type": response.headers["content-type"],
            },
        )
        assert not feed.bozo, feed.get("bozo_exception")
        assert feed.feed.author == "policytrail"
        assert any(link.rel == "self" for link in feed.feed.links)
        assert feed.entries
        for entry in feed.entries:
            assert entry.link
            assert httpx.get(urljoin(url, entry.link)).status_code == 200, entry.link
    page = httpx.get(f"{base}/p/{NAME}").text
    assert f'href="/p/{NAME}/changes.atom"' in page


def test_json_carries_ids_and_evidence(tmp_path: Path, pywb_archive: PywbArchive) -> None:
    config = write_config(tmp_path, pywb_archive.url)
    assert run_cli("--config", str(config), "backfill")[0] == 0
    code, out = run_cli("--config", str(config), "changes", "--json", "--limit", "2")
    assert code == 0
    changes = json.loads(out)
    assert len(changes) == 2
    newest = changes[0]
    assert newest["id"] == f"{newest['from_version']}..{newest['to_version']}"
    old, new = newest["old_last_capture"], newest["new_first_capture"]
    assert old["at"] < new["at"]
    assert new["link"] == f"{pywb_archive.url}/{new['timestamp']}/{new['url']}"
    assert httpx.get(new["link"], follow_redirects=True).status_code == 200
    data = json.loads(run_cli("--config", str(config), "show", NAME, "--json")[1])
    assert data["uid"] == newest["to_version"]
    assert data["citation"].startswith(f"{NAME} (privacy), https://")
    assert data["first_capture"]["link"].startswith(pywb_archive.url)
