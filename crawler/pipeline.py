"""The one place that joins fetch → extract → store for each source.

`backfill` walks a policy's captures in the archive (CDX), settles every capture (fetched, skipped
+ reason, failed + reason), plays back each distinct digest at most once, and records text
versions. Each capture settles in one transaction, so a kill at any moment leaves a consistent
database, and the next run picks up the captures still pending or failed.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime

import httpx
from sqlite_utils import Database

from crawler.config import AlertConfig, ArchiveConfig, Policy
from crawler.errors import (
    Blocked,
    CrawlerError,
    ExtractionError,
    FetchError,
    NoMemento,
)
from crawler.extract import (
    EXTRACTOR_VERSION,
    Document,
    document_hints,
    extract_any,
    looks_like_html,
)
from crawler.pdf import is_pdf
from crawler.render import render_text
from crawler.sampling import Bisect, interval_sample, parse_strategy
from crawler.wayback import (
    EMPTY_DIGEST,
    ArchiveEndpoint,
    Memento,
    Transport,
    fetch_memento,
    payload_digest,
    search,
    timestamp_to_datetime,
)
from db import store

log = logging.getLogger(__name__)

# A broken answer that no digest can vouch for is tried on this many runs before it is skipped.
UNVERIFIED_ATTEMPTS = 5
# The Internet Archive answers a capture it cannot play with a 302 to the nearest one, which
# may be weeks away (wayback-facts.md): farther than this, that answer is not this capture.
NEAREST_WINDOW_DAYS = 7.0
HTML_MIMETYPES = (
    "text/html",
    "application/xhtml+xml",
    "text/plain",
    "unk",
    "warc/revisit",
    "application/pdf",
)


@dataclass
class BackfillResult:
    policy: str
    captures_found: int = 0
    captures_new: int = 0
    fetched: int = 0
    reused: int = 0
    skipped: int = 0
    failed: int = 0
    versions_before: int = 0
    versions_after: int = 0
    playback_requests: int = 0
    cdx_requests: int = 0
    changes_new: int = 0
    errors: list[str] = field(default_factory=list)
    # CPU milliseconds of our own work: per snapshot stored (decode, extract, store), and the
    # change records (sections and diff) for the whole run.
    store_ms: list[float] = field(default_factory=list)
    changes_ms: float = 0.0

    @property
    def new_versions(self) -> int:
        return self.versions_after - self.versions_before

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if isinstance(v, int)}


Progress = Callable[[str, BackfillResult], None]


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
) -> BackfillResult:
    """Record every capture of `policy` and every distinct text it had. Idempotent."""
    endpoint = ArchiveEndpoint.from_url(archive.url)
    result = BackfillResult(policy=policy.name)
    notify = progress or (lambda _event, _result: None)
    pid = store.upsert_policy(db, policy.name, policy.url, policy.kind, now)
    run_id = store.start_run(db, "backfill", pid, now)
    result.versions_before = len(store.history(db, pid))
    requests_before = dict(transport.requests)
    try:
        _walk_cdx(db, transport, endpoint, policy, pid, now, from_ts, to_ts, result, notify)
        run = _Crawl(db, transport, endpoint, archive, policy, pid, now, result, notify)
        _settle(run, from_ts, to_ts, strategy)
        started = time.thread_time()
        result.changes_new = record_changes(
            db, pid, now, ignore, sinks if result.versions_before else (), policy.alert
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


@dataclass
class _Crawl:
    """What every step of one policy's backfill works with."""

    db: Database
    transport: Transport
    endpoint: ArchiveEndpoint
    archive: ArchiveConfig
    policy: Policy
    pid: int
    now: datetime
    result: BackfillResult
    notify: Progress


def _settle(run: _Crawl, from_ts: str | None, to_ts: str | None, strategy: str = "all") -> None:
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
    run: _Crawl,
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
    run: _Crawl, batch: list[store.CaptureRow], waiting: dict[str, list[store.CaptureRow]]
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


