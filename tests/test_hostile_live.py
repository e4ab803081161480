"""Hostile live pages (#17): compression bombs never inflate past the body cap, whatever
encoding the server sends, and only the encodings policytrail bounds are asked for."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import zstandard

from crawler.errors import FetchError
from crawler.live import fetch_live

BOMB = b"\0" * (200 * 1024 * 1024)  # 200 MB of zeros: a few hundred KB compressed
BODIES = {
    "/zstd": ("zstd", zstandard.ZstdCompressor(level=19).compress(BOMB)),
    "/gzip": ("gzip", gzip.compress(BOMB, compresslevel=9)),
    "/fine": (
        "gzip",
        gzip.compress(b"<html><body><p>" + b"A policy. " * 200 + b"</p></body></html>"),
    ),
}


@pytest.fixture(scope="module")
def hostile() -> Iterator[tuple[str, list[str]]]:
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            asked.append(self.headers.get("Accept-Encoding", ""))
            if self.path == "/elsewhere":  # a redirect to another port of this machine
                self.send_response(302)
                self.send_header("Location", "http://127.0.0.1:9/internal")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.path == "/slow-headers":  # the headers a byte every 0.2 s, for a minute
                asked.append("slow-headers")
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                for _ in range(300):
                    try:
                        self.wfile.write(b"X")
                        self.wfile.flush()
                    except OSError:
                        return
                    time.sleep(0.2)
                return
            if self.path == "/trickle":  # a byte every 0.2 s, for a minute
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", "300")
                self.end_headers()
                for _ in range(300):
                    try:
                        self.wfile.write(b"x")
                        self.wfile.flush()
                    except OSError:
                        return
                    time.sleep(0.2)
                return
            encoding, body = BODIES[self.path]
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Encoding", encoding)  # whatever was asked for
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", asked
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("path", "why"),
    [("/zstd", "unsupported Content-Encoding 'zstd'"), ("/gzip", "decompresses to over")],
)
def test_a_compression_bomb_is_refused_within_the_cap(
    hostile: tuple[str, list[str]], path: str, why: str
) -> None:
    base, asked = hostile
    with httpx.Client() as client, pytest.raises(FetchError, match=why):
        fetch_live(client, base + path, max_bytes=1024 * 1024)
    assert asked[-1] == "gzip, deflate"


def test_a_gzipped_page_is_read(hostile: tuple[str, list[str]]) -> None:
    base, _ = hostile
    with httpx.Client() as client:
        result = fetch_live(client, base + "/fine", max_bytes=1024 * 1024)
    assert result.body.startswith(b"<html>") and result.body.count(b"A policy.") == 200


def test_save_page_now_credentials_go_only_to_the_internet_archive_over_https(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from crawler.archive.save import request_save_page_now

    monkeypatch.setenv("POLICYTRAIL_IA_ACCESS", "key")
    monkeypatch.setenv("POLICYTRAIL_IA_SECRET", "secret")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"job_id": "j1"})

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        for archive in (
            "http://web.archive.org",
            "https://archive.evil.example",
            "http://127.0.0.1:9/coll",
        ):
            note = request_save_page_now(client, archive, "https://x.example/p")
            assert "skipped" in note
        assert seen == []
        assert request_save_page_now(client, "https://web.archive.org", "https://x.example/p") == (
            "save page now job j1"
        )
    assert (
        seen[0].url.host == "web.archive.org"
        and seen[0].headers["authorization"] == "LOW key:secret"
    )


def test_a_retry_after_of_a_year_pauses_an_hour_at_most() -> None:
    from crawler.archive.transport import MAX_RETRY_AFTER, Fetched, _retry_after

    answer = Fetched(429, httpx.Headers({"retry-after": "31536000"}), b"")
    assert _retry_after(answer) == MAX_RETRY_AFTER == 3600
    assert _retry_after(Fetched(429, httpx.Headers({"retry-after": "120"}), b"")) == 120


@pytest.mark.parametrize(
    "label",
    ["base64", "hex", "rot13", "zlib", "bz2", "uu", "quopri", "idna", "punycode", "undefined"],
)
def test_a_charset_label_that_is_no_text_encoding_is_ignored(label: str) -> None:
    from crawler.text import decode_html, extract, render_text

    page = f'<html><head><meta charset="{label}"></head><body><p>Caf\u00e9 policy text.</p></body></html>'
    body = page.encode("utf-8")
    assert "Caf\u00e9" in decode_html(body, f"text/html; charset={label}")
    assert "Caf\u00e9 policy text." in render_text(
        extract(body, content_type=f"text/html; charset={label}")
    )


def test_cdx_rows_with_impossible_dates_or_numbers_are_malformed() -> None:
    from crawler.archive import parse_cdx_line

    good = "com,x)/p 20200101000000 https://x.com/p text/html 200 ABC 123"
    assert parse_cdx_line(good) is not None
    assert parse_cdx_line(good.replace("20200101000000", "0000")) is None
    assert parse_cdx_line(good.replace(" 200 ", " 200000000000000000000 ")) is None
    assert parse_cdx_line(good.replace(" 123", " 1234567890123456789012")) is None


def test_an_unexpected_error_keeps_the_schedule(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from crawler.config import load_config
    from crawler.watch.scheduler import Watcher
    from db import store

    config = tmp_path / "config.toml"
    config.write_text(
        '[database]\npath = "w.db"\n[schedule]\ncheck = "1d"\njitter = "0"\nsync = "off"\n'
        '[[policy]]\nname = "p"\nurl = "https://p.example/privacy"\n'
        '[[policy]]\nname = "q"\nurl = "https://q.example/privacy"\n'
    )

    def broken_client() -> httpx.Client:
        raise RuntimeError("something nobody expected")

    watcher = Watcher(load_config(config), client_factory=broken_client)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    report = watcher.run_cycle(now)
    assert len(report.failures) == 2  # both policies were tried: one failure stops nothing
    db = store.connect(tmp_path / "w.db")
    for name in ("p", "q"):
        state = store.policy_state(db, store.policy_id(db, name))  # type: ignore[arg-type]
        assert state["next_check_at"] == "2026-01-02T00:00:00Z"
    assert watcher.due(now) == []  # not due again at once


def test_a_trickling_page_is_given_up_at_its_deadline(hostile: tuple[str, list[str]]) -> None:
    base, _ = hostile
    started = time.monotonic()
    with httpx.Client(timeout=5) as client, pytest.raises(FetchError, match="still arriving"):
        fetch_live(client, base + "/trickle", deadline=1.0)
    assert time.monotonic() - started < 10  # not the minute the page would take


def test_headers_trickling_in_are_given_up_at_the_deadline(
    hostile: tuple[str, list[str]],
) -> None:
    """httpx's timeouts count between bytes; the clients policytrail builds bound the whole."""
    from crawler.config import Config
    from crawler.http import build_live_client

    base, _ = hostile
    started = time.monotonic()
    config = Config(Path("x.toml"), Path("x.db"), live_timeout=5)
    with build_live_client(config) as client, pytest.raises(FetchError, match="deadline"):
        fetch_live(client, base + "/slow-headers", deadline=1.5)
    assert time.monotonic() - started < 5


