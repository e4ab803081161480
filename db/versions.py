"""Versions: each distinct text of a policy with its first and last seen and its counts."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from db.connection import iso, rows, ts_iso

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
            "extractor_version, created_at, uid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)",
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
                new_uid(db, pid, sha, timestamp),
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


UID = re.compile(r"^(?:(\d{4}-\d{2}-\d{2})-)?([0-9a-f]{6,64})$")


def new_uid(db: Database, pid: int, sha: str, timestamp: str) -> str:
    """A new version's stable id: the day it is first recorded and the shortest prefix (6 hex
    digits or more) of its text's SHA-256 that no other text of the policy starts with. Set
    once: a later backfill that finds the text earlier widens its first seen, not its id."""
    length = 6
    while db.execute(
        "SELECT 1 FROM versions WHERE policy_id = ? AND text_sha256 >= ? AND text_sha256 < ? "
        "AND text_sha256 != ? LIMIT 1",
        [pid, sha[:length], sha[:length] + "g", sha],
    ).fetchone():
        length += 1
    return f"{ts_iso(timestamp)[:10]}-{sha[:length]}"


def version_by_uid(db: Database, pid: int, ref: str) -> int | None:
    """The version a stable id names: its own id, or (from another database, or a link made
    before the id was known) the one text of the policy whose SHA-256 starts with the id's
    hash part. None when no text, or more than one, matches."""
    match = UID.match(ref.strip().lower())
    if not match:
        return None
    row = db.execute(
        "SELECT id FROM versions WHERE policy_id = ? AND uid = ?", [pid, ref.strip().lower()]
    ).fetchone()
    if row:
        return int(row[0])
    prefix = match.group(2)
    found = db.execute(
        "SELECT id FROM versions WHERE policy_id = ? AND text_sha256 >= ? AND text_sha256 < ? "
        "LIMIT 2",
        [pid, prefix, prefix + "g"],
    ).fetchall()
    return int(found[0][0]) if len(found) == 1 else None


def history(db: Database, pid: int) -> list[dict[str, Any]]:
    """The versions of a policy, oldest first, numbered from 1 (`number`, a display ordinal
    that changes when an older text is found) with their stable ids (`uid`, which never does)."""
    rows = db.execute(
        "SELECT id, first_seen, last_seen, first_timestamp, last_timestamp, captures, words, "
        "title, text_sha256, uid FROM versions WHERE policy_id = ? AND captures > 0 "
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
            "uid": r[9],
        }
        for i, r in enumerate(rows, start=1)
    ]


def version_text(db: Database, version_id: int) -> str:
    row = db.execute("SELECT text FROM versions WHERE id = ?", [version_id]).fetchone()
    if row is None:
        raise LookupError(f"no version {version_id}")
    return str(row[0])


def latest_version(db: Database, pid: int) -> dict[str, Any] | None:
    """The version shown by the most recent capture (archive or live)."""
    row = db.execute(
        "SELECT v.id, v.text, v.words, v.title FROM captures c JOIN versions v ON v.id = "
        "c.version_id WHERE c.policy_id = ? AND c.state IN ('fetched', 'inferred') "
        "ORDER BY c.timestamp DESC, c.id DESC LIMIT 1",
        [pid],
    ).fetchone()
    return {"id": row[0], "text": row[1], "words": row[2], "title": row[3]} if row else None


def version_row(db: Database, version_id: int) -> dict[str, Any]:
    return next(
        rows(
            db,
            "SELECT id, policy_id, first_seen, last_seen, words, title, "
            "text_sha256 FROM versions WHERE id = ?",
            [version_id],
        )
    )


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
        SELECT s.source, s.timestamp, s.url, s.requested_url, s.playback_url, s.fetcher
        FROM captures c
        JOIN snapshots s ON s.id = c.snapshot_id WHERE c.version_id = ?
        ORDER BY c.timestamp, c.id LIMIT 1""",
            [version_id],
        )
    )
    return found[0] if found else None


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
