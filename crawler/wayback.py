"""Talk to a Wayback-compatible archive: CDX search and raw `id_` memento playback.

The archive URL alone decides the layout:
- the Internet Archive (``https://web.archive.org``): ``/cdx/search/cdx`` and ``/web/<ts>id_/<url>``;
- a pywb collection (``http://127.0.0.1:8080/demo``): ``<coll>/cdx`` and ``<coll>/<ts>id_/<url>``.

Functions here take an ``httpx.Client`` and a ``Limiters`` group; they never build a client and never
touch the database. See ../shared/docs/wayback-facts.md for the behaviour handled below.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpx

from crawler.errors import Blocked, FetchError, NoMemento, RateLimited, RedirectLoop, WaybackError
from crawler.ratelimit import Limiters

log = logging.getLogger(__name__)

# base32(sha1(b"")): the digest of every bodyless capture, such as a captured 301 or 302.
EMPTY_DIGEST = "3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ"
# Statuses worth a retry when the archive itself (no Memento-Datetime) sends them. From EDGI's
# wayback `_client.py`: 413/421/500/502/503/504/599.
RETRY_STATUSES = frozenset({413, 421, 500, 502, 503, 504, 599})
# IA did not send Retry-After on 429 as of 2023; EDGI's wayback waits 60 s by default.
DEFAULT_RETRY_AFTER = 60.0
MAX_RATE_LIMIT_WAITS = 20
CDX_PAGE_SIZE = 1000
PYWB_CDX_FIELDS = "urlkey,timestamp,url,mime,status,digest,length"
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


def parse_cdx_line(line: str) -> Capture | None:
    """Parse one 7-column CDX line (IA's default text layout). None for a malformed line."""
    fields = line.split(" ")
    if len(fields) != 7:
        return None
    urlkey, timestamp, original, mimetype, status, digest, length = fields
    if not TIMESTAMP_RE.match(timestamp) or not original or original == "-":
        return None
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


MAX_BODY_BYTES = 50 * 1024 * 1024  # after decompression: a bigger "page" is refused


class BodyError(FetchError):
    """A body that is truncated, undecodable or over the size cap; the request is retried."""


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
        self._lock = threading.Lock()

    def _read(self, url: str, params: dict[str, str] | None) -> Fetched:
        with self.client.stream("GET", url, params=params, follow_redirects=False) as response:
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
            for chunk in response.iter_raw():
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
            with self._lock:
                self.requests[kind] += 1
            try:
                response = self._read(url, params)
            except httpx.RequestError as exc:  # transport errors, timeouts, decoding errors
                problem = f"{type(exc).__name__}: {exc}"
            except BodyError as exc:
                problem = str(exc)
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
            if attempt > self.retries:
                raise FetchError(
                    f"{problem} after {attempt} attempts: {url}; it is retried on the next run",
                    url=url,
                )
            delay = self.backoff * 2 ** (attempt - 1)
            log.info("%s from %s; retry %d in %.0f s", problem, url, attempt, delay)
            self.limiters.clock.sleep(delay)


def _retry_after(response: Fetched) -> float:
    value = response.headers.get("retry-after", "")
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return DEFAULT_RETRY_AFTER
    return max(1.0, (when - datetime.now(UTC)).total_seconds())


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
            params["resumeKey"] = resume_key
    else:
        params["output"] = "text"
        params["fl"] = PYWB_CDX_FIELDS
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
            params["from"] = last


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
