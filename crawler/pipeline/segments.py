"""A site's document over time: from what discovery observed (per period, a URL found or a gap
with its reason) to the document's URL segments (`/privacy.html` 2006-04 → 2013-10,
`/legal/privacy` 2013-10 → now), and the policy whose one timeline runs across them.

An archived period that links another URL starts a new segment at once (the homepage capture
that showed the new link dates the move); a live re-discovery must see the new URL twice in a
row before the document follows it. Gaps (no homepage capture, no link, not a policy...) never
split a segment: the same URL on both sides of a gap is one segment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlite_utils import Database

from crawler.config import Policy
from db import store

CONFIRMATIONS = 2  # live sightings of a new URL before the document follows it


def url_key(url: str) -> str:
    """What makes two URLs the same document address: http/https, a `www.` and a trailing
    slash aside."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.")
    path = parts.path.rstrip("/") or "/"
    return host + path + (f"?{parts.query}" if parts.query else "")


def document_name(domain: str, kind: str) -> str:
    """The policy name a site's document goes by: `example.com-privacy`."""
    return f"{domain}-{kind}"


@dataclass
class Timeline:
    segments: list[dict[str, Any]] = field(default_factory=list)
    gaps: list[dict[str, Any]] = field(default_factory=list)
    pending: dict[str, Any] | None = None  # a live move seen, not yet confirmed


def build_segments(observations: list[dict[str, Any]], confirm: int = CONFIRMATIONS) -> Timeline:
    """Segments and gaps from a document's observations, oldest first."""
    timeline = Timeline()
    segments, gaps = timeline.segments, timeline.gaps
    pending: dict[str, Any] | None = None
    for seen in sorted(observations, key=lambda o: (o["period_from"], o["source"] != "archive")):
        if seen["state"] != "found":
            if seen["code"] == "before-first-capture":
                continue
            last = gaps[-1] if gaps else None
            if last and last["code"] == seen["code"] and last["to"] == seen["period_from"]:
                last["to"] = seen["period_to"]
            else:
                gaps.append(
                    {
                        "from": seen["period_from"],
                        "to": seen["period_to"],
                        "code": seen["code"],
                        "reason": seen["reason"],
                    }
                )
            continue
        key = url_key(seen["url"])
        current = segments[-1] if segments else None
        if current is not None and key == current["key"]:
            current["periods"] += 1
            pending = None
            continue
        start = seen
        if seen["source"] == "live" and current is not None:
            if pending is not None and pending["key"] == key:
                pending["count"] += 1
            else:
                pending = {"key": key, "first": seen, "count": 1}
            if pending["count"] < confirm:
                continue
            start, pending = pending["first"], None
        evidence = dict(start["evidence"])
        evidence["source"] = start["source"]
        at = start["period_from"]
        if current is not None:
            # The move is dated by the capture (or live fetch) that first showed the new link.
            at = max(str(evidence.get("homepage_timestamp") or at), current["from_ts"])
            current["to_ts"] = at
        segments.append(
            {
                "url": start["url"],
                "key": key,
                "from_ts": at,
                "to_ts": None,
                "evidence": evidence,
                "periods": 1,
            }
        )
    if pending is not None:
        timeline.pending = {
            "url": pending["first"]["url"],
            "seen": pending["count"],
            "since": pending["first"]["period_from"],
        }
    return timeline


@dataclass(frozen=True)
class Settled:
    policy: str | None
    pid: int | None
    moved: list[dict[str, Any]]  # moves that appeared with this settlement
    timeline: Timeline


def settle_document(db: Database, site: dict[str, Any], kind: str, now: datetime) -> Settled:
    """Rebuild the segments of a site's `kind` document from its observations; the policy (its
    history's name) is created at its first segment and points at its newest URL. Call inside a
    write transaction."""
    timeline = build_segments(store.observations(db, site["id"], kind))
    if not timeline.segments:
        return Settled(None, None, [], timeline)
    name = document_name(site["domain"], kind)
    pid = store.document_policy(db, site["id"], kind)
    before = store.policy_moves(db, pid) if pid is not None else []
    newest = timeline.segments[-1]["url"]
    if pid is None:
        pid = store.upsert_policy(db, name, newest, kind, now)
        store.link_document(db, site["id"], kind, pid)
    else:
        row = db.execute("SELECT name FROM policies WHERE id = ?", [pid]).fetchone()
        name = str(row[0])
        store.upsert_policy(db, name, newest, kind, now)
    stored = [
        {
            "url": s["url"],
            "from_ts": s["from_ts"],
            "to_ts": s["to_ts"],
            "evidence": {**s["evidence"], "periods": s["periods"]},
        }
        for s in timeline.segments
    ]
    store.replace_segments(db, pid, stored)
    known = {(m["from_url"], m["to_url"], m["at"]) for m in before}
    moved = [
        m for m in store.policy_moves(db, pid) if (m["from_url"], m["to_url"], m["at"]) not in known
    ]
    return Settled(name, pid, moved, timeline)


def site_policies(db: Database, known: tuple[Policy, ...] = ()) -> list[Policy]:
    """The policies discovery made (each site's documents at their newest URL), besides the
    config's own (`known`, which win on a shared name)."""
    names = {p.name for p in known}
    return [
        Policy(name=row["name"], url=row["url"], kind=row["kind"])
        for row in store.site_policies(db)
        if row["name"] not in names
    ]
