"""Hostile live pages (#17): compression bombs never inflate past the body cap, whatever
encoding the server sends, and only the encodings policytrail bounds are asked for."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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
