"""Fetch -> text -> store: the one place that joins the archive and live fetchers, extraction
and the database. `backfill` (archive captures; its run state in `state`), `snapshots` (one
played-back capture into a snapshot and a version), `check` (the live page), `reextract` (stored
bodies again), `changes` (change records and their alert outbox rows).
"""

from __future__ import annotations

from crawler.pipeline.backfill import (
    HTML_MIMETYPES,
    backfill,
)
from crawler.pipeline.changes import (
    alert_uid,
    raise_problem,
    record_changes,
)
from crawler.pipeline.check import (
    CheckResult,
    check,
)
from crawler.pipeline.reextract import (
    ReextractResult,
    reextract,
)
from crawler.pipeline.snapshots import (
    NEAREST_WINDOW_DAYS,
    UNVERIFIED_ATTEMPTS,
)
from crawler.pipeline.state import (
    BackfillResult,
    Crawl,
    Progress,
)

__all__ = [
    "BackfillResult",
    "CheckResult",
    "Crawl",
    "HTML_MIMETYPES",
    "NEAREST_WINDOW_DAYS",
    "Progress",
    "ReextractResult",
    "UNVERIFIED_ATTEMPTS",
    "alert_uid",
    "backfill",
    "check",
    "raise_problem",
    "record_changes",
    "reextract",
]
