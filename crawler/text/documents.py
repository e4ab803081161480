"""Pages that hold several documents (terms, privacy, cookies on one page): keep the one asked for.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import itertools
import re

from crawler.text.model import Block

# -- pages that hold several documents -------------------------------------------------------

DOCUMENT_WORDS = re.compile(
    r"\b(policy|policies|terms|agreement|notice|statement|addendum|"
    r"guidelines|conditions|imprint|charter|rules)\b",
    re.I,
)


NOT_A_TITLE = re.compile(
    r"^\W*\d|^\W*(?:[A-Z]|[IVXL]+)\.\s|^\W*(?:<|https?:)|"
    r"\b(changes?|updates?|modifications?|to this|of this|our)\b",
    re.I,
)


KIND_HINTS = {
    "privacy": (
        "privacy policy",
        "privacy notice",
        "privacy statement",
        "data protection",
        "privacy",
    ),
    "terms": (
        "terms of service",
        "terms of use",
        "terms and conditions",
        "terms & conditions",
        "user agreement",
        "conditions of use",
        "terms",
    ),
    "cookies": (
        "cookie policy",
        "cookies policy",
        "cookie statement",
        "cookie notice",
        "trackers",
        "cookies",
        "cookie",
    ),
}


TITLE_SYNONYMS = {
    "copyright": ("copyright", "dmca"),
    "acceptable use": ("acceptable use", "usage policy", "use policy"),
    "data processing": ("data processing", "data processor", "dpa"),
    "developer": ("developer terms", "api terms", "developer agreement", "api agreement"),
    "trackers": ("cookie", "trackers"),
}


def document_hints(kind: str, title: str | None = None) -> tuple[str, ...]:
    """Phrases that name the wanted document in its own heading, most specific first."""
    hints: list[str] = []
    if title:
        lowered = " ".join(title.lower().split())
        hints.append(lowered)
        for key, synonyms in TITLE_SYNONYMS.items():
            if key in lowered or any(synonym in lowered for synonym in synonyms):
                hints.extend(synonyms)
    hints.extend(KIND_HINTS.get(kind, ()))
    return tuple(dict.fromkeys(hints))


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[*_`\\\[\]()]", " ", text).lower().split())


def _title_signature(block: Block) -> tuple[str, int] | None:
    """(kind, level) of a block that reads as a document's own title, else None."""
    text = block.text
    if block.kind != "heading" and block.kind != "para" or len(text.split(None, 8)) > 8:
        return None  # split at most 8 times: a paragraph of the policy is not split whole
    if block.kind == "para" and ("*" in text or "_" in text or "[" in text):
        return None
    if not DOCUMENT_WORDS.search(text) or NOT_A_TITLE.search(text):
        return None
    return block.kind, block.level


DOCUMENT_FAMILIES = (
    ("privacy",),
    ("terms", "conditions", "agreement"),
    ("cookie", "trackers"),
    ("copyright", "dmca"),
    ("acceptable use", "usage policy"),
)


def _names_several(title: str) -> bool:
    """A page title such as "Terms, Privacy, & Copyright": the heading of several documents."""
    return sum(1 for family in DOCUMENT_FAMILIES if any(w in title for w in family)) >= 2


def choose_document(blocks: list[Block], hints: tuple[str, ...]) -> list[Block]:
    """On a page holding several documents (three or more titles at one level), keep the one
    whose title matches `hints`; any other page is returned whole."""
    if not hints:
        return blocks
    for block in blocks:
        # A page whose own <h1> names the wanted document is that document.
        if (
            block.kind == "heading"
            and block.level == 1
            and any(h in _plain(block.text) for h in hints)
            and not _names_several(_plain(block.text))
        ):
            return blocks
    titles = [(i, sig) for i, b in enumerate(blocks) if (sig := _title_signature(b))]
    by_signature: dict[tuple[str, int], list[int]] = {}
    for i, sig in titles:
        by_signature.setdefault(sig, []).append(i)
    if all(len(positions) < 3 for positions in by_signature.values()):
        return blocks  # fewer than three titles of a kind: one document
    # Words before each block, so that the words of any run of blocks is one subtraction.
    before = list(itertools.accumulate((len(b.text.split()) for b in blocks), initial=0))
    total_words = before[-1]
    groups = []
    for positions in by_signature.values():
        ends = [*positions[1:], len(blocks)]
        # Documents, not a menu of their names: at least three titles head real text.
        if (
            sum(1 for a, b in zip(positions, ends, strict=True) if before[b] - before[a + 1] >= 60)
            >= 3
        ):
            groups.append(positions)
    for hint in hints:
        best: tuple[int, int, int] | None = None  # (words, start, end)
        for positions in groups:
            for n, start in enumerate(positions):
                if hint not in _plain(blocks[start].text):
                    continue
                end = positions[n + 1] if n + 1 < len(positions) else len(blocks)
                words = before[end] - before[start]
                if words >= 80 and words < 0.9 * total_words and (best is None or words > best[0]):
                    best = (words, start, end)
        if best:
            return blocks[best[1] : best[2]]
    return blocks
