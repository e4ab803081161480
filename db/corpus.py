"""Across the corpus: what trends read (each document's versions in force over time, their
lengths and reading grades), and the words each change added and removed, indexed with FTS5
for `changes --added` / `--removed`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlite_utils import Database

from db.connection import rows
from db.words import change_words


def index_change_words(db: Database, change_id: int, sections: str | None) -> None:
    added, removed = change_words(sections)
    db.execute(
        "INSERT OR REPLACE INTO change_words (rowid, added, removed) VALUES (?, ?, ?)",
        [change_id, added, removed],
    )


def unindex_changes(db: Database, ids: Iterable[int]) -> None:
    db.conn.executemany("DELETE FROM change_words WHERE rowid = ?", [(i,) for i in ids])


def words_query(added: str | None, removed: str | None) -> str | None:
    """The FTS5 query over change_words for `--added` / `--removed` (each an FTS5 query:
    words, "phrases", prefix*, AND/OR/NOT, parentheses)."""
    parts = [
        f"{{{column}}} : ({query})"
        for column, query in (("added", added), ("removed", removed))
        if query
    ]
    return " AND ".join(parts) or None


def timelines(db: Database, pids: list[int] | None = None) -> list[dict[str, Any]]:
    """Every step of the chosen documents' timelines (first text, changes), oldest first per
    document, with the version's words and grade, and the document's last capture."""
    sql = (
        "SELECT c.policy_id, c.at_timestamp, c.to_version_id AS version_id, v.words, v.grade, "
        "p.name, p.kind, (SELECT max(timestamp) FROM captures k WHERE k.policy_id = c.policy_id) "
        "AS last_timestamp FROM changes c JOIN versions v ON v.id = c.to_version_id "
        "JOIN policies p ON p.id = c.policy_id"
    )
    params: list[Any] = []
    if pids is not None:
        sql += f" WHERE c.policy_id IN ({', '.join('?' for _ in pids)})"
        params = list(pids)
    return list(rows(db, sql + " ORDER BY c.policy_id, c.at_timestamp, c.id", params))


def version_texts(db: Database, ids: Iterable[int]) -> dict[int, str]:
    wanted = list(ids)
    out: dict[int, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        for vid, text in db.execute(f"SELECT id, text FROM versions WHERE id IN ({marks})", chunk):
            out[int(vid)] = str(text)
    return out


def version_grades(db: Database, ids: Iterable[int]) -> dict[int, float | None]:
    """Each version's kept reading grade (None: not computed yet; -1: no sentence), read in
    chunks (SQLite caps the parameters of one statement)."""
    wanted = sorted(set(ids))
    out: dict[int, float | None] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        for vid, grade in db.execute(
            f"SELECT id, grade FROM versions WHERE id IN ({marks})", chunk
        ):
            out[int(vid)] = grade
    return out


def set_grades(db: Database, grades: dict[int, float | None]) -> None:
    db.conn.executemany(
        "UPDATE versions SET grade = ? WHERE id = ?",
        [(-1.0 if g is None else g, vid) for vid, g in grades.items()],  # -1: no sentence
    )
