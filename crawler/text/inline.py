"""Inline markdown as html2text writes it: escapes, emphasis wrapping, whitespace collapsing, and
whether a table holds data or layout.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import collections
import re

from selectolax.lexbor import LexborNode

from crawler.text.model import WS

INLINE_MARKERS = {"b": "**", "strong": "**", "i": "_", "em": "_"}


BR = "\x01"  # a <br> in the buffer; source newlines are only whitespace


# html2text escapes what would otherwise read as markdown at the start of a text chunk.
ESCAPE = re.compile(r"^(\s*)(?:(\d+)\.|([-+]))(?=\s)", re.M)


def _escape_match(match: re.Match[str]) -> str:
    if match.group(2) is not None:
        return f"{match.group(1)}{match.group(2)}\\."
    return f"{match.group(1)}\\{match.group(3)}"


# Where ESCAPE could match, found quickly: at the start, or after a newline (a literal the
# regex engine searches for directly instead of trying every position).
ESCAPE_AT_START = re.compile(r"\s*[\d+-]")


ESCAPE_AFTER_NEWLINE = re.compile(r"\n\s*[\d+-]")


def _escape(text: str) -> str:
    if "\n" not in text:
        if text.lstrip()[:1] not in ESCAPE_FIRST:
            return text  # one line, not opening with a digit, "-" or "+": nothing to escape
    elif ESCAPE_AT_START.match(text) is None and ESCAPE_AFTER_NEWLINE.search(text) is None:
        return text
    return ESCAPE.sub(_escape_match, text) if ESCAPE.search(text) else text


ESCAPE_FIRST = frozenset("0123456789-+")


def _wrap(marker: str, text: str) -> str:
    core = text.strip()
    if not core or core.replace("*", "").replace("_", "").strip() == "":
        return text if text.isspace() else core
    lead = " " if text[:1].isspace() else ""
    trail = " " if text[-1:].isspace() else ""
    return f"{lead}{marker}{core}{marker}{trail}"


# What str.split() and WS disagree on: separators split() takes for whitespace and WS does not,
# and the zero-width spaces WS takes and split() does not.
ODD_SPACE = re.compile("[\x1c-\x1f\x85\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]")


def _collapsed(text: str) -> bool:
    """No run for WS.sub to collapse: a search for one character is far faster than any pass
    that looks at every character, and most texts hold none of these."""
    return not (
        "\n" in text
        or "  " in text
        or "\t" in text
        or "\r" in text
        or "\f" in text
        or "\v" in text
        or not text.isascii()
        and ("\xa0" in text or "\u200b" in text or "\ufeff" in text)
    )


# Whitespace to collapse when the text holds no-break spaces: all but U+00A0, which html2text
# (and so the reference format) keeps, one space each ("iv.&nbsp;&nbsp; You" is "iv.   You").
WS_BUT_NBSP = re.compile(r"[ \t\n\r\f\v\u200b\ufeff]+")


def _squash(text: str) -> str:
    """WS.sub(" ", text), quicker; no-break spaces kept (see WS_BUT_NBSP)."""
    if _collapsed(text):
        return text
    return WS_BUT_NBSP.sub(" ", text) if "\xa0" in text else WS.sub(" ", text)


def _collapse(text: str) -> str:
    """WS.sub(" ", text), up to leading and trailing space: str.split's C path whenever it and
    WS agree on what whitespace is."""
    if _collapsed(text):
        return text
    if "\xa0" in text:  # no-break spaces are kept, one space each (see WS_BUT_NBSP)
        return WS_BUT_NBSP.sub(" ", text)
    if (
        not ("\x1c" in text or "\x1d" in text or "\x1e" in text or "\x1f" in text)
        if text.isascii()
        else ODD_SPACE.search(text) is None
    ):
        return " ".join(text.split())
    return WS.sub(" ", text)


# A cell holding any of these is page layout, not a cell of data.
LAYOUT_IN_CELLS = "p, div, ul, ol, h1, h2, h3, h4, h5, h6, table, blockquote, pre"


def _unescape(text: str) -> str:
    """Undo lexbor's serialiser: it escapes only these in text and attribute values."""
    return (
        text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&nbsp;", "\xa0")
        .replace("&amp;", "&")
    )


def _is_data_table(table: LexborNode) -> bool:
    """A table of data (render as pipe rows), not a layout table (render its cells as blocks):
    no table inside, no paragraph, list or heading in a cell, no cell of more than 300
    characters, and a row of two cells or more. One selector pass for the whole table, not one
    per cell: policies lay out whole pages in tables of a hundred cells."""
    if len(table.css("table")) > 1:  # css() matches the node itself too
        return False
    for found in table.css(LAYOUT_IN_CELLS):
        if found.mem_id == table.mem_id:
            continue  # the table itself
        parent = found.parent
        while parent is not None and parent.mem_id != table.mem_id:
            if parent.tag == "td" or parent.tag == "th":
                return False  # layout inside a cell
            parent = parent.parent
    cells = table.css("td, th")
    for cell in cells:
        text = cell.text(deep=True) or ""
        if len(text) > 300 and len(_squash(text)) > 300:  # collapsing only shortens a text
            return False
    per_row = collections.Counter(cell.parent.mem_id for cell in cells if cell.parent)
    return max(per_row.values(), default=0) >= 2
