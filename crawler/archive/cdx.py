"""CDX search: every capture of a URL, paged with resume keys (the Internet Archive) or by time
windows (pywb), duplicate rows dropped.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from crawler.archive.endpoint import (
    TIMESTAMP_RE,
    ArchiveEndpoint,
    datetime_to_timestamp,
    timestamp_to_datetime,
)
from crawler.archive.transport import Fetched, Transport
from crawler.errors import Blocked, WaybackError

log = logging.getLogger(__name__)


CDX_PAGE_SIZE = 1000


PYWB_CDX_FIELDS = "urlkey,timestamp,url,mime,status,digest,length"


@dataclass(frozen=True, slots=True)
class Capture:
    """One row of the CDX index."""

    urlkey: str
    timestamp: str
    original: str
    mimetype: str
    status: int | None
    digest: str
    length: int | None

    @property
    def is_revisit(self) -> bool:
        return self.mimetype == "warc/revisit"

    @property
    def when(self) -> datetime:
        return timestamp_to_datetime(self.timestamp)


DOT_SEGMENT = re.compile(r"(?:^|/)\.{1,2}(?:/|$)|%2e%2e", re.I)


def parse_cdx_line(line: str) -> Capture | None:
    """Parse one 7-column CDX line (IA's default text layout). None for a malformed line."""
    fields = line.split(" ")
    if len(fields) != 7:
        return None
    urlkey, timestamp, original, mimetype, status, digest, length = fields
    if not TIMESTAMP_RE.match(timestamp) or not original or original == "-":
        return None
    if not 1990 <= int(timestamp[:4]) <= 2100:
        return None  # "0000" and the like: no date a version could carry
    if len(status) > 3 or len(length) > 18:
        return None  # a 21-digit status or length overflows every integer column
    if DOT_SEGMENT.search(urlsplit(original).path):
        return None  # '..' would take our playback request outside the archive's collection
    if original.startswith(("mailto:", "data:", "http://mailto:", "https://mailto:")):
        return None
    # Wayback strips :80 and :443 the same way (EDGI's wayback does too).
    original = re.sub(r"^(https?://[^/:]+):(80|443)(?=/|$)", r"\1", original)
    return Capture(
        urlkey=urlkey,
        timestamp=timestamp.ljust(14, "0"),
        original=original,
        mimetype=mimetype,
        status=int(status) if status.isdigit() else None,
        digest=digest.removeprefix("sha1:"),
        length=int(length) if length.isdigit() else None,
    )


def parse_cdx_text(text: str) -> tuple[list[Capture], str | None, int]:
    """Parse a CDX text answer: (captures, resume key or None, malformed line count)."""
    captures: list[Capture] = []
    resume_key: str | None = None
    malformed = 0
    lines = text.split("\n")
    for i, raw in enumerate(lines):
        line = raw.strip()
        if not line:
            # IA ends a page with a blank line and then the resume key.
            rest = [x.strip() for x in lines[i + 1 :] if x.strip()]
            if rest and " " not in rest[0]:
                resume_key = rest[0]
                break
            continue
        capture = parse_cdx_line(line)
        if capture is None:
            malformed += 1
            log.warning("skipping malformed CDX line: %.120s", line)
            continue
        captures.append(capture)
    return captures, resume_key, malformed


def _check_cdx_response(response: Fetched, url: str) -> str:
    if response.status_code == 403 or "AccessControlException" in response.headers.get(
        "x-archive-wayback-runtime-error", ""
    ):
        raise Blocked(
            f"the archive blocks {url} (CDX answered {response.status_code}: "
            f"{response.text.strip()[:120]})",
            url=url,
            status=response.status_code,
        )
    if response.status_code != 200:
        raise WaybackError(
            f"CDX search for {url} answered HTTP {response.status_code}: "
            f"{response.text.strip()[:200]}",
            url=url,
            status=response.status_code,
        )
    return response.text


def search(
    transport: Transport,
    endpoint: ArchiveEndpoint,
    url: str,
    *,
    from_ts: str | None = None,
    to_ts: str | None = None,
    page_size: int = CDX_PAGE_SIZE,
) -> Iterator[list[Capture]]:
    """Yield pages of the captures of exactly `url` (SURT match: http/https/www alike), oldest
    first, with exact duplicate rows dropped.

    IA pages with resume keys; pywb has none, so it pages by time windows.
    Raises Blocked for a blocked site, FetchError when retries run out.
    """
    params: dict[str, str] = {"url": url, "limit": str(page_size)}
    if from_ts:
        params["from"] = from_ts
    if to_ts:
        params["to"] = to_ts
    seen: set[Capture] = set()
    if endpoint.is_internet_archive:
        params["showResumeKey"] = "true"
        keys: set[str] = set()
        while True:
            text = _check_cdx_response(transport.get("cdx", endpoint.cdx_url, params), url)
            captures, resume_key, _ = parse_cdx_text(text)
            page = []
            for capture in captures:
                if capture not in seen:  # IA repeats old rows three times
                    seen.add(capture)
                    page.append(capture)
            if page:
                yield page
            if not resume_key:
                return
            if resume_key in keys:
                # An archive repeating its resume key would be asked forever (36,962 requests
                # in 90 s): the paging ends, and says so.
                log.warning("CDX for %s repeated resume key %r: paging stopped", url, resume_key)
                return
            keys.add(resume_key)
            params["resumeKey"] = resume_key
    else:
        params["output"] = "text"
        params["fl"] = PYWB_CDX_FIELDS
        windows: set[str] = set()
        while True:
            text = _check_cdx_response(transport.get("cdx", endpoint.cdx_url, params), url)
            captures, _, malformed = parse_cdx_text(text)
            page = [c for c in captures if c not in seen]
            seen.update(page)
            if page:
                yield page
            if len(captures) + malformed < page_size:
                return
            last = captures[-1].timestamp if captures else params.get("from", "")
            if not page:
                # A whole page inside one second: step past it rather than loop forever.
                last = datetime_to_timestamp(timestamp_to_datetime(last) + timedelta(seconds=1))
            if last in windows or (not page and params.get("from") and last <= params["from"]):
                # An archive ignoring `from` answers the same page forever (6,018 identical
                # requests in 90 s): the paging ends, and says so.
                log.warning("CDX for %s did not move past %s: paging stopped", url, last)
                return
            windows.add(last)
            params["from"] = last
