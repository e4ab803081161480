"""Main container -> blocks: the walk over lexbor's serialisation that lays text out as html2text
does, without line wrapping.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from selectolax.lexbor import LexborNode

from crawler.errors import ExtractionError
from crawler.text.inline import (
    BR,
    ESCAPE_FIRST,
    INLINE_MARKERS,
    _collapse,
    _escape,
    _is_data_table,
    _squash,
    _unescape,
    _wrap,
)
from crawler.text.model import BLOCK_TAGS, HEADINGS, Block
from crawler.text.urls import original_url

# The main container is serialised once by lexbor and walked as a token stream: one regex split
# in C, then one Python step per tag, instead of a Python call per DOM node and property. The
# serialiser writes every tag closed and lower-cased, escapes only & < > and U+00A0 in text and
# & " < > in attribute values, and writes comments as <!--…-->: the stream is exact.
TOKEN = re.compile(r"<!--.*?-->|<(/?)([a-zA-Z][^\s/>]*)([^>]*)>", re.S)


TABLES_AND_RAW_TEXT = ":is(table, blockquote, xmp, plaintext, noembed, noframes)"
# Inside a blockquote, any of these makes it page layout (an indented policy), not a quotation.
LAYOUT_IN_QUOTES = "h1, h2, h3, h4, h5, h6, ul, ol, dl, table, blockquote"


HREF = re.compile(r'\shref="([^"]*)"')


VOID_TAGS = frozenset(
    ["area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta"]
    + ["param", "source", "track", "wbr"]
)


LIST_TAGS = frozenset(["ul", "ol", "menu", "dir"])


# Inline elements whose markdown is their text: span, font, u and the like.
# Budgets a hostile page could otherwise turn into quadratic work: open elements (deeper ones
# are flattened into their parent), list levels shown, and tags in one container.
MAX_DEPTH = 200
MAX_LIST_DEPTH = 20
MAX_TAGS = 400_000
# Bold stays bold in a heading, as html2text writes it ("### **Contact us**").
BOLD = frozenset(["b", "strong"])
TRANSPARENT = frozenset(["span", "font", "u", "small", "sup", "sub", "label", "abbr", "time"])


CODE_TAGS = frozenset(["code", "kbd", "tt", "samp"])


# What opening a tag does; _INLINE_ELEMENT for any tag not named here.
_INLINE_ELEMENT, _BLOCK_ELEMENT, _HEADING_ELEMENT, _LIST_ELEMENT, _LIST_ITEM = range(5)


_TABLE_ELEMENT, _OTHER_BLOCK, _VOID = range(5, 8)


OPENS = {tag: _BLOCK_ELEMENT for tag in BLOCK_TAGS}


OPENS.update({tag: _HEADING_ELEMENT for tag in HEADINGS})


OPENS.update({tag: _LIST_ELEMENT for tag in LIST_TAGS})


OPENS.update({tag: _VOID for tag in VOID_TAGS})


OPENS.update({"li": _LIST_ITEM, "table": _TABLE_ELEMENT, "pre": _OTHER_BLOCK})


OPENS["blockquote"] = _OTHER_BLOCK


# An open element: [tag, what closing it does, its parts (inline text), and for those that
# change where text goes, where it went before: outer parts, outer plain, outer convertible;
# then a link's href match]. Lists, not objects: there is one per element of the policy.
_Frame = list[Any]


# What closing an element does (the second field of a frame): up to _QUOTE it only ends a
# block; from _HEADING on it also restores where text goes.
_FLUSH, _NOTHING, _LIST, _ITEM, _QUOTE, _HEADING, _INLINE, _TABLE, _ROW, _CELL = range(10)


def _is_layout_quote(node: LexborNode, container_length: int) -> bool:
    """A blockquote that indents the page (older sites indent the whole policy with one, or
    several nested), not a quotation: it holds headings, lists, tables or another blockquote,
    several paragraphs, or most of the text. A short quoted passage stays a quote."""
    if any(found.mem_id != node.mem_id for found in node.css(LAYOUT_IN_QUOTES)):
        return True  # (css() matches the node itself too)
    text = node.text(deep=True) or ""
    if container_length and len(text) >= 0.5 * container_length and len(text) > 200:
        return True
    paragraphs = len(node.css("p, div"))
    return paragraphs >= 2 or (
        text.count("\n") >= 2 and len(node.css("br")) >= 2 and len(text) > 400
    )


class _Walker:
    """Walks a serialised container and collects blocks the way html2text lays them out.

    Text goes to the open block's buffer, or, inside an inline element, to that element's parts
    (an inline element's markdown is known only at its end: a link, bold, code). An inline
    element turns out to be a mere container when a block opens inside it: its parts so far go
    to the buffer and it closes silently. Headings and table cells hold inline text only.
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.blocks: list[Block] = []
        self.buf: list[str] = []
        self.kind = "para"
        self.level = 0
        self.marker = ""
        self.quote = 0
        self.lists: list[list[int | str]] = []  # [type, counter] per open list
        self.start_next = False
        # While a container is walked (see `walk`):
        self.tables: Iterator[bool] = iter(())  # data table or not, per <table> in order
        self.quotes: Iterator[bool] = iter(())  # layout or quotation, per <blockquote> in order
        self.stack: list[_Frame] = []  # the open elements
        self.parts: list[str] | None = None  # where text goes: an inline element's, or the buffer
        self.plain = False  # inside a heading: links and emphasis as plain text
        self.convertible = (
            False  # the open inline elements sit in a block: a block may open in them
        )
        self.pre: list[str] | None = None  # the text of an open <pre>
        self.pre_depth = 0
        self.table: list[list[str]] | None = None  # rows of the open data table
        self.row: list[str] = []
        self.row_th = False

    # -- block bookkeeping ------------------------------------------------------------------
    def flush(self) -> None:
        buf = self.buf
        if buf:
            text = "".join(buf)
            buf.clear()  # in place: the walk holds it
            if BR in text:
                lines = [line.strip() for line in _collapse(text).split(BR)]
                joined = "  \n".join(line for line in lines if line)
            else:
                joined = _collapse(text).strip()
            if "\xa0" in joined:
                joined = joined.replace("\xa0", " ")  # as html2text writes them
            kind = self.kind
            # Not a block of markers alone ("** **"): looking at the first character spares a copy.
            if joined and (kind == "item" or joined[0] not in "*_ " or joined.strip("*_ ")):
                start = False
                if kind == "item" or kind == "row":
                    start, self.start_next = self.start_next, False
                block = (kind, joined, self.level, self.marker, self.quote, start)
                self.blocks.append(tuple.__new__(Block, block))  # Block(), without its checks
        self.kind, self.level, self.marker = "para", 0, ""

    def start(self, kind: str, level: int = 0, marker: str = "") -> None:
        if self.buf:
            self.flush()
        self.kind, self.level, self.marker = kind, level, marker

    def finish(self) -> list[Block]:
        self.flush()
        return self.blocks

    # -- walking --------------------------------------------------------------------------
    def walk(self, container: LexborNode) -> None:
        """Walk one container, itself included (a selected <h2> stays a heading).

        The serialisation splits into tokens four at a time (text, the "/" of a closing tag,
        the tag's name, its attributes): text goes where text goes now, each tag to `_closing`
        or `_opening`. What they share while a container is walked lives on the walker: the
        open elements (`stack`), where text goes (`parts`, None for the block's buffer), and
        the open <pre> and data table. (Split so at no measurable cost: the median page takes
        0.9 / 2.4 / 3.1 ms on the three corpora of scripts/bench_extract.py, compiled, as the
        single 196-line loop did.)"""
        data_tables = []
        layout_quotes = []
        weight = -1
        for node in container.css(TABLES_AND_RAW_TEXT):
            if node.tag == "table":
                data_tables.append(_is_data_table(node))
            elif node.tag == "blockquote":
                if weight < 0:
                    weight = len(container.text(deep=True) or "")
                layout_quotes.append(_is_layout_quote(node, weight))
            elif node.mem_id != container.mem_id:
                # A raw text element: the serialiser writes its text unescaped. Make it text.
                node.replace_with(node.text(deep=True) or "")
        html = container.html or ""
        tokens: list[str | None] = TOKEN.split(html)
        if len(tokens) > 4 * MAX_TAGS:
            raise ExtractionError(
                f"page too complex to extract ({len(tokens) // 4:,} tags, at most {MAX_TAGS:,})"
            )
        self._begin(data_tables, layout_quotes)
        buf = self.buf
        last = len(tokens) - 1
        for index in range(0, last + 1, 4):
            text = tokens[index]
            if text:
                if "&" in text:
                    text = _unescape(text)
                pre: list[str] | None = self.pre
                parts: list[str] | None = self.parts
                if pre is not None:
                    pre.append(text)
                elif parts is None and text.isspace():
                    if buf:
                        buf.append(" ")
                else:
                    first = text[0]
                    if first in ESCAPE_FIRST or first.isspace() or "\n" in text:
                        text = _escape(text)
                    (buf if parts is None else parts).append(text)
            if index == last:
                break
            tag = tokens[index + 2]
            if tag is None:
                continue  # a comment
            if tokens[index + 1]:
                self._closing(tag)
            else:
                self._opening(tag, tokens[index + 3] or "")
        for frame in reversed(self.stack):  # never from lexbor's serialiser; kept for safety
            self._close(frame)

    def _begin(self, data_tables: list[bool], layout_quotes: list[bool]) -> None:
        """The walk's state for a new container. (Set here, not in `walk`: there, mypy would
        take `self.parts` for None all through the loop, and mypyc would compile it so.)"""
        self.tables = iter(data_tables)
        self.quotes = iter(layout_quotes)
        self.stack = []
        self.parts = None
        self.plain = False
        self.convertible = False
        self.pre = None
        self.pre_depth = 0
        self.table = None
        self.row = []
        self.row_th = False

    def _closing(self, tag: str) -> None:
        """A closing tag: end the element's block, or make its inline markdown."""
        buf = self.buf
        if self.pre is not None:
            if tag == "pre":
                self.pre_depth -= 1
                if not self.pre_depth:
                    body = "".join(self.pre).strip("\n")
                    self.blocks.append(Block("pre", body, 0, "", self.quote))
                    self.kind, self.pre = "para", None
            return
        if not self.stack or self.stack[-1][0] != tag:
            return  # never from lexbor's serialiser; kept for safety
        frame = self.stack.pop()
        action = frame[1]
        if action >= _HEADING:
            self.parts, self.plain, self.convertible = frame[3], frame[4], frame[5]
            if action == _INLINE:
                tag = frame[0]
                if tag in TRANSPARENT or (
                    self.plain and tag != "a" and tag not in BLOCK_TAGS and tag not in BOLD
                ):
                    markdown = "".join(frame[2])
                else:
                    markdown = self.inline(frame, self.plain)
                (buf if self.parts is None else self.parts).append(markdown)
            elif action == _CELL:
                self.row.append(_squash("".join(frame[2])).strip())
            elif action == _ROW:
                self.start("row")
                buf.append(" | ".join(self.row))
                self.flush()
                if self.table is not None:
                    if not self.table and self.row_th:  # a header row: html2text's rule under it
                        self.start("row")
                        buf.append("---|" * (len(self.row) - 1) + "---")
                        self.flush()
                    self.table.append(self.row)
            elif action == _TABLE:
                self.table = None
            elif action == _HEADING:
                buf.append("".join(frame[2]))
                self.flush()
        elif action <= _ITEM:  # _FLUSH, _NOTHING, _LIST, _ITEM
            if action == _LIST:
                self.lists.pop()
            if action != _NOTHING:
                if buf:
                    self.flush()
                else:
                    self.kind, self.level, self.marker = "para", 0, ""
        else:
            self._close(frame)

    def _opening(self, tag: str, attrs: str) -> None:
        """An opening tag (`attrs`: its attributes as serialised): open a block or an inline
        element, or note a void element's text (<br>, <hr>)."""
        buf = self.buf
        frame: _Frame
        opens = OPENS.get(tag, _INLINE_ELEMENT)
        data = next(self.tables, False) if opens == _TABLE_ELEMENT else False
        layout = next(self.quotes, False) if tag == "blockquote" else False
        if self.pre is not None:
            if tag == "pre":
                self.pre_depth += 1
            return
        if opens != _VOID and len(self.stack) >= MAX_DEPTH:
            # Deeper than any page's layout: the element is flattened into its parent (its
            # text kept; its closing tag, matching nothing open, is passed over), so that
            # nesting costs no more than plain text.
            return
        if opens == _VOID:
            if tag == "br":
                (self.parts if self.parts is not None else buf).append(BR)
            elif tag == "hr":
                if self.parts is not None:
                    self.parts.append("  ")
                else:
                    self.start("rule")
                    buf.append("* * *")
                    self.flush()
            return
        if self.parts is not None and self._opening_inline(tag, opens, attrs):
            return
        # A block-level context.
        if opens == _BLOCK_ELEMENT:
            # html2text gives <p> and <div> alike a paragraph break; inside a list item, a line.
            if not buf:
                if self.kind == "item" and (tag == "p" or tag == "div"):
                    self.stack.append([tag, _NOTHING])
                    return
                self.kind, self.level, self.marker = "para", 0, ""
            else:
                self.flush()
            self.stack.append([tag, _FLUSH])
        elif opens == _INLINE_ELEMENT:
            href = tag == "a" and HREF.search(attrs)
            frame = [tag, _INLINE, [], None, False, False, href]
            self.stack.append(frame)
            self.parts, self.convertible = frame[2], True
        elif opens == _LIST_ITEM:
            depth = min(max(1, len(self.lists)), MAX_LIST_DEPTH)
            marker = "*"
            if self.lists and self.lists[-1][0] == "ol":
                counter = int(self.lists[-1][1]) + 1
                self.lists[-1][1] = counter
                marker = f"{counter}."
            self.start("item", depth, marker)
            self.stack.append([tag, _ITEM])
        elif opens == _HEADING_ELEMENT:
            self.start("heading", HEADINGS[tag])
            frame = [tag, _HEADING, [], None, False, False, None]
            self.stack.append(frame)
            self.parts, self.plain = frame[2], True
        elif opens == _LIST_ELEMENT:
            if buf:
                self.flush()
            else:
                self.kind, self.level, self.marker = "para", 0, ""
            if not self.lists:
                self.start_next = True
            self.lists.append([tag, 0])
            self.stack.append([tag, _LIST])
        elif opens == _TABLE_ELEMENT and data:
            self.flush()
            self.start_next = True
            self.table = []
            frame = [tag, _TABLE, [], None, False, False, None]
            self.stack.append(frame)
            self.parts = frame[2]  # text outside the cells (a caption) is dropped
        elif tag == "pre":
            self.start("pre")
            self.pre, self.pre_depth = [], 1
        elif tag == "blockquote" and not layout:
            self.flush()
            self.quote += 1
            self.stack.append([tag, _QUOTE])
        else:  # a layout table, and the rest of BLOCK_TAGS
            self.flush()
            self.stack.append([tag, _FLUSH])

    def _opening_inline(self, tag: str, opens: int, attrs: str) -> bool:
        """An opening tag while text goes to an inline element's parts. True when handled: a
        row or cell of the open data table, or an inline element. False for a block, which
        makes the inline elements around it mere containers (their parts go to the buffer)
        and is then opened as any block is."""
        buf = self.buf
        frame: _Frame
        if self.table is not None and not self.convertible:
            if tag == "tr":
                self.row, self.row_th = [], False
                self.stack.append(
                    [tag, _ROW, self.parts, self.parts, self.plain, self.convertible, None]
                )
                return True
            if tag == "td" or tag == "th":
                self.row_th = self.row_th or tag == "th"
                frame = [tag, _CELL, [], self.parts, self.plain, self.convertible, None]
                self.stack.append(frame)
                self.parts = frame[2]
                return True
        if opens == _INLINE_ELEMENT or not self.convertible:
            href = tag == "a" and HREF.search(attrs)
            frame = [tag, _INLINE, [], self.parts, self.plain, self.convertible, href]
            self.stack.append(frame)
            self.parts = frame[2]
            return True
        # A block inside inline elements that sit in a block: they are only containers.
        for frame in self.stack:
            if frame[1] == _INLINE and (frame[3] is None or frame[5]):
                for part in frame[2]:
                    if buf or not part.isspace() and part:
                        buf.append(part)
                frame[1], frame[3] = _NOTHING, None
        self.parts, self.convertible = None, False
        return False

    def _close(self, frame: _Frame) -> None:
        action = frame[1]
        if action in (_FLUSH, _ITEM):
            self.flush()
        elif action == _LIST:
            self.lists.pop()
            self.flush()
        elif action == _QUOTE:
            self.flush()
            self.quote -= 1

    def inline(self, frame: _Frame, plain: bool) -> str:
        """An inline element's markdown, from its parts."""
        tag, inner = frame[0], "".join(frame[2])
        if tag in BLOCK_TAGS:
            return " " + inner + " "
        if tag == "a":
            match = frame[6]
            href = _unescape(match.group(1)) if match else ""
            return self.link(href, inner, plain)
        if plain and tag not in BOLD:
            return inner
        if tag in INLINE_MARKERS:
            return _wrap(INLINE_MARKERS[tag], _squash(inner))
        if tag in CODE_TAGS and inner.strip():
            return f"`{inner.strip()}`"
        return inner

    def link(self, href: str, inner: str, plain: bool) -> str:
        text = _squash(inner).strip()
        href = href.strip()
        if not text:
            return ""
        if plain or not href or href.startswith("#") and not self.base_url:
            return inner
        if href.lower().startswith(("javascript:", "data:", "vbscript:")):
            return inner
        url = original_url(href, self.base_url)
        lead = " " if inner[:1].isspace() else ""
        trail = " " if inner[-1:].isspace() else ""
        if text == url:
            return f"{lead}<{url}>{trail}"
        # A trailing space stays inside the brackets, as html2text writes it.
        return f"{lead}[{text}{trail}]({url.replace(' ', '%20').replace(')', '%29')})"
