"""Terms a reader watches ("arbitration", "sell|sale", "biometric"): which of them a change
added or removed, with the sentence that holds each. Pure.

A term is a word or phrase (matched as whole words) or a regular expression, case-insensitive.
A section counts a hit when the term matches more (added) or fewer (removed) times after the
change than before: a cosmetic change (a date, re-wrapped lines, punctuation) moves no count and
so never hits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from crawler.errors import ConfigError

SENTENCE = re.compile(r"(?<=[.!?;:])\s+|\n+")
MAX_SENTENCE = 400


@dataclass(frozen=True)
class Term:
    label: str
    pattern: re.Pattern[str]


def parse_term(value: str, where: str = "--term") -> Term:
    value = value.strip()
    if not value:
        raise ConfigError(f"{where} '': give a word, a phrase or a regular expression")
    source = rf"\b{re.escape(value)}\b" if re.fullmatch(r"[\w\s'-]+", value) else value
    try:
        return Term(value, re.compile(source, re.I))
    except re.error as exc:
        raise ConfigError(f"{where} {value!r} is not a valid regular expression ({exc})") from None


def _sentence(text: str, term: Term, other: str) -> str:
    """The first sentence of `text` holding the term that `other` lacks (else the first with
    it)."""
    holding = [s.strip() for s in SENTENCE.split(text) if term.pattern.search(s)]
    fresh = [s for s in holding if s not in other]
    chosen = (fresh or holding or [""])[0]
    return chosen if len(chosen) <= MAX_SENTENCE else chosen[: MAX_SENTENCE - 1] + "…"


def term_hits(sections: list[dict[str, Any]], terms: list[Term]) -> list[dict[str, Any]]:
    """[{"term", "direction" (added | removed), "section", "sentence"}] for a change's section
    changes (as `changes.sections` stores them, redlines included)."""
    hits = []
    for section in sections:
        parts = section.get("redline") or ()
        old = " ".join(text for op, text in parts if op in ("equal", "delete"))
        new = " ".join(text for op, text in parts if op in ("equal", "insert"))
        heading = section.get("new_heading") or section.get("old_heading") or ""
        for term in terms:
            before, after = len(term.pattern.findall(old)), len(term.pattern.findall(new))
            if before == after:
                continue
            added = after > before
            hits.append(
                {
                    "term": term.label,
                    "direction": "added" if added else "removed",
                    "section": heading,
                    "sentence": _sentence(new, term, old) if added else _sentence(old, term, new),
                }
            )
    return hits


def query_patterns(query: str) -> list[re.Pattern[str]]:
    """The words, prefixes and phrases of an FTS5 query, as patterns to find them in text."""
    out = []
    for token in re.findall(r'"[^"]*"|[^\s()]+', query):
        if token in ("AND", "OR", "NOT") or token.startswith("NEAR"):
            continue
        token = token.strip('"').split(":")[-1]
        prefix = token.endswith("*")
        words = [re.escape(w) for w in token.rstrip("*").split()]
        if words:
            out.append(re.compile(r"\b" + r"\W+".join(words) + (r"\w*" if prefix else r"\b"), re.I))
    return out


def excerpt(
    sections: list[dict[str, Any]], query: str, op: str, words: int = 14
) -> dict[str, str] | None:
    """Where a change's inserted (`op` = "insert") or deleted text matches the query: the
    section and the words around the first match, the matched part marked [+…+] or [-…-]."""
    patterns = query_patterns(query)
    mark = ("[+", "+]") if op == "insert" else ("[-", "-]")
    for section in sections:
        for part_op, text in section.get("redline") or ():
            if part_op != op:
                continue
            for pattern in patterns:
                found = pattern.search(text)
                if not found:
                    continue
                before = text[: found.start()].split()[-words:]
                after = text[found.end() :].split()[:words]
                snippet = " ".join([*before, mark[0] + found.group(0) + mark[1], *after])
                heading = section.get("new_heading") or section.get("old_heading") or ""
                return {"section": heading, "text": snippet}
    return None
