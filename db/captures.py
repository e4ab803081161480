"""Captures and snapshots: every archive capture and live fetch with its state and reason, and the
snapshot (raw body, URL, redirects) each fetched one produced.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from db.connection import iso, rows, writing

EMPTY_DIGEST = "3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ"


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
    fetcher: str = "http",
) -> int:
    """A fetched body. `fetcher`: http, browser (rendered live) or browser-replay (an archived
    capture rendered in the archive's replay); a rendered body is the page's DOM."""
    cursor = db.execute(
        "INSERT INTO snapshots (policy_id, source, timestamp, url, requested_url, playback_url, "
        "status, content_type, digest, blob_sha256, redirects, extractor_version, fetched_at, "
        "fetcher) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            fetcher,
        ],
    )
    return int(cursor.lastrowid or 0)


def link_snapshot_version(db: Database, snapshot_id: int, version_id: int | None) -> None:
    db.execute("UPDATE snapshots SET version_id = ? WHERE id = ?", [version_id, snapshot_id])


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


SHOWN = "c.state IN ('fetched', 'inferred') AND c.version_id = ?"


def version_captures(db: Database, version_id: int) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The first and the last capture that show a version: (timestamp, url, source) each."""
    sql = (
        "SELECT c.timestamp, c.original AS url, coalesce(c.source, 'archive') AS source, "
        "s.fetcher FROM captures c LEFT JOIN snapshots s ON s.id = c.snapshot_id "
        f"WHERE {SHOWN} "
        "ORDER BY c.timestamp {}, c.id {} LIMIT 1"
    )
    first = list(rows(db, sql.format("ASC", "ASC"), [version_id]))
    last = list(rows(db, sql.format("DESC", "DESC"), [version_id]))
    return (first[0], last[0]) if first and last else None


def capture_showing(db: Database, version_id: int, timestamp: str) -> dict[str, Any] | None:
    """The capture at `timestamp` that shows a version: (timestamp, url, source)."""
    found = list(
        rows(
            db,
            "SELECT c.timestamp, c.original AS url, coalesce(c.source, 'archive') AS source, "
            "s.fetcher FROM captures c LEFT JOIN snapshots s ON s.id = c.snapshot_id "
            f"WHERE {SHOWN} "
            "AND c.timestamp = ? ORDER BY c.id LIMIT 1",
            [version_id, timestamp],
        )
    )
    return found[0] if found else None


def playback_prefix(db: Database, pid: int) -> str | None:
    """Where the policy's archive replays captures (`https://web.archive.org/web`, or a pywb
    collection's URL), read off a raw playback URL we fetched; None before any."""
    row = db.execute(
        "SELECT playback_url FROM snapshots WHERE policy_id = ? AND source != 'live' "
        "AND playback_url LIKE '%id\\_/%' ESCAPE '\\' ORDER BY id LIMIT 1",
        [pid],
    ).fetchone()
    if row is None:
        return None
    match = re.match(r"^(.*?)/\d{1,14}id_/", str(row[0]))
    return match.group(1) if match else None


def add_seen_text(
    db: Database, pid: int, text: str, timestamp: str, url: str, now: datetime, title: str = ""
) -> int:
    """A text a live fetch saw at `timestamp`, recorded as `check` records one (a version and
    its capture, without the page's body): for imports, fixtures and benchmarks. Returns the
    version id."""
    from db.versions import record_version

    with db.atomic():
        vid = record_version(
            db,
            pid,
            text=text,
            title=title,
            timestamp=timestamp,
            snapshot_id=None,
            extractor_version=1,
            now=now,
        )
        add_live_capture(
            db,
            pid,
            timestamp=timestamp,
            url=url,
            mimetype="text/html",
            status=200,
            digest=timestamp,
            state="fetched",
            reason=None,
            snapshot_id=None,
            version_id=vid,
            now=now,
        )
    return vid