def _reuse(
    db: Database, pid: int, capture: store.CaptureRow, now: datetime, result: BackfillResult
) -> bool:
    """Settle a capture whose digest was fetched before, without playback."""
    known = store.snapshot_for_digest(db, pid, capture.digest)
    if known is None:
        return False
    snapshot_id, version_id, skip_reason = known
    with store.writing(db):
        if version_id is None:
            store.settle_capture(
                db, capture.id, "skipped", skip_reason, now, snapshot_id=snapshot_id
            )
        else:
            text_row = db.execute(
                "SELECT text, title FROM versions WHERE id = ?", [version_id]
            ).fetchone()
            store.record_version(
                db,
                pid,
                text=text_row[0],
                title=text_row[1],
                timestamp=capture.timestamp,
                snapshot_id=None,
                extractor_version=EXTRACTOR_VERSION,
                now=now,
            )
            store.settle_capture(
                db,
                capture.id,
                "fetched",
                "same digest as an earlier capture",
                now,
                snapshot_id=snapshot_id,
                version_id=version_id,
            )
    if version_id is None:
        result.skipped += 1
    else:
        result.reused += 1
    return True


def _store_outcome(run: _Crawl, capture: store.CaptureRow, outcome: Memento | CrawlerError) -> None:
    db, policy, pid, now, result = run.db, run.policy, run.pid, run.now, run.result
    if isinstance(outcome, CrawlerError):
        # A redirect loop may be a passing fault: failed, so the next run tries it again.
        skip = isinstance(outcome, NoMemento)
        state = "skipped" if skip else "failed"
        if isinstance(outcome, Blocked | FetchError) and not skip:
            result.errors.append(str(outcome))
        with store.writing(db):
            store.settle_capture(db, capture.id, state, str(outcome), now)
        if skip:
            result.skipped += 1
        else:
            result.failed += 1
            log.warning("capture %s of %s failed: %s", capture.timestamp, policy.name, outcome)
        return

    memento = outcome
    redirects = [
        {
            "kind": r.kind,
            "status": r.status,
            "from_timestamp": r.from_timestamp,
            "from_url": r.from_url,
            "to_timestamp": r.to_timestamp,
            "to_url": r.to_url,
        }
        for r in memento.redirects
    ]
    # Extract before taking the write lock: other writers wait only for the inserts.
    far = _far_nearest(memento)
    reason = far or _memento_problem(memento)
    text = title = ""
    if reason is None:
        try:
            document = _extract_for(policy, memento.body, memento.content_type, memento.url)
            text, title = render_text(document), document.title
            if not document.blocks:
                reason = "no text extracted"
        except ExtractionError as exc:
            reason = f"no text: {exc}"
    with store.writing(db):
        blob = store.put_blob(db, memento.body, base=store.keyframe(db, pid))
        snapshot_id = store.insert_snapshot(
            db,
            pid,
            source="archive",
            timestamp=memento.timestamp,
            url=memento.url,
            requested_url=capture.original,
            playback_url=memento.playback_url,
            status=memento.status,
            content_type=memento.content_type,
            digest=capture.digest if not memento.redirects else "",
            blob_sha256=blob,
            redirects=redirects,
            extractor_version=EXTRACTOR_VERSION,
            now=now,
        )
        if reason is not None:
            verified = far is not None or (
                capture.digest not in ("", "-", EMPTY_DIGEST)
                and not memento.redirects
                and payload_digest(memento.body) == capture.digest
            )
            if not verified and capture.attempts + 1 < UNVERIFIED_ATTEMPTS:
                # Nothing proves this broken answer is the capture (a redirect target has no
                # digest to check): it may be a passing fault, so try again on later runs.
                store.settle_capture(
                    db,
                    capture.id,
                    "failed",
                    f"{reason} (unverified; retried on the next run)",
                    now,
                    snapshot_id=snapshot_id,
                )
                result.failed += 1
                return
            store.settle_capture(db, capture.id, "skipped", reason, now, snapshot_id=snapshot_id)
            result.skipped += 1
            return
        version_id = store.record_version(
            db,
            pid,
            text=text,
            title=title,
            timestamp=capture.timestamp,
            snapshot_id=snapshot_id,
            extractor_version=EXTRACTOR_VERSION,
            now=now,
        )
        store.link_snapshot_version(db, snapshot_id, version_id)
        note = f"redirected to {memento.url} ({memento.timestamp})" if memento.redirects else None
        store.settle_capture(
            db, capture.id, "fetched", note, now, snapshot_id=snapshot_id, version_id=version_id
        )
    result.fetched += 1


