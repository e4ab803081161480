"""Word-level redlines: what was deleted and inserted between two texts, word by word. Pure.

Bounded (#17): past MAX_WORD_CELLS word pairs (an 80,000-word section ran past five minutes),
sentences are aligned first, and only the changed stretches within the bound get a word-level
redline; longer stretches are shown deleted and inserted whole.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

WORD = re.compile(r"\S+")
MAX_WORD_CELLS = 4_000_000
SENTENCE = re.compile(r"(?<=[.!?;:])\s+|\n+")


def redline(old: str, new: str) -> tuple[tuple[tuple[str, str], ...], int, int]:
    """Word-level redline of two texts: ((op, text), ...), words added, words removed. Huge
    texts (over MAX_WORD_CELLS word pairs) are aligned by sentence first."""
    a, b = WORD.findall(old), WORD.findall(new)
    if len(a) * len(b) > MAX_WORD_CELLS:
        return _coarse_redline(old, new)
    return _word_redline(a, b)


def _word_redline(a: list[str], b: list[str]) -> tuple[tuple[tuple[str, str], ...], int, int]:
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    parts: list[tuple[str, str]] = []
    added = removed = 0
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(("equal", " ".join(a[i1:i2])))
            continue
        if op in ("delete", "replace"):
            parts.append(("delete", " ".join(a[i1:i2])))
            removed += i2 - i1
        if op in ("insert", "replace"):
            parts.append(("insert", " ".join(b[j1:j2])))
            added += j2 - j1
    return tuple(parts), added, removed


def _coarse_redline(old: str, new: str) -> tuple[tuple[tuple[str, str], ...], int, int]:
    """Sentences aligned first (few repeat, so this stays near linear); each changed stretch
    gets a word-level redline when it is within the bound, else is shown deleted and inserted
    whole."""
    sa = [s for s in SENTENCE.split(old) if s.strip()]
    sb = [s for s in SENTENCE.split(new) if s.strip()]
    parts: list[tuple[str, str]] = []
    added = removed = 0
    for op, i1, i2, j1, j2 in SequenceMatcher(None, sa, sb, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(("equal", " ".join(w for s in sa[i1:i2] for w in WORD.findall(s))))
            continue
        a = [w for s in sa[i1:i2] for w in WORD.findall(s)]
        b = [w for s in sb[j1:j2] for w in WORD.findall(s)]
        if len(a) * len(b) <= MAX_WORD_CELLS:
            stretch, plus, minus = _word_redline(a, b)
        else:
            stretch = tuple(p for p in (("delete", " ".join(a)), ("insert", " ".join(b))) if p[1])
            plus, minus = len(b), len(a)
        parts.extend(stretch)
        added += plus
        removed += minus
    return tuple(parts), added, removed
