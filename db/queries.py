"""What the CLI and the web pages ask: policy overviews, history with changes, full-text search
with the date ranges a text was present, stats and export rows.
"""

from __future__ import annotations

import re
from typing import Any

from sqlite_utils import Database

from db.captures import capture_timeline
from db.connection import rows, table_counts, ts_iso
from db.versions import history

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


def present_ranges(db: Database, hits: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """For each policy among search hits, the stretches of its timeline in which a matching
    text was in force: {"from", "until"} (ISO), `until` None when a matching text is still the
    latest, then with `last_seen` (its last capture) and `live` (whether a live check saw it
    there: only then is it "now")."""
    by_policy: dict[int, set[int]] = {}
    for hit in hits:
        by_policy.setdefault(hit["policy_id"], set()).add(hit["id"])
    ranges: dict[int, list[dict[str, Any]]] = {}
    for policy_id, matching in by_policy.items():
        merged: list[dict[str, Any]] = []
        previous_matched = False
        latest = None
        for version_id, start, until in presence(db, policy_id):
            if version_id in matching:
                if not (previous_matched and merged):
                    merged.append({"from": ts_iso(start), "until": None})
                merged[-1]["until"] = ts_iso(until) if until else None
                previous_matched = True
                latest = version_id
            else:
                previous_matched = False
        if merged and merged[-1]["until"] is None and latest is not None:
            row = db.execute(
                "SELECT timestamp, source FROM captures WHERE version_id = ? AND state IN "
                "('fetched', 'inferred') ORDER BY timestamp DESC LIMIT 1",
                [latest],
            ).fetchone()
            merged[-1]["last_seen"] = ts_iso(row[0]) if row else None
            merged[-1]["live"] = bool(row and row[1] == "live")
        ranges[policy_id] = merged
    return ranges


def range_text(span: dict[str, Any]) -> str:
    """ "2023-04-10 → 2024-01-02", "2023-04-10 → last seen 2024-09-02", or, when a live check
    saw it last, "2023-04-10 → now (live check 2024-09-02)"."""
    start = (span.get("from") or "")[:10]
    if span.get("until"):
        return f"{start} → {span['until'][:10]}"
    seen = (span.get("last_seen") or "")[:10]
    if span.get("live"):
        return f"{start} → now (live check {seen})"
    return f"{start} → last seen {seen}"


MAX_QUERY_TERMS = 12  # words, phrases or prefixes: 200 `a* OR` terms kept a core busy 20 min


def query_terms(text: str) -> int:
    """How many terms a search query has (operators and parentheses left out)."""
    words = re.findall(r'"[^"]*"|[^\s()]+', text)
    return sum(1 for w in words if w not in ("AND", "OR", "NOT") and not w.startswith("NEAR"))


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
        SELECT v.id, v.uid, v.policy_id, p.name AS policy, v.first_seen, v.last_seen,
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
    sql = """SELECT p.name AS policy, p.url, p.kind, v.id, v.uid, v.first_seen, v.last_seen,
               v.first_timestamp, v.last_timestamp, v.captures AS snapshots, v.words,
               v.text_sha256, v.title, v.text, v.policy_id,
               (SELECT c.summary FROM changes c WHERE c.to_version_id = v.id
                ORDER BY c.at_timestamp LIMIT 1) AS summary
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
