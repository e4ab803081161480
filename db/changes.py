"""Changes: one row per transition between consecutive texts, with its section diff as JSON."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from db.connection import iso, rows, ts_iso


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


def change_row(db: Database, change_id: int) -> dict[str, Any]:
    return next(rows(db, "SELECT * FROM changes WHERE id = ?", [change_id]))
