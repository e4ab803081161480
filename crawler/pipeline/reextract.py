"""Stored raw bodies -> texts again, with today's extractor: a technical change, never a policy
change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from crawler.config import Policy
from crawler.errors import (
    CrawlerError,
)
from crawler.pipeline.changes import record_changes
from crawler.pipeline.snapshots import _extract_for
from crawler.text import (
    EXTRACTOR_VERSION,
)
from db import store


@dataclass
class ReextractResult:
    policy: str
    snapshots: int = 0
    texts_changed: int = 0
    technical_change: bool = False


def reextract(
    db: Database, policy: Policy, now: datetime, ignore: tuple[str, ...] | None = None
) -> ReextractResult:
    """Extract every stored snapshot of `policy` again with today's extractor, from its raw
    body. Captures move to the versions their new texts make; the timeline's changes are
    rebuilt without alerts, and if the latest text differs, one `technical` change records the
    re-extraction — never reported as a policy change. Idempotent."""
    from crawler.archive import datetime_to_timestamp
    from crawler.text.render import render_text

    result = ReextractResult(policy.name)
    pid = store.policy_id(db, policy.name)
    if pid is None:
        return result
    before = store.latest_version(db, pid)
    rows = list(
        store.rows(
            db,
            """
        SELECT c.id AS capture_id, c.timestamp, s.id AS snapshot_id, s.blob_sha256, s.url,
               s.content_type, v.text AS old_text
        FROM captures c JOIN snapshots s ON s.id = c.snapshot_id
        JOIN versions v ON v.id = c.version_id
        WHERE c.policy_id = ? AND c.state = 'fetched' ORDER BY c.timestamp, c.id""",
            [pid],
        )
    )
    texts: dict[int, tuple[str, str] | None] = {}
    for row in rows:
        if row["snapshot_id"] in texts:
            continue
        body = store.get_blob(db, row["blob_sha256"])
        try:
            document = _extract_for(policy, body, row["content_type"] or "", row["url"])
            texts[row["snapshot_id"]] = (render_text(document), document.title)
        except CrawlerError:
            texts[row["snapshot_id"]] = None  # keep the text it had
        result.snapshots += 1
    with store.writing(db):
        for row in rows:
            new = texts[row["snapshot_id"]]
            if new is None or new[0] == row["old_text"]:
                continue
            result.texts_changed += 1
            version_id = store.record_version(
                db,
                pid,
                text=new[0],
                title=new[1],
                timestamp=row["timestamp"],
                snapshot_id=row["snapshot_id"],
                extractor_version=EXTRACTOR_VERSION,
                now=now,
            )
            db.execute(
                "UPDATE captures SET version_id = ? WHERE id = ?", [version_id, row["capture_id"]]
            )
            db.execute(
                "UPDATE snapshots SET version_id = ?, extractor_version = ? WHERE id = ?",
                [version_id, EXTRACTOR_VERSION, row["snapshot_id"]],
            )
        if result.texts_changed:
            store.recount_versions(db, pid)
            record_changes(db, pid, now, ignore)  # no sinks: a re-extraction alerts nobody
            after = store.latest_version(db, pid)
            if before and after and before["id"] != after["id"]:
                from crawler.text.diff import diff_texts

                summary = diff_texts(before["text"], after["text"], ignore or ()).summary
                store.insert_change(
                    db,
                    pid,
                    from_version_id=before["id"],
                    to_version_id=after["id"],
                    at_timestamp=datetime_to_timestamp(now),
                    previous_timestamp=None,
                    kind="technical",
                    substantive=False,
                    summary=f"re-extracted by extractor {EXTRACTOR_VERSION}: {summary}",
                    sections="[]",
                    words_added=0,
                    words_removed=0,
                    now=now,
                )
                result.technical_change = True
    return result
