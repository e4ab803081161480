"""Where an archive answers, and the time stamps it speaks in.

The archive URL alone decides the layout:
- the Internet Archive (``https://web.archive.org``): ``/cdx/search/cdx`` and ``/web/<ts>id_/<url>``;
- a pywb collection (``http://127.0.0.1:8080/demo``): ``<coll>/cdx`` and ``<coll>/<ts>id_/<url>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

# base32(sha1(b"")): the digest of every bodyless capture, such as a captured 301 or 302.
EMPTY_DIGEST = "3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ"


TIMESTAMP_RE = re.compile(r"^\d{4,14}$")


MEMENTO_PATH_RE = re.compile(r"^/(?P<ts>\d{4,14})(?P<flag>[a-z]{2}_)?/(?P<url>.+)$")


@dataclass(frozen=True, slots=True)
class ArchiveEndpoint:
    """Where to send CDX and playback requests for one archive."""

    base: str
    is_internet_archive: bool

    @classmethod
    def from_url(cls, url: str) -> ArchiveEndpoint:
        url = url.rstrip("/")
        parts = urlsplit(url)
        if parts.path in ("", "/web"):
            return cls(base=f"{parts.scheme}://{parts.netloc}", is_internet_archive=True)
        return cls(base=url, is_internet_archive=False)

    @property
    def cdx_url(self) -> str:
        return f"{self.base}/cdx/search/cdx" if self.is_internet_archive else f"{self.base}/cdx"

    @property
    def playback_prefix(self) -> str:
        return f"{self.base}/web" if self.is_internet_archive else self.base

    def memento_url(self, timestamp: str, url: str) -> str:
        return f"{self.playback_prefix}/{timestamp}id_/{url}"

    def parse_memento_url(self, location: str) -> tuple[str, str] | None:
        """(timestamp, original url) of a playback URL on this archive, or None if it is not one."""
        parts = urlsplit(location)
        own = urlsplit(self.base)
        if parts.netloc and parts.netloc != own.netloc:
            return None
        path = location[len(f"{parts.scheme}:") if parts.scheme else 0 :]
        if path.startswith("//"):
            path = path[2 + len(parts.netloc) :]
        prefix = urlsplit(self.playback_prefix).path
        if not path.startswith(prefix + "/"):
            return None
        match = MEMENTO_PATH_RE.match(path[len(prefix) :])
        if not match:
            return None
        return match.group("ts").ljust(14, "0"), match.group("url")


def timestamp_to_datetime(timestamp: str) -> datetime:
    """Parse a Wayback timestamp, tolerating the month or day `00` of some real rows."""
    ts = timestamp.ljust(14, "0")
    year, month, day = int(ts[0:4]), int(ts[4:6]) or 1, int(ts[6:8]) or 1
    hour, minute, second = int(ts[8:10]), int(ts[10:12]), int(ts[12:14])
    month = min(month, 12)
    for d in (day, 28):
        try:
            return datetime(
                year, month, d, min(hour, 23), min(minute, 59), min(second, 59), tzinfo=UTC
            )
        except ValueError:
            continue
    return datetime(year, month, 1, tzinfo=UTC)


def datetime_to_timestamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y%m%d%H%M%S")