def _extract_for(policy: Policy, body: bytes, content_type: str, url: str) -> Document:
    """The policy's text from a body, with its selectors and document hints."""
    return extract_any(
        body,
        content_type=content_type,
        base_url=url,
        select=policy.select,
        remove=policy.remove,
        document=document_hints(policy.kind, policy.title),
    )


def _far_nearest(memento: Memento) -> str | None:
    """Why the answer is not this capture, when the archive sent us to its nearest capture
    more than NEAREST_WINDOW_DAYS away; None otherwise."""
    for hop in memento.redirects:
        if hop.kind != "nearest":
            continue
        gap = timestamp_to_datetime(hop.to_timestamp) - timestamp_to_datetime(hop.from_timestamp)
        days = abs(gap.total_seconds()) / 86400
        if days > NEAREST_WINDOW_DAYS:
            return (
                f"the archive plays back its nearest capture instead, {hop.to_timestamp} "
                f"({days:.0f} days away), which is recorded in its own right"
            )
    return None


def _memento_problem(memento: Memento) -> str | None:
    if memento.status != 200:
        where = f" at {memento.url}" if memento.redirects else ""
        return f"HTTP {memento.status} capture{where}"
    if not memento.body.strip():
        return "empty body"
    if not looks_like_html(memento.body, memento.content_type) and not is_pdf(
        memento.body, memento.content_type
    ):
        return f"not HTML ({memento.content_type or 'no content type'})"
    return None


def alert_uid(*parts: object) -> str:
    """A stable alert id: the same change to the same sink always gets the same id."""
    import hashlib

    return "pt-" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32]


def record_changes(
    db: Database,
    pid: int,
    now: datetime,
    ignore: tuple[str, ...] | None = None,
    sinks: Sequence[AlertConfig] = (),
    policy_alert: str = "any",
) -> int:
    """Bring the policy's change records in line with its capture timeline: one change per
    transition between consecutive distinct texts (the first text is a `first` record), each
    with its section diff. Idempotent; stale records (a capture found later changed the
    timeline) are removed. For each new change, one outbox row per sink that wants it is written
    in the same transaction. Returns the number of new changes."""
    import json

    from crawler.diff import DEFAULT_IGNORE, diff_texts
    from crawler.sections import split_sections

    runs: list[tuple[int, str, str]] = []  # (version id, first timestamp, last timestamp)
    for timestamp, version_id in store.capture_timeline(db, pid):
        if runs and runs[-1][0] == version_id:
            runs[-1] = (version_id, runs[-1][1], timestamp)
        else:
            runs.append((version_id, timestamp, timestamp))
    wanted: list[tuple[int | None, int, str, str | None]] = []
    for i, (version_id, first, _) in enumerate(runs):
        previous = runs[i - 1] if i else None
        wanted.append(
            (
                previous[0] if previous else None,
                version_id,
                first,
                previous[2] if previous else None,
            )
        )
    added = 0
    policy_name = db.execute("SELECT name FROM policies WHERE id = ?", [pid]).fetchone()[0]
    with store.writing(db):
        existing = store.change_keys(db, pid)
        keep = set()
        texts: dict[int, str] = {}
        for from_id, to_id, at, previous_ts in wanted:
            key = (from_id, to_id, at)
            keep.add(key)
            if key in existing:
                continue
            if from_id is None:
                text = texts.setdefault(to_id, store.version_text(db, to_id))
                store.insert_change(
                    db,
                    pid,
                    from_version_id=None,
                    to_version_id=to_id,
                    at_timestamp=at,
                    previous_timestamp=None,
                    kind="first",
                    substantive=True,
                    summary=f"first record ({len(split_sections(text))} sections)",
                    sections="[]",
                    words_added=len(text.split()),
                    words_removed=0,
                    now=now,
                )
            else:
                old = texts.setdefault(from_id, store.version_text(db, from_id))
                new = texts.setdefault(to_id, store.version_text(db, to_id))
                result = diff_texts(old, new, ignore if ignore is not None else DEFAULT_IGNORE)
                change_id = store.insert_change(
                    db,
                    pid,
                    from_version_id=from_id,
                    to_version_id=to_id,
                    at_timestamp=at,
                    previous_timestamp=previous_ts,
                    kind="change",
                    substantive=result.substantive,
                    summary=result.summary,
                    sections=json.dumps(
                        [c.to_dict() for c in result.changes if c.kind != "unchanged"]
                    ),
                    words_added=result.words_added,
                    words_removed=result.words_removed,
                    now=now,
                )
                allowed = policy_alert == "any" or (
                    policy_alert == "substantive" and result.substantive
                )
                for sink in sinks if allowed else ():
                    if sink.wants(policy_name, result.substantive):
                        store.enqueue_alert(
                            db,
                            uid=alert_uid("change", policy_name, from_id, to_id, at, sink.name),
                            event="change",
                            pid=pid,
                            sink=sink.name,
                            change_id=change_id,
                            problem_id=None,
                            now=now,
                        )
            added += 1
        store.delete_changes(db, [cid for key, cid in existing.items() if key not in keep])
    return added


