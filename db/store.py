"""Every read and write of the database. Functions take a sqlite_utils Database.

Times are ISO-8601 UTC text; Wayback's 14-digit timestamps are kept in their own columns.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import zstandard
from sqlite_utils import Database

from db import migrations

ZSTD_LEVEL = 10
EMPTY_DIGEST = "3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ"


def connect(path: str | Path) -> Database:
    """Open (and migrate) the database file, in WAL mode so readers never block the writer.

    Safe when several processes open the same new file at once (`run` and `serve`, say): the
    busy timeout comes first, and pending migrations run under one write lock."""
    # Driver autocommit: every write is either one statement or inside `writing(db)`.
    conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=30000")
    db = Database(conn)
    _use_wal(conn)
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    if migrations.migrations.pending(db):
        conn.execute("BEGIN IMMEDIATE")  # waits for any other writer, then holds the lock
        try:
            migrations.apply(db)  # each migration nests as a savepoint in this transaction
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return db


@contextmanager
def writing(db: Database) -> Iterator[Database]:
    """One write transaction, taken with BEGIN IMMEDIATE: it waits (busy timeout) for any other
    writer up front, where a deferred BEGIN that reads first would fail at once with "database is
    locked" when another process committed in between. Nested uses become savepoints."""
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    try:
        db.conn.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise


def _use_wal(conn: sqlite3.Connection, patience: float = 30.0) -> None:
    """Switch the file to WAL. The switch needs an exclusive lock, and SQLite may answer
    "database is locked" at once, without its busy handler, while another process creates
    or switches the same file (or recovers its WAL index): retry until `patience` runs out."""
    deadline = time.monotonic() + patience
    delay = 0.01
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ts_iso(timestamp: str) -> str:
    """A 14-digit Wayback timestamp as ISO-8601 (month or day 00 read as 01)."""
    t = timestamp.ljust(14, "0")
    month = t[4:6] if t[4:6] != "00" else "01"
    day = t[6:8] if t[6:8] != "00" else "01"
    return f"{t[0:4]}-{month}-{day}T{t[8:10]}:{t[10:12]}:{t[12:14]}Z"


# -- policies ---------------------------------------------------------------------------------


def upsert_policy(db: Database, name: str, url: str, kind: str, now: datetime) -> int:
    row = db.execute("SELECT id, url, kind FROM policies WHERE name = ?", [name]).fetchone()
    if row:
        if (row[1], row[2]) != (url, kind):
            db.execute("UPDATE policies SET url = ?, kind = ? WHERE id = ?", [url, kind, row[0]])
        return int(row[0])
    with writing(db):
        cursor = db.execute(
            "INSERT INTO policies (name, url, kind, created_at) VALUES (?, ?, ?, ?)",
            [name, url, kind, iso(now)],
        )
    return int(cursor.lastrowid or 0)


def policy_id(db: Database, name: str) -> int | None:
    row = db.execute("SELECT id FROM policies WHERE name = ?", [name]).fetchone()
    return int(row[0]) if row else None


def cdx_complete_through(db: Database, pid: int) -> str | None:
    row = db.execute(
        "SELECT cdx_complete_through FROM policy_state WHERE policy_id = ?", [pid]
    ).fetchone()
    return str(row[0]) if row and row[0] else None


def set_cdx_complete(db: Database, pid: int, now: datetime) -> None:
    """Remember the newest capture seen by a completed CDX walk: the next walk starts there."""
    newest = db.execute(
        "SELECT max(timestamp) FROM captures WHERE policy_id = ?", [pid]
    ).fetchone()[0]
    if newest is None:
        return
    with writing(db):
        db.execute(
            "INSERT INTO policy_state (policy_id, cdx_complete_through, cdx_completed_at) "
            "VALUES (?, ?, ?) ON CONFLICT(policy_id) DO UPDATE SET "
            "cdx_complete_through = excluded.cdx_complete_through, "
            "cdx_completed_at = excluded.cdx_completed_at",
            [pid, newest, iso(now)],
        )


# -- captures ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaptureRow:
    id: int
    timestamp: str
    original: str
    mimetype: str
    status: int | None
    digest: str
    state: str
    attempts: int
    length: int | None = None  # CDX: the size of the compressed WARC record


