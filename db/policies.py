"""Policies and their watch state: one row per tracked document, its CDX progress, the live
checks' state (due time, failures, validators), and the runs that touched it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from db.connection import iso, writing

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
    "escalated",
    "escalated_checks",
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
