"""Markdown → ordered sections, each with its heading path. Pure: no I/O, no clock.

Headings are recognised as they occur in real policies: `#` headings (and setext underlines),
bold-only lines (`**Cookies**`), ALL-CAPS lines, numbered headings (`1. Consent and Scope`,
`1\\. INTRODUCTION`, `Section 3 –`, `Article 4`), and bold or numbered lead-ins that open a
paragraph (`(iv) Content You Provide Us.`, `**Do Not Track Signals.**`). Nesting follows heading
levels and numbering depth; other styles nest in the order they first appear. The text before
the first heading is the preamble section (heading "").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ATX = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
SETEXT = re.compile(r"^(=+|-+)\s*$")
BOLD_LINE = re.compile(r"^\*\*([^*].*?)\*\*:?\s*$|^__([^_].*?)__:?\s*$")
NUMBERED = re.compile(
    r"^(?:\*\*)?(?P<num>(?:\d{1,2}(?:\\?\.\d{1,2})*\\?\.?|[IVXL]{1,5}\\?\.|[A-H]\\?\.|"
    r"(?:Section|Article|Part|Chapter)\s+[\dIVXL]+(?:\.\d+)*\s*[:.\-–—]?))\s+(?P<title>.+?)"
    r"(?:\*\*)?\s*$",
    re.I,
)
LEAD_IN = re.compile(
    r"^(?P<lead>\*\*(?P<bold>[^*]{2,100}?[.:])\*\*|(?P<enum>\((?:[ivxl]{1,5}|[a-z]|\d{1,2})\))"
    r"\s+(?P<etitle>[A-Z][^.:]{2,90}[.:]))\s+(?P<rest>\S.*)$"
)
LIST_ITEM = re.compile(r"^\s*(?:[*+-]|\d+\.)\s+")
MD_NOISE = re.compile(r"[*_`]+|\\(?=[^\w\s])")
LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
MAX_HEADING_WORDS = 16


@dataclass(frozen=True, slots=True)
class Section:
    """One section: its heading, its level (1 = outermost), its path of headings from the top,
    and its own text (not its subsections')."""

    index: int
    heading: str
    level: int
    path: tuple[str, ...]
    text: str
    style: str = ""

    @property
    def words(self) -> int:
        return len(self.text.split())


def plain(text: str) -> str:
    """Markdown emphasis, escapes and link targets dropped; whitespace collapsed."""
    return " ".join(MD_NOISE.sub("", LINK.sub(r"\1", text)).split())


def _is_caps(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    return len(letters) >= 3 and all(c.isupper() for c in letters)


def _title_case(text: str) -> bool:
    words = [w for w in re.findall(r"[A-Za-z][\w'’-]*", text) if len(w) >= 4]
    return bool(words) and sum(w[0].isupper() for w in words) >= 0.6 * len(words)


def _heading(line: str, next_line: str, boundary: bool, alone: bool) -> tuple[str, str, str] | None:
    """(style, heading text, rest of paragraph) if the line opens a section, else None.

    `boundary`: the line starts a paragraph or follows a finished sentence (hard-wrapped texts
    have no blank lines); `alone`: blank lines (or the text's edges) on both sides."""
    match = ATX.match(line)
    if match:
        return f"atx{len(match.group(1))}", match.group(2), ""
    if alone and next_line and SETEXT.match(next_line) and not LIST_ITEM.match(line):
        return ("atx1" if next_line.startswith("=") else "atx2"), line, ""
    if not boundary or LIST_ITEM.match(line) and not re.match(r"^\d+\\?\.\s", line):
        return None
    stripped = line.strip()
    words = len(stripped.split())
    if words <= MAX_HEADING_WORDS and not stripped.endswith((",", ";")):
        match = BOLD_LINE.match(stripped)
        if match:
            title = match.group(1) or match.group(2)
            numbered = NUMBERED.match(title)
            if numbered:
                return _numbered_style(numbered.group("num")), title, ""
            return "bold", title, ""
        match = NUMBERED.match(stripped)
        if match and len(match.group("title").split()) <= 12:
            title = match.group("title")
            if _is_caps(title) or not title.rstrip("*").endswith(".") or len(title.split()) <= 6:
                return _numbered_style(match.group("num")), stripped, ""
        if _is_caps(stripped) and words <= 12 and not stripped.endswith("."):
            return "caps", stripped, ""
        if (
            alone
            and words <= 12
            and not stripped.endswith((".", ":"))
            and _title_case(stripped)
            and not stripped.startswith(("[", "<", "|", "_", ">"))
            and ": " not in stripped
            and not re.search(r"\d", stripped)
        ):
            return "title", stripped, ""
    match = LEAD_IN.match(stripped)
    if match:
        if match.group("bold"):
            return "leadin", match.group("bold"), match.group("rest")
        return "enum", f"{match.group('enum')} {match.group('etitle')}", match.group("rest")
    return None


def _numbered_style(num: str) -> str:
    num = num.replace("\\", "").strip()
    if re.match(r"^(section|article|part|chapter)", num, re.I):
        return "num1"
    if re.match(r"^[IVXL]+\.$", num):
        return "roman"
    if re.match(r"^[A-H]\.$", num):
        return "letter"
    depth = len([p for p in num.rstrip(".").split(".") if p])
    return f"num{depth}"


def _rank(style: str) -> tuple[int, int] | None:
    """Explicit ranks: `#` levels first, then numbering depth. None: ranked by appearance."""
    if style.startswith("atx"):
        return (0, int(style[3:]))
    if style.startswith("num"):
        return (1, int(style[3:]))
    return None


# A line that is only a link to a place in the document (`1. [Scope](#scope)`, or the page's
# own URL with a fragment), maybe as a list item: a table of contents' entry.
TOC_LINE = re.compile(
    r"^\s*(?:[*+-]\s+|\d+\\?\.\s+|[ivxlIVXL]+\.\s+)?\[[^\]]+\]\([^)\s]*#[^)\s]+\)\s*$"
)
TOC_HEADING = "Table of contents"


def _toc_run(lines: list[str], start: int) -> int:
    """The index after a table of contents starting at `start` (at least two entries, blank
    lines between them allowed), or `start` when there is none."""
    entries, end, i = 0, start, start
    while i < len(lines):
        if TOC_LINE.match(lines[i]):
            entries, end = entries + 1, i + 1
        elif lines[i].strip():
            break
        i += 1
    return end if entries >= 2 else start


def split_sections(markdown: str) -> list[Section]:
    """Split markdown into sections in document order. A table of contents (a list whose
    items only link to the document's own headings) is one section of its own, whose items
    are never headings: moved or added, it is one change."""
    lines = markdown.replace("\r\n", "\n").split("\n")
    # Provenance lines name the snapshot, not the policy.
    while lines and lines[0].startswith("> *The following text is extracted"):
        lines.pop(0)
    sections: list[Section] = []
    stack: list[tuple[str, str]] = []  # (style, heading) of the open headings, outermost first
    order: list[str] = []  # implicit styles in order of first appearance
    body: list[str] = []
    current: tuple[str, str] = ("", "")

    emitted = [False]  # the current heading's section is out already (before a contents table)

    def close() -> None:
        text = "\n".join(body).strip()
        style, heading = current
        if (heading and not emitted[0]) or text:
            path = tuple(h for _, h in stack) if heading else ()
            sections.append(
                Section(
                    len(sections), path[-1] if path else "", max(1, len(path)), path, text, style
                )
            )
        body.clear()
        emitted[0] = False

    i = 0
    was_heading = True
    while i < len(lines):
        line = lines[i]
        prev = lines[i - 1].strip() if i else ""
        prev_blank = not prev
        next_line = lines[i + 1] if i + 1 < len(lines) else ""
        alone = prev_blank and (not next_line.strip() or SETEXT.match(next_line) is not None)
        boundary = prev_blank or was_heading or prev.endswith((".", ":", "?", "!", ")", "*"))
        toc_end = _toc_run(lines, i) if TOC_LINE.match(line) else i
        if toc_end > i:
            close()
            emitted[0] = True
            path = (*[h for _, h in stack], TOC_HEADING)
            toc = "\n".join(x for x in lines[i:toc_end] if x.strip())
            sections.append(Section(len(sections), TOC_HEADING, len(path), path, toc, "toc"))
            i, was_heading = toc_end, True
            continue
        found = _heading(line, next_line, boundary, alone) if line.strip() else None
        if line.strip():
            was_heading = found is not None and not found[2]
        if found is None:
            body.append(line)
            i += 1
            continue
        style, heading, rest = found
        close()
        _push(stack, order, style, plain(heading))
        current = (style, heading)
        if rest:
            body.append(rest)
        i += (
            2
            if SETEXT.match(next_line or "x") and style.startswith("atx") and not ATX.match(line)
            else 1
        )
    close()
    return sections


def _push(stack: list[tuple[str, str]], order: list[str], style: str, heading: str) -> None:
    rank = _rank(style)
    if rank is not None:
        # An explicit heading closes every open heading of the same or a deeper rank, and
        # every implicit style opened under them.
        while stack:
            top_rank = _rank(stack[-1][0])
            if (
                top_rank is None
                or (top_rank[0] == rank[0] and top_rank[1] >= rank[1])
                or top_rank[0] > rank[0]
            ):
                stack.pop()
            else:
                break
    else:
        if style not in order:
            order.append(style)
        position = order.index(style)
        while stack:
            top_style = stack[-1][0]
            if _rank(top_style) is not None:
                break
            if order.index(top_style) >= position:
                stack.pop()
            else:
                break
    stack.append((style, heading))