def add_captures(db: Database, pid: int, captures: Iterable[Any], now: datetime) -> int:
    """Record CDX rows as pending captures; rows seen before are ignored. Returns rows added."""
    rows = [
        (pid, c.timestamp, c.original, c.urlkey, c.mimetype, c.status, c.digest, c.length, iso(now))
        for c in captures
    ]
    with writing(db):
        before = db.execute("SELECT count(*) FROM captures WHERE policy_id = ?", [pid]).fetchone()[
            0
        ]
        db.conn.executemany(
            "INSERT OR IGNORE INTO captures (policy_id, timestamp, original, urlkey, mimetype, "
            "status, digest, length, state, attempts, seen_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?)",
            rows,
        )
        after = db.execute("SELECT count(*) FROM captures WHERE policy_id = ?", [pid]).fetchone()[0]
    return int(after - before)


def open_captures(
    db: Database, pid: int, from_ts: str | None = None, to_ts: str | None = None
) -> list[CaptureRow]:
    """Captures still to settle (pending, or failed earlier), oldest first."""
    sql = (
        "SELECT id, timestamp, original, mimetype, status, digest, state, attempts, length "
        "FROM captures WHERE policy_id = ? AND state IN ('pending', 'failed')"
    )
    params: list[Any] = [pid]
    if from_ts:
        sql += " AND timestamp >= ?"
        params.append(from_ts.ljust(14, "0"))
    if to_ts:
        sql += " AND timestamp <= ?"
        params.append(to_ts.ljust(14, "9"))
    sql += " ORDER BY timestamp, id"
    return [CaptureRow(*row) for row in db.execute(sql, params).fetchall()]


def original_capture(db: Database, pid: int, digest: str) -> tuple[str, int | None] | None:
    """(mimetype, status) of a non-revisit capture with this digest, for resolving revisits."""
    row = db.execute(
        "SELECT mimetype, status FROM captures WHERE policy_id = ? AND digest = ? "
        "AND mimetype != 'warc/revisit' ORDER BY timestamp LIMIT 1",
        [pid, digest],
    ).fetchone()
    return (str(row[0]), row[1]) if row else None


def settle_capture(
    db: Database,
    capture_id: int,
    state: str,
    reason: str | None,
    now: datetime,
    *,
    snapshot_id: int | None = None,
    version_id: int | None = None,
) -> None:
    db.execute(
        "UPDATE captures SET state = ?, reason = ?, snapshot_id = ?, version_id = ?, "
        "attempts = attempts + ?, updated_at = ? WHERE id = ?",
        [
            state,
            reason,
            snapshot_id,
            version_id,
            1 if state in ("failed", "fetched") else 0,
            iso(now),
            capture_id,
        ],
    )


def snapshot_for_digest(
    db: Database, pid: int, digest: str
) -> tuple[int, int | None, str | None] | None:
    """(snapshot id, version id, skip reason) of a body already fetched with this digest."""
    if not digest or digest == EMPTY_DIGEST:
        return None
    row = db.execute(
        "SELECT s.id, s.version_id, c.state, c.reason FROM snapshots s "
        "LEFT JOIN captures c ON c.snapshot_id = s.id "
        "WHERE s.policy_id = ? AND s.digest = ? ORDER BY s.id LIMIT 1",
        [pid, digest],
    ).fetchone()
    if not row:
        return None
    reason = None if row[1] is not None else (row[3] or "no text")
    return int(row[0]), row[1], reason


# -- blobs and snapshots ----------------------------------------------------------------------


DELTA_LEVEL = 3
DELTA_MAX_SHARE = 0.05  # a delta bigger than this share of its body starts a new keyframe
_dictionaries: dict[str, tuple[zstandard.ZstdCompressor, zstandard.ZstdDecompressor]] = {}
_dictionary_lock = threading.RLock()  # zstd (de)compressor objects are not thread-safe


