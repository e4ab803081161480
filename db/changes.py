"""Changes: one row per transition between consecutive texts, with its section diff as JSON."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from db.connection import iso, rows, ts_iso
from db.corpus import index_change_words, unindex_changes


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
    change_id = int(cursor.lastrowid or 0)
    if kind == "change":
        index_change_words(db, change_id, sections)
    return change_id


def delete_changes(db: Database, ids: Iterable[int]) -> None:
    ids = list(ids)
    db.conn.executemany("DELETE FROM changes WHERE id = ?", [(i,) for i in ids])
    unindex_changes(db, ids)


CHANGES = (
    "SELECT c.*, p.name AS policy, p.kind AS policy_kind, p.url AS policy_url, "
    "fv.uid AS from_version, tv.uid AS to_version FROM changes c "
    "JOIN policies p ON p.id = c.policy_id "
    "LEFT JOIN versions fv ON fv.id = c.from_version_id "
    "JOIN versions tv ON tv.id = c.to_version_id WHERE 1 = 1"
)


def _change_filters(
    pid: int | None,
    since: str | None,
    until: str | None,
    substantive_only: bool,
    kind: str | None,
    policy_kind: str | None,
    section: str | None,
    words: str | None = None,
) -> tuple[str, list[Any]]:
    sql, params = "", list[Any]()
    if words:
        # What the change added or removed (FTS5 over change_words, written at record time).
        sql += " AND c.id IN (SELECT rowid FROM change_words WHERE change_words MATCH ?)"
        params.append(words)
    for clause, value in (
        (" AND c.policy_id = ?", pid),
        (" AND c.at >= ?", since),
        (" AND c.at <= ?", until),
        (" AND c.kind = ?", kind),
        (" AND p.kind = ?", policy_kind),
    ):
        if value is not None and value != "":
            sql += clause
            params.append(value)
    if substantive_only:
        sql += " AND c.substantive = 1"
    if section:
        # Section headings and kinds are in the JSON of `sections`, the names in `summary`.
        sql += " AND (c.sections LIKE ? ESCAPE '\\' OR c.summary LIKE ? ESCAPE '\\')"
        pattern = "%" + section.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        params += [pattern, pattern]
    return sql, params


def changes(
    db: Database,
    pid: int | None = None,
    since: str | None = None,
    substantive_only: bool = False,
    limit: int | None = None,
    kind: str | None = None,
    *,
    until: str | None = None,
    policy_kind: str | None = None,
    section: str | None = None,
    offset: int = 0,
    words: str | None = None,
) -> list[dict[str, Any]]:
    """Changes, newest first, with their policy and the stable ids of the versions they join
    (`from_version`, `to_version`). `since`/`until` bound `at` (ISO text); `section` finds a
    section heading or summary word; `words` an FTS5 query over what changes added and removed
    (see corpus.words_query)."""
    where, params = _change_filters(
        pid, since, until, substantive_only, kind, policy_kind, section, words
    )
    sql = CHANGES + where + " ORDER BY c.at_timestamp DESC, c.id DESC"
    if limit:
        sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
    return list(rows(db, sql, params))


def count_changes(
    db: Database,
    pid: int | None = None,
    since: str | None = None,
    substantive_only: bool = False,
    kind: str | None = None,
    *,
    until: str | None = None,
    policy_kind: str | None = None,
    section: str | None = None,
    words: str | None = None,
) -> int:
    where, params = _change_filters(
        pid, since, until, substantive_only, kind, policy_kind, section, words
    )
    sql = "SELECT count(*) FROM changes c JOIN policies p ON p.id = c.policy_id WHERE 1 = 1"
    return int(db.execute(sql + where, params).fetchone()[0])


def change_row(db: Database, change_id: int) -> dict[str, Any]:
    """The change row; LookupError when it is gone."""
    for row in rows(db, "SELECT * FROM changes WHERE id = ?", [change_id]):
        return row
    raise LookupError(f"change {change_id} is no longer in the database")
