"""The database's one entry point: every read and write, re-exported from the module of its
table family, so that callers write `store.record_version(...)` whatever module holds it.

- `connection`: opening (migrations, WAL), the write lock, read-only connections, time formats;
- `policies`: policies, their watch state and runs;
- `captures`: captures and snapshots; `blobs`: raw bodies, compressed and delta-encoded;
- `versions`: distinct texts with first/last seen; `changes`: transitions and section diffs;
- `alerts`: the alert outbox and problems;
- `queries`: what the CLI and web pages ask (overviews, history, search, stats, export).

Functions take a sqlite_utils Database. Times are ISO-8601 UTC text; Wayback's 14-digit
timestamps are kept in their own columns.
"""

from __future__ import annotations

from sqlite_utils import Database

from db.alerts import (
    add_problem,
    close_problems,
    due_alerts,
    enqueue_alert,
    list_alerts,
    mark_alert,
    open_problem,
    problem_row,
    retry_alerts,
)
from db.blobs import (
    DELTA_LEVEL,
    DELTA_MAX_SHARE,
    ZSTD_LEVEL,
    _dictionaries,
    get_blob,
    keyframe,
    put_blob,
)
from db.captures import (
    EMPTY_DIGEST,
    CaptureRow,
    add_captures,
    add_live_capture,
    capture_timeline,
    insert_snapshot,
    link_snapshot_version,
    open_captures,
    original_capture,
    settle_capture,
    snapshot_for_digest,
)
from db.changes import (
    change_keys,
    change_row,
    changes,
    delete_changes,
    insert_change,
)
from db.connection import (
    connect,
    connect_readonly,
    iso,
    rows,
    table_counts,
    ts_iso,
    writing,
)
from db.policies import (
    STATE_COLUMNS,
    cdx_complete_through,
    finish_run,
    policy_id,
    policy_state,
    set_cdx_complete,
    start_run,
    update_policy_state,
    upsert_policy,
)
from db.queries import (
    OVERVIEW,
    RANK_AT_MOST,
    export_rows,
    fts_query,
    history_with_changes,
    policies_overview,
    policy_overview,
    presence,
    search,
    stats,
)
from db.versions import (
    first_snapshot,
    history,
    latest_version,
    record_version,
    recount_versions,
    text_sha256,
    version_in_force,
    version_row,
    version_text,
)

__all__ = [
    "Database",
    "connect",
    "writing",
    "iso",
    "ts_iso",
    "table_counts",
    "rows",
    "connect_readonly",
    "upsert_policy",
    "policy_id",
    "cdx_complete_through",
    "set_cdx_complete",
    "start_run",
    "finish_run",
    "STATE_COLUMNS",
    "policy_state",
    "update_policy_state",
    "EMPTY_DIGEST",
    "CaptureRow",
    "add_captures",
    "open_captures",
    "original_capture",
    "settle_capture",
    "snapshot_for_digest",
    "insert_snapshot",
    "link_snapshot_version",
    "capture_timeline",
    "add_live_capture",
    "ZSTD_LEVEL",
    "DELTA_LEVEL",
    "DELTA_MAX_SHARE",
    "_dictionaries",
    "put_blob",
    "keyframe",
    "get_blob",
    "text_sha256",
    "record_version",
    "history",
    "version_text",
    "latest_version",
    "version_row",
    "version_in_force",
    "first_snapshot",
    "recount_versions",
    "change_keys",
    "insert_change",
    "delete_changes",
    "changes",
    "change_row",
    "open_problem",
    "add_problem",
    "close_problems",
    "enqueue_alert",
    "due_alerts",
    "mark_alert",
    "list_alerts",
    "retry_alerts",
    "problem_row",
    "OVERVIEW",
    "policies_overview",
    "policy_overview",
    "history_with_changes",
    "presence",
    "fts_query",
    "RANK_AT_MOST",
    "search",
    "stats",
    "export_rows",
]