def put_blob(db: Database, body: bytes, base: str | None = None) -> str:
    """Store a body content-addressed and zstd-compressed; returns its sha256.

    With `base` (the sha256 of an earlier body of the same page, see `keyframe`), the body is
    compressed against it as a zstd raw-content dictionary: successive captures of one policy
    share nearly all their bytes, so a delta is a few hundred bytes where plain zstd keeps a
    fifth of the page. Deltas are one level deep (the base is always a plain keyframe), and a
    body that is too unlike its base (a redesign) becomes a keyframe itself."""
    sha = hashlib.sha256(body).hexdigest()
    exists = db.execute("SELECT 1 FROM blobs WHERE sha256 = ?", [sha]).fetchone()
    if exists:
        return sha
    delta = None
    if base is not None and base != sha:
        compressor, _ = _dictionary(db, base)
        with _dictionary_lock:
            delta = compressor.compress(body)
        if len(delta) > DELTA_MAX_SHARE * len(body):
            delta = None
    if delta is not None:
        db.execute(
            "INSERT INTO blobs (sha256, size, compression, data, base_sha256) "
            "VALUES (?, ?, 'zstd-delta', ?, ?)",
            [sha, len(body), delta, base],
        )
    else:
        data = zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(body)
        db.execute(
            "INSERT INTO blobs (sha256, size, compression, data) VALUES (?, ?, 'zstd', ?)",
            [sha, len(body), data],
        )
    return sha


def keyframe(db: Database, pid: int) -> str | None:
    """The keyframe of the policy's newest stored body (itself, or the base of its delta)."""
    row = db.execute(
        "SELECT coalesce(b.base_sha256, b.sha256) FROM snapshots s "
        "JOIN blobs b ON b.sha256 = s.blob_sha256 WHERE s.policy_id = ? "
        "ORDER BY s.id DESC LIMIT 1",
        [pid],
    ).fetchone()
    return str(row[0]) if row else None


def _dictionary(
    db: Database, base: str
) -> tuple[zstandard.ZstdCompressor, zstandard.ZstdDecompressor]:
    with _dictionary_lock:
        cached = _dictionaries.get(base)
        if cached is None:
            content = zstandard.ZstdCompressionDict(
                get_blob(db, base), dict_type=zstandard.DICT_TYPE_RAWCONTENT
            )
            cached = (
                zstandard.ZstdCompressor(level=DELTA_LEVEL, dict_data=content),
                zstandard.ZstdDecompressor(dict_data=content),
            )
            if len(_dictionaries) >= 16:
                _dictionaries.pop(next(iter(_dictionaries)))
            _dictionaries[base] = cached
        return cached


def get_blob(db: Database, sha: str) -> bytes:
    row = db.execute(
        "SELECT compression, data, base_sha256 FROM blobs WHERE sha256 = ?", [sha]
    ).fetchone()
    if row is None:
        raise LookupError(f"no blob {sha}")
    compression, data = row[0], bytes(row[1])
    if compression == "zstd-delta":
        decompressor = _dictionary(db, row[2])[1]
        with _dictionary_lock:
            return decompressor.decompress(data)
    return zstandard.ZstdDecompressor().decompress(data) if compression == "zstd" else data


def insert_snapshot(
    db: Database,
    pid: int,
    *,
    source: str,
    timestamp: str,
    url: str,
    requested_url: str,
    playback_url: str,
    status: int,
    content_type: str,
    digest: str,
    blob_sha256: str,
    redirects: list[dict[str, Any]],
    extractor_version: int,
    now: datetime,
) -> int:
    cursor = db.execute(
        "INSERT INTO snapshots (policy_id, source, timestamp, url, requested_url, playback_url, "
        "status, content_type, digest, blob_sha256, redirects, extractor_version, fetched_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            pid,
            source,
            timestamp,
            url,
            requested_url,
            playback_url,
            status,
            content_type,
            digest,
            blob_sha256,
            json.dumps(redirects) if redirects else None,
            extractor_version,
            iso(now),
        ],
    )
    return int(cursor.lastrowid or 0)


def link_snapshot_version(db: Database, snapshot_id: int, version_id: int | None) -> None:
    db.execute("UPDATE snapshots SET version_id = ? WHERE id = ?", [version_id, snapshot_id])


