"""What a change added and removed, in words: read off the section redlines stored with it.
Imports nothing of the database's (the migrations use it too)."""

from __future__ import annotations

import json


def change_words(sections: str | None) -> tuple[str, str]:
    """(added, removed): the inserted and deleted words of a change's section redlines; a
    section changed only cosmetically (punctuation, a date) adds and removes nothing."""
    added: list[str] = []
    removed: list[str] = []
    for section in json.loads(sections or "[]"):
        if section.get("significance") in ("cosmetic", "none"):
            continue
        for op, text in section.get("redline") or ():
            if op == "insert":
                added.append(text)
            elif op == "delete":
                removed.append(text)
    return "\n".join(added), "\n".join(removed)