def raise_problem(
    db: Database, pid: int, kind: str, detail: str, now: datetime, sinks: Sequence[AlertConfig]
) -> int | None:
    """Open a problem (once until it closes) and queue its notice for the sinks that take
    problems. Problems are never change alerts."""
    if store.open_problem(db, pid, kind) is not None:
        return None
    problem_id = store.add_problem(db, pid, kind, detail, now)
    name = db.execute("SELECT name FROM policies WHERE id = ?", [pid]).fetchone()[0]
    for sink in sinks:
        if sink.problems and (not sink.policies or name in sink.policies):
            store.enqueue_alert(
                db,
                uid=alert_uid("problem", name, problem_id, sink.name),
                event="problem",
                pid=pid,
                sink=sink.name,
                change_id=None,
                problem_id=problem_id,
                now=now,
            )
    return problem_id


@dataclass
class CheckResult:
    policy: str
    status: str  # new-version | unchanged | not-modified | failed | shrunk
    detail: str = ""
    changes_new: int = 0
    problem_id: int | None = None


def check(
    db: Database,
    client: httpx.Client,
    policy: Policy,
    now: datetime,
    *,
    failures_for_problem: int = 3,
    shrink: float = 0.5,
    max_bytes: int = 10 * 1024 * 1024,
    sinks: Sequence[AlertConfig] = (),
    ignore: tuple[str, ...] | None = None,
    next_check_at: str | None = None,
    save_page_now: str | None = None,
) -> CheckResult:
    """Fetch the live page now and record what it says: a new version (and its change, and its
    alerts, in one transaction), the same version seen again, or a failure. Repeated failures
    and a text that suddenly shrinks raise problem notices, never change alerts."""

    from crawler.live import fetch_live
    from crawler.render import render_text
    from crawler.wayback import datetime_to_timestamp

    pid = store.upsert_policy(db, policy.name, policy.url, policy.kind, now)
    state = store.policy_state(db, pid)
    timestamp = datetime_to_timestamp(now)
    schedule = {"next_check_at": next_check_at} if next_check_at else {}

    def fail(reason: str) -> CheckResult:
        failures = int(state["consecutive_failures"] or 0) + 1
        with store.writing(db):
            store.update_policy_state(
                db,
                pid,
                consecutive_failures=failures,
                last_check_at=store.iso(now),
                last_check_status="failed",
                last_error=reason,
                **schedule,
            )
            problem = None
            if failures >= failures_for_problem:
                problem = raise_problem(
                    db,
                    pid,
                    "failing",
                    f"{policy.url} failed {failures} checks in a row; last error: {reason}",
                    now,
                    sinks,
                )
        log.warning("check of %s failed (%d in a row): %s", policy.name, failures, reason)
        return CheckResult(policy.name, "failed", reason, problem_id=problem)

    try:
        result = fetch_live(
            client,
            policy.url,
            etag=state["etag"],
            last_modified=state["last_modified"],
            max_bytes=max_bytes,
        )
    except CrawlerError as exc:
        return fail(str(exc))
    previous = store.latest_version(db, pid)
    if result.not_modified and previous:
        with store.writing(db):
            store.record_version(
                db,
                pid,
                text=previous["text"],
                title=previous["title"],
                timestamp=timestamp,
                snapshot_id=None,
                extractor_version=EXTRACTOR_VERSION,
                now=now,
            )
            store.add_live_capture(
                db,
                pid,
                timestamp=timestamp,
                url=result.url,
                mimetype="text/html",
                status=304,
                digest="",
                state="fetched",
                reason="not modified (304)",
                snapshot_id=None,
                version_id=previous["id"],
                now=now,
            )
            store.update_policy_state(
                db,
                pid,
                consecutive_failures=0,
                last_check_at=store.iso(now),
                last_check_status="not-modified",
                last_error=None,
                **schedule,
            )
            store.close_problems(db, pid, now, "failing")
        return CheckResult(policy.name, "not-modified")
    if result.status != 200:
        return fail(f"HTTP {result.status} from {result.url}")
    try:
        document = _extract_for(policy, result.body, result.content_type, result.url)
        if not document.blocks:
            raise ExtractionError("no text on the page")
    except CrawlerError as exc:
        return fail(f"no text from {result.url}: {exc}")
    text = render_text(document)
    digest = payload_digest(result.body)
    words = len(text.split())
    shrunk = (
        previous is not None
        and previous["words"]
        and words < shrink * previous["words"]
        and store.text_sha256(text) != store.text_sha256(previous["text"])
    )
    shrunk_checks = int(state["shrunk_checks"] or 0) + 1 if shrunk else 0
    etag = result.headers.get("etag")
    last_modified = result.headers.get("last-modified")
    redirects = [{"status": st, "from_url": a, "to_url": b} for st, a, b in result.redirects]
    with store.writing(db):
        blob = store.put_blob(db, result.body, base=store.keyframe(db, pid))
        snapshot_id = store.insert_snapshot(
            db,
            pid,
            source="live",
            timestamp=timestamp,
            url=result.url,
            requested_url=policy.url,
            playback_url=result.url,
            status=result.status,
            content_type=result.content_type,
            digest=digest,
            blob_sha256=blob,
            redirects=redirects,
            extractor_version=EXTRACTOR_VERSION,
            now=now,
        )
        if shrunk and shrunk_checks < 3:
            # A broken page or a consent wall, most likely: hold the text back until it is seen
            # three checks in a row, and say so on the problems channel.
            before = int(previous["words"]) if previous else 0
            reason = (
                f"text shrank to {words} words from {before} ({words / max(1, before):.0%}); "
                "held back as a problem"
            )
            store.add_live_capture(
                db,
                pid,
                timestamp=timestamp,
                url=result.url,
                mimetype=result.content_type,
                status=result.status,
                digest=digest,
                state="skipped",
                reason=reason,
                snapshot_id=snapshot_id,
                version_id=None,
                now=now,
            )
            store.update_policy_state(
                db,
                pid,
                consecutive_failures=0,
                shrunk_checks=shrunk_checks,
                last_check_at=store.iso(now),
                last_check_status="shrunk",
                last_error=reason,
                **schedule,
            )
            problem = raise_problem(db, pid, "shrunk", f"{policy.url}: {reason}", now, sinks)
            return CheckResult(policy.name, "shrunk", reason, problem_id=problem)
        version_id = store.record_version(
            db,
            pid,
            text=text,
            title=document.title,
            timestamp=timestamp,
            snapshot_id=snapshot_id,
            extractor_version=EXTRACTOR_VERSION,
            now=now,
        )
        store.link_snapshot_version(db, snapshot_id, version_id)
        store.add_live_capture(
            db,
            pid,
            timestamp=timestamp,
            url=result.url,
            mimetype=result.content_type,
            status=result.status,
            digest=digest,
            state="fetched",
            reason=f"redirected to {result.url}" if result.redirects else None,
            snapshot_id=snapshot_id,
            version_id=version_id,
            now=now,
        )
        store.update_policy_state(
            db,
            pid,
            consecutive_failures=0,
            shrunk_checks=0,
            etag=etag,
            last_modified=last_modified,
            last_check_at=store.iso(now),
            last_check_status="ok",
            last_error=None,
            **schedule,
        )
        store.close_problems(db, pid, now)
        new_changes = record_changes(db, pid, now, ignore, sinks if previous else (), policy.alert)
    status = "new-version" if previous is None or previous["id"] != version_id else "unchanged"
    detail = ""
    if status == "new-version" and save_page_now:
        detail = request_save_page_now(client, save_page_now, result.url)
    return CheckResult(policy.name, status, detail, changes_new=new_changes)


