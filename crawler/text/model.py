"""What extraction makes: a Document of Blocks, and the HTML vocabulary every step shares.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "center",
        "dd",
        "details",
        "dialog",
        "dir",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "html",
        "li",
        "main",
        "menu",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
        "caption",
        "legend",
    ]
)


HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}


WS = re.compile(r"[ \t\n\r\f\v\u00a0\u200b\ufeff]+")


class Block(NamedTuple):
    """One block of content. kind: heading, para, item, row, rule, pre. `text` is inline markdown.

    `level` is the heading level, or the list depth (1 = top) of an item; `marker` is an item's
    bullet (`*` or `3.`); `quote` is the blockquote depth. A named tuple: a page makes hundreds,
    and a frozen dataclass takes three times as long to make.
    """

    kind: str
    text: str
    level: int = 0
    marker: str = ""
    quote: int = 0
    start: bool = False  # the first item of a top-level list, or the first row of a table


@dataclass(frozen=True, slots=True)
class Document:
    """The main content of a page: its title and its blocks."""

    title: str
    blocks: tuple[Block, ...]