# -- versions ---------------------------------------------------------------------------------


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_version(
    db: Database,
    pid: int,
    *,
    text: str,
    title: str,
    timestamp: str,
    snapshot_id: int | None,
    extractor_version: int,
    now: datetime,
) -> int:
    """Count one more capture showing `text`: a new version, or first/last seen widened."""
    sha = text_sha256(text)
    row = db.execute(
        "SELECT id, first_timestamp, last_timestamp FROM versions "
        "WHERE policy_id = ? AND text_sha256 = ?",
        [pid, sha],
    ).fetchone()
    if row is None:
        cursor = db.execute(
            "INSERT INTO versions (policy_id, text_sha256, title, text, words, first_seen, "
            "last_seen, first_timestamp, last_timestamp, captures, first_snapshot_id, "
            "extractor_version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)",
            [
                pid,
                sha,
                title,
                text,
                len(text.split()),
                ts_iso(timestamp),
                ts_iso(timestamp),
                timestamp,
                timestamp,
                snapshot_id,
                extractor_version,
                iso(now),
            ],
        )
        return int(cursor.lastrowid or 0)
    vid, first, last = int(row[0]), str(row[1]), str(row[2])
    first, last = min(first, timestamp), max(last, timestamp)
    db.execute(
        "UPDATE versions SET captures = captures + 1, first_timestamp = ?, last_timestamp = ?, "
        "first_seen = ?, last_seen = ?, first_snapshot_id = CASE WHEN ? < first_timestamp "
        "THEN ? ELSE first_snapshot_id END WHERE id = ?",
        [first, last, ts_iso(first), ts_iso(last), timestamp, snapshot_id, vid],
    )
    return vid


def history(db: Database, pid: int) -> list[dict[str, Any]]:
    """The versions of a policy, oldest first, numbered from 1."""
    rows = db.execute(
        "SELECT id, first_seen, last_seen, first_timestamp, last_timestamp, captures, words, "
        "title, text_sha256 FROM versions WHERE policy_id = ? AND captures > 0 "
        "ORDER BY first_timestamp, id",
        [pid],
    ).fetchall()
    return [
        {
            "number": i,
            "id": r[0],
            "first_seen": r[1],
            "last_seen": r[2],
            "first_timestamp": r[3],
            "last_timestamp": r[4],
            "snapshots": r[5],
            "words": r[6],
            "title": r[7],
            "text_sha256": r[8],
        }
        for i, r in enumerate(rows, start=1)
    ]


def version_text(db: Database, version_id: int) -> str:
    row = db.execute("SELECT text FROM versions WHERE id = ?", [version_id]).fetchone()
    if row is None:
        raise LookupError(f"no version {version_id}")
    return str(row[0])


def table_counts(db: Database) -> dict[str, int]:
    return {
        name: int(db.execute(f"SELECT count(*) FROM [{name}]").fetchone()[0])  # noqa: S608
        for name in ("policies", "captures", "blobs", "snapshots", "versions", "runs")
    }


# -- runs -------------------------------------------------------------------------------------


def start_run(db: Database, kind: str, pid: int | None, now: datetime) -> int:
    with writing(db):
        cursor = db.execute(
            "INSERT INTO runs (kind, policy_id, started_at, status) VALUES (?, ?, ?, 'running')",
            [kind, pid, iso(now)],
        )
    return int(cursor.lastrowid or 0)


def finish_run(
    db: Database,
    run_id: int,
    status: str,
    counts: dict[str, int],
    now: datetime,
    error: str | None = None,
) -> None:
    with writing(db):
        db.execute(
            "UPDATE runs SET finished_at = ?, status = ?, counts = ?, error = ? WHERE id = ?",
            [iso(now), status, json.dumps(counts), error, run_id],
        )


def rows(db: Database, sql: str, params: list[Any] | None = None) -> Iterator[dict[str, Any]]:
    cursor = db.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    for row in cursor.fetchall():
        yield dict(zip(names, row, strict=True))


# -- changes ----------------------------------------------------------------------------------


def capture_timeline(db: Database, pid: int) -> list[tuple[str, int]]:
    """(timestamp, version id) of every capture that showed a text, in time order."""
    return [
        (str(ts), int(v))
        for ts, v in db.execute(
            "SELECT timestamp, version_id FROM captures WHERE policy_id = ? AND state IN ('fetched', 'inferred') "
            "AND version_id IS NOT NULL ORDER BY timestamp, id",
            [pid],
        ).fetchall()
    ]


def change_keys(db: Database, pid: int) -> dict[tuple[int | None, int, str], int]:
    return {
        (f, t, str(at)): int(cid)
        for cid, f, t, at in db.execute(
            "SELECT id, from_version_id, to_version_id, at_timestamp FROM changes "
            "WHERE policy_id = ? AND kind != 'technical'",
            [pid],
        ).fetchall()
    }


