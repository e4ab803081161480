"""Raw `id_` playback of one capture: the memento's body, checked against its CDX digest, with its
captured redirects followed to the target's nearest capture (bounded, loops detected).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

from crawler.archive.endpoint import ArchiveEndpoint, datetime_to_timestamp
from crawler.archive.transport import Transport
from crawler.errors import Blocked, FetchError, NoMemento, RedirectLoop, WaybackError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Redirect:
    """One hop followed during playback: `captured` (the site redirected) or `nearest` (the
    archive sent us to the closest capture)."""

    kind: str
    status: int
    from_timestamp: str
    from_url: str
    to_timestamp: str
    to_url: str


@dataclass(frozen=True, slots=True)
class Memento:
    """The raw body of one capture, after any redirects."""

    url: str
    timestamp: str
    status: int
    headers: dict[str, str]
    body: bytes
    playback_url: str
    redirects: tuple[Redirect, ...] = field(default=())

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


def payload_digest(body: bytes) -> str:
    """base32 SHA-1, as the CDX index writes a payload's digest."""
    import base64
    import hashlib

    return base64.b32encode(hashlib.sha1(body).digest()).decode()


DIGEST_RETRIES = 3


def fetch_memento(
    transport: Transport,
    endpoint: ArchiveEndpoint,
    timestamp: str,
    url: str,
    max_redirects: int = 5,
    digest: str | None = None,
) -> Memento:
    """Like _fetch_memento, and when the CDX `digest` is known, check the body against it.

    A body whose SHA-1 is not the index's (an empty 200, an error page, a truncated or swapped
    answer) is fetched again. IA may re-encode a payload on playback (wayback-facts.md 1.1), so
    other bytes that come back the same on three tries are kept, with a warning; answers that
    keep changing raise FetchError and the capture is retried on the next run."""
    previous: bytes | None = None
    for attempt in range(DIGEST_RETRIES + 1):
        memento = _fetch_memento(transport, endpoint, timestamp, url, max_redirects)
        if memento.redirects and memento.status == 200:
            return _confirmed(transport, endpoint, memento)
        if (
            not digest
            or digest == "-"  # the empty digest is checked too: a bodyless capture has no page
            or memento.status != 200
            or payload_digest(memento.body) == digest
        ):
            return memento
        if attempt >= 2 and memento.body == previous:
            # The same other bytes, again and again: IA re-encoded the payload; keep it.
            log.warning(
                "body of %s (%s) differs from its CDX digest %s but is stable; kept",
                url,
                timestamp,
                digest,
            )
            return memento
        previous = memento.body
        if attempt < DIGEST_RETRIES:
            log.info(
                "body of %s (%s) does not match its CDX digest; fetching again", url, timestamp
            )
            transport.limiters.clock.sleep(transport.backoff * 2**attempt)
    raise FetchError(
        f"the answers for {url} ({timestamp}) differ from its CDX digest {digest} and from each "
        "other; it is retried on the next run",
        url=url,
    )


def _confirmed(transport: Transport, endpoint: ArchiveEndpoint, memento: Memento) -> Memento:
    """A redirect's target has no digest to check: fetch it again at its exact timestamp and
    keep it once two answers agree (a passing fault rarely repeats byte for byte)."""
    previous = memento.body
    for _ in range(DIGEST_RETRIES):
        try:
            again = _fetch_memento(transport, endpoint, memento.timestamp, memento.url, 0)
        except RedirectLoop:
            raise FetchError(
                f"{memento.url} ({memento.timestamp}), where a redirect led, redirected again "
                "when fetched a second time; it is retried on the next run",
                url=memento.playback_url,
            ) from None
        if again.status == memento.status and again.body == previous:
            return replace(memento, body=again.body, headers=again.headers)
        previous = again.body
    raise FetchError(
        f"answers for {memento.url} ({memento.timestamp}) kept differing; it is retried on the "
        "next run",
        url=memento.playback_url,
    )


def _fetch_memento(
    transport: Transport,
    endpoint: ArchiveEndpoint,
    timestamp: str,
    url: str,
    max_redirects: int = 5,
) -> Memento:
    """Fetch the raw (`id_`) body of the capture of `url` at `timestamp`, following the archive's
    redirects to the nearest capture and captured 3xx redirects, at most `max_redirects` hops.

    Raises NoMemento (never archived), Blocked (excluded), RedirectLoop, RateLimited, FetchError.
    """
    redirects: list[Redirect] = []
    visited: set[tuple[str, str]] = set()
    ts, target = timestamp, url
    for _ in range(max_redirects + 1):
        if (ts, target) in visited:
            raise RedirectLoop(
                f"redirect loop at {target} ({ts}) from {url} ({timestamp})", url=url
            )
        visited.add((ts, target))
        playback_url = endpoint.memento_url(ts, target)
        response = transport.get("playback", playback_url)
        headers = {k.lower(): v for k, v in response.headers.items()}
        memento_datetime = headers.get("memento-datetime")
        location = headers.get("location")
        status = response.status_code
        if memento_datetime is None:
            # The archive's own answer, not a capture.
            if status in (301, 302, 303, 307, 308) and location:
                parsed = endpoint.parse_memento_url(urljoin(playback_url, location))
                if parsed is None:
                    raise WaybackError(
                        f"archive redirected {playback_url} outside itself to {location}",
                        url=playback_url,
                        status=status,
                    )
                redirects.append(Redirect("nearest", status, ts, target, *parsed))
                ts, target = parsed
                continue
            if status == 404:
                raise NoMemento(
                    f"no capture of {target} at {ts} in the archive", url=playback_url, status=404
                )
            runtime_error = headers.get("x-archive-wayback-runtime-error", "")
            if status in (403, 451) or "AccessControl" in runtime_error or status == 200:
                # HACK: IA serves excluded URLs as a 200 HTML page without Memento-Datetime, e.g.
                # https://web.archive.org/web/20170929002712id_/https://nationalpost.com/health/
                raise Blocked(
                    f"the archive will not play back {target} ({status}"
                    f"{': ' + runtime_error if runtime_error else ''}); it is excluded",
                    url=playback_url,
                    status=status,
                )
            raise WaybackError(
                f"playback of {playback_url} answered HTTP {status}",
                url=playback_url,
                status=status,
            )
        actual_ts = _memento_timestamp(memento_datetime) or ts
        if 300 <= status < 400 and location:
            absolute = urljoin(playback_url, location)
            parsed = endpoint.parse_memento_url(absolute)
            if parsed is None:
                # pywb sends the raw original Location: look it up at the same time.
                parsed = (actual_ts, urljoin(target, location))
            redirects.append(Redirect("captured", status, actual_ts, target, *parsed))
            ts, target = parsed
            continue
        return Memento(
            url=target,
            timestamp=actual_ts,
            status=status,
            headers=headers,
            body=response.content,
            playback_url=playback_url,
            redirects=tuple(redirects),
        )
    raise RedirectLoop(f"more than {max_redirects} redirects from {url} ({timestamp})", url=url)


def _memento_timestamp(value: str) -> str | None:
    try:
        return datetime_to_timestamp(parsedate_to_datetime(value))
    except (TypeError, ValueError, IndexError):
        return None
