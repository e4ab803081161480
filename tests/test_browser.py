"""Pages that need a browser: client-rendered and bot-guarded policies, live and archived, with
Debian's Chromium driven by Playwright, all on 127.0.0.1."""

from __future__ import annotations

import io
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.config import BrowserConfig
from crawler.demo import PywbArchive
from crawler.errors import FetchError
from crawler.live.browser import BrowserFetcher
from db import store
from tests.browser_site import BrowserSite, fable_pages
from tests.conftest import run_cli

PAGES = {
    "acme-privacy": ("/csr", "Acme Privacy Policy"),
    "bastion-privacy": ("/guard", "Bastion Privacy Policy"),
    "cookieco-privacy": ("/consent", "Cookie Co Privacy Policy"),
    "slowpoke-privacy": ("/slow", "Slowpoke Privacy Policy"),
    "hangfire-privacy": ("/hang", "Hangfire Privacy Policy"),
}


@pytest.fixture(scope="module")
def site() -> Iterator[BrowserSite]:
    with BrowserSite() as running:
        yield running


def _config(
    folder: Path, site: BrowserSite, fetcher: str, names: dict[str, tuple[str, str]]
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    policies = "".join(
        f'[[policy]]\nname = "{name}"\nurl = "{site.url}{path}"\n'
        for name, (path, _) in names.items()
    )
    config = folder / "config.toml"
    config.write_text(
        f'[database]\npath = "t.db"\n[browser]\nfetcher = "{fetcher}"\nsettle = 8\n{policies}'
    )
    return config


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return int(handle.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def _alive(pid: int) -> bool:
    """Still there: running, or a zombie nobody reaped."""
    return os.path.exists(f"/proc/{pid}")


def _chromium_processes() -> set[int]:
    """Chromium processes this test process started through Playwright (they carry
    --remote-debugging-pipe), zombies left out; never another program's browser."""
    me, found = os.getpid(), set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read()
            with open(f"/proc/{entry}/stat", "rb") as handle:
                state = handle.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if b"chrom" not in cmdline or b"--remote-debugging-pipe" not in cmdline or state == b"Z":
            continue
        pid, hops = int(entry), 0
        while pid > 1 and pid != me and hops < 20:
            pid, hops = _parent(pid), hops + 1
        if pid == me:
            found.add(int(entry))
    return found


def test_auto_escalates_only_where_needed(tmp_path: Path, site: BrowserSite) -> None:
    config = _config(tmp_path, site, "auto", PAGES)
    code, out = run_cli("--config", str(config), "check", "--json")
    assert code == 0, out
    results = {r["policy"]: r["status"] for r in json.loads(out)}
    assert set(results.values()) == {"new-version"}, results
    db = store.connect(tmp_path / "t.db")
    fetchers = {}
    for name, (_, heading) in PAGES.items():
        pid = store.policy_id(db, name)
        assert pid is not None
        text = store.version_text(db, store.history(db, pid)[0]["id"])
        assert f"# {heading}" in text and "## Your Rights" in text, (name, text[:300])
        assert "enable JavaScript" not in text and "Checking your browser" not in text
        fetchers[name] = db.execute(
            "SELECT fetcher FROM snapshots WHERE policy_id = ?", [pid]
        ).fetchone()[0]
    # The browser only where plain http cannot see the policy.
    assert fetchers == {
        "acme-privacy": "browser",
        "bastion-privacy": "browser",
        "cookieco-privacy": "http",
        "slowpoke-privacy": "browser",
        "hangfire-privacy": "http",
    }
    escalated = dict(
        db.execute(
            "SELECT p.name, s.escalated FROM policy_state s JOIN policies p ON p.id = s.policy_id"
        ).fetchall()
    )
    assert escalated == {name: int(fetchers[name] == "browser") for name in PAGES}
    # The next check goes straight to the browser for the escalated ones (no http request).
    before = site.hits.get("/csr", 0)
    code, out = run_cli("--config", str(config), "check", "acme-privacy", "--json")
    assert code == 0 and json.loads(out)[0]["status"] == "unchanged"
    assert site.hits["/csr"] == before + 1  # the browser's request only
    assert site.hits["/csr.json"] >= 2


def test_http_records_a_shell_as_a_problem_never_a_version(
    tmp_path: Path, site: BrowserSite
) -> None:
    config = _config(tmp_path, site, "http", {"acme-privacy": PAGES["acme-privacy"]})
    code, out = run_cli("--config", str(config), "check", "--json")
    (result,) = json.loads(out)
    assert result["status"] == "shell" and "enable JavaScript" in result["detail"]
    assert "may need the browser" in result["detail"]
    db = store.connect(tmp_path / "t.db")
    assert store.history(db, 1) == []
    problems = db.execute("SELECT kind, detail FROM problems").fetchall()
    assert [p[0] for p in problems] == ["shell"]


def test_an_empty_render_is_a_problem_too(tmp_path: Path, site: BrowserSite) -> None:
    config = _config(tmp_path, site, "browser", {"void-privacy": ("/void", "")})
    code, out = run_cli("--config", str(config), "check", "--json")
    (result,) = json.loads(out)
    assert result["status"] == "shell" and "(browser)" in result["detail"]
    assert store.history(store.connect(tmp_path / "t.db"), 1) == []


def test_the_browser_does_not_say_it_is_headless(site: BrowserSite) -> None:
    with BrowserFetcher(BrowserConfig(settle=1)) as browser:
        page = browser.render(site.url + "/agent")
        assert b"HeadlessChrome" not in page.body and b"Chrome/" in page.body
        webdriver = browser._run(_evaluate(browser, site.url + "/csr", "navigator.webdriver"), 30)
        assert webdriver is False


async def _evaluate(browser: BrowserFetcher, url: str, expression: str) -> object:
    from crawler.live.browser import HIDE_WEBDRIVER

    instance = await browser._browser_instance()
    context = await instance.new_context(user_agent=browser._user_agent)
    await context.add_init_script(HIDE_WEBDRIVER)
    page = await context.new_page()
    await page.goto(url)
    value = await page.evaluate(expression)
    await context.close()
    return value


def test_fetch_shows_what_each_fetcher_gets(tmp_path: Path, site: BrowserSite) -> None:
    config = _config(tmp_path, site, "auto", {})
    code, out = run_cli("--config", str(config), "fetch", site.url + "/csr", "--json")
    assert code == 0, out
    rows = {r["fetcher"]: r for r in json.loads(out)}
    assert rows["http"]["shell"] and rows["http"]["words"] < 20
    assert rows["browser"]["words"] > 100 and not rows["browser"]["shell"]
    assert rows["auto"]["used"] == "browser" and "enable JavaScript" in rows["auto"]["escalated"]
    assert not (tmp_path / "t.db").exists()  # fetch records nothing


def test_a_crash_or_a_hang_leaves_no_chromium_behind(site: BrowserSite) -> None:
    before = _chromium_processes()
    browser = BrowserFetcher(BrowserConfig(settle=2, timeout=6))
    seen: set[int] = set()
    try:
        assert b"Cookie Co" in browser.render(site.url + "/consent").body
        # Kill the browser mid-run: the next page starts another and is read.
        first = _chromium_processes() - before
        assert first
        seen |= first
        for pid in first:
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
        assert b"Cookie Co" in browser.render(site.url + "/consent").body
        assert browser.launches == 2
        # A page that never answers: the fetch gives up at its timeout, and the next works.
        with pytest.raises(FetchError, match="did not render within 6 s"):
            browser.render(site.url + "/never.js")
        assert b"Cookie Co" in browser.render(site.url + "/consent").body
        seen |= _chromium_processes() - before
    finally:
        browser.close()
    time.sleep(0.5)
    # None of the browsers' processes is left, orphaned or a zombie.
    assert [pid for pid in seen if _alive(pid)] == []


def _write_warc(path: Path, pages: dict[str, tuple[str, bytes]], timestamp: str) -> Path:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    date = f"{timestamp[:4]}-{timestamp[4:6]}-{timestamp[6:8]}T{timestamp[8:10]}:{timestamp[10:12]}:{timestamp[12:14]}Z"
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for url, (ctype, body) in pages.items():
            headers = StatusAndHeaders(
                "200 OK",
                [("Content-Type", ctype), ("Content-Length", str(len(body)))],
                protocol="HTTP/1.1",
            )
            record = writer.create_warc_record(
                url,
                "response",
                payload=io.BytesIO(body),
                http_headers=headers,
                warc_headers_dict={"WARC-Date": date},
            )
            writer.write_record(record)
            record.raw_stream.close()
    return path


def test_an_archived_client_rendered_page_is_read_from_its_rendered_replay(tmp_path: Path) -> None:
    with BrowserSite() as elsewhere:
        archive = PywbArchive(tmp_path / "pywb", collection="fable")
        archive.add_warcs(
            _write_warc(tmp_path / "fable.warc.gz", fable_pages(elsewhere.url), "20230301120000")
        )
        archive.start()
        try:
            config = tmp_path / "config.toml"
            config.write_text(
                f'[database]\npath = "t.db"\n[archive]\nurl = "{archive.url}"\n'
                '[[policy]]\nname = "fable-privacy"\nurl = "https://www.fable-labs.example/privacy"\n'
            )
            code, out = run_cli("--config", str(config), "backfill")
            assert code == 0, out
        finally:
            archive.stop()
        assert elsewhere.hits == {}  # nothing outside the archive was ever asked for
    db = store.connect(tmp_path / "t.db")
    (version,) = store.history(db, 1)
    text = store.version_text(db, version["id"])
    assert "# Fable Labs Privacy Policy" in text and "## Retention" in text
    row = db.execute("SELECT fetcher FROM snapshots").fetchone()
    assert row[0] == "browser-replay"
    code, out = run_cli("--config", str(config), "history", "fable-privacy", "--json")
    assert json.loads(out)[0]["words"] > 100


def test_without_chromium_one_line_says_how_to_install_it(
    tmp_path: Path, site: BrowserSite
) -> None:
    config = _config(tmp_path, site, "browser", {"acme-privacy": PAGES["acme-privacy"]})
    config.write_text(
        config.read_text().replace(
            "[browser]\n", '[browser]\nexecutable = "/nonexistent/chromium"\n'
        )
    )
    code, out = run_cli("--config", str(config), "check", "--json")
    (result,) = json.loads(out)
    assert code == 1 and result["status"] == "failed"
    assert "apt-get install chromium" in result["detail"]
    # auto falls back to plain http (with a warning): the shell is then a problem notice.
    config.write_text(config.read_text().replace('fetcher = "browser"', 'fetcher = "auto"'))
    code, out = run_cli("--config", str(config), "check", "--json")
    (result,) = json.loads(out)
    assert result["status"] == "shell"