def insert_change(
    db: Database,
    pid: int,
    *,
    from_version_id: int | None,
    to_version_id: int,
    at_timestamp: str,
    previous_timestamp: str | None,
    kind: str,
    substantive: bool,
    summary: str,
    sections: str,
    words_added: int,
    words_removed: int,
    now: datetime,
) -> int:
    cursor = db.execute(
        "INSERT INTO changes (policy_id, from_version_id, to_version_id, at_timestamp, at, "
        "previous_timestamp, kind, substantive, summary, sections, words_added, words_removed, "
        "detected_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            pid,
            from_version_id,
            to_version_id,
            at_timestamp,
            ts_iso(at_timestamp),
            previous_timestamp,
            kind,
            int(substantive),
            summary,
            sections,
            words_added,
            words_removed,
            iso(now),
        ],
    )
    return int(cursor.lastrowid or 0)


def delete_changes(db: Database, ids: Iterable[int]) -> None:
    db.conn.executemany("DELETE FROM changes WHERE id = ?", [(i,) for i in ids])


def changes(
    db: Database,
    pid: int | None = None,
    since: str | None = None,
    substantive_only: bool = False,
    limit: int | None = None,
    kind: str | None = None,
) -> list[dict[str, Any]]:
    sql = (
        "SELECT c.*, p.name AS policy FROM changes c JOIN policies p ON p.id = c.policy_id "
        "WHERE 1 = 1"
    )
    params: list[Any] = []
    if pid is not None:
        sql += " AND c.policy_id = ?"
        params.append(pid)
    if since:
        sql += " AND c.at >= ?"
        params.append(since)
    if substantive_only:
        sql += " AND c.substantive = 1"
    if kind:
        sql += " AND c.kind = ?"
        params.append(kind)
    sql += " ORDER BY c.at_timestamp DESC, c.id DESC"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return list(rows(db, sql, params))


# -- watching: live captures, schedule state, problems, alerts ----------------------------------

STATE_COLUMNS = (
    "next_check_at",
    "next_sync_at",
    "last_check_at",
    "last_check_status",
    "last_error",
    "consecutive_failures",
    "etag",
    "last_modified",
    "shrunk_checks",
    "cdx_complete_through",
)


def policy_state(db: Database, pid: int) -> dict[str, Any]:
    row = db.execute(
        f"SELECT {', '.join(STATE_COLUMNS)} FROM policy_state WHERE policy_id = ?", [pid]
    ).fetchone()
    return dict(zip(STATE_COLUMNS, row, strict=True)) if row else dict.fromkeys(STATE_COLUMNS)


def update_policy_state(db: Database, pid: int, **values: Any) -> None:
    unknown = set(values) - set(STATE_COLUMNS)
    if unknown:
        raise ValueError(f"unknown policy_state columns: {sorted(unknown)}")
    db.execute("INSERT OR IGNORE INTO policy_state (policy_id) VALUES (?)", [pid])
    if values:
        assignments = ", ".join(f"{k} = ?" for k in values)
        db.execute(
            f"UPDATE policy_state SET {assignments} WHERE policy_id = ?", [*values.values(), pid]
        )


def add_live_capture(
    db: Database,
    pid: int,
    *,
    timestamp: str,
    url: str,
    mimetype: str,
    status: int,
    digest: str,
    state: str,
    reason: str | None,
    snapshot_id: int | None,
    version_id: int | None,
    now: datetime,
) -> int:
    cursor = db.execute(
        "INSERT INTO captures (policy_id, timestamp, original, urlkey, mimetype, status, digest, "
        "length, state, reason, attempts, snapshot_id, version_id, seen_at, updated_at, source) "
        "VALUES (?, ?, ?, '', ?, ?, ?, NULL, ?, ?, 1, ?, ?, ?, ?, 'live') "
        "ON CONFLICT DO NOTHING",
        [
            pid,
            timestamp,
            url,
            mimetype,
            status,
            digest,
            state,
            reason,
            snapshot_id,
            version_id,
            iso(now),
            iso(now),
        ],
    )
    return int(cursor.lastrowid or 0)


def latest_version(db: Database, pid: int) -> dict[str, Any] | None:
    """The version shown by the most recent capture (archive or live)."""
    row = db.execute(
        "SELECT v.id, v.text, v.words, v.title FROM captures c JOIN versions v ON v.id = "
        "c.version_id WHERE c.policy_id = ? AND c.state IN ('fetched', 'inferred') "
        "ORDER BY c.timestamp DESC, c.id DESC LIMIT 1",
        [pid],
    ).fetchone()
    return {"id": row[0], "text": row[1], "words": row[2], "title": row[3]} if row else None


