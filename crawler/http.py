"""Build the httpx Client from config: the only place that knows timeouts, limits and the UA."""

from __future__ import annotations

import httpx

from crawler.config import Config


def build_client(config: Config, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    archive = config.archive
    return httpx.Client(
        # Only the encodings decode_body bounds (httpx would also ask for br and zstd).
        headers={"User-Agent": config.user_agent, "Accept-Encoding": "gzip, deflate"},
        # Read timeouts count between bytes; EDGI found 10 s+ much steadier than 2 s.
        timeout=httpx.Timeout(archive.timeout, connect=min(archive.timeout, 15.0)),
        limits=httpx.Limits(
            max_connections=archive.workers + 1, max_keepalive_connections=archive.workers + 1
        ),
        transport=transport,
        follow_redirects=False,
    )