def test_run_stops_within_seconds_of_sigterm_while_a_fetch_hangs(
    tmp_path: Path, hostile: tuple[str, list[str]]
) -> None:
    import signal
    import subprocess

    from tests.servers import policytrail_process

    base, asked = hostile
    config = tmp_path / "config.toml"
    config.write_text(
        '[database]\npath = "t.db"\n\n[schedule]\njitter = "0"\nsync = "off"\n\n'
        f'[[policy]]\nname = "slow"\nurl = "{base}/slow-headers"\nfetcher = "http"\n',
        encoding="utf-8",
    )
    before = asked.count("slow-headers")
    process = policytrail_process(
        "--config", str(config), "run", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 30
        while asked.count("slow-headers") == before and time.monotonic() < deadline:
            time.sleep(0.1)
        assert asked.count("slow-headers") > before, "run never asked for the page"
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        _, stderr = process.communicate(timeout=30)
        assert time.monotonic() - started < 5, stderr
        assert process.returncode == 0, stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    # Cut short by the shutdown, the check is no failure of the page: it is due again.
    from db import store

    db = store.connect(tmp_path / "t.db")
    assert list(store.rows(db, "SELECT * FROM captures")) == []
    assert store.policy_state(db, 1)["next_check_at"] is None


def test_deep_nesting_is_flattened_not_dropped_and_huge_markup_refused() -> None:
    from crawler.errors import ExtractionError
    from crawler.text import extract, render_text

    n = 20_000
    nested = ("<html><body><p>Policy.</p>" + "<b>word " * n + "</body></html>").encode()
    # The walk flattens what is deeper than its budget: every word kept, however deep.
    assert render_text(extract(nested, select="body")).count("word") == n
    # (Without `select`, the main container is found as for any page: the words outside the
    # innermost 200 wrappers weigh under 1% and are left as boilerplate would be.)
    assert render_text(extract(nested)).count("word") >= 0.99 * n
    deep_list = ("<html><body>" + "<ul><li>item " * 80_000 + "</body></html>").encode()
    with pytest.raises(ExtractionError, match="page too complex to extract"):
        extract(deep_list)


def test_a_search_with_too_many_terms_is_refused(tmp_path: Path) -> None:
    from db import store
    from tests.conftest import run_cli

    config = tmp_path / "config.toml"
    config.write_text('[database]\npath = "t.db"\n')
    store.connect(tmp_path / "t.db").close()
    query = " OR ".join(["a*"] * 20)
    code, out = run_cli("--config", str(config), "search", query)
    assert code == 2 and "more than 12 terms" in out
    code, _ = run_cli(
        "--config", str(config), "search", '"twelve words in one quoted phrase count as one term"'
    )
    assert code == 0


def test_redirects_may_not_reach_private_addresses_or_other_ports(tmp_path: Path) -> None:
    """SSRF: a public page's redirect to 127.0.0.1 (any spelling) or to another port is
    refused; a configured loopback URL may redirect within its own host and port."""
    from crawler.live.guard import check_hop

    public = "https://www.example.com/privacy"
    for target in (
        "http://127.0.0.1/admin",
        "http://2130706433/admin",  # 127.0.0.1 in decimal
        "http://[::1]/admin",
        "http://10.0.0.8/",
        "http://169.254.169.254/latest/meta-data/",
    ):
        with pytest.raises(FetchError, match="private or reserved address|metadata address"):
            check_hop(target, public)
    with pytest.raises(FetchError, match="changes the port"):
        check_hop("http://www.example.com:8080/x", public)
    check_hop("http://127.0.0.1:8000/b", "http://127.0.0.1:8000/a")  # its own host and port
    with pytest.raises(FetchError, match="changes the port"):
        check_hop("http://127.0.0.1:9999/b", "http://127.0.0.1:8000/a")
    check_hop("http://127.0.0.1:9999/b", "http://127.0.0.1:8000/a", allow_private=True)


def test_a_configured_metadata_address_is_refused_at_load_time(tmp_path: Path) -> None:
    from crawler.config import load_config
    from crawler.errors import ConfigError

    config = tmp_path / "config.toml"
    for url in ("http://169.254.169.254/latest", "http://metadata.google.internal/x"):
        config.write_text(f'[database]\npath = "t.db"\n[[policy]]\nname = "p"\nurl = "{url}"\n')
        with pytest.raises(ConfigError, match="link-local or cloud metadata address"):
            load_config(config)


def test_a_live_redirect_to_another_port_is_refused(hostile: tuple[str, list[str]]) -> None:
    base, _ = hostile
    with httpx.Client() as client, pytest.raises(FetchError, match="changes the port"):
        fetch_live(client, base + "/elsewhere")


def test_a_cdx_url_with_dot_segments_never_leaves_the_collection() -> None:
    from crawler.archive import parse_cdx_line

    row = "com,x)/p 20200101000000 {} text/html 200 ABC 123"
    assert parse_cdx_line(row.format("https://x.com/a/b")) is not None
    for bad in (
        "https://x.com/../../../admin",
        "https://x.com/a/%2E%2E/%2e%2e/secret",
        "https://x.com/./p",
    ):
        assert parse_cdx_line(row.format(bad)) is None


def test_a_browser_may_load_only_what_a_redirect_may_reach() -> None:
    """The rule a live render's requests obey (navigations, frames, scripts): no private or
    loopback address from a public page, never a link-local or metadata one, any port."""
    from crawler.live.guard import check_hop, may_load

    public = "http://93.184.216.34/privacy"  # a literal: nothing is resolved or sent
    loopback = "http://127.0.0.1:8080/privacy"
    assert may_load("http://93.184.216.35:8443/app.js", public)  # another port: fine for assets
    assert not may_load("http://127.0.0.1:9/admin", public)
    assert not may_load("http://2130706433/admin", public)  # 127.0.0.1 spelled as a number
    assert not may_load("http://[::1]/admin", public)
    assert not may_load("http://10.0.0.5/", public)
    assert may_load("http://127.0.0.1:9/other", loopback)  # a page on loopback keeps its own
    assert not may_load("http://169.254.169.254/latest/meta-data/", loopback)
    assert not may_load("http://metadata.google.internal/computeMetadata/v1/", loopback)
    assert may_load("http://169.254.169.254/", loopback, allow_private=True)
    assert may_load("data:text/plain,x", public)
    with pytest.raises(FetchError, match="metadata"):
        check_hop("http://169.254.169.254/latest/meta-data/", loopback)


def _slow_diff_db(folder: Path) -> Path:
    """A policy whose two versions make a diff of a few seconds (thousands of sections)."""
    from datetime import UTC, datetime

    from db import store
    from tests.web_fixtures import add_live_version

    config = folder / "config.toml"
    config.write_text('[database]\npath = "t.db"\n')
    db = store.connect(folder / "t.db")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    pid = store.upsert_policy(db, "huge", "https://huge.example/terms", "terms", now)
    for n, ts in ((0, "20250101000000"), (1, "20250201000000")):
        text = "\n\n".join(
            f"## Part {i * 3 + n}\n\nClause {i} binds party {i + n} to duty {i * n}."
            for i in range(4000)
        )
        add_live_version(db, pid, f"# Terms\n\n{text}\n", ts, now)
    db.close()
    return config


def test_serve_answers_while_a_slow_diff_runs_and_stops_on_sigterm(tmp_path: Path) -> None:
    import signal

    from tests.servers import serve_on_free_port

    config = _slow_diff_db(tmp_path)
    process, base = serve_on_free_port(config)
    try:
        slow: list[float] = []

        def diff() -> None:
            httpx.get(f"{base}/p/huge/diff?a=1&b=2", timeout=120, follow_redirects=True)
            slow.append(time.monotonic())  # when the diff page was done

        worker = threading.Thread(target=diff)
        worker.start()
        time.sleep(0.3)
        started = time.monotonic()
        assert httpx.get(f"{base}/", timeout=10).status_code == 200
        answered = time.monotonic()
        assert answered - started < 1.0
        worker.join(120)
        assert slow and answered < slow[0]  # answered while the diff was still running
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        process.communicate(timeout=30)
        assert time.monotonic() - started < 5
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_an_archive_trickling_its_answer_is_given_up_at_the_deadline(
    hostile: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A playback whose headers (or body) outlive the deadline fails at once (the next run
    retries the capture), not after five retries: a hostile archive holds it one deadline."""
    import crawler.archive.transport as transport_module
    from crawler.archive import Transport
    from crawler.archive.ratelimit import Limiters
    from crawler.config import ArchiveConfig, Config
    from crawler.http import build_client

    monkeypatch.setattr(transport_module, "READ_DEADLINE", 1.0)
    base, asked = hostile
    config = Config(Path("x.toml"), Path("x.db"), archive=ArchiveConfig(url=base, timeout=5))
    before = asked.count("slow-headers")
    started = time.monotonic()
    with build_client(config) as client:
        transport = Transport(client, Limiters(6000, 100), retries=5, backoff=0.1)
        with pytest.raises(FetchError, match="deadline after 1 attempt: "):
            transport.get("playback", base + "/slow-headers")
    assert asked.count("slow-headers") - before == 1
    assert time.monotonic() - started < 5