def open_problem(db: Database, pid: int, kind: str) -> int | None:
    row = db.execute(
        "SELECT id FROM problems WHERE policy_id = ? AND kind = ? AND closed_at IS NULL",
        [pid, kind],
    ).fetchone()
    return int(row[0]) if row else None


def add_problem(db: Database, pid: int, kind: str, detail: str, now: datetime) -> int:
    cursor = db.execute(
        "INSERT INTO problems (policy_id, kind, detail, opened_at) VALUES (?, ?, ?, ?)",
        [pid, kind, detail, iso(now)],
    )
    return int(cursor.lastrowid or 0)


def close_problems(db: Database, pid: int, now: datetime, kind: str | None = None) -> int:
    sql = "UPDATE problems SET closed_at = ? WHERE policy_id = ? AND closed_at IS NULL"
    params: list[Any] = [iso(now), pid]
    if kind:
        sql += " AND kind = ?"
        params.append(kind)
    return int(db.execute(sql, params).rowcount)


def enqueue_alert(
    db: Database,
    *,
    uid: str,
    event: str,
    pid: int,
    sink: str,
    change_id: int | None,
    problem_id: int | None,
    now: datetime,
) -> None:
    db.execute(
        "INSERT OR IGNORE INTO alerts (uid, event, change_id, problem_id, policy_id, sink, state, "
        "attempts, next_try_at, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)",
        [uid, event, change_id, problem_id, pid, sink, iso(now), iso(now)],
    )


def due_alerts(db: Database, now: datetime) -> list[dict[str, Any]]:
    return list(
        rows(
            db,
            "SELECT a.*, p.name AS policy, p.url AS policy_url, p.kind AS policy_kind FROM alerts a "
            "JOIN policies p ON p.id = a.policy_id WHERE a.state = 'pending' AND a.next_try_at <= ? "
            "ORDER BY a.id",
            [iso(now)],
        )
    )


def mark_alert(
    db: Database,
    alert_id: int,
    *,
    delivered: bool,
    now: datetime,
    error: str | None = None,
    next_try: datetime | None = None,
) -> None:
    if delivered:
        db.execute(
            "UPDATE alerts SET state = 'delivered', attempts = attempts + 1, delivered_at = ?, "
            "last_error = NULL WHERE id = ?",
            [iso(now), alert_id],
        )
    else:
        db.execute(
            "UPDATE alerts SET attempts = attempts + 1, last_error = ?, next_try_at = ? "
            "WHERE id = ?",
            [error, iso(next_try or now), alert_id],
        )


def list_alerts(db: Database, pending_only: bool = False) -> list[dict[str, Any]]:
    sql = (
        "SELECT a.id, a.uid, a.event, p.name AS policy, a.sink, a.state, a.attempts, "
        "a.next_try_at, a.last_error, a.created_at, a.delivered_at FROM alerts a "
        "JOIN policies p ON p.id = a.policy_id"
    )
    if pending_only:
        sql += " WHERE a.state = 'pending'"
    return list(rows(db, sql + " ORDER BY a.id DESC"))


def retry_alerts(db: Database, now: datetime) -> int:
    return int(
        db.execute("UPDATE alerts SET next_try_at = ? WHERE state = 'pending'", [iso(now)]).rowcount
    )


def change_row(db: Database, change_id: int) -> dict[str, Any]:
    return next(rows(db, "SELECT * FROM changes WHERE id = ?", [change_id]))


def problem_row(db: Database, problem_id: int) -> dict[str, Any]:
    return next(rows(db, "SELECT * FROM problems WHERE id = ?", [problem_id]))


def version_row(db: Database, version_id: int) -> dict[str, Any]:
    return next(
        rows(
            db,
            "SELECT id, policy_id, first_seen, last_seen, words, title, "
            "text_sha256 FROM versions WHERE id = ?",
            [version_id],
        )
    )


OVERVIEW = """
        SELECT p.id, p.name, p.url, p.kind,
          (SELECT count(*) FROM versions v WHERE v.policy_id = p.id AND v.captures > 0)
            AS versions,
          (SELECT min(at) FROM changes c WHERE c.policy_id = p.id) AS first_change,
          (SELECT max(at) FROM changes c WHERE c.policy_id = p.id AND c.kind = 'change')
            AS last_change,
          s.last_check_at, s.last_check_status, s.last_error,
          (SELECT count(*) FROM problems q WHERE q.policy_id = p.id AND q.closed_at IS NULL)
            AS open_problems
        FROM policies p LEFT JOIN policy_state s ON s.policy_id = p.id"""


