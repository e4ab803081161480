"""The alert outbox and problems: what each sink is owed, its delivery state, and the problems
(failing or shrinking pages) that raise notices.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlite_utils import Database

from db.connection import iso, rows


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
    terms: str | None = None,
) -> None:
    db.execute(
        "INSERT OR IGNORE INTO alerts (uid, event, change_id, problem_id, policy_id, sink, state, "
        "attempts, next_try_at, created_at, terms) "
        "VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)",
        [uid, event, change_id, problem_id, pid, sink, iso(now), iso(now), terms],
    )


def repoint_alerts(db: Database, pid: int, stale: dict[tuple[int | None, int, str], int]) -> None:
    """Before stale change rows go (a capture found later moved a change): their alerts that
    are still pending follow the new row of the same transition (same texts); those whose
    transition is gone from the timeline are dropped, with the reason."""
    for (from_id, to_id, _), change_id in stale.items():
        row = db.execute(
            "SELECT id FROM changes WHERE policy_id = ? AND to_version_id = ? AND "
            "from_version_id IS ? AND id != ? ORDER BY at_timestamp LIMIT 1",
            [pid, to_id, from_id, change_id],
        ).fetchone()
        if row:
            db.execute(
                "UPDATE alerts SET change_id = ? WHERE change_id = ?", [int(row[0]), change_id]
            )
        else:
            db.execute(
                "UPDATE alerts SET state = 'dropped', change_id = NULL, last_error = "
                "'the change is no longer on the timeline (a capture found later)' "
                "WHERE change_id = ? AND state = 'pending'",
                [change_id],
            )
            db.execute("UPDATE alerts SET change_id = NULL WHERE change_id = ?", [change_id])


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


def problem_row(db: Database, problem_id: int) -> dict[str, Any]:
    return next(rows(db, "SELECT * FROM problems WHERE id = ?", [problem_id]))
