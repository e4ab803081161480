"""Live re-discovery: `run` reads each site's live homepage on its own schedule (monthly by
default), finds the link to each of its documents, classifies the page it leads to, and records
what it saw as a live observation. A document follows a new URL only once two re-discoveries in
a row have seen it (`segments.CONFIRMATIONS`); then a "moved" notice goes to the sinks that take
them (`moves = true`, the default), and the next live checks read the new URL.

A discovered link may reach a private or loopback address only when the homepage itself is on
one (the SSRF rule of `crawler.live.guard`), like a redirect.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from sqlite_utils import Database

from crawler.config import AlertConfig
from crawler.errors import CrawlerError
from crawler.live import fetch_live
from crawler.live.guard import check_hop
from crawler.pipeline.changes import queue_notice
from crawler.pipeline.discover import CLASSIFIER_KINDS, MAX_CANDIDATES, MIN_LINK_SCORE
from crawler.pipeline.segments import settle_document
from crawler.text import extract_any, render_text
from crawler.text.classify import classify
from crawler.text.links import find_links
from db import store


@dataclass
class Rediscovery:
    domain: str
    found: dict[str, str | None] = field(default_factory=dict)  # kind → URL (None: a gap)
    reasons: dict[str, str] = field(default_factory=dict)
    moved: list[str] = field(default_factory=list)


def homepage_of(site: dict[str, Any]) -> str:
    return str(site.get("homepage") or f"https://{site['domain']}/")


def _judge(
    client: httpx.Client, url: str, homepage: str, kind: str, limits: dict[str, Any]
) -> tuple[str | None, str, dict[str, Any]]:
    """(the document's URL or None, why not, evidence) for one linked page, read live."""
    try:
        check_hop(url, homepage, limits["allow_private"])
        page = fetch_live(client, url, **limits)
    except CrawlerError as exc:
        return None, f"{url}: {exc}", {"link": url}
    if page.status >= 400:
        return None, f"{url} answered HTTP {page.status}", {"link": url}
    try:
        document = extract_any(page.body, content_type=page.content_type, base_url=page.url)
    except CrawlerError as exc:
        return None, f"{url}: {exc}", {"link": url}
    found = classify(
        document.title,
        [b.text for b in document.blocks if b.kind == "heading"],
        render_text(document),
        page.url,
    )
    evidence = {
        "link": url,
        "classifier": {
            "kind": found.kind,
            "score": round(found.score, 3),
            "evidence": found.evidence,
        },
    }
    if found.kind == CLASSIFIER_KINDS.get(kind, "other-legal"):
        return page.url, "", evidence
    return None, f"{url} is not a {kind} document (the classifier says {found.kind})", evidence


def rediscover_site(
    db: Database,
    client: httpx.Client,
    site: dict[str, Any],
    now: datetime,
    *,
    sinks: Sequence[AlertConfig] = (),
    max_bytes: int = 10 * 1024 * 1024,
    allow_private: bool = False,
) -> Rediscovery:
    """Read the site's live homepage and record what it links to now; raise a "moved" notice
    for a move confirmed by this reading."""
    homepage = homepage_of(site)
    limits: dict[str, Any] = {"max_bytes": max_bytes, "allow_private": allow_private}
    result = Rediscovery(site["domain"])
    stamp = now.strftime("%Y%m%d%H%M%S")
    observed: list[tuple[str, str | None, str | None, str | None, dict[str, Any]]] = []
    try:
        page = fetch_live(client, homepage, **limits)
        failure = f"the live homepage answered HTTP {page.status}" if page.status >= 400 else None
    except CrawlerError as exc:
        failure = f"the live homepage failed: {exc}"
    for kind in site["kinds"]:
        if failure:
            observed.append((kind, None, "failed", failure, {"homepage": homepage}))
            continue
        where = {"homepage": page.url, "homepage_timestamp": stamp}
        links = [c for c in find_links(page.body, page.url, kind) if c.score >= MIN_LINK_SCORE]
        if not links:
            observed.append((kind, None, "no-link", f"no {kind} link on the live homepage", where))
            continue
        first: tuple[str | None, str, dict[str, Any]] | None = None
        for link in links[:MAX_CANDIDATES]:
            url, why, evidence = _judge(client, link.url, homepage, kind, limits)
            evidence = {**where, "link_text": link.text, "rule": link.evidence, **evidence}
            if url:
                first = (url, "", evidence)
                break
            first = first or (None, why, evidence)
        assert first is not None
        url, why, evidence = first
        observed.append((kind, url, None if url else "not-policy", why or None, evidence))
    with store.writing(db):
        for kind, url, code, reason, evidence in observed:
            store.add_observation(
                db,
                site["id"],
                kind,
                source="live",
                period_from=stamp,
                period_to=stamp,
                url=url,
                code=code,
                reason=reason,
                evidence=evidence,
                now=now,
            )
            result.found[kind] = url
            if reason:
                result.reasons[kind] = reason
            settled = settle_document(db, site, kind, now)
            for move in settled.moved:
                detail = (
                    f"the {kind} document of {site['domain']} moved from {move['from_url']} to "
                    f"{move['to_url']} (its link seen there by two live re-discoveries in a row)"
                )
                result.moved.append(detail)
                assert settled.pid is not None and settled.policy is not None
                _notify_move(db, settled.pid, settled.policy, detail, now, sinks)
    return result


def _notify_move(
    db: Database, pid: int, name: str, detail: str, now: datetime, sinks: Sequence[AlertConfig]
) -> None:
    """A "moved" notice: its own event, for the sinks that take moves."""
    notice = store.add_problem(db, pid, "moved", detail, now)
    store.close_problems(db, pid, now, kind="moved")  # a notice, nothing left open
    queue_notice(db, pid, name, notice, "moved", now, sinks)
