"""One played-back capture -> a stored snapshot, its text version and its capture's state, in one
transaction; captures of a digest already stored reuse its snapshot.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from sqlite_utils import Database

from crawler.archive import (
    EMPTY_DIGEST,
    Memento,
    payload_digest,
    timestamp_to_datetime,
)
from crawler.config import Policy
from crawler.errors import (
    Blocked,
    CrawlerError,
    ExtractionError,
    FetchError,
    NoMemento,
)
from crawler.live.browser import same_origin
from crawler.pipeline.state import BackfillResult, Crawl
from crawler.text import (
    EXTRACTOR_VERSION,
    Document,
    document_hints,
    extract_any,
    looks_like_html,
)
from crawler.text.pdf import is_pdf
from crawler.text.render import render_text
from crawler.text.shell import shell_reason
from db import store

log = logging.getLogger(__name__)


# A broken answer that no digest can vouch for is tried on this many runs before it is skipped.
UNVERIFIED_ATTEMPTS = 5


# The Internet Archive answers a capture it cannot play with a 302 to the nearest one, which
# may be weeks away (wayback-facts.md): farther than this, that answer is not this capture.
NEAREST_WINDOW_DAYS = 7.0


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


def _store_outcome(run: Crawl, capture: store.CaptureRow, outcome: Memento | CrawlerError) -> None:
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
    # Extract (and render a shell) before taking the write lock: other writers wait only for
    # the inserts.
    far = _far_nearest(memento)
    text, title, reason, memento, fetcher = _read_memento(run, memento, far)
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
            fetcher=fetcher,
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


def _read_memento(
    run: Crawl, memento: Memento, far: str | None
) -> tuple[str, str, str | None, Memento, str]:
    """(text, title, reason it cannot be a version or None, the memento whose body is kept,
    fetcher). A capture whose raw HTML is a shell is rendered in the archive's replay, when
    the run has a browser."""
    reason = far or _memento_problem(memento)
    if reason is not None:
        return "", "", reason, memento, "http"
    try:
        document = _extract_for(run.policy, memento.body, memento.content_type, memento.url)
    except ExtractionError as exc:
        document, reason = None, f"no text: {exc}"
    text = render_text(document) if document else ""
    shell = shell_reason(memento.body, len(text.split()), text)
    if shell and run.browser is not None:
        rendered = _render_replay(run, memento, shell)
        if rendered is not None:
            return (*rendered, "browser-replay")
    if document is None:
        return "", "", reason, memento, "http"
    if not document.blocks:
        return text, document.title, "no text extracted", memento, "http"
    return text, document.title, None, memento, "http"


def _render_replay(
    run: Crawl, memento: Memento, shell: str
) -> tuple[str, str, str | None, Memento] | None:
    """The capture rendered in the archive's replay (only requests to the archive go out,
    each through the playback limiter, at most `replay_resources`): its text, title, reason
    (a shell even rendered) and a memento holding the rendered DOM. None when the browser
    failed: the raw text stands, and the next run does not retry it."""
    endpoint, transport = run.endpoint, run.transport
    flag = "if_" if endpoint.is_internet_archive else ""  # pywb: its framed replay
    url = f"{endpoint.playback_prefix}/{memento.timestamp}{flag}/{memento.url}"

    def before_request() -> None:
        transport.limiters.playback.acquire()
        with transport.lock:
            transport.requests["playback"] += 1

    assert run.browser is not None
    try:
        page = run.browser.render(
            url,
            select=run.policy.select,
            allow=same_origin(endpoint.base),
            before_request=before_request,
            max_requests=run.replay_resources,
        )
    except CrawlerError as exc:
        log.warning("rendering %s in the replay failed (%s): keeping the raw text", url, exc)
        return None
    rendered = replace(memento, body=page.body, headers={"content-type": page.content_type})
    try:
        document = _extract_for(run.policy, page.body, page.content_type, memento.url)
    except ExtractionError as exc:
        return "", "", f"a shell ({shell}), and no text rendered: {exc}", rendered
    text = render_text(document)
    still = shell_reason(page.body, len(text.split()), text)
    if still or not document.blocks:
        return text, document.title, f"a shell even rendered in the replay: {still}", rendered
    log.info(
        "%s %s: a shell (%s), rendered in the replay", run.policy.name, memento.timestamp, shell
    )
    return text, document.title, None, rendered


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
