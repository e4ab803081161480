"""Archive -> database: `backfill` walks a policy's captures in the archive (CDX), settles every
capture (fetched, skipped + reason, failed + reason), plays back each distinct digest at most
once, and records text versions. Each capture settles in one transaction, so a kill at any
moment leaves a consistent database, and the next run picks up the captures still pending or
failed.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from crawler.archive import (
    EMPTY_DIGEST,
    ArchiveEndpoint,
    Memento,
    Transport,
    fetch_memento,
    search,
)
from crawler.archive.sampling import Bisect, interval_sample, parse_strategy
from crawler.config import AlertConfig, ArchiveConfig, Policy
from crawler.errors import (
    CrawlerError,
)
from crawler.live.browser import BrowserFetcher
from crawler.pipeline.changes import record_changes
from crawler.pipeline.snapshots import _reuse, _store_outcome
from crawler.pipeline.state import BackfillResult, Crawl, Progress
from crawler.text import (
    EXTRACTOR_VERSION,
)
from db import store

HTML_MIMETYPES = (
    "text/html",
    "application/xhtml+xml",
    "text/plain",
    "unk",
    "warc/revisit",
    "application/pdf",
)


def _skip_reason(mimetype: str, status: int | None) -> str | None:
    """Why a capture needs no playback, from its CDX row alone (None: fetch it)."""
    if status is not None and status >= 400:
        return f"HTTP {status} capture"
    if status is not None and 300 <= status < 400:
        return None  # a captured redirect: followed at playback
    if mimetype.split(";")[0].strip().lower() not in HTML_MIMETYPES:
        return f"not HTML ({mimetype})"
    return None


def _fetch(
    transport: Transport,
    endpoint: ArchiveEndpoint,
    archive: ArchiveConfig,
    timestamp: str,
    url: str,
    digest: str | None = None,
) -> Memento | CrawlerError:
    try:
        return fetch_memento(
            transport,
            endpoint,
            timestamp,
            url,
            max_redirects=archive.max_redirects,
            digest=digest,
        )
    except CrawlerError as exc:
        return exc


def backfill(
    db: Database,
    transport: Transport,
    archive: ArchiveConfig,
    policy: Policy,
    now: datetime,
    *,
    from_ts: str | None = None,
    to_ts: str | None = None,
    progress: Progress | None = None,
    ignore: tuple[str, ...] | None = None,
    sinks: Sequence[AlertConfig] = (),
    strategy: str = "all",
    browser: BrowserFetcher | None = None,
    replay_resources: int = 40,
) -> BackfillResult:
    """Record every capture of `policy` and every distinct text it had. Idempotent.
    `browser`: renders, in the archive's replay, captures whose raw HTML is only a shell
    (unless the policy's fetcher is "http"). A site's document (found by `discover`) is walked
    URL by URL, each over its own segment: one timeline across its URLs."""
    endpoint = ArchiveEndpoint.from_url(archive.url)
    result = BackfillResult(policy=policy.name)
    notify = progress or (lambda _event, _result: None)
    pid = store.upsert_policy(db, policy.name, policy.url, policy.kind, now)
    run_id = store.start_run(db, "backfill", pid, now)
    result.versions_before = len(store.history(db, pid))
    requests_before = dict(transport.requests)
    try:
        segments = store.url_segments(db, pid)
        if segments:
            _walk_segments(
                db, transport, endpoint, segments, pid, now, from_ts, to_ts, result, notify
            )
        else:
            _walk_cdx(db, transport, endpoint, policy, pid, now, from_ts, to_ts, result, notify)
        renderer = browser if policy.fetcher != "http" else None
        run = Crawl(
            db,
            transport,
            endpoint,
            archive,
            policy,
            pid,
            now,
            result,
            notify,
            renderer,
            replay_resources,
        )
        _settle(run, from_ts, to_ts, strategy)
        started = time.thread_time()
        result.changes_new = record_changes(
            db,
            pid,
            now,
            ignore,
            sinks if result.versions_before else (),
            policy.alert,
            watch=policy.watch,
        )
        result.changes_ms = (time.thread_time() - started) * 1000
    except CrawlerError as exc:
        result.errors.append(str(exc))
        store.finish_run(db, run_id, "failed", result.counts(), now, str(exc))
        raise
    finally:
        result.playback_requests = transport.requests["playback"] - requests_before["playback"]
        result.cdx_requests = transport.requests["cdx"] - requests_before["cdx"]
        result.versions_after = len(store.history(db, pid))
    store.finish_run(db, run_id, "ok" if not result.failed else "partial", result.counts(), now)
    notify("done", result)
    return result


def _walk_cdx(
    db: Database,
    transport: Transport,
    endpoint: ArchiveEndpoint,
    policy: Policy,
    pid: int,
    now: datetime,
    from_ts: str | None,
    to_ts: str | None,
    result: BackfillResult,
    notify: Progress,
) -> None:
    explicit_range = bool(from_ts or to_ts)
    start = from_ts or store.cdx_complete_through(db, pid)
    for page in search(transport, endpoint, policy.url, from_ts=start, to_ts=to_ts):
        result.captures_found += len(page)
        result.captures_new += store.add_captures(db, pid, page, now)
        notify("cdx", result)
    if not explicit_range:
        store.set_cdx_complete(db, pid, now)


def _walk_segments(
    db: Database,
    transport: Transport,
    endpoint: ArchiveEndpoint,
    segments: list[dict[str, Any]],
    pid: int,
    now: datetime,
    from_ts: str | None,
    to_ts: str | None,
    result: BackfillResult,
    notify: Progress,
) -> None:
    """Each URL's captures over its own segment only (an explicit range narrows them). A
    closed segment walked once is done; an open one resumes after its newest capture."""
    for segment in segments:
        start: str = segment["from_ts"]
        end: str | None = segment["to_ts"]
        through = segment["cdx_through"]
        if end is not None and through == end and not (from_ts or to_ts):
            continue
        lower = max(x for x in (start, from_ts, None if (from_ts or to_ts) else through) if x)
        upper = min((x for x in (end, to_ts) if x), default=None)
        if upper is not None and lower > upper:
            continue
        newest = str(through or "")
        for page in search(transport, endpoint, str(segment["url"]), from_ts=lower, to_ts=upper):
            page = [c for c in page if c.timestamp >= start and (end is None or c.timestamp < end)]
            result.captures_found += len(page)
            result.captures_new += store.add_captures(db, pid, page, now)
            newest = max([newest, *(c.timestamp for c in page)])
            notify("cdx", result)
        if not (from_ts or to_ts):
            with store.writing(db):
                store.set_segment_through(db, segment["id"], end or newest)


def _settle(run: Crawl, from_ts: str | None, to_ts: str | None, strategy: str = "all") -> None:
    db, pid, now, result = run.db, run.pid, run.now, run.result
    to_fetch: list[store.CaptureRow] = []
    waiting: dict[str, list[store.CaptureRow]] = {}  # digest → captures waiting for its fetch
    for capture in store.open_captures(db, pid, from_ts, to_ts):
        mimetype, status = capture.mimetype, capture.status
        if mimetype == "warc/revisit":
            original = store.original_capture(db, pid, capture.digest)
            if original:
                mimetype, status = original
        reason = _skip_reason(mimetype, status)
        if reason:
            with store.writing(db):
                store.settle_capture(db, capture.id, "skipped", reason, now)
            result.skipped += 1
            continue
        if _reuse(db, pid, capture, now, result):
            continue
        if capture.digest and capture.digest != EMPTY_DIGEST:
            if capture.digest in waiting:
                waiting[capture.digest].append(capture)
                continue
            waiting[capture.digest] = []
        to_fetch.append(capture)
    run.notify("planned", result)
    kind, days = parse_strategy(strategy)
    if kind == "all":
        _fetch_batch(run, to_fetch, waiting)
    elif kind == "interval":
        chosen = set(interval_sample([c.timestamp for c in to_fetch], days))
        _fetch_batch(run, [c for i, c in enumerate(to_fetch) if i in chosen], waiting)
        for i, capture in enumerate(to_fetch):
            if i in chosen:
                continue
            for unsampled in [capture, *waiting.pop(capture.digest, [])]:
                with store.writing(db):
                    store.settle_capture(
                        db, unsampled.id, "skipped", f"not sampled ({strategy})", now
                    )
                result.skipped += 1
    else:
        _bisect(run, to_fetch, waiting, days)


def _bisect(
    run: Crawl,
    candidates: list[store.CaptureRow],
    waiting: dict[str, list[store.CaptureRow]],
    max_gap_days: float,
) -> None:
    """Play back only what bisection needs; captures between two fetched captures with the
    same text are recorded as `inferred` with that text."""
    db, pid, now, result = run.db, run.pid, run.now, run.result
    plan = Bisect(
        [c.timestamp for c in candidates], max_gap_days, lengths=[c.length for c in candidates]
    )
    while batch := plan.next_batch():
        _fetch_batch(run, [candidates[i] for i in batch], waiting)
        for i in batch:
            row = db.execute(
                "SELECT version_id FROM captures WHERE id = ?", [candidates[i].id]
            ).fetchone()
            plan.record(i, str(row[0]) if row and row[0] is not None else None)
    texts: dict[str, tuple[str, str]] = {}
    inferred = plan.inferred()
    with store.writing(db):  # one transaction: all of them, or (after a kill) none
        for i, key in inferred.items():
            if key not in texts:
                texts[key] = db.execute(
                    "SELECT text, title FROM versions WHERE id = ?", [int(key)]
                ).fetchone()
            text, title = texts[key]
            capture = candidates[i]
            for settled in [capture, *waiting.pop(capture.digest, [])]:
                store.record_version(
                    db,
                    pid,
                    text=text,
                    title=title,
                    timestamp=settled.timestamp,
                    snapshot_id=None,
                    extractor_version=EXTRACTOR_VERSION,
                    now=now,
                )
                store.settle_capture(
                    db,
                    settled.id,
                    "inferred",
                    "same text fetched before and after it (bisect)",
                    now,
                    version_id=int(key),
                )
                result.reused += 1


def _fetch_batch(
    run: Crawl, batch: list[store.CaptureRow], waiting: dict[str, list[store.CaptureRow]]
) -> None:
    """Play back `batch` with bounded concurrency; store each outcome in capture order, and
    settle the captures waiting for the same digest."""
    archive = run.archive
    with ThreadPoolExecutor(max_workers=archive.workers, thread_name_prefix="playback") as pool:
        in_flight: deque[tuple[store.CaptureRow, Future[Memento | CrawlerError]]] = deque()
        queue = deque(batch)
        while queue or in_flight:
            while queue and len(in_flight) < archive.workers * 2:
                capture = queue.popleft()
                in_flight.append(
                    (
                        capture,
                        pool.submit(
                            _fetch,
                            run.transport,
                            run.endpoint,
                            archive,
                            capture.timestamp,
                            capture.original,
                            capture.digest,
                        ),
                    )
                )
            capture, future = in_flight.popleft()
            outcome = future.result()
            started = time.thread_time()
            _store_outcome(run, capture, outcome)
            run.result.store_ms.append((time.thread_time() - started) * 1000)
            for later in waiting.pop(capture.digest, []):
                if not _reuse(run.db, run.pid, later, run.now, run.result):
                    queue.appendleft(later)  # the first fetch failed: try this capture itself
                    waiting.setdefault(later.digest, [])
            run.notify("fetched", run.result)
