"""The schema, as one sqlite-utils Migrations set. Never edit a migration that has shipped: add one."""

from __future__ import annotations

import json

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("policytrail")


@migrations()
def m001_initial(db: Database) -> None:
    db.table("policies").create(
        {"id": int, "name": str, "url": str, "kind": str, "created_at": str},
        pk="id",
        not_null={"name", "url", "kind"},
    )
    db.table("policies").create_index(["name"], unique=True)
    db.table("policy_state").create(
        {"policy_id": int, "cdx_complete_through": str, "cdx_completed_at": str},
        pk="policy_id",
        foreign_keys=[("policy_id", "policies", "id")],
    )
    db.table("captures").create(
        {
            "id": int,
            "policy_id": int,
            "timestamp": str,
            "original": str,
            "urlkey": str,
            "mimetype": str,
            "status": int,
            "digest": str,
            "length": int,
            "state": str,
            "reason": str,
            "attempts": int,
            "snapshot_id": int,
            "version_id": int,
            "seen_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"policy_id", "timestamp", "original", "state"},
        defaults={"state": "pending", "attempts": 0},
        foreign_keys=[("policy_id", "policies", "id")],
    )
    db.table("captures").create_index(["policy_id", "timestamp", "original", "digest"], unique=True)
    db.table("captures").create_index(["policy_id", "state"])
    db.table("captures").create_index(["policy_id", "digest"])
    db.table("blobs").create(
        {"sha256": str, "size": int, "compression": str, "data": bytes},
        pk="sha256",
    )
    db.table("snapshots").create(
        {
            "id": int,
            "policy_id": int,
            "source": str,
            "timestamp": str,
            "url": str,
            "requested_url": str,
            "playback_url": str,
            "status": int,
            "content_type": str,
            "digest": str,
            "blob_sha256": str,
            "redirects": str,
            "version_id": int,
            "extractor_version": int,
            "fetched_at": str,
        },
        pk="id",
        not_null={"policy_id", "source", "timestamp", "url"},
        foreign_keys=[("policy_id", "policies", "id"), ("blob_sha256", "blobs", "sha256")],
    )
    db.table("snapshots").create_index(["policy_id", "digest"])
    db.table("snapshots").create_index(["policy_id", "timestamp"])
    db.table("versions").create(
        {
            "id": int,
            "policy_id": int,
            "text_sha256": str,
            "title": str,
            "text": str,
            "words": int,
            "first_seen": str,
            "last_seen": str,
            "first_timestamp": str,
            "last_timestamp": str,
            "captures": int,
            "first_snapshot_id": int,
            "extractor_version": int,
            "created_at": str,
        },
        pk="id",
        not_null={"policy_id", "text_sha256", "text"},
        foreign_keys=[("policy_id", "policies", "id")],
    )
    db.table("versions").create_index(["policy_id", "text_sha256"], unique=True)
    db.table("versions").create_index(["policy_id", "first_timestamp"])
    db.table("runs").create(
        {
            "id": int,
            "kind": str,
            "policy_id": int,
            "started_at": str,
            "finished_at": str,
            "status": str,
            "counts": str,
            "error": str,
        },
        pk="id",
    )


@migrations()
def m002_changes(db: Database) -> None:
    # One row per transition between consecutive distinct texts along the capture timeline
    # (so a revert A → B → A is two changes). kind: first | change | technical.
    db.table("changes").create(
        {
            "id": int,
            "policy_id": int,
            "from_version_id": int,
            "to_version_id": int,
            "at_timestamp": str,
            "at": str,
            "previous_timestamp": str,
            "kind": str,
            "substantive": int,
            "summary": str,
            "sections": str,
            "words_added": int,
            "words_removed": int,
            "detected_at": str,
        },
        pk="id",
        not_null={"policy_id", "to_version_id", "at_timestamp", "kind"},
        foreign_keys=[("policy_id", "policies", "id")],
    )
    db.table("changes").create_index(["policy_id", "at_timestamp"])
    db.table("changes").create_index(["at"])


@migrations()
def m003_watch(db: Database) -> None:
    # Live fetches are captures too (source = 'live'), so one timeline holds both.
    db.table("captures").add_column("source", str, not_null_default="archive")
    state = db.table("policy_state")
    for column, kind in (
        ("next_check_at", str),
        ("next_sync_at", str),
        ("last_check_at", str),
        ("last_check_status", str),
        ("last_error", str),
        ("consecutive_failures", int),
        ("etag", str),
        ("last_modified", str),
        ("shrunk_checks", int),
    ):
        state.add_column(column, kind)
    # The outbox: one row per (change or problem) and sink, written in the same transaction as
    # the change. `uid` is stable, so receivers can drop repeats of an at-least-once delivery.
    db.table("alerts").create(
        {
            "id": int,
            "uid": str,
            "event": str,
            "change_id": int,
            "problem_id": int,
            "policy_id": int,
            "sink": str,
            "state": str,
            "attempts": int,
            "next_try_at": str,
            "last_error": str,
            "created_at": str,
            "delivered_at": str,
        },
        pk="id",
        not_null={"uid", "event", "policy_id", "sink", "state"},
        defaults={"state": "pending", "attempts": 0},
    )
    db.table("alerts").create_index(["uid"], unique=True)
    db.table("alerts").create_index(["state", "next_try_at"])
    db.table("problems").create(
        {
            "id": int,
            "policy_id": int,
            "kind": str,
            "detail": str,
            "opened_at": str,
            "closed_at": str,
        },
        pk="id",
        not_null={"policy_id", "kind", "opened_at"},
    )
    db.table("problems").create_index(["policy_id", "closed_at"])


@migrations()
def m004_search(db: Database) -> None:
    # Full-text search over every version (FTS5, Porter stemming: "biometric" finds
    # "biometrics"), kept in step by triggers; Datasette offers it as the table's search box.
    db.table("versions").enable_fts(
        ["title", "text"], create_triggers=True, tokenize="porter unicode61"
    )
    db.table("changes").create_index(["policy_id", "kind", "at"])


@migrations()
def m005_version_counts(db: Database) -> None:
    # Counting a policy's live versions (captures > 0) straight from the index.
    db.table("versions").create_index(["policy_id", "captures"])


@migrations()
def m006_blob_deltas(db: Database) -> None:
    # A body may be stored as a zstd delta against an earlier body of the same policy
    # (compression 'zstd-delta'); the base is always a plain keyframe, found from the policy's
    # newest snapshot.
    db.execute("ALTER TABLE blobs ADD COLUMN base_sha256 TEXT REFERENCES blobs(sha256)")
    db.table("snapshots").create_index(["policy_id", "id"])


@migrations()
def m007_reindex_only_new_text(db: Database) -> None:
    # sqlite-utils' update trigger re-indexed a version's whole text in FTS5 whenever any column
    # changed, and every capture of a known text updates its counts: re-index on a new text only.
    db.execute("DROP TRIGGER IF EXISTS versions_au")
    db.execute(
        'CREATE TRIGGER "versions_au" AFTER UPDATE OF "title", "text" ON "versions" BEGIN\n'
        '  INSERT INTO "versions_fts" ("versions_fts", rowid, "title", "text") '
        'VALUES(\'delete\', old.rowid, old."title", old."text");\n'
        '  INSERT INTO "versions_fts" (rowid, "title", "text") '
        'VALUES (new.rowid, new."title", new."text");\n'
        "END"
    )


@migrations()
def m008_captures_by_version(db: Database) -> None:
    # `show` finds a version's first snapshot through its captures.
    db.table("captures").create_index(["version_id", "timestamp"])


@migrations()
def m009_version_uids(db: Database) -> None:
    # A stable id for every version, which no later recording changes: the date the text was
    # first recorded and the shortest prefix (6 hex digits or more) of its SHA-256 that no
    # other text of the policy shares, such as 2021-07-05-8f5090. Display numbers stay
    # ordinals.
    db.execute("ALTER TABLE versions ADD COLUMN uid TEXT")
    known: dict[int, list[str]] = {}
    for pid, sha in db.execute("SELECT policy_id, text_sha256 FROM versions").fetchall():
        known.setdefault(pid, []).append(sha)
    for vid, pid, sha, first in db.execute(
        "SELECT id, policy_id, text_sha256, first_timestamp FROM versions ORDER BY id"
    ).fetchall():
        others = [other for other in known[pid] if other != sha]
        length = 6
        while any(other.startswith(sha[:length]) for other in others):
            length += 1
        day = f"{first[:4]}-{first[4:6] or '01'}-{first[6:8] or '01'}"
        db.execute("UPDATE versions SET uid = ? WHERE id = ?", [f"{day}-{sha[:length]}", vid])
    db.table("versions").create_index(["policy_id", "uid"], unique=True)


@migrations()
def m010_named_summaries(db: Database) -> None:
    # Change summaries name the sections that changed ("'Data Retention' modified; 'Biometric
    # Data' added") instead of counting them: stored changes are summarised again from their
    # section changes, as new ones are.
    from crawler.text.diff import summary_of

    for change_id, sections in db.execute(
        "SELECT id, sections FROM changes WHERE kind = 'change'"
    ).fetchall():
        summary = summary_of(json.loads(sections or "[]"))
        db.execute("UPDATE changes SET summary = ? WHERE id = ?", [summary, change_id])


@migrations()
def m011_fetchers(db: Database) -> None:
    # Which fetcher produced each snapshot: http, browser (a live page rendered in Chromium) or
    # browser-replay (an archived capture rendered in the archive's replay); and, per policy,
    # whether its live checks were escalated to the browser and how many checks since.
    db.table("snapshots").add_column("fetcher", str, not_null_default="http")
    db.table("policy_state").add_column("escalated", int, not_null_default=0)
    db.table("policy_state").add_column("escalated_checks", int, not_null_default=0)


@migrations()
def m012_sites(db: Database) -> None:
    # Sites (a domain and the kinds of document wanted from it), what discovery observed for
    # each site, kind and period (a URL found, or a gap with its reason), and each document's
    # URL over time as segments: the policy's history is one timeline across them.
    db.table("sites").create(
        {
            "id": int,
            "domain": str,
            "homepage": str,
            "kinds": str,
            "rank": int,
            "source": str,
            "added_at": str,
            "next_discover_at": str,
        },
        pk="id",
        not_null={"domain", "kinds", "source"},
    )
    db.table("sites").create_index(["domain"], unique=True)
    db.table("site_observations").create(
        {
            "id": int,
            "site_id": int,
            "kind": str,
            "source": str,
            "period_from": str,
            "period_to": str,
            "state": str,
            "url": str,
            "code": str,
            "reason": str,
            "evidence": str,
            "observed_at": str,
        },
        pk="id",
        not_null={"site_id", "kind", "source", "period_from", "state"},
        foreign_keys=[("site_id", "sites", "id")],
    )
    db.table("site_observations").create_index(
        ["site_id", "kind", "source", "period_from"], unique=True
    )
    db.table("site_documents").create(
        {"site_id": int, "kind": str, "policy_id": int},
        pk=("site_id", "kind"),
        foreign_keys=[("site_id", "sites", "id"), ("policy_id", "policies", "id")],
    )
    db.table("site_documents").create_index(["policy_id"], unique=True)
    db.table("url_segments").create(
        {
            "id": int,
            "policy_id": int,
            "url": str,
            "from_ts": str,
            "to_ts": str,
            "evidence": str,
            "cdx_through": str,
        },
        pk="id",
        not_null={"policy_id", "url", "from_ts"},
        foreign_keys=[("policy_id", "policies", "id")],
    )
    db.table("url_segments").create_index(["policy_id", "from_ts"])


@migrations()
def m013_corpus(db: Database) -> None:
    # Across the corpus: each version's reading grade (filled when first asked for), the words
    # each change added and removed in an FTS5 index (`changes --added`), and the term hits a
    # "term" alert carries.
    from db.words import change_words

    db.table("versions").add_column("grade", float)
    db.execute(
        "CREATE VIRTUAL TABLE change_words USING fts5(added, removed, "
        "tokenize = 'unicode61 remove_diacritics 2')"
    )
    for change_id, sections in db.execute(
        "SELECT id, sections FROM changes WHERE kind = 'change'"
    ).fetchall():
        added, removed = change_words(sections)
        db.execute(
            "INSERT INTO change_words (rowid, added, removed) VALUES (?, ?, ?)",
            [change_id, added, removed],
        )
    db.table("alerts").add_column("terms", str)


def apply(db: Database) -> None:  # noqa: D103
    """Bring the database up to date (idempotent)."""
    migrations.apply(db)
