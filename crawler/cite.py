"""What a version, a change or a search hit cites: the captures it rests on, as links a reader
can open.

An archived capture links to the archive's replay of it (`https://web.archive.org/web/<ts>/<url>`
on the Internet Archive, `<collection>/<ts>/<url>` on pywb); a live fetch to the live URL with
the time we fetched it. A version cites the first and the last capture that show its text; a
change cites the window it happened in: the last capture of the old text and the first of the
new one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlite_utils import Database

from crawler.archive.endpoint import ArchiveEndpoint
from db import store

INTERNET_ARCHIVE_PREFIX = "https://web.archive.org/web"


def replay_prefix(db: Database, pid: int, archive_url: str | None = None) -> str:
    """Where this policy's captures replay: read off a playback we made, else the configured
    archive's, else the Internet Archive's."""
    found = store.playback_prefix(db, pid)
    if found:
        return found
    if archive_url:
        return ArchiveEndpoint.from_url(archive_url).playback_prefix
    return INTERNET_ARCHIVE_PREFIX


def replay_prefixes(db: Database, archive_url: str | None = None) -> Callable[[int], str]:
    """`replay_prefix` per policy id, each looked up once: for lists of many changes or hits."""
    known: dict[int, str] = {}

    def prefix(pid: int) -> str:
        if pid not in known:
            known[pid] = replay_prefix(db, pid, archive_url)
        return known[pid]

    return prefix


def capture_link(capture: dict[str, Any] | None, prefix: str) -> dict[str, Any] | None:
    """{"source", "timestamp", "at", "url", "link"} for a capture row (timestamp, url, source)."""
    if capture is None:
        return None
    timestamp, url = str(capture["timestamp"]), str(capture["url"])
    live = capture.get("source") == "live"
    return {
        "source": "live" if live else "archive",
        "timestamp": timestamp,
        "at": store.ts_iso(timestamp),
        "url": url,
        "link": url if live else f"{prefix}/{timestamp}/{url}",
        # http, browser (rendered live) or browser-replay; None for an inferred capture.
        "fetcher": capture.get("fetcher"),
    }


def version_evidence(db: Database, version_id: int, prefix: str) -> dict[str, Any]:
    """The first and last capture showing the version, as links."""
    bounds = store.version_captures(db, version_id)
    first, last = bounds if bounds else (None, None)
    return {
        "first_capture": capture_link(first, prefix),
        "last_capture": capture_link(last, prefix),
    }


def change_evidence(db: Database, change: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The window a change happened in: the last capture of the old text, the first of the
    new one."""
    old = None
    if change.get("from_version_id") and change.get("previous_timestamp"):
        old = store.capture_showing(
            db, int(change["from_version_id"]), str(change["previous_timestamp"])
        )
    new = store.capture_showing(db, int(change["to_version_id"]), str(change["at_timestamp"]))
    return {
        "old_last_capture": capture_link(old, prefix),
        "new_first_capture": capture_link(new, prefix),
    }


def window_text(evidence: dict[str, Any]) -> str:
    """ "between 2021-03-02 and 2021-07-05", or "first seen 2021-07-05"."""
    old, new = evidence.get("old_last_capture"), evidence.get("new_first_capture")
    if old and new:
        return f"between {old['at'][:10]} and {new['at'][:10]}"
    return f"first seen {new['at'][:10]}" if new else ""


def citation(policy: dict[str, Any], version: dict[str, Any], evidence: dict[str, Any]) -> str:
    """One line a journalist can paste: policy, URL, version id, first/last seen, capture link."""
    first = evidence.get("first_capture")
    source = ""
    if first:
        source = (
            f"; archived copy: {first['link']}"
            if first["source"] == "archive"
            else f"; fetched live from {first['url']} at {first['at']}"
        )
    return (
        f"{policy['name']} ({policy['kind']}), {policy['url']}, version {version['uid']}, "
        f"in force from {version['first_seen'][:10]} (first seen) to "
        f"{version['last_seen'][:10]} (last seen){source}. Recorded by policytrail."
    )


def change_id(change: dict[str, Any]) -> str:
    """A change's stable id: the stable ids of the texts it joins."""
    if change.get("from_version"):
        return f"{change['from_version']}..{change['to_version']}"
    return str(change["to_version"])