SPN_ENV = ("POLICYTRAIL_IA_ACCESS", "POLICYTRAIL_IA_SECRET")


def request_save_page_now(client: httpx.Client, archive_url: str, url: str) -> str:
    """Ask Save Page Now (SPN2) to capture `url`; returns a note. Never raises: a failed request
    is logged and the check goes on. Credentials come from the environment only."""
    import os

    access, secret = (os.environ.get(name) for name in SPN_ENV)
    if not access or not secret:
        log.warning("save_page_now is on but %s / %s are not set; skipped", *SPN_ENV)
        return "save page now skipped: no credentials in the environment"
    try:
        response = client.post(
            f"{archive_url.rstrip('/')}/save",
            data={"url": url, "skip_first_archive": "1"},
            headers={"Accept": "application/json", "Authorization": f"LOW {access}:{secret}"},
            timeout=60,
        )
    except httpx.HTTPError as exc:
        log.warning("save page now for %s failed: %s", url, exc)
        return f"save page now failed: {type(exc).__name__}"
    if response.status_code != 200:
        log.warning("save page now for %s answered HTTP %s", url, response.status_code)
        return f"save page now answered HTTP {response.status_code}"
    try:
        job = response.json().get("job_id", "")
    except ValueError:
        job = ""
    return f"save page now job {job}".strip()


