"""The feed sink: Atom files, one per policy and one for all, plus problems.atom, written
atomically.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode
from xml.sax.saxutils import escape as xml_escape

from sqlite_utils import Database

from crawler.cite import change_evidence, replay_prefixes, window_text
from crawler.config import AlertConfig
from db import store

FEED_ENTRIES = 50


def atom_feed(
    title: str,
    feed_id: str,
    entries: list[dict[str, Any]],
    updated: str,
    *,
    self_link: str = "",
    alternate: str = "",
) -> str:
    """An Atom document (RFC 4287): a feed-level author, `self` and `alternate` links when
    known (relative ones resolve against the feed's own address), and per entry a title, id,
    date, link and HTML content."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<title>{xml_escape(title)}</title>",
        f"<id>{xml_escape(feed_id)}</id>",
        f"<updated>{updated}</updated>",
        "<author><name>policytrail</name></author>",
        "<generator>policytrail</generator>",
    ]
    if self_link:
        parts.append(
            f'<link rel="self" type="application/atom+xml" href="{xml_escape(self_link)}"/>'
        )
    if alternate:
        parts.append(f'<link rel="alternate" type="text/html" href="{xml_escape(alternate)}"/>')
    for entry in entries:
        parts += [
            "<entry>",
            f"<title>{xml_escape(entry['title'])}</title>",
            f"<id>{xml_escape(entry['id'])}</id>",
            f"<updated>{entry['updated']}</updated>",
            f'<link rel="alternate" type="text/html" href="{xml_escape(entry["link"])}"/>',
            f'<content type="html">{xml_escape(entry["html"])}</content>',
            "</entry>",
        ]
    parts.append("</feed>")
    return "\n".join(parts) + "\n"


def page_link(site_url: str, path: str) -> str:
    """A link to one of the web pages: absolute under `site_url`, else relative to a feed
    served by those pages."""
    return f"{site_url.rstrip('/')}{path}" if site_url else path.lstrip("/")


def change_entry(
    db: Database,
    change: dict[str, Any],
    site_url: str | None,
    prefix: Callable[[int], str] | None = None,
) -> dict[str, Any]:
    """An Atom entry for a change: linking to its diff page when the pages' address is known
    (`site_url`, "" for relative links), else to the archived capture of the new text."""
    sections = json.loads(change["sections"] or "[]")
    items = "".join(
        f"<li>{escape(s['kind'])}: {escape(str(s['new_heading'] or s['old_heading'] or ''))}"
        f" ({escape(s['significance'])})</li>"
        for s in sections
    )
    prefix = prefix or replay_prefixes(db)
    evidence = change_evidence(db, change, prefix(change["policy_id"]))
    name = quote(change["policy"], safe="")
    if site_url is not None:
        query = urlencode(
            {"a": change["from_version"], "b": change["to_version"]}
            if change.get("from_version")
            else {"b": change["to_version"]}
        )
        link = page_link(site_url, f"/p/{name}/diff?{query}")
    else:
        new = evidence.get("new_first_capture")
        link = new["link"] if new else change["policy_url"]
    window = window_text(evidence)
    captures = " · ".join(
        f'<a href="{escape(c["link"])}">{label} ({escape(c["at"][:10])})</a>'
        for label, c in (
            ("last capture of the old text", evidence.get("old_last_capture")),
            ("first capture of the new text", evidence.get("new_first_capture")),
        )
        if c
    )
    return {
        "title": f"{change['policy']}: {change['summary']}",
        "id": f"urn:policytrail:change:{change['policy']}:{change['at_timestamp']}:"
        f"{change['to_version_id']}",
        "updated": change["at"],
        "link": link,
        "html": f"<p>{escape(change['summary'])}</p><p>Changed {escape(window)}: {captures}.</p>"
        f"<ul>{items}</ul>",
    }


def problem_entry(problem: dict[str, Any], site_url: str | None) -> dict[str, Any]:
    """An Atom entry for a problem: linking to the policy's page (or its URL)."""
    name = quote(problem["policy"], safe="")
    link = page_link(site_url, f"/p/{name}") if site_url is not None else problem["policy_url"]
    return {
        "title": f"{problem['policy']}: {problem['kind']}",
        "id": f"urn:policytrail:problem:{problem['id']}",
        "updated": problem["opened_at"],
        "link": link,
        "html": f"<p>{escape(problem['detail'])}</p>",
    }


