"""Live page -> database: fetch the page now and record what it says (a new version with its
change and alerts, the same version seen again, or a failure), raising problem notices for
repeated failures and a text that suddenly shrinks.

`check` runs in named steps over one `_Check` (what every step works with): fetch, then one of
`_failed`, `_not_modified`, `_held_back` (a shrunk text) or `_recorded` (the text stored).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from sqlite_utils import Database

from crawler.archive import datetime_to_timestamp, payload_digest
from crawler.archive.save import request_save_page_now
from crawler.config import AlertConfig, BrowserConfig, Policy
from crawler.errors import CrawlerError, ExtractionError
from crawler.http import STOP
from crawler.live import LiveResult
from crawler.live.browser import BrowserFetcher
from crawler.pipeline.changes import diff_ahead, raise_problem, record_changes
from crawler.pipeline.fetching import PageFetch, fetch_page
from crawler.pipeline.snapshots import _extract_for
from crawler.text import EXTRACTOR_VERSION, Document, render_text
from crawler.text.shell import shell_reason
from db import store

log = logging.getLogger(__name__)


@dataclass
class CheckResult:
    policy: str
    status: str  # new-version | unchanged | not-modified | failed | shrunk | shell
    detail: str = ""
    changes_new: int = 0
    problem_id: int | None = None


@dataclass
class _Check:
    """One live check: the policy, its row and state, and the options `check` was given."""

    db: Database
    policy: Policy
    now: datetime
    pid: int
    state: dict[str, Any]
    failures_for_problem: int
    sinks: Sequence[AlertConfig]
    schedule: dict[str, str] = field(default_factory=dict)  # the next due time, if given
    fetcher: str = "http"  # which fetcher got the page
    escalation: dict[str, int] = field(default_factory=dict)  # policy_state's escalated, checks

    @property
    def timestamp(self) -> str:
        return datetime_to_timestamp(self.now)


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
    fetcher: str = "http",
    browser: BrowserFetcher | None = None,
    browser_options: BrowserConfig | None = None,
    allow_private: bool = False,
) -> CheckResult:
    """Fetch the live page now and record what it says: a new version (and its change, and its
    alerts, in one transaction), the same version seen again, or a failure. Repeated failures,
    a text that suddenly shrinks and a page that stays a shell (script-rendered, or a bot
    guard's challenge) raise problem notices, never change alerts. `fetcher`: auto, http or
    browser (see crawler.pipeline.fetching); `browser` renders pages for auto and browser."""
    pid = store.upsert_policy(db, policy.name, policy.url, policy.kind, now)
    run = _Check(
        db,
        policy,
        now,
        pid,
        store.policy_state(db, pid),
        failures_for_problem,
        sinks,
        {"next_check_at": next_check_at} if next_check_at else {},
    )
    previous = store.latest_version(db, pid)
    try:
        got = fetch_page(
            client,
            browser,
            policy,
            fetcher,
            run.state,
            previous_words=int(previous["words"]) if previous else None,
            max_bytes=max_bytes,
            options=browser_options or BrowserConfig(),
            allow_private=allow_private,
        )
    except CrawlerError as exc:
        if STOP.is_set():  # cut short by a shutdown: not a failure of the page
            raise
        return _failed(run, str(exc))
    result = got.result
    run.fetcher = got.fetcher
    run.escalation = _escalation(run.state, fetcher, got)
    if result.not_modified and previous:
        return _not_modified(run, result, previous)
    if result.status != 200:
        return _failed(run, f"HTTP {result.status} from {result.url}")
    try:
        document = got.document or _extract_for(
            policy, result.body, result.content_type, result.url
        )
        if not document.blocks:
            raise ExtractionError("no text on the page")
    except CrawlerError as exc:
        empty = shell_reason(result.body, 0, "", None)
        if empty:  # an empty shell: a problem to see, not a fetch to retry
            with store.writing(db):
                return _shell(run, result, _store_snapshot(run, result), empty)
        return _failed(run, f"no text from {result.url} ({got.fetcher}): {exc}")
    text = render_text(document)
    words = len(text.split())
    shell = shell_reason(result.body, words, text, int(previous["words"]) if previous else None)
    if shell:
        with store.writing(db):
            return _shell(run, result, _store_snapshot(run, result), shell)
    shrunk = (
        previous is not None
        and previous["words"]
        and words < shrink * previous["words"]
        and store.text_sha256(text) != store.text_sha256(previous["text"])
    )
    shrunk_checks = int(run.state["shrunk_checks"] or 0) + 1 if shrunk else 0
    known = diff_ahead(previous["text"] if previous else None, text, ignore)  # off the lock
    with store.writing(db):
        snapshot_id = _store_snapshot(run, result)
        if shrunk and shrunk_checks < 3:
            before = int(previous["words"]) if previous else 0
            return _held_back(run, result, snapshot_id, words, before, shrunk_checks)
        version_id = _recorded(run, result, snapshot_id, document, text)
        alerting = sinks if previous else ()
        new_changes = record_changes(
            db, pid, now, ignore, alerting, policy.alert, known_diffs=known, watch=policy.watch
        )
    status = "new-version" if previous is None or previous["id"] != version_id else "unchanged"
    detail = ""
    if status == "new-version" and save_page_now:
        detail = request_save_page_now(client, save_page_now, result.url)
    return CheckResult(policy.name, status, detail, changes_new=new_changes)


def _failed(run: _Check, reason: str) -> CheckResult:
    """A failed check: counted, and a problem once it has failed `failures_for_problem` times
    in a row."""
    failures = int(run.state["consecutive_failures"] or 0) + 1
    with store.writing(run.db):
        store.update_policy_state(
            run.db,
            run.pid,
            consecutive_failures=failures,
            last_check_at=store.iso(run.now),
            last_check_status="failed",
            last_error=reason,
            **run.schedule,
        )
        problem = None
        if failures >= run.failures_for_problem:
            problem = raise_problem(
                run.db,
                run.pid,
                "failing",
                f"{run.policy.url} failed {failures} checks in a row; last error: {reason}",
                run.now,
                run.sinks,
            )
    log.warning("check of %s failed (%d in a row): %s", run.policy.name, failures, reason)
    return CheckResult(run.policy.name, "failed", reason, problem_id=problem)


def _not_modified(run: _Check, result: LiveResult, previous: dict[str, Any]) -> CheckResult:
    """A 304: the latest version seen again, now."""
    with store.writing(run.db):
        store.record_version(
            run.db,
            run.pid,
            text=previous["text"],
            title=previous["title"],
            timestamp=run.timestamp,
            snapshot_id=None,
            extractor_version=EXTRACTOR_VERSION,
            now=run.now,
        )
        store.add_live_capture(
            run.db,
            run.pid,
            timestamp=run.timestamp,
            url=result.url,
            mimetype="text/html",
            status=304,
            digest="",
            state="fetched",
            reason="not modified (304)",
            snapshot_id=None,
            version_id=previous["id"],
            now=run.now,
        )
        store.update_policy_state(
            run.db,
            run.pid,
            consecutive_failures=0,
            last_check_at=store.iso(run.now),
            last_check_status="not-modified",
            last_error=None,
            **run.schedule,
            **run.escalation,
        )
        store.close_problems(run.db, run.pid, run.now, "failing")
    return CheckResult(run.policy.name, "not-modified")


def _store_snapshot(run: _Check, result: LiveResult) -> int:
    """The fetched body as a snapshot (inside the caller's transaction)."""
    blob = store.put_blob(run.db, result.body, base=store.keyframe(run.db, run.pid))
    return store.insert_snapshot(
        run.db,
        run.pid,
        source="live",
        timestamp=run.timestamp,
        url=result.url,
        requested_url=run.policy.url,
        playback_url=result.url,
        status=result.status,
        content_type=result.content_type,
        digest=payload_digest(result.body),
        blob_sha256=blob,
        redirects=[{"status": st, "from_url": a, "to_url": b} for st, a, b in result.redirects],
        extractor_version=EXTRACTOR_VERSION,
        now=run.now,
        fetcher=run.fetcher,
    )


def _escalation(state: dict[str, Any], fetcher: str, got: PageFetch) -> dict[str, int]:
    """policy_state's memory of `auto` escalations: escalated while the browser is needed,
    with a count of checks (every `retry_http_every`-th tries plain http again)."""
    if fetcher != "auto":
        return {}
    if got.fetcher == "browser":
        return {"escalated": 1, "escalated_checks": int(state.get("escalated_checks") or 0) + 1}
    return {"escalated": 0, "escalated_checks": 0}


def _shell(run: _Check, result: LiveResult, snapshot_id: int, reason: str) -> CheckResult:
    """A page whose text no fetcher could see (a script-rendered shell, a challenge page): a
    problem notice, never a version (inside the caller's transaction)."""
    detail = f"no policy text from {result.url} ({run.fetcher}): {reason}"
    if run.fetcher == "http":
        detail += '; it may need the browser (fetcher = "auto" or "browser")'
    return _not_a_version(run, result, snapshot_id, "shell", detail, detail)


def _held_back(
    run: _Check, result: LiveResult, snapshot_id: int, words: int, before: int, shrunk_checks: int
) -> CheckResult:
    """A text far shorter than the last: a broken page or a consent wall, most likely. Held
    back until it is seen three checks in a row, and said on the problems channel (inside the
    caller's transaction)."""
    reason = (
        f"text shrank to {words} words from {before} ({words / max(1, before):.0%}); "
        "held back as a problem"
    )
    return _not_a_version(
        run,
        result,
        snapshot_id,
        "shrunk",
        reason,
        f"{run.policy.url}: {reason}",
        consecutive_failures=0,
        shrunk_checks=shrunk_checks,
    )


def _not_a_version(
    run: _Check,
    result: LiveResult,
    snapshot_id: int,
    status: str,
    reason: str,
    problem_detail: str,
    **state: Any,
) -> CheckResult:
    """The capture settled as skipped with `reason`, the policy's state saying `status`, and a
    problem notice of that kind (inside the caller's transaction)."""
    _live_capture(run, result, snapshot_id, "skipped", reason, None)
    store.update_policy_state(
        run.db,
        run.pid,
        **state,
        last_check_at=store.iso(run.now),
        last_check_status=status,
        last_error=reason,
        **run.schedule,
        **run.escalation,
    )
    problem = raise_problem(run.db, run.pid, status, problem_detail, run.now, run.sinks)
    return CheckResult(run.policy.name, status, reason, problem_id=problem)


def _live_capture(
    run: _Check,
    result: LiveResult,
    snapshot_id: int,
    state: str,
    reason: str | None,
    version_id: int | None,
) -> None:
    """This check's row on the capture timeline, for a fetched body (inside the caller's
    transaction)."""
    store.add_live_capture(
        run.db,
        run.pid,
        timestamp=run.timestamp,
        url=result.url,
        mimetype=result.content_type,
        status=result.status,
        digest=payload_digest(result.body),
        state=state,
        reason=reason,
        snapshot_id=snapshot_id,
        version_id=version_id,
        now=run.now,
    )


def _recorded(
    run: _Check, result: LiveResult, snapshot_id: int, document: Document, text: str
) -> int:
    """The text recorded as a version (new, or the last seen again), the capture settled and
    the policy's state reset (inside the caller's transaction). Returns the version's id."""
    version_id = store.record_version(
        run.db,
        run.pid,
        text=text,
        title=document.title,
        timestamp=run.timestamp,
        snapshot_id=snapshot_id,
        extractor_version=EXTRACTOR_VERSION,
        now=run.now,
    )
    store.link_snapshot_version(run.db, snapshot_id, version_id)
    redirected = f"redirected to {result.url}" if result.redirects else None
    _live_capture(run, result, snapshot_id, "fetched", redirected, version_id)
    store.update_policy_state(
        run.db,
        run.pid,
        consecutive_failures=0,
        shrunk_checks=0,
        etag=result.headers.get("etag"),
        last_modified=result.headers.get("last-modified"),
        last_check_at=store.iso(run.now),
        last_check_status="ok",
        last_error=None,
        **run.schedule,
        **run.escalation,
    )
    store.close_problems(run.db, run.pid, run.now)
    return version_id
