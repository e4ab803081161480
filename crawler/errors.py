"""The errors policytrail raises, one class per thing a caller can act on.

CrawlerError
├── ConfigError (ValueError)        the config file or an argument is wrong: fix it and rerun
├── FetchError                      a request failed after its retries: it is retried next run
│   └── WaybackError
│       ├── NoMemento (LookupError) the archive has no such capture: nothing to retry
│       ├── Blocked                 the site or URL is excluded from the archive: stop asking
│       ├── RateLimited             the archive said 429: every worker pauses `retry_after` s
│       └── RedirectLoop            captured redirects go round in circles: skip the capture
│   └── BrowserUnavailable          no Chromium (or no Playwright) to render a page with
├── ExtractionError                 the body cannot be turned into text (not HTML, empty...)
└── DeliveryError                   a sink refused or could not take an alert: retried later
"""

from __future__ import annotations


class CrawlerError(Exception):
    """Base of every error policytrail raises on purpose."""


class ConfigError(CrawlerError, ValueError):
    """The configuration or an argument is invalid; the message names the file, key and fix."""


class FetchError(CrawlerError):
    """A request failed after its retries. The capture is marked failed and retried next run."""

    def __init__(self, message: str, *, url: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class WaybackError(FetchError):
    """The archive answered, but not with the memento or index we asked for."""


class NoMemento(WaybackError, LookupError):
    """The archive holds no capture for this URL and timestamp. Do not retry."""


class Unreachable(FetchError):
    """The archive refuses connections or does not resolve: down, or archive.url is wrong.
    Nothing another request to it could do better."""


class Blocked(WaybackError):
    """The site or URL is excluded from the archive (403 Blocked Site, or IA's 200 'excluded' page)."""


class RateLimited(WaybackError):
    """The archive answered 429. Every worker must pause for `retry_after` seconds."""

    def __init__(self, message: str, *, url: str = "", retry_after: float = 60.0) -> None:
        super().__init__(message, url=url, status=429)
        self.retry_after = retry_after


class RedirectLoop(WaybackError):
    """Captured redirects lead back to a URL already visited, or past the redirect bound."""


class ExtractionError(CrawlerError):
    """The body could not be turned into text: not HTML, empty, or undecodable."""


class DeliveryError(CrawlerError):
    """A sink refused or could not take an alert; it is retried later."""


class BrowserUnavailable(FetchError):
    """No browser to render pages with: Chromium or Playwright is missing. The message says how
    to install them; `auto` fetchers fall back to plain HTTP."""
