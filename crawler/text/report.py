"""Diffs as JSON, markdown and HTML documents. Pure: values in, strings out."""

from __future__ import annotations

import html
import json
from typing import Any

from crawler.text.diff import Diff, SectionChange

KIND_MARKS = {
    "added": "+",
    "removed": "-",
    "modified": "~",
    "moved": "↕",
    "renamed": "✎",
    "split": "⑂",
    "merged": "⑃",
    "unchanged": "=",
}


def diff_to_dict(
    diff: Diff,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    redline: bool = True,
) -> dict[str, Any]:
    return {
        "old": old or {},
        "new": new or {},
        "summary": diff.summary,
        "substantive": diff.substantive,
        "words_added": diff.words_added,
        "words_removed": diff.words_removed,
        "counts": diff.counts,
        "sections": [c.to_dict(redline=redline) for c in diff.changes],
    }


def diff_to_json(
    diff: Diff, old: dict[str, Any] | None = None, new: dict[str, Any] | None = None
) -> str:
    return json.dumps(diff_to_dict(diff, old, new), indent=2, ensure_ascii=False)


def _heading(change: SectionChange) -> str:
    if change.kind == "renamed":
        return f"{change.old_heading or '(preamble)'} → {change.new_heading or '(preamble)'}"
    heading = change.new_heading if change.new_heading is not None else change.old_heading
    return heading or "(preamble)"


def _folded(changes: tuple[SectionChange, ...]) -> list[SectionChange | int]:
    """Changes with runs of unchanged sections folded into their count."""
    out: list[SectionChange | int] = []
    for change in changes:
        if change.kind == "unchanged":
            if out and isinstance(out[-1], int):
                out[-1] += 1
            else:
                out.append(1)
        else:
            out.append(change)
    return out


def diff_to_markdown(diff: Diff, title: str = "") -> str:
    """Changed sections under their headings; removed words ~~struck~~, added **bold**."""
    lines = [f"# {title}" if title else "# Changes", "", f"_{diff.summary}_", ""]
    for item in _folded(diff.changes):
        if isinstance(item, int):
            lines += [f"_… {item} unchanged section{'s' if item > 1 else ''}_", ""]
            continue
        lines += [
            f"## {KIND_MARKS.get(item.kind, '')} {_heading(item)}",
            "",
            f"{item.kind}, {item.significance}: +{item.words_added} −{item.words_removed} words",
            "",
        ]
        text = []
        for op, part in item.redline:
            if not part:
                continue
            text.append(
                part if op == "equal" else f"**{part}**" if op == "insert" else f"~~{part}~~"
            )
        if text and item.kind != "moved":
            lines += [" ".join(text), ""]
    return "\n".join(lines).rstrip() + "\n"


def redline_html(change: SectionChange) -> str:
    parts = []
    for op, text in change.redline:
        if not text:
            continue
        escaped = html.escape(text)
        parts.append(
            escaped
            if op == "equal"
            else f"<ins>{escaped}</ins>"
            if op == "insert"
            else f"<del>{escaped}</del>"
        )
    return " ".join(parts)


def diff_to_html(diff: Diff, title: str = "") -> str:
    """A standalone page; every piece of archived text is escaped."""
    body = [
        f"<h1>{html.escape(title or 'Changes')}</h1>",
        f"<p class=summary>{html.escape(diff.summary)}</p>",
    ]
    for item in _folded(diff.changes):
        if isinstance(item, int):
            body.append(f"<p class=folded>… {item} unchanged section{'s' if item > 1 else ''}</p>")
            continue
        body.append(
            f"<section class='change {item.kind} {item.significance}'>"
            f"<h2>{html.escape(KIND_MARKS.get(item.kind, ''))} {html.escape(_heading(item))}</h2>"
            f"<p class=meta>{item.kind}, {item.significance}: +{item.words_added} "
            f"−{item.words_removed} words</p><p>{redline_html(item)}</p></section>"
        )
    style = (
        "body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
        "padding:0 1rem}ins{background:#d4f7d4;text-decoration:none}"
        "del{background:#fbd3d3}.folded,.meta{color:#666}.summary{font-weight:600}"
    )
    return (
        "<!doctype html><html><head><meta charset=utf-8>"
        f"<title>{html.escape(title or 'Changes')}</title><style>{style}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )
