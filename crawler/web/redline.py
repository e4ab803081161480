"""Readable HTML for the pages: a version's markdown rendered, and a section's changes as a
redline that keeps its paragraphs and line breaks, shows emphasis as emphasis (not `**` and
`_`), and folds long unchanged runs.

Everything that came from a page is escaped here; the markdown renderer takes no raw HTML and
refuses `javascript:` links, and the pages' CSP allows no script and no remote image anyway.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from functools import lru_cache
from html import escape

from markdown_it import MarkdownIt
from markupsafe import Markup

FOLD_WORDS = 60  # an unchanged run longer than this shows its ends and folds its middle
KEEP_WORDS = 20  # words kept on each side of a fold

# Emphasis as private-use marks, so that words keep them through the word diff.
STRONG_OPEN, STRONG_CLOSE, EM_OPEN, EM_CLOSE = "\ue000", "\ue001", "\ue002", "\ue003"
STRONG = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
EM = re.compile(r"(?<![\w\\])_(?=\S)(.+?)(?<=\S)_(?!\w)")
TOKEN = re.compile(r"\n\n+|\n|[^\s]+")
PARA = '<div class="para">'  # a paragraph (a <p> may not hold a folded <details>)
TAGS = {STRONG_OPEN: "strong", EM_OPEN: "em"}
CLOSES = {STRONG_CLOSE: STRONG_OPEN, EM_CLOSE: EM_OPEN}


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def markdown_html(text: str) -> Markup:
    """A policy's markdown as HTML: headings, lists, links, tables; raw HTML shown as text."""
    return Markup(_markdown().render(text))


def _tokens(text: str) -> list[str]:
    """Words, line breaks ("\\n") and paragraph breaks ("\\n\\n"), emphasis as marks."""
    text = STRONG.sub(lambda m: f"{STRONG_OPEN}{m.group(1)}{STRONG_CLOSE}", text)
    text = EM.sub(lambda m: f"{EM_OPEN}{m.group(1)}{EM_CLOSE}", text)
    return TOKEN.findall(text.strip())


class _Writer:
    """Writes tokens as HTML, keeping <strong>/<em> and <ins>/<del> properly nested: emphasis
    open across an insertion's edge is closed before it and opened again inside."""

    def __init__(self) -> None:
        self.out: list[str] = [PARA]
        self.open: list[str] = []  # emphasis marks open, outermost first
        self.mark = ""  # "ins", "del" or ""
        self.spaced = False  # a space was written before a mark opened

    def _close_all(self) -> None:
        for mark in reversed(self.open):
            self.out.append(f"</{TAGS[mark]}>")
        if self.mark:
            self.out.append(f"</{self.mark}>")

    def _open_all(self) -> None:
        if self.mark:
            self.out.append(f"<{self.mark}>")
        for mark in self.open:
            self.out.append(f"<{TAGS[mark]}>")

    def _line_start(self) -> bool:
        return not self.out or self.out[-1].endswith((PARA, "<br>"))

    def set_mark(self, mark: str) -> None:
        if mark != self.mark:
            needs_space = not self._line_start()
            self._close_all()
            if needs_space:  # the space between words stays outside <ins> and <del>
                self.out.append(" ")
                self.spaced = True
            self.mark = mark
            self._open_all()

    def word(self, token: str, space: bool) -> None:
        if token.startswith("\n"):
            self._close_all()
            self.out.append(f"</div>{PARA}" if len(token) > 1 else "<br>")
            self._open_all()
            return
        if space and not self.spaced and not self._line_start():
            self.out.append(" ")
        self.spaced = False
        piece = []
        for ch in token:
            if ch in TAGS:
                if ch not in self.open:
                    self.open.append(ch)
                    piece.append(f"<{TAGS[ch]}>")
            elif ch in CLOSES:
                opener = CLOSES[ch]
                if opener in self.open:
                    # Close down to it, then reopen the ones inside (rarely any).
                    inner = self.open[self.open.index(opener) + 1 :]
                    piece += [f"</{TAGS[m]}>" for m in reversed(inner)]
                    piece.append(f"</{TAGS[opener]}>")
                    self.open.remove(opener)
                    piece += [f"<{TAGS[m]}>" for m in inner]
            else:
                piece.append(escape(ch))
        self.out.append("".join(piece))

    def fold(self, words: list[str]) -> None:
        count = sum(1 for w in words if not w.startswith("\n"))
        self._close_all()
        self.out.append(
            f' <details class="fold"><summary>… {count} unchanged words</summary>{PARA}'
        )
        inner = _Writer()
        inner.open = list(self.open)
        inner.out = []
        inner._open_all()
        for token in words:
            inner.word(token, True)
        inner._close_all()
        self.out += inner.out
        self.out.append("</div></details> ")
        self._open_all()

    def html(self) -> Markup:
        self._close_all()
        self.out.append("</div>")
        return Markup("".join(self.out).replace(f"{PARA}</div>", ""))


def redline(old: str, new: str, side: str = "both") -> Markup:
    """HTML of the word changes from `old` to `new`: deleted words in <del>, inserted in
    <ins>, paragraphs and line breaks kept, emphasis rendered, long unchanged runs folded.
    `side`: "both" (inline), "old" (only deletions shown) or "new" (only insertions)."""
    a, b = _tokens(old), _tokens(new)
    writer = _Writer()
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            words = a[i1:i2]
            writer.set_mark("")
            if len(words) > FOLD_WORDS:
                for token in words[:KEEP_WORDS]:
                    writer.word(token, True)
                writer.fold(words[KEEP_WORDS:-KEEP_WORDS])
                for token in words[-KEEP_WORDS:]:
                    writer.word(token, True)
            else:
                for token in words:
                    writer.word(token, True)
            continue
        if op in ("delete", "replace") and side != "new":
            writer.set_mark("del")
            for token in a[i1:i2]:
                writer.word(token, True)
        if op in ("insert", "replace") and side != "old":
            writer.set_mark("ins")
            for token in b[j1:j2]:
                writer.word(token, True)
    return writer.html()
