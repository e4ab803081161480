"""The feed sink: Atom files, one per policy and one for all, plus problems.atom, written
atomically.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from sqlite_utils import Database

from crawler.config import AlertConfig
from db import store

FEED_ENTRIES = 50


def atom_feed(title: str, feed_id: str, entries: list[dict[str, Any]], updated: str) -> str:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<title>{xml_escape(title)}</title>",
        f"<id>{xml_escape(feed_id)}</id>",
        f"<updated>{updated}</updated>",
        "<generator>policytrail</generator>",
    ]
    for entry in entries:
        parts += [
            "<entry>",
            f"<title>{xml_escape(entry['title'])}</title>",
            f"<id>{xml_escape(entry['id'])}</id>",
            f"<updated>{entry['updated']}</updated>",
            f'<link href="{xml_escape(entry["link"])}"/>',
            f'<content type="html">{xml_escape(entry["html"])}</content>',
            "</entry>",
        ]
    parts.append("</feed>")
    return "\n".join(parts) + "\n"


def write_feeds(db: Database, sink: AlertConfig, config_dir: Path, substantive_only: bool) -> Path:
    """Rewrite the Atom files: one per policy and `all.atom`, from the stored changes."""
    folder = Path(sink.dir)
    folder = folder if folder.is_absolute() else config_dir / folder
    folder.mkdir(parents=True, exist_ok=True)
    changes = [
        c
        for c in store.changes(db, substantive_only=substantive_only, kind="change", limit=5000)
        if not sink.policies or c["policy"] in sink.policies
    ]
    by_policy: dict[str, list[dict[str, Any]]] = {}
    entries_all = []
    for change in changes:
        policy_url = db.execute(
            "SELECT url FROM policies WHERE id = ?", [change["policy_id"]]
        ).fetchone()[0]
        sections = json.loads(change["sections"] or "[]")
        items = "".join(
            f"<li>{escape(s['kind'])}: {escape(str(s['new_heading'] or s['old_heading'] or ''))}"
            f" ({escape(s['significance'])})</li>"
            for s in sections
        )
        entry = {
            "title": f"{change['policy']}: {change['summary']}",
            "id": f"urn:policytrail:change:{change['policy']}:{change['at_timestamp']}:"
            f"{change['to_version_id']}",
            "updated": change["at"],
            "link": policy_url,
            "html": f"<p>{escape(change['summary'])}</p><ul>{items}</ul>",
        }
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
            ),
        )
    _atomic_write(
        folder / "all.atom",
        atom_feed(
            "All policy changes", "urn:policytrail:feed:all", entries_all[:FEED_ENTRIES], updated
        ),
    )
    problems = list(
        store.rows(
            db,
            "SELECT p.*, q.name AS policy FROM problems p JOIN policies q "
            "ON q.id = p.policy_id ORDER BY p.opened_at DESC LIMIT 50",
        )
    )
    _atomic_write(
        folder / "problems.atom",
        atom_feed(
            "Problems (not policy changes)",
            "urn:policytrail:feed:problems",
            [
                {
                    "title": f"{p['policy']}: {p['kind']}",
                    "id": f"urn:policytrail:problem:{p['id']}",
                    "updated": p["opened_at"],
                    "link": "",
                    "html": f"<p>{escape(p['detail'])}</p>",
                }
                for p in problems
            ],
            problems[0]["opened_at"] if problems else updated,
        ),
    )
    return folder


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name).lstrip(".") or "policy"


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