def policies_overview(db: Database) -> list[dict[str, Any]]:
    """Every policy with its version count, first and last change, and last check."""
    return list(rows(db, OVERVIEW + " ORDER BY p.name"))


def policy_overview(db: Database, name: str) -> dict[str, Any] | None:
    """The same for one policy, or None."""
    found = list(rows(db, OVERVIEW + " WHERE p.name = ?", [name]))
    return found[0] if found else None


def history_with_changes(db: Database, pid: int) -> list[dict[str, Any]]:
    """history() plus, for each version, the summary of the change that first brought it."""
    versions = history(db, pid)
    summaries: dict[int, tuple[str, int, str]] = {}
    for row in db.execute(
        "SELECT to_version_id, summary, substantive, kind FROM changes WHERE policy_id = ? "
        "ORDER BY at_timestamp DESC",
        [pid],
    ).fetchall():
        summaries[int(row[0])] = (str(row[1]), int(row[2]), str(row[3]))
    for v in versions:
        summary, substantive, kind = summaries.get(v["id"], ("", 0, ""))
        v["change"] = summary
        v["change_kind"] = kind
        v["substantive"] = bool(substantive) and kind == "change"
    return versions


def version_in_force(db: Database, pid: int, end_timestamp: str) -> int | None:
    """The version shown by the last capture at or before `end_timestamp`."""
    row = db.execute(
        "SELECT version_id FROM captures WHERE policy_id = ? AND state IN ('fetched', 'inferred') AND "
        "version_id IS NOT NULL AND timestamp <= ? ORDER BY timestamp DESC, id DESC LIMIT 1",
        [pid, end_timestamp],
    ).fetchone()
    return int(row[0]) if row else None


def first_snapshot(db: Database, version_id: int) -> dict[str, Any] | None:
    found = list(
        rows(
            db,
            """
        SELECT s.source, s.timestamp, s.url, s.requested_url, s.playback_url FROM captures c
        JOIN snapshots s ON s.id = c.snapshot_id WHERE c.version_id = ?
        ORDER BY c.timestamp, c.id LIMIT 1""",
            [version_id],
        )
    )
    return found[0] if found else None


def presence(db: Database, pid: int) -> list[tuple[int, str, str | None]]:
    """(version id, from, until) along the timeline: each run of one text, from its first
    capture until the next text's first capture (None: still the latest)."""
    runs: list[list[Any]] = []
    for timestamp, version_id in capture_timeline(db, pid):
        if runs and runs[-1][0] == version_id:
            continue
        if runs:
            runs[-1][2] = timestamp
        runs.append([version_id, timestamp, None])
    return [(int(v), str(a), b) for v, a, b in runs]


def fts_query(text: str) -> str:
    """What a person types, as an FTS5 query: plain words become an AND of quoted terms (so
    "opt-out" or "e-mail" search as words); quoted phrases and FTS5 syntax pass through."""
    if any(ch in text for ch in '"*():') or re.search(r"\b(AND|OR|NOT|NEAR)\b", text):
        return text
    return " ".join('"' + word.replace('"', "") + '"' for word in text.split())


RANK_AT_MOST = 20_000  # more matches than this are listed newest first, not ranked


