"""The pages' Atom feeds: every policy's substantive changes (`/changes.atom`) and one
policy's (`/p/NAME/changes.atom`). Entry links go to the diff pages: absolute under the
configured site URL, else relative to the feed (never built from a request's Host header)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sqlite_utils import Database

from crawler.cite import replay_prefixes
from crawler.watch.feeds import FEED_ENTRIES, atom_feed, change_entry, page_link
from db import store

EMPTY_UPDATED = "1970-01-01T00:00:00Z"


def changes_atom(db: Database, site_url: str) -> str:
    items = store.changes(db, substantive_only=True, limit=FEED_ENTRIES, kind="change")
    prefix = replay_prefixes(db)
    return atom_feed(
        "Policy changes",
        "urn:policytrail:feed:all",
        [change_entry(db, c, site_url, prefix) for c in items],
        items[0]["at"] if items else EMPTY_UPDATED,
        self_link=page_link(site_url, "/changes.atom"),
        alternate=page_link(site_url, "/changes"),
    )


def policy_changes_atom(db: Database, policy: dict[str, Any], site_url: str) -> str:
    name = quote(policy["name"], safe="")
    items = store.changes(db, policy["id"], limit=FEED_ENTRIES, kind="change")
    prefix = replay_prefixes(db)
    # Relative links resolve against /p/NAME/changes.atom; page_link's are relative to the
    # site root, two levels up.
    up = "../../" if not site_url else ""
    entries = [change_entry(db, c, site_url, prefix) for c in items]
    for entry in entries:
        entry["link"] = up + entry["link"]
    return atom_feed(
        f"{policy['name']}: policy changes",
        f"urn:policytrail:feed:{policy['name']}",
        entries,
        items[0]["at"] if items else EMPTY_UPDATED,
        self_link=up + page_link(site_url, f"/p/{name}/changes.atom"),
        alternate=up + page_link(site_url, f"/p/{name}"),
    )
