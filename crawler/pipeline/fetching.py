"""Which fetcher reads a live page: plain HTTP (httpx), the browser, or `auto`: HTTP first,
and the browser when HTTP cannot see the policy.

`auto` escalates to the browser when the answer is 403, 406, 502, a 429 with a challenge, or a
reset connection; when the extracted text is a shell (`crawler.text.shell`: a few dozen words
on a page that runs scripts, far below the last version, or a challenge's "enable JavaScript");
or when the policy was escalated before (remembered per policy; plain HTTP is tried again
every `browser.retry_http_every` checks, and when it suffices the policy goes back to it).
Without Chromium, `auto` warns once and keeps the HTTP answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx

from crawler.config import BrowserConfig, Policy
from crawler.errors import BrowserUnavailable, CrawlerError, FetchError
from crawler.live import LiveResult, fetch_live
from crawler.live.browser import BrowserFetcher
from crawler.live.guard import may_load
from crawler.pipeline.snapshots import _extract_for
from crawler.text import Document, render_text
from crawler.text.shell import shell_reason

log = logging.getLogger(__name__)
ESCALATE_STATUSES = frozenset({403, 406, 502})
_warned: set[str] = set()


@dataclass(frozen=True, slots=True)
class PageFetch:
    """A live fetch: the answer, which fetcher got it, why auto went to the browser (if it
    did), and the text extracted on the way (None when not extracted yet)."""

    result: LiveResult
    fetcher: str  # http | browser
    escalated: str | None = None
    document: Document | None = None


def rendered_result(rendered: Any) -> LiveResult:
    """The browser's page as a LiveResult: its DOM (or PDF) as the body."""
    return LiveResult(
        rendered.url, rendered.status, {"content-type": rendered.content_type}, rendered.body, ()
    )


def _try_extract(policy: Policy, result: LiveResult) -> Document | None:
    try:
        return _extract_for(policy, result.body, result.content_type, result.url)
    except CrawlerError:
        return None


def http_shell(
    policy: Policy, result: LiveResult, previous_words: int | None
) -> tuple[str | None, Document | None]:
    """Why an HTTP answer calls for the browser (or None), and the text extracted from it."""
    if result.not_modified:
        return None, None
    if result.status in ESCALATE_STATUSES:
        return f"HTTP {result.status}", None
    if result.status == 429 and shell_reason(
        result.body, 0, result.body[:4000].decode("utf-8", "replace")
    ):
        return "HTTP 429 with a challenge page", None
    if result.status != 200:
        return None, None
    document = _try_extract(policy, result)
    text = render_text(document) if document and document.blocks else ""
    reason = shell_reason(result.body, len(text.split()), text, previous_words)
    return reason, document


def fetch_page(
    client: httpx.Client,
    browser: BrowserFetcher | None,
    policy: Policy,
    fetcher: str,
    state: dict[str, Any],
    *,
    previous_words: int | None,
    max_bytes: int,
    options: BrowserConfig,
    allow_private: bool = False,
) -> PageFetch:
    """Fetch the policy's live page with `fetcher` (auto, http or browser). Raises
    CrawlerError when no fetcher got an answer."""
    if fetcher == "browser":
        return PageFetch(_render(browser, policy, allow_private), "browser")

    def plain() -> LiveResult:
        return fetch_live(
            client,
            policy.url,
            etag=state.get("etag"),
            last_modified=state.get("last_modified"),
            max_bytes=max_bytes,
            allow_private=allow_private,
        )

    if fetcher == "http":
        return PageFetch(plain(), "http")
    escalated = bool(state.get("escalated"))
    checks = int(state.get("escalated_checks") or 0)
    if escalated and browser is not None and checks % options.retry_http_every != 0:
        try:
            return PageFetch(_render(browser, policy, allow_private), "browser", "escalated before")
        except BrowserUnavailable as exc:
            _warn_once(str(exc))
    reason: str | None
    answer: LiveResult | None = None
    document: Document | None = None
    try:
        answer = plain()
    except FetchError as exc:
        if "reset" not in str(exc).lower() and "RemoteProtocolError" not in str(exc):
            raise
        reason = f"the connection was reset ({exc})"
    else:
        reason, document = http_shell(policy, answer, previous_words)
    if reason is None or browser is None:
        if answer is None:
            raise FetchError(f"{policy.url}: {reason}", url=policy.url)
        return PageFetch(answer, "http", None, document)
    log.info("%s: %s; rendering it in the browser", policy.name, reason)
    try:
        return PageFetch(_render(browser, policy, allow_private), "browser", reason)
    except BrowserUnavailable as exc:
        _warn_once(str(exc))
        if answer is None:
            raise
        return PageFetch(answer, "http", None, document)


def _render(
    browser: BrowserFetcher | None, policy: Policy, allow_private: bool = False
) -> LiveResult:
    """The page rendered in Chromium. Its requests (navigations, frames, scripts) may reach a
    private or metadata address only as a redirect could (crawler.live.guard); a page that
    ends up on one anyway (a redirect the browser followed) is refused."""
    if browser is None:
        raise BrowserUnavailable('no browser in this run; pass one, or use fetcher = "http"')
    rendered = browser.render(
        policy.url,
        select=policy.select,
        allow=lambda url: may_load(url, policy.url, allow_private),
    )
    if not may_load(rendered.url, policy.url, allow_private):
        raise FetchError(
            f"browser: {policy.url} led to {rendered.url}, a private or reserved address; "
            "refused (http.allow_private = true allows it)",
            url=policy.url,
        )
    return rendered_result(rendered)


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        log.warning("the browser is not available (%s); fetching with plain http", message)