@dataclass
class ReextractResult:
    policy: str
    snapshots: int = 0
    texts_changed: int = 0
    technical_change: bool = False


def reextract(
    db: Database, policy: Policy, now: datetime, ignore: tuple[str, ...] | None = None
) -> ReextractResult:
    """Extract every stored snapshot of `policy` again with today's extractor, from its raw
    body. Captures move to the versions their new texts make; the timeline's changes are
    rebuilt without alerts, and if the latest text differs, one `technical` change records the
    re-extraction — never reported as a policy change. Idempotent."""
    from crawler.render import render_text
    from crawler.wayback import datetime_to_timestamp

    result = ReextractResult(policy.name)
    pid = store.policy_id(db, policy.name)
    if pid is None:
        return result
    before = store.latest_version(db, pid)
    rows = list(
        store.rows(
            db,
            """
        SELECT c.id AS capture_id, c.timestamp, s.id AS snapshot_id, s.blob_sha256, s.url,
               s.content_type, v.text AS old_text
        FROM captures c JOIN snapshots s ON s.id = c.snapshot_id
        JOIN versions v ON v.id = c.version_id
        WHERE c.policy_id = ? AND c.state = 'fetched' ORDER BY c.timestamp, c.id""",
            [pid],
        )
    )
    texts: dict[int, tuple[str, str] | None] = {}
    for row in rows:
        if row["snapshot_id"] in texts:
            continue
        body = store.get_blob(db, row["blob_sha256"])
        try:
            document = _extract_for(policy, body, row["content_type"] or "", row["url"])
            texts[row["snapshot_id"]] = (render_text(document), document.title)
        except CrawlerError:
            texts[row["snapshot_id"]] = None  # keep the text it had
        result.snapshots += 1
    with store.writing(db):
        for row in rows:
            new = texts[row["snapshot_id"]]
            if new is None or new[0] == row["old_text"]:
                continue
            result.texts_changed += 1
            version_id = store.record_version(
                db,
                pid,
                text=new[0],
                title=new[1],
                timestamp=row["timestamp"],
                snapshot_id=row["snapshot_id"],
                extractor_version=EXTRACTOR_VERSION,
                now=now,
            )
            db.execute(
                "UPDATE captures SET version_id = ? WHERE id = ?", [version_id, row["capture_id"]]
            )
            db.execute(
                "UPDATE snapshots SET version_id = ?, extractor_version = ? WHERE id = ?",
                [version_id, EXTRACTOR_VERSION, row["snapshot_id"]],
            )
        if result.texts_changed:
            store.recount_versions(db, pid)
            record_changes(db, pid, now, ignore)  # no sinks: a re-extraction alerts nobody
            after = store.latest_version(db, pid)
            if before and after and before["id"] != after["id"]:
                from crawler.diff import diff_texts

                summary = diff_texts(before["text"], after["text"], ignore or ()).summary
                store.insert_change(
                    db,
                    pid,
                    from_version_id=before["id"],
                    to_version_id=after["id"],
                    at_timestamp=datetime_to_timestamp(now),
                    previous_timestamp=None,
                    kind="technical",
                    substantive=False,
                    summary=f"re-extracted by extractor {EXTRACTOR_VERSION}: {summary}",
                    sections="[]",
                    words_added=0,
                    words_removed=0,
                    now=now,
                )
                result.technical_change = True
    return result
