"""Wayback-compatible archives: where they answer (`endpoint`), polite requests (`transport`,
`ratelimit`), CDX search (`cdx`), raw `id_` playback (`memento`), which captures to play back
(`sampling`) and Save Page Now (`save`). Never touches the database.
"""

from __future__ import annotations

from crawler.archive.cdx import (
    CDX_PAGE_SIZE,
    PYWB_CDX_FIELDS,
    Capture,
    parse_cdx_line,
    parse_cdx_text,
    search,
)
from crawler.archive.endpoint import (
    EMPTY_DIGEST,
    MEMENTO_PATH_RE,
    TIMESTAMP_RE,
    ArchiveEndpoint,
    datetime_to_timestamp,
    timestamp_to_datetime,
)
from crawler.archive.memento import (
    DIGEST_RETRIES,
    Memento,
    Redirect,
    fetch_memento,
    payload_digest,
)
from crawler.archive.ratelimit import (
    Clock,
    FakeClock,
    Limiters,
    RateLimiter,
)
from crawler.archive.sampling import (
    DAYS,
    DEFAULT_MAX_GAP_DAYS,
    LENGTH_SLACK,
    PERIOD_RE,
    Band,
    Bisect,
    interval_sample,
    parse_strategy,
)
from crawler.archive.save import (
    SPN_ENV,
    request_save_page_now,
)
from crawler.archive.transport import (
    DEFAULT_RETRY_AFTER,
    MAX_BODY_BYTES,
    MAX_RATE_LIMIT_WAITS,
    RETRY_STATUSES,
    BodyError,
    Fetched,
    Transport,
    decode_body,
)

__all__ = [
    "ArchiveEndpoint",
    "Band",
    "Bisect",
    "BodyError",
    "CDX_PAGE_SIZE",
    "Capture",
    "Clock",
    "DAYS",
    "DEFAULT_MAX_GAP_DAYS",
    "DEFAULT_RETRY_AFTER",
    "DIGEST_RETRIES",
    "EMPTY_DIGEST",
    "FakeClock",
    "Fetched",
    "LENGTH_SLACK",
    "Limiters",
    "MAX_BODY_BYTES",
    "MAX_RATE_LIMIT_WAITS",
    "MEMENTO_PATH_RE",
    "Memento",
    "PERIOD_RE",
    "PYWB_CDX_FIELDS",
    "RETRY_STATUSES",
    "RateLimiter",
    "Redirect",
    "SPN_ENV",
    "TIMESTAMP_RE",
    "Transport",
    "datetime_to_timestamp",
    "decode_body",
    "fetch_memento",
    "interval_sample",
    "parse_cdx_line",
    "parse_cdx_text",
    "parse_strategy",
    "payload_digest",
    "request_save_page_now",
    "search",
    "timestamp_to_datetime",
]
