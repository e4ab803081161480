"""Sites and their documents over time: the sites a researcher follows (a domain and the kinds
of document wanted from it), what discovery observed for each site, kind and period (a URL
found, or a gap with its reason), and each document's URL segments.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from db.connection import iso, rows, writing

IMPORT_CHUNK = 2000


def _site(row: dict[str, Any]) -> dict[str, Any]:
    row["kinds"] = json.loads(row["kinds"] or "[]")
    return row


def upsert_site(
    db: Database,
    domain: str,
    kinds: Iterable[str],
    now: datetime,
    *,
    homepage: str | None = None,
    source: str = "cli",
    rank: int | None = None,
) -> int:
    """Add a site, or update its kinds and homepage (its rank and source stay)."""
    kinds_json = json.dumps(sorted(set(kinds)))
    with writing(db):
        row = db.execute("SELECT id FROM sites WHERE domain = ?", [domain]).fetchone()
        if row:
            db.execute(
                "UPDATE sites SET kinds = ?, homepage = ? WHERE id = ?",
                [kinds_json, homepage, row[0]],
            )
            return int(row[0])
        cursor = db.execute(
            "INSERT INTO sites (domain, homepage, kinds, rank, source, added_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [domain, homepage, kinds_json, rank, source, iso(now)],
        )
        return int(cursor.lastrowid or 0)


def import_sites(
    db: Database,
    entries: Iterable[tuple[str, int | None]],
    kinds: Iterable[str],
    now: datetime,
    source: str = "import",
) -> tuple[int, int]:
    """Add many sites (domain, rank) at once, in chunks; sites already known keep their row.
    Returns (added, already known)."""
    kinds_json = json.dumps(sorted(set(kinds)))
    added = known = 0
    chunk: list[tuple[str, int | None]] = []

    def flush() -> None:
        nonlocal added, known
        with writing(db):
            before = db.execute("SELECT count(*) FROM sites").fetchone()[0]
            db.conn.executemany(
                "INSERT OR IGNORE INTO sites (domain, kinds, rank, source, added_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [(domain, kinds_json, rank, source, iso(now)) for domain, rank in chunk],
            )
            after = db.execute("SELECT count(*) FROM sites").fetchone()[0]
        added += after - before
        known += len(chunk) - (after - before)
        chunk.clear()

    for entry in entries:
        chunk.append(entry)
        if len(chunk) >= IMPORT_CHUNK:
            flush()
    if chunk:
        flush()
    return added, known


def list_sites(db: Database, domains: Iterable[str] = ()) -> list[dict[str, Any]]:
    wanted = list(domains)
    if wanted:
        marks = ", ".join("?" for _ in wanted)
        sql = f"SELECT * FROM sites WHERE domain IN ({marks}) ORDER BY rank IS NULL, rank, domain"
        return [_site(r) for r in rows(db, sql, wanted)]
    sql = "SELECT * FROM sites ORDER BY rank IS NULL, rank, domain"
    return [_site(r) for r in rows(db, sql)]


def count_sites(db: Database) -> int:
    return int(db.execute("SELECT count(*) FROM sites").fetchone()[0])


def due_sites(db: Database, now: datetime) -> list[dict[str, Any]]:
    sql = (
        "SELECT * FROM sites WHERE next_discover_at IS NULL OR next_discover_at <= ? "
        "ORDER BY rank IS NULL, rank, domain"
    )
    return [_site(r) for r in rows(db, sql, [iso(now)])]


def set_next_discover(db: Database, site_id: int, at: str) -> None:
    db.execute("UPDATE sites SET next_discover_at = ? WHERE id = ?", [at, site_id])


# -- observations -----------------------------------------------------------------------------


def settled_periods(
    db: Database, site_id: int, source: str = "archive"
) -> dict[tuple[str, str], str]:
    """(kind, period_from) → the observation's state or gap code, for the site's periods."""
    found = db.execute(
        "SELECT kind, period_from, CASE WHEN state = 'found' THEN 'found' ELSE code END "
        "FROM site_observations WHERE site_id = ? AND source = ?",
        [site_id, source],
    ).fetchall()
    return {(kind, start): str(code) for kind, start, code in found}


def add_observation(
    db: Database,
    site_id: int,
    kind: str,
    *,
    source: str,
    period_from: str,
    period_to: str,
    url: str | None,
    code: str | None,
    reason: str | None,
    evidence: dict[str, Any],
    now: datetime,
) -> None:
    """One period's outcome for a site's document: found (a URL) or a gap (code + reason).
    Observing the same period again replaces it."""
    db.execute(
        "INSERT INTO site_observations (site_id, kind, source, period_from, period_to, state, "
        "url, code, reason, evidence, observed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(site_id, kind, source, period_from) DO UPDATE SET "
        "period_to = excluded.period_to, state = excluded.state, url = excluded.url, "
        "code = excluded.code, reason = excluded.reason, evidence = excluded.evidence, "
        "observed_at = excluded.observed_at",
        [
            site_id,
            kind,
            source,
            period_from,
            period_to,
            "found" if url else "gap",
            url,
            code,
            reason,
            json.dumps(evidence, ensure_ascii=False, sort_keys=True),
            iso(now),
        ],
    )


def observations(db: Database, site_id: int, kind: str) -> list[dict[str, Any]]:
    found = list(
        rows(
            db,
            "SELECT * FROM site_observations WHERE site_id = ? AND kind = ? "
            "ORDER BY period_from, source",
            [site_id, kind],
        )
    )
    for row in found:
        row["evidence"] = json.loads(row["evidence"] or "{}")
    return found


# -- documents and their URL segments ---------------------------------------------------------


def document_policy(db: Database, site_id: int, kind: str) -> int | None:
    row = db.execute(
        "SELECT policy_id FROM site_documents WHERE site_id = ? AND kind = ?", [site_id, kind]
    ).fetchone()
    return int(row[0]) if row else None


def link_document(db: Database, site_id: int, kind: str, pid: int) -> None:
    db.execute(
        "INSERT OR IGNORE INTO site_documents (site_id, kind, policy_id) VALUES (?, ?, ?)",
        [site_id, kind, pid],
    )


def replace_segments(db: Database, pid: int, segments: list[dict[str, Any]]) -> bool:
    """Store a document's URL segments (url, from_ts, to_ts, evidence) in place of the old ones;
    a segment that keeps its URL and start keeps how far its CDX walk got. True if they
    changed."""
    old = list(rows(db, "SELECT * FROM url_segments WHERE policy_id = ? ORDER BY from_ts", [pid]))
    through = {(r["url"], r["from_ts"], r["to_ts"]): r["cdx_through"] for r in old}
    shape = [(r["url"], r["from_ts"], r["to_ts"]) for r in old]
    if shape == [(s["url"], s["from_ts"], s["to_ts"]) for s in segments] and [
        json.loads(r["evidence"] or "{}") for r in old
    ] == [s["evidence"] for s in segments]:
        return False
    db.execute("DELETE FROM url_segments WHERE policy_id = ?", [pid])
    for segment in segments:
        key = (segment["url"], segment["from_ts"], segment["to_ts"])
        db.execute(
            "INSERT INTO url_segments (policy_id, url, from_ts, to_ts, evidence, cdx_through) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                pid,
                segment["url"],
                segment["from_ts"],
                segment["to_ts"],
                json.dumps(segment["evidence"], ensure_ascii=False, sort_keys=True),
                through.get(key),
            ],
        )
    return shape != [(s["url"], s["from_ts"], s["to_ts"]) for s in segments]


def url_segments(db: Database, pid: int) -> list[dict[str, Any]]:
    found = list(rows(db, "SELECT * FROM url_segments WHERE policy_id = ? ORDER BY from_ts", [pid]))
    for row in found:
        row["evidence"] = json.loads(row["evidence"] or "{}")
    return found


def set_segment_through(db: Database, segment_id: int, timestamp: str) -> None:
    db.execute("UPDATE url_segments SET cdx_through = ? WHERE id = ?", [timestamp, segment_id])


def site_documents(db: Database, site_id: int) -> list[dict[str, Any]]:
    return list(
        rows(
            db,
            "SELECT d.kind, d.policy_id, p.name AS policy, p.url FROM site_documents d "
            "JOIN policies p ON p.id = d.policy_id WHERE d.site_id = ? ORDER BY d.kind",
            [site_id],
        )
    )


def site_policies(db: Database) -> list[dict[str, Any]]:
    """The policies that site discovery created: name, current URL, kind, site."""
    return list(
        rows(
            db,
            "SELECT p.name, p.url, p.kind, s.domain FROM site_documents d "
            "JOIN policies p ON p.id = d.policy_id JOIN sites s ON s.id = d.site_id "
            "ORDER BY s.rank IS NULL, s.rank, s.domain, d.kind",
        )
    )


def policy_moves(db: Database, pid: int) -> list[dict[str, Any]]:
    """The document's URL moves: each segment after the first, with where it came from."""
    segments = url_segments(db, pid)
    return [
        {
            "at": new["from_ts"],
            "from_url": old["url"],
            "to_url": new["url"],
            "evidence": new["evidence"],
        }
        for old, new in zip(segments, segments[1:], strict=False)
    ]
