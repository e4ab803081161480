"""Versions -> change records along the capture timeline, each with its section diff, and the
alert outbox rows that go with them (written in the same transaction); problems, which are
never changes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime

from sqlite_utils import Database

from crawler.config import AlertConfig
from crawler.text.diff import DEFAULT_IGNORE, Diff, diff_texts
from crawler.text.sections import split_sections
from crawler.text.terms import parse_term, term_hits
from db import store


def alert_uid(*parts: object) -> str:
    """A stable alert id: the same change to the same sink always gets the same id."""
    return "pt-" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32]


# A transition between consecutive distinct texts: (from version id or None for the first
# text, to version id, first timestamp of the new text, last timestamp of the old one or None).
Transition = tuple[int | None, int, str, str | None]


def transitions(db: Database, pid: int) -> list[Transition]:
    """The policy's transitions along its capture timeline, oldest first."""
    runs: list[tuple[int, str, str]] = []  # (version id, first timestamp, last timestamp)
    for timestamp, version_id in store.capture_timeline(db, pid):
        if runs and runs[-1][0] == version_id:
            runs[-1] = (version_id, runs[-1][1], timestamp)
        else:
            runs.append((version_id, timestamp, timestamp))
    wanted: list[Transition] = []
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
    return wanted


def record_changes(
    db: Database,
    pid: int,
    now: datetime,
    ignore: tuple[str, ...] | None = None,
    sinks: Sequence[AlertConfig] = (),
    policy_alert: str = "any",
    known_diffs: dict[tuple[str, str], Diff] | None = None,
    watch: tuple[str, ...] = (),
) -> int:
    """Bring the policy's change records in line with its capture timeline: one change per
    transition between consecutive distinct texts (the first text is a `first` record), each
    with its section diff. Idempotent; stale records (a capture found later changed the
    timeline) are removed. For each new change, one outbox row per sink that wants it is written
    in the same transaction. Returns the number of new changes. `known_diffs`: diffs already
    made, by the texts' SHA-256 (a caller inside a transaction makes them before taking it).
    `watch`: the policy's own watched terms; with each sink's `watch`, a change that adds or
    removes one queues a "term" alert (whatever its significance; never a cosmetic change)."""
    # The diffs first, outside the write lock (a 40,000-word section took two minutes, and
    # `serve` and other writers waited): each distinct pair of texts once, however often the
    # history goes back and forth between them.
    wanted = transitions(db, pid)
    known = store.change_keys(db, pid)
    texts: dict[int, str] = {}

    def text_of(version_id: int) -> str:
        return texts.setdefault(version_id, store.version_text(db, version_id))

    patterns = ignore if ignore is not None else DEFAULT_IGNORE
    diffs: dict[tuple[str, str], Diff] = dict(known_diffs or {})

    def diff_of(from_id: int, to_id: int) -> Diff:
        old, new = text_of(from_id), text_of(to_id)
        key = (store.text_sha256(old), store.text_sha256(new))
        if key not in diffs:
            diffs[key] = diff_texts(old, new, patterns)
        return diffs[key]

    for from_id, to_id, at, _ in wanted:
        if from_id is not None and (from_id, to_id, at) not in known:
            diff_of(from_id, to_id)
    added = 0
    policy_name = db.execute("SELECT name FROM policies WHERE id = ?", [pid]).fetchone()[0]
    with store.writing(db):
        # Read again under the lock: another writer may have moved the timeline meanwhile
        # (then the few diffs it needs are done here).
        wanted = transitions(db, pid)
        existing = store.change_keys(db, pid)
        keep = set()
        for from_id, to_id, at, previous_ts in wanted:
            key = (from_id, to_id, at)
            keep.add(key)
            if key in existing:
                continue
            if from_id is None:
                _first_record(db, pid, to_id, at, text_of(to_id), now)
            else:
                result = diff_of(from_id, to_id)
                change_id = _change_record(db, pid, (from_id, to_id, at, previous_ts), result, now)
                allowed = policy_alert == "any" or (
                    policy_alert == "substantive" and result.substantive
                )
                if policy_alert != "none":
                    _term_alerts(db, pid, policy_name, change_id, result, sinks, watch, now)
                for sink in sinks if allowed else ():
                    if sink.wants(policy_name, result.substantive):
                        store.enqueue_alert(
                            db,
                            # By the texts, not the change row or its date: a backfill that
                            # finds the change earlier re-records it under the same alert.
                            uid=alert_uid(
                                "change",
                                policy_name,
                                store.text_sha256(text_of(from_id)),
                                store.text_sha256(text_of(to_id)),
                                sink.name,
                            ),
                            event="change",
                            pid=pid,
                            sink=sink.name,
                            change_id=change_id,
                            problem_id=None,
                            now=now,
                        )
            added += 1
        # Each new text's reading grade, kept for `trends` and the Trends page.
        from crawler.pipeline.trends import fill_grades

        fill_grades(db, {to for _, to, _, _ in wanted})
        stale = {key: cid for key, cid in existing.items() if key not in keep}
        if stale:
            store.repoint_alerts(db, pid, stale)
        store.delete_changes(db, list(stale.values()))
    return added


