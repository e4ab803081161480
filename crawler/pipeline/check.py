"""Live page -> database: fetch the page now and record what it says (a new version with its
change and alerts, the same version seen again, or a failure), raising problem notices for
repeated failures and a text that suddenly shrinks.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlite_utils import Database

from crawler.archive import (
    payload_digest,
)
from crawler.archive.save import request_save_page_now
from crawler.config import AlertConfig, Policy
from crawler.errors import (
    CrawlerError,
    ExtractionError,
)
from crawler.pipeline.changes import raise_problem, record_changes
from crawler.pipeline.snapshots import _extract_for
from crawler.text import (
    EXTRACTOR_VERSION,
)
from db import store

log = logging.getLogger(__name__)


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

    from crawler.archive import datetime_to_timestamp
    from crawler.live.fetch import fetch_live
    from crawler.text.render import render_text

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
