"""Document → text in the reference corpus's format (html2text markdown, no line wrapping),
opened by a provenance line naming the snapshot. Pure: no I/O, no clock."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from crawler.text.model import Block, Document
from crawler.text.urls import host_of

KIND_PHRASES = {
    "privacy": "privacy policy",
    "terms": "terms of service",
    "cookies": "cookie policy",
    "other": "policy",
}


def render_blocks(blocks: tuple[Block, ...] | list[Block]) -> str:
    """Join blocks as html2text does: blank lines between paragraphs and headings, list items on
    consecutive lines indented two spaces per level, table rows on consecutive lines."""
    out: list[str] = []
    previous = ""  # the kind of the block before
    for kind, text, level, marker, depth, start in blocks:  # a Block is a named tuple
        if kind == "heading":
            line = f"{'#' * level} {text}"
        elif kind == "item":
            line = f"{'  ' * level}{marker} {text}"
        elif kind == "pre":
            line = "\n".join("    " + x for x in text.split("\n"))
        else:
            line = text
        if depth:  # inside blockquotes
            line = "\n".join("> " * depth + x for x in line.split("\n"))
        if previous:
            tight = kind == previous and kind in ("item", "row") and not start
            out.append("\n" if tight else "\n\n")
        out.append(line)
        previous = kind
    return "".join(out).strip("\n")


def render_text(document: Document) -> str:
    """The title heading and body: the text whose hash identifies a version."""
    body = render_blocks(document.blocks)
    heading = f"# {document.title}" if document.title else ""
    return "\n\n".join(part for part in (heading, body) if part) + "\n"


def archive_provenance(
    url: str, kind: str, timestamp: str, archive_base: str, is_internet_archive: bool = True
) -> str:
    """The corpus's opening line for an archived snapshot."""
    date = f"{timestamp[0:4]}-{timestamp[4:6]}-{timestamp[6:8]}"
    phrase = KIND_PHRASES.get(kind, "policy")
    quoted = quote(url, safe="/")
    if is_internet_archive:
        snapshot = f"{archive_base.rstrip('/')}/web/{timestamp}id_/{quoted}"
        where = "on the Wayback Machine"
    else:
        snapshot = f"{archive_base.rstrip('/')}/{timestamp}id_/{quoted}"
        where = "in the archive"
    return (
        f"> *The following text is extracted and transformed from the {host_of(url)} {phrase} "
        f"that was archived on {date}. Please check the [original snapshot {where}]({snapshot}) "
        "for the most accurate reproduction.*"
    )


def live_provenance(url: str, kind: str, fetched_at: datetime) -> str:
    """The equivalent line for a live fetch."""
    phrase = KIND_PHRASES.get(kind, "policy")
    return (
        f"> *The following text is extracted and transformed from the {host_of(url)} {phrase} "
        f"that was fetched live on {fetched_at.strftime('%Y-%m-%d')}. Please check the "
        f"[live page]({url}) for the current version.*"
    )


def render_with_provenance(provenance: str, text: str) -> str:
    return f"{provenance}\n\n{text}"