def _term_alerts(
    db: Database,
    pid: int,
    name: str,
    change_id: int,
    result: Diff,
    sinks: Sequence[AlertConfig],
    watch: tuple[str, ...],
    now: datetime,
) -> None:
    """One "term" alert per sink whose terms (its own `watch` and the policy's) this change
    added or removed, carrying the hits with their sentences."""
    wanting = [s for s in sinks if (s.watch or watch) and (not s.policies or name in s.policies)]
    if not wanting:
        return
    sections = [c.to_dict() for c in result.changes if c.kind != "unchanged"]
    texts = db.execute(
        "SELECT f.text_sha256, t.text_sha256 FROM changes c JOIN versions f ON "
        "f.id = c.from_version_id JOIN versions t ON t.id = c.to_version_id WHERE c.id = ?",
        [change_id],
    ).fetchone()
    for sink in wanting:
        terms = [parse_term(t, f"watch {t!r}") for t in dict.fromkeys((*sink.watch, *watch))]
        hits = term_hits(sections, terms)
        if hits:
            store.enqueue_alert(
                db,
                uid=alert_uid("term", name, texts[0], texts[1], sink.name),
                event="term",
                pid=pid,
                sink=sink.name,
                change_id=change_id,
                problem_id=None,
                now=now,
                terms=json.dumps(hits, ensure_ascii=False),
            )


def diff_ahead(
    old: str | None, new: str, ignore: tuple[str, ...] | None
) -> dict[tuple[str, str], Diff]:
    """The diff a transaction about to record `new` after `old` will need, made before it takes
    the write lock (for `record_changes(known_diffs=...)`)."""
    if old is None or old == new:
        return {}
    key = (store.text_sha256(old), store.text_sha256(new))
    return {key: diff_texts(old, new, ignore if ignore is not None else DEFAULT_IGNORE)}


def _first_record(db: Database, pid: int, to_id: int, at: str, text: str, now: datetime) -> None:
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


def _change_record(
    db: Database, pid: int, transition: Transition, result: Diff, now: datetime
) -> int:
    from_id, to_id, at, previous_ts = transition
    return store.insert_change(
        db,
        pid,
        from_version_id=from_id,
        to_version_id=to_id,
        at_timestamp=at,
        previous_timestamp=previous_ts,
        kind="change",
        substantive=result.substantive,
        summary=result.summary,
        sections=json.dumps([c.to_dict() for c in result.changes if c.kind != "unchanged"]),
        words_added=result.words_added,
        words_removed=result.words_removed,
        now=now,
    )


def queue_notice(
    db: Database,
    pid: int,
    name: str,
    notice_id: int,
    event: str,
    now: datetime,
    sinks: Sequence[AlertConfig],
) -> None:
    """Queue a notice (a `problem`, or a `moved` document) for the sinks that take that event
    and this policy."""
    for sink in sinks:
        takes = sink.moves if event == "moved" else sink.problems
        if takes and (not sink.policies or name in sink.policies):
            store.enqueue_alert(
                db,
                uid=alert_uid(event, name, notice_id, sink.name),
                event=event,
                pid=pid,
                sink=sink.name,
                change_id=None,
                problem_id=notice_id,
                now=now,
            )


def raise_problem(
    db: Database, pid: int, kind: str, detail: str, now: datetime, sinks: Sequence[AlertConfig]
) -> int | None:
    """Open a problem (once until it closes) and queue its notice for the sinks that take
    problems. Problems are never change alerts."""
    if store.open_problem(db, pid, kind) is not None:
        return None
    problem_id = store.add_problem(db, pid, kind, detail, now)
    name = db.execute("SELECT name FROM policies WHERE id = ?", [pid]).fetchone()[0]
    queue_notice(db, pid, name, problem_id, "problem", now, sinks)
    return problem_id
