"""Requests to the archive: one shared rate limiter per endpoint, retries with backoff, a pause of
every worker on 429, and bodies read whole with a size cap and decoded by us (truncated streams
and decompression bombs refused).

Functions here take an ``httpx.Client`` and a ``Limiters`` group; they never build a client and
never touch the database. See ../shared/docs/wayback-facts.md for the behaviour handled here.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from crawler.archive.ratelimit import Limiters
from crawler.errors import FetchError, RateLimited, Unreachable
from crawler.http import PAST_DEADLINE, STOP
from crawler.http import deadline as bounded

log = logging.getLogger(__name__)


# Statuses worth a retry when the archive itself (no Memento-Datetime) sends them. From EDGI's
# wayback `_client.py`: 413/421/500/502/503/504/599.
RETRY_STATUSES = frozenset({413, 421, 500, 502, 503, 504, 599})


# IA did not send Retry-After on 429 as of 2023; EDGI's wayback waits 60 s by default.
DEFAULT_RETRY_AFTER = 60.0


MAX_RATE_LIMIT_WAITS = 20
READ_DEADLINE = 50.0  # seconds for one whole answer, headers included
MAX_RETRY_AFTER = 3600.0  # an hour at most, whatever a 429 asks
CONNECT_RETRIES = 2  # an archive refusing connections fails in about 3 s, not 30
SLOW_RETRIES = 0  # an answer that outlived its deadline fails the capture (the next run retries)


MAX_BODY_BYTES = 50 * 1024 * 1024  # after decompression: a bigger "page" is refused


class BodyError(FetchError):
    """A body that is truncated, undecodable or over the size cap; the request is retried."""

    late = False  # still arriving at the deadline: not retried (see Transport.get)


class LateBody(BodyError):
    """A body still arriving when its deadline passed."""

    late = True


@dataclass(frozen=True, slots=True)
class Fetched:
    """One answer, read whole: status, headers and the decoded body."""

    status_code: int
    headers: httpx.Headers
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


def decode_body(raw: bytes, encodings: str, max_bytes: int, url: str) -> bytes:
    """Undo Content-Encoding, refusing truncated streams and decompression bombs.

    HACK: IA may send an empty `content-encoding` beside `Content-Encoding: gzip` for pages
    whose original response was gzipped (e.g. EDGI's wayback HACK); empty values are ignored.
    httpx's own decoder accepts a truncated gzip stream silently, which would record a partial
    text as a new version, so the stream's end is checked here."""
    import zlib

    codings = [c.strip().lower() for c in encodings.split(",") if c.strip()]
    data = raw
    for coding in reversed(codings):
        if coding in ("identity", ""):
            continue
        if coding not in ("gzip", "x-gzip", "deflate"):
            raise BodyError(f"unsupported Content-Encoding {coding!r} from {url}", url=url)
        wbits = 47 if coding != "deflate" else 15
        try:
            decoder = zlib.decompressobj(wbits)
            out = decoder.decompress(data, max_bytes + 1)
        except zlib.error:
            if coding == "deflate":  # raw deflate without a zlib header also occurs
                try:
                    decoder = zlib.decompressobj(-15)
                    out = decoder.decompress(data, max_bytes + 1)
                except zlib.error as exc:
                    raise BodyError(
                        f"undecodable {coding} body from {url}: {exc}", url=url
                    ) from exc
            else:
                raise BodyError(f"undecodable {coding} body from {url}", url=url) from None
        if len(out) > max_bytes:
            raise BodyError(f"{url} decompresses to over {max_bytes} bytes; refused", url=url)
        if not decoder.eof:
            raise BodyError(f"truncated {coding} body from {url}", url=url)
        data = out
    return data


class Transport:
    """Sends requests through the limiters, with retries and the shared pause on 429."""

    def __init__(
        self,
        client: httpx.Client,
        limiters: Limiters,
        retries: int = 5,
        backoff: float = 1.0,
        max_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.client = client
        self.limiters = limiters
        self.retries = retries
        self.backoff = backoff
        self.max_bytes = max_bytes
        self.requests = {"cdx": 0, "playback": 0}
        self.lock = threading.Lock()  # guards `requests`

    def _read(self, url: str, params: dict[str, str] | None) -> Fetched:
        # The deadline bounds headers trickling in too (crawler.http's network layer).
        with (
            bounded(READ_DEADLINE),
            self.client.stream("GET", url, params=params, follow_redirects=False) as response,
        ):
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise BodyError(
                    f"{url} is {declared} bytes, over the {self.max_bytes}-byte cap", url=url
                )
            if response.is_stream_consumed:
                # Built in memory (httpx.MockTransport in tests): httpx already decoded it.
                return Fetched(response.status_code, response.headers, response.content)
            chunks: list[bytes] = []
            size = 0
            give_up = time.monotonic() + READ_DEADLINE
            for chunk in response.iter_raw():
                if time.monotonic() > give_up:  # a body trickling in: retried, then failed
                    raise LateBody(f"{url} still arriving after {READ_DEADLINE:.0f} s", url=url)
                size += len(chunk)
                if size > self.max_bytes:
                    raise BodyError(f"{url} is over the {self.max_bytes}-byte cap", url=url)
                chunks.append(chunk)
            encodings = ",".join(response.headers.get_list("content-encoding"))
            body = decode_body(b"".join(chunks), encodings, self.max_bytes, url)
            return Fetched(response.status_code, response.headers, body)

    def get(self, kind: str, url: str, params: dict[str, str] | None = None) -> Fetched:
        limiter = self.limiters.cdx if kind == "cdx" else self.limiters.playback
        attempt = 0
        waits = 0
        while True:
            limiter.acquire()
            with self.lock:
                self.requests[kind] += 1
            unreachable = slow = False
            try:
                response = self._read(url, params)
            except httpx.ConnectError as exc:  # refused, or no such host: the archive is down
                problem = f"cannot reach the archive (ConnectError: {exc})"
                unreachable = True
            except httpx.RequestError as exc:  # transport errors, timeouts, decoding errors
                problem = f"{type(exc).__name__}: {exc}"
                slow = PAST_DEADLINE in problem
            except BodyError as exc:
                problem = str(exc)
                slow = exc.late
            else:
                is_memento = "memento-datetime" in response.headers
                if response.status_code == 429 and not is_memento:
                    waits += 1
                    retry_after = _retry_after(response)
                    log.warning("429 from %s: every worker pauses %.0f s", url, retry_after)
                    self.limiters.pause(retry_after)
                    if waits > MAX_RATE_LIMIT_WAITS:
                        raise RateLimited(
                            f"still rate limited after {waits} pauses: {url}",
                            url=url,
                            retry_after=retry_after,
                        )
                    continue
                if response.status_code not in RETRY_STATUSES or is_memento:
                    return response
                problem = f"HTTP {response.status_code}"
            attempt += 1
            if STOP.is_set():  # shutting down: no retry, no backoff sleep
                raise FetchError(f"{problem}: {url}; stopped (retried on the next run)", url=url)
            # An archive that refuses connections is down or mistyped: say so in seconds; one
            # trickling an answer past its deadline fails it now, not after five more minutes.
            retries = self.retries
            if unreachable:
                retries = min(self.retries, CONNECT_RETRIES)
            elif slow:
                retries = min(self.retries, SLOW_RETRIES)
            if attempt > retries:
                fix = "; check archive.url and the network" if unreachable else ""
                error = Unreachable if unreachable else FetchError
                raise error(
                    f"{problem} after {attempt} attempt{'' if attempt == 1 else 's'}: {url}{fix}; "
                    "it is retried on the "
                    "next run",
                    url=url,
                )
            delay = self.backoff * 2 ** (attempt - 1)
            log.log(
                logging.WARNING if unreachable else logging.INFO,
                "%s from %s; retry %d of %d in %.0f s",
                problem,
                url,
                attempt,
                retries,
                delay,
            )
            self.limiters.clock.sleep(delay)


def _retry_after(response: Fetched) -> float:
    """The pause a 429 asks for, at most MAX_RETRY_AFTER (a year's Retry-After would pause
    every worker for a year); the cap is logged when it applies."""
    value = response.headers.get("retry-after", "")
    if value.strip().isdigit():
        asked = float(value.strip())
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return DEFAULT_RETRY_AFTER
        asked = max(1.0, (when - datetime.now(UTC)).total_seconds())
    if asked > MAX_RETRY_AFTER:
        log.warning("Retry-After of %.0f s capped at %.0f s", asked, MAX_RETRY_AFTER)
        return MAX_RETRY_AFTER
    return asked
