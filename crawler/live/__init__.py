"""Live fetching: the policy's page as it is now (conditional requests, a body size cap,
recorded redirects). The browser fetcher goes here too."""

from __future__ import annotations

from crawler.live.fetch import LiveResult, fetch_live

__all__ = ["LiveResult", "fetch_live"]
