"""Fetch a live policy page: conditional requests, bounded body and redirects, recorded hops.

Takes an httpx.Client; never touches the database.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from crawler.archive.transport import BodyError, decode_body
from crawler.errors import FetchError
from crawler.http import deadline as bounded
from crawler.live.guard import check_hop

REDIRECTS = (301, 302, 303, 307, 308)
ACCEPT_ENCODING = "gzip, deflate"
DEADLINE = 45.0  # seconds for a whole fetch, redirects included (10 MB at 250 KB/s: 40 s)


@dataclass(frozen=True, slots=True)
class LiveResult:
    url: str  # after redirects
    status: int
    headers: dict[str, str]
    body: bytes
    redirects: tuple[tuple[int, str, str], ...]  # (status, from, to)
    not_modified: bool = False

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


def fetch_live(
    client: httpx.Client,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int = 10 * 1024 * 1024,
    max_redirects: int = 5,
    deadline: float = DEADLINE,
    allow_private: bool = False,
) -> LiveResult:
    """GET `url` now. Raises FetchError on network errors, redirect loops, oversize bodies and
    a body still arriving after `deadline` seconds (a page trickling a byte a second)."""
    give_up = time.monotonic() + deadline
    headers = {
        "Accept": "text/html,application/xhtml+xml,application/pdf;q=0.9,*/*;q=0.5",
        # Only what decode_body bounds: httpx would inflate br or zstd unbounded, each read
        # checked only after the fact (a 50 KB brotli answer peaked at 2 GB).
        "Accept-Encoding": ACCEPT_ENCODING,
    }
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    hops: list[tuple[int, str, str]] = []
    seen = {url}
    current = url
    with bounded(deadline):
        return _follow(
            client,
            url,
            current,
            seen,
            hops,
            headers,
            max_bytes,
            max_redirects,
            deadline,
            give_up,
            allow_private,
        )


def _follow(
    client: httpx.Client,
    url: str,
    current: str,
    seen: set[str],
    hops: list[tuple[int, str, str]],
    headers: dict[str, str],
    max_bytes: int,
    max_redirects: int,
    deadline: float,
    give_up: float,
    allow_private: bool,
) -> LiveResult:
    """The requests of one fetch, redirects followed (inside its deadline)."""
    for _ in range(max_redirects + 1):
        try:
            with client.stream("GET", current, headers=headers, follow_redirects=False) as response:
                status = response.status_code
                response_headers = {k.lower(): v for k, v in response.headers.items()}
                if status in REDIRECTS and "location" in response_headers:
                    target = urljoin(current, response_headers["location"])
                    check_hop(target, url, allow_private)
                    hops.append((status, current, target))
                    if target in seen:
                        raise FetchError(f"redirect loop at {target} (from {url})", url=url)
                    seen.add(target)
                    current = target
                    continue
                if status == 304:
                    return LiveResult(current, status, response_headers, b"", tuple(hops), True)
                declared = response_headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise FetchError(
                        f"{current} is {int(declared)} bytes, over the "
                        f"{max_bytes}-byte limit (http.max_body_mb)",
                        url=url,
                    )
                if response.is_stream_consumed:
                    # Built in memory (httpx.MockTransport in tests): httpx already decoded it.
                    body = response.content
                    return LiveResult(current, status, response_headers, body, tuple(hops))
                chunks: list[bytes] = []
                size = 0
                # Raw bytes, decoded by us within the cap (whatever encoding was sent anyway).
                for chunk in response.iter_raw():
                    if time.monotonic() > give_up:
                        raise FetchError(
                            f"{current} was still arriving after {deadline:.0f} s; given up",
                            url=url,
                        )
                    size += len(chunk)
                    if size > max_bytes:
                        raise FetchError(
                            f"{current} is over the {max_bytes}-byte limit (http.max_body_mb)",
                            url=url,
                        )
                    chunks.append(chunk)
                encodings = ",".join(response.headers.get_list("content-encoding"))
                try:
                    body = decode_body(b"".join(chunks), encodings, max_bytes, current)
                except BodyError as exc:
                    raise FetchError(f"{exc} (http.max_body_mb)", url=url) from None
                return LiveResult(current, status, response_headers, body, tuple(hops))
        except httpx.HTTPError as exc:
            raise FetchError(f"{type(exc).__name__} fetching {current}: {exc}", url=url) from exc
    raise FetchError(f"more than {max_redirects} redirects from {url}", url=url)