def search(
    db: Database, query: str, pid: int | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """Versions matching an FTS5 query, best first, with a snippet ([[…]] marks the hits);
    each hit says its `order`: "relevance", or "newest" (the most recently recorded first) when
    more than RANK_AT_MOST versions match: ranking them all would read every match, while the
    newest come straight off the index.
    Raises sqlite3.OperationalError for a query FTS5 cannot parse."""
    sql = """
        SELECT v.id, v.policy_id, p.name AS policy, v.first_seen, v.last_seen,
          snippet(versions_fts, 1, '[[', ']]', '…', 16) AS snippet,
          bm25(versions_fts) AS rank
        FROM versions_fts JOIN versions v ON v.id = versions_fts.rowid
        JOIN policies p ON p.id = v.policy_id
        WHERE versions_fts MATCH ? AND v.captures > 0"""
    params: list[Any] = [query]
    order = "relevance"
    if pid is not None:
        # Only this policy's stretch of the index: FTS5 seeks rowid ranges.
        low, high = db.execute(
            "SELECT min(id), max(id) FROM versions WHERE policy_id = ?", [pid]
        ).fetchone()
        sql += " AND versions_fts.rowid BETWEEN ? AND ? AND v.policy_id = ?"
        params += [low or 0, high or 0, pid]
        sql += " ORDER BY rank LIMIT ?"
    else:
        many = db.execute(
            "SELECT count(*) FROM (SELECT rowid FROM versions_fts WHERE versions_fts MATCH ? "
            "LIMIT ?)",
            [query, RANK_AT_MOST + 1],
        ).fetchone()[0]
        if many > RANK_AT_MOST:
            order = "newest"
            sql += " ORDER BY versions_fts.rowid DESC LIMIT ?"
        else:
            sql += " ORDER BY rank LIMIT ?"
    params.append(limit)
    return [{**row, "order": order} for row in rows(db, sql, params)]


def stats(db: Database) -> dict[str, Any]:
    counts = table_counts(db)
    counts.update(
        {
            name: int(db.execute(f"SELECT count(*) FROM [{name}]").fetchone()[0])
            for name in ("changes", "alerts", "problems")
        }
    )
    by_state = dict(db.execute("SELECT state, count(*) FROM captures GROUP BY state").fetchall())
    raw = db.execute(
        "SELECT coalesce(sum(size), 0), coalesce(sum(length(data)), 0) FROM blobs"
    ).fetchone()
    pages = (
        db.execute("PRAGMA page_count").fetchone()[0] * db.execute("PRAGMA page_size").fetchone()[0]
    )
    return {
        "tables": counts,
        "captures_by_state": by_state,
        "substantive_changes": int(
            db.execute(
                "SELECT count(*) FROM changes WHERE kind = 'change' AND substantive = 1"
            ).fetchone()[0]
        ),
        "pending_alerts": int(
            db.execute("SELECT count(*) FROM alerts WHERE state = 'pending'").fetchone()[0]
        ),
        "open_problems": int(
            db.execute("SELECT count(*) FROM problems WHERE closed_at IS NULL").fetchone()[0]
        ),
        "raw_bytes": int(raw[0]),
        "stored_raw_bytes": int(raw[1]),
        "database_bytes": int(pages),
    }


def export_rows(db: Database, pid: int | None = None) -> list[dict[str, Any]]:
    sql = """SELECT p.name AS policy, p.url, p.kind, v.id, v.first_seen, v.last_seen,
               v.first_timestamp, v.last_timestamp, v.captures AS snapshots, v.words,
               v.text_sha256, v.title, v.text, v.policy_id
             FROM versions v JOIN policies p ON p.id = v.policy_id WHERE v.captures > 0"""
    params: list[Any] = []
    if pid is not None:
        sql += " AND v.policy_id = ?"
        params.append(pid)
    out = list(rows(db, sql + " ORDER BY p.name, v.first_timestamp, v.id", params))
    number: dict[int, int] = {}
    for row in out:
        number[row["policy_id"]] = number.get(row["policy_id"], 0) + 1
        row["number"] = number[row["policy_id"]]
    return out


def connect_readonly(path: str | Path) -> Database:
    """A read-only connection for the web pages: it can never write, and never blocks `run`."""
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=30000")
    return Database(conn)


def recount_versions(db: Database, pid: int) -> None:
    """Recompute each version's captures, first and last seen from the captures that show it;
    versions no capture shows any more keep their text but count 0 (superseded)."""
    db.execute(
        """
        UPDATE versions SET
          captures = (SELECT count(*) FROM captures c WHERE c.version_id = versions.id),
          first_timestamp = coalesce((SELECT min(timestamp) FROM captures c
                                      WHERE c.version_id = versions.id), first_timestamp),
          last_timestamp = coalesce((SELECT max(timestamp) FROM captures c
                                     WHERE c.version_id = versions.id), last_timestamp)
        WHERE policy_id = ?""",
        [pid],
    )
    for vid, first, last in db.execute(
        "SELECT id, first_timestamp, last_timestamp FROM versions WHERE policy_id = ?", [pid]
    ).fetchall():
        db.execute(
            "UPDATE versions SET first_seen = ?, last_seen = ? WHERE id = ?",
            [ts_iso(first), ts_iso(last), vid],
        )