def write_feeds(db: Database, sink: AlertConfig, config_dir: Path, substantive_only: bool) -> Path:
    """Rewrite the Atom files: one per policy and `all.atom`, from the stored changes; and
    `problems.atom`. Entries link to the web pages under the sink's `site_url`, else to the
    archived captures."""
    folder = Path(sink.dir)
    folder = folder if folder.is_absolute() else config_dir / folder
    folder.mkdir(parents=True, exist_ok=True)
    site = sink.site_url.rstrip("/") or None
    changes = [
        c
        for c in store.changes(db, substantive_only=substantive_only, kind="change", limit=5000)
        if not sink.policies or c["policy"] in sink.policies
    ]
    by_policy: dict[str, list[dict[str, Any]]] = {}
    entries_all = []
    prefix = replay_prefixes(db)
    for change in changes:
        entry = change_entry(db, change, site, prefix)
        by_policy.setdefault(change["policy"], []).append(entry)
        entries_all.append(entry)
    updated = entries_all[0]["updated"] if entries_all else "1970-01-01T00:00:00Z"
    for name, entries in by_policy.items():
        _atomic_write(
            folder / f"{_safe(name)}.atom",
            atom_feed(
                f"{name}: policy changes",
                f"urn:policytrail:feed:{name}",
                entries[:FEED_ENTRIES],
                entries[0]["updated"],
                # Without the pages' address, the file names itself (relative to itself).
                self_link=f"{site}/p/{quote(name, safe='')}/changes.atom"
                if site
                else f"{_safe(name)}.atom",
                alternate=f"{site}/p/{quote(name, safe='')}" if site else "",
            ),
        )
    _atomic_write(
        folder / "all.atom",
        atom_feed(
            "All policy changes",
            "urn:policytrail:feed:all",
            entries_all[:FEED_ENTRIES],
            updated,
            self_link=f"{site}/changes.atom" if site else "all.atom",
            alternate=f"{site}/changes" if site else "",
        ),
    )
    problems = list(
        store.rows(
            db,
            "SELECT p.*, q.name AS policy, q.url AS policy_url FROM problems p JOIN policies q "
            "ON q.id = p.policy_id WHERE p.kind != 'moved' ORDER BY p.opened_at DESC LIMIT 50",
        )
    )
    _atomic_write(
        folder / "problems.atom",
        atom_feed(
            "Problems (not policy changes)",
            "urn:policytrail:feed:problems",
            [problem_entry(p, site) for p in problems],
            problems[0]["opened_at"] if problems else updated,
            self_link=f"{site}/problems.atom" if site else "problems.atom",
        ),
    )
    moves = list(
        store.rows(
            db,
            "SELECT p.*, q.name AS policy, q.url AS policy_url FROM problems p JOIN policies q "
            "ON q.id = p.policy_id WHERE p.kind = 'moved' ORDER BY p.opened_at DESC LIMIT 50",
        )
    )
    if sink.watch:
        _write_term_feed(db, sink, folder, site, updated)
    if sink.moves:
        _atomic_write(
            folder / "moves.atom",
            atom_feed(
                "Documents that moved to a new URL",
                "urn:policytrail:feed:moves",
                [problem_entry(p, site) for p in moves],
                moves[0]["opened_at"] if moves else updated,
                self_link=f"{site}/moves.atom" if site else "moves.atom",
            ),
        )
    return folder


def term_entry(hit_row: dict[str, Any], site_url: str | None) -> dict[str, Any]:
    """An Atom entry for one change's watched-term hits."""
    import json

    hits = json.loads(hit_row["terms"] or "[]")
    name = quote(hit_row["policy"], safe="")
    link = page_link(site_url, f"/p/{name}") if site_url is not None else hit_row["policy_url"]
    said = "; ".join(f"{h['term']!r} {h['direction']}" for h in hits)
    items = "".join(
        f"<li><b>{escape(h['term'])}</b> {escape(h['direction'])}"
        + (f" in {escape(h['section'])}" if h["section"] else "")
        + f": {escape(h['sentence'])}</li>"
        for h in hits
    )
    return {
        "title": f"{hit_row['policy']}: {said}",
        "id": f"urn:policytrail:term:{hit_row['uid']}",
        "updated": hit_row["at"],
        "link": link,
        "html": f"<ul>{items}</ul>",
    }


def _write_term_feed(
    db: Database, sink: AlertConfig, folder: Path, site: str | None, updated: str
) -> None:
    """`terms.atom`: the changes that added or removed one of the sink's watched terms."""
    hits = list(
        store.rows(
            db,
            "SELECT a.uid, a.terms, c.at, q.name AS policy, q.url AS policy_url FROM alerts a "
            "JOIN changes c ON c.id = a.change_id JOIN policies q ON q.id = a.policy_id "
            "WHERE a.event = 'term' AND a.sink = ? ORDER BY c.at DESC LIMIT 50",
            [sink.name],
        )
    )
    _atomic_write(
        folder / "terms.atom",
        atom_feed(
            "Watched terms added or removed",
            "urn:policytrail:feed:terms",
            [term_entry(h, site) for h in hits],
            hits[0]["at"] if hits else updated,
            self_link=f"{site}/terms.atom" if site else "terms.atom",
        ),
    )


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name).lstrip(".") or "policy"


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
