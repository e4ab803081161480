"""Section-level diff of two versions: which sections were added, removed, moved, renamed, split
or modified, the word-level redline of each, and whether the change matters. Pure.

Alignment: the same heading first (in order among duplicates), then the best remaining pairs by
heading and content similarity; moves are the matched sections outside the longest run that kept
its order, so a moved section is never reported as a deletion plus an insertion.

Significance: a section change is `cosmetic` when the texts are equal after normalising
whitespace, quote and dash style, case, punctuation and the ignore patterns (by default the date
after "Last updated" and its kin); otherwise `substantive`.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from crawler.text.sections import Section, plain
from crawler.text.words import WORD, redline

MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
DATE = (
    rf"(?:{MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{1,2}}(?:st|nd|rd|th)?\s+"
    rf"(?:of\s+)?{MONTHS},?\s+\d{{4}}|{MONTHS}\s+\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}|"
    r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4})"
)
# "Last updated: May 25, 2018" and its kin: the date is bookkeeping, not policy.
DEFAULT_IGNORE = (
    rf"(?:last\s+(?:updated|modified|revised|changed|amended)|updated(?:\s+on)?|effective"
    rf"(?:\s+(?:date|as\s+of|from|on))?|revised(?:\s+on)?|date\s+of\s+last\s+revision|"
    rf"version\s+date)\s*(?:on|as\s+of)?\s*[:\-–—]?\s*{DATE}",
)
QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u00a0": " ",
    }
)
PUNCT = re.compile(r"[^\w\s]")
MIN_PAIR_SCORE = 0.5
# Bounds that keep a hostile or huge pair of texts from running for minutes (#17): the section
# pairs scored by content (beyond them, each unmatched section is compared only with those near
# its own position); the redline's own bound is in crawler.text.words.
MAX_SECTION_PAIRS = 20_000


def ignore_patterns(*patterns: Sequence[str]) -> tuple[str, ...]:
    """The patterns a policy's diffs ignore: the defaults, then the config's `[diff] ignore`
    and the policy's own `ignore`."""
    return (*DEFAULT_IGNORE, *(p for group in patterns for p in group))


@dataclass(frozen=True, slots=True)
class SectionChange:
    """How one section changed. `kind`: unchanged, modified, added, removed, moved, renamed,
    split or merged. Indexes are positions in each version's section list (None where absent)."""

    kind: str
    old_heading: str | None
    new_heading: str | None
    old_index: int | None
    new_index: int | None
    similarity: float
    significance: str  # none | cosmetic | substantive
    words_added: int = 0
    words_removed: int = 0
    redline: tuple[tuple[str, str], ...] = ()  # (op, text): op is equal, insert or delete
    moved: bool = False
    renamed: bool = False
    modified: bool = False
    related: tuple[int, ...] = ()  # split: the other new indexes; merged: the other old ones
    path: tuple[str, ...] = ()

    def to_dict(self, redline: bool = True) -> dict[str, object]:
        out: dict[str, object] = {
            "kind": self.kind,
            "old_heading": self.old_heading,
            "new_heading": self.new_heading,
            "old_index": self.old_index,
            "new_index": self.new_index,
            "similarity": round(self.similarity, 4),
            "significance": self.significance,
            "words_added": self.words_added,
            "words_removed": self.words_removed,
            "moved": self.moved,
            "renamed": self.renamed,
            "modified": self.modified,
            "path": list(self.path),
        }
        if self.related:
            out["related"] = list(self.related)
        if redline:
            out["redline"] = [list(part) for part in self.redline]
        return out


@dataclass(frozen=True, slots=True)
class Diff:
    changes: tuple[SectionChange, ...]
    summary: str
    substantive: bool
    words_added: int = 0
    words_removed: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def normalize(text: str, ignore: Sequence[str] = DEFAULT_IGNORE) -> str:
    """The text as significance sees it: ignore patterns masked, quotes, dashes, case,
    punctuation and whitespace folded."""
    text = plain(text).translate(QUOTES).lower()
    for pattern in ignore:
        text = re.sub(pattern, " ", text, flags=re.I)
    return " ".join(PUNCT.sub(" ", text).split())


def _key(heading: str) -> str:
    return " ".join(PUNCT.sub(" ", heading.translate(QUOTES).lower()).split())


def _bag(text: str) -> Counter[str]:
    return Counter(normalize(text, ()).split())


def _dice(a: Counter[str], b: Counter[str]) -> float:
    total = sum(a.values()) + sum(b.values())
    if not total:
        return 1.0
    return 2 * sum((a & b).values()) / total


def _heading_similarity(a: str, b: str) -> float:
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    return SequenceMatcher(None, _key(a), _key(b)).ratio()


def _candidates(
    rest_old: Sequence[Section], rest_new: Sequence[Section]
) -> Iterator[tuple[Section, Section]]:
    """The (old, new) section pairs worth scoring: all of them, or, past MAX_SECTION_PAIRS,
    each old section with the new ones nearest its relative position."""
    if len(rest_old) * len(rest_new) <= MAX_SECTION_PAIRS:
        for o in rest_old:
            for n in rest_new:
                yield o, n
        return
    reach = max(1, MAX_SECTION_PAIRS // (2 * len(rest_old)))
    for i, o in enumerate(rest_old):
        centre = round(i * len(rest_new) / len(rest_old))
        for n in rest_new[max(0, centre - reach) : centre + reach]:
            yield o, n


def _align(old: Sequence[Section], new: Sequence[Section]) -> dict[int, int]:
    """old index → new index."""
    pairs: dict[int, int] = {}
    by_heading: dict[str, list[int]] = {}
    for section in new:
        by_heading.setdefault(_key(section.heading), []).append(section.index)
    for section in old:
        candidates = by_heading.get(_key(section.heading))
        if candidates:
            pairs[section.index] = candidates.pop(0)
    used = set(pairs.values())
    rest_old = [s for s in old if s.index not in pairs]
    rest_new = [s for s in new if s.index not in used]
    if rest_old and rest_new:
        bags_old = {s.index: _bag(s.text) for s in rest_old}
        bags_new = {s.index: _bag(s.text) for s in rest_new}
        scored = []
        for o, n in _candidates(rest_old, rest_new):
            content = _dice(bags_old[o.index], bags_new[n.index])
            heading = _heading_similarity(o.heading, n.heading)
            if not o.text.strip() and not n.text.strip():
                score = heading
            else:
                score = 0.7 * content + 0.3 * heading
            if score >= MIN_PAIR_SCORE and (content >= 0.5 or heading >= 0.8):
                scored.append((score, o.index, n.index))
        scored.sort(key=lambda item: (-item[0], item[1], item[2]))
        taken_new: set[int] = set()
        for _, o_index, n_index in scored:
            if o_index not in pairs and n_index not in taken_new:
                pairs[o_index] = n_index
                taken_new.add(n_index)
    return pairs


def _stay_in_order(pairs: dict[int, int]) -> set[int]:
    """Old indexes of the longest chain of pairs that kept their relative order."""
    ordered = sorted(pairs.items(), key=lambda item: item[1])  # by new index
    olds = [o for o, _ in ordered]
    tails: list[int] = []
    tail_at: list[int] = []
    previous = [-1] * len(olds)
    for i, value in enumerate(olds):
        k = bisect.bisect_left(tails, value)
        if k == len(tails):
            tails.append(value)
            tail_at.append(i)
        else:
            tails[k] = value
            tail_at[k] = i
        previous[i] = tail_at[k - 1] if k else -1
    keep: set[int] = set()
    i = tail_at[-1] if tail_at else -1
    while i >= 0:
        keep.add(olds[i])
        i = previous[i]
    return keep


def diff(
    old: Sequence[Section], new: Sequence[Section], ignore: Sequence[str] = DEFAULT_IGNORE
) -> Diff:
    """Compare two versions' sections. Changes come in new-document order, each removed
    section after the new section that follows its old neighbour."""
    pairs = _align(old, new)
    in_order = _stay_in_order(pairs)
    new_to_old = {n: o for o, n in pairs.items()}
    changes: dict[tuple[float, int], SectionChange] = {}
    for section in new:
        o_index = new_to_old.get(section.index)
        if o_index is None:
            changes[(section.index, 0)] = SectionChange(
                "added",
                None,
                section.heading,
                None,
                section.index,
                0.0,
                "substantive",
                words_added=section.words,
                redline=(("insert", " ".join(WORD.findall(section.text))),),
                path=section.path,
            )
            continue
        before = old[o_index]
        renamed = _key(before.heading) != _key(section.heading)
        moved = o_index not in in_order
        same_text = before.text == section.text
        if same_text:
            parts: tuple[tuple[str, str], ...] = (("equal", " ".join(WORD.findall(section.text))),)
            added = removed = 0
        else:
            parts, added, removed = redline(before.text, section.text)
        modified = not same_text
        cosmetic = (
            not modified or normalize(before.text, ignore) == normalize(section.text, ignore)
        ) and (
            not renamed or normalize(before.heading, ignore) == normalize(section.heading, ignore)
        )
        if renamed:
            kind = "renamed"
        elif moved:
            kind = "moved"
        elif modified:
            kind = "modified"
        else:
            kind = "unchanged"
        if kind == "unchanged":
            significance = "none"
        elif cosmetic and not moved:
            significance = "cosmetic"
        else:
            significance = "substantive"
        similarity = 1.0 if same_text else _dice(_bag(before.text), _bag(section.text))
        changes[(section.index, 0)] = SectionChange(
            kind,
            before.heading,
            section.heading,
            o_index,
            section.index,
            similarity,
            significance,
            added,
            removed,
            parts,
            moved,
            renamed,
            modified,
            path=section.path,
        )
    # Removed sections sit after the new position of their nearest surviving old predecessor.
    for section in old:
        if section.index in pairs:
            continue
        anchor = -1.0
        for previous in range(section.index - 1, -1, -1):
            if previous in pairs:
                anchor = float(pairs[previous])
                break
        changes[(anchor + 0.5, section.index)] = SectionChange(
            "removed",
            section.heading,
            None,
            section.index,
            None,
            0.0,
            "substantive",
            words_removed=section.words,
            redline=(("delete", " ".join(WORD.findall(section.text))),),
            path=section.path,
        )
    ordered = [changes[key] for key in sorted(changes)]
    ordered = _detect_split_merge(ordered, old, new)
    return _summarise(tuple(ordered))


def _detect_split_merge(
    changes: list[SectionChange], old: Sequence[Section], new: Sequence[Section]
) -> list[SectionChange]:
    """A modified section that lost text which an added neighbour now holds was split; an added
    section... and the mirror image: merged."""
    result = list(changes)
    edited = [c for c in result if c.kind in ("modified", "renamed")]
    by_new: dict[int, list[SectionChange]] = {}
    by_old: dict[int, list[SectionChange]] = {}
    for c in edited:
        if c.old_index is not None and c.new_index is not None:
            by_new.setdefault(c.new_index, []).append(c)
            by_old.setdefault(c.old_index, []).append(c)
    for i, change in enumerate(result):
        if change.kind != "added" or change.new_index is None:
            continue
        added_bag = _bag(new[change.new_index].text)
        if sum(added_bag.values()) < 5:
            continue
        near = [
            c
            for k in (change.new_index - 1, change.new_index, change.new_index + 1)
            for c in by_new.get(k, [])
        ]
        for other in sorted(near, key=result.index):
            assert other.old_index is not None and other.new_index is not None
            old_bag = _bag(old[other.old_index].text)
            kept_bag = _bag(new[other.new_index].text)
            lost = old_bag - kept_bag
            if sum(lost.values()) >= 5 and _dice(lost, added_bag) >= 0.8:
                result[i] = _replace(
                    change,
                    kind="split",
                    old_heading=other.old_heading,
                    old_index=other.old_index,
                    related=(other.new_index,),
                    similarity=_dice(lost, added_bag),
                )
                break
    for i, change in enumerate(result):
        if change.kind != "removed" or change.old_index is None:
            continue
        removed_bag = _bag(old[change.old_index].text)
        if sum(removed_bag.values()) < 5:
            continue
        near = [
            c
            for k in (change.old_index - 1, change.old_index, change.old_index + 1)
            for c in by_old.get(k, [])
        ]
        for other in sorted(near, key=result.index):
            assert other.old_index is not None and other.new_index is not None
            gained = _bag(new[other.new_index].text) - _bag(old[other.old_index].text)
            if sum(gained.values()) >= 5 and _dice(gained, removed_bag) >= 0.8:
                result[i] = _replace(
                    change,
                    kind="merged",
                    new_heading=other.new_heading,
                    new_index=other.new_index,
                    related=(other.old_index,),
                    similarity=_dice(gained, removed_bag),
                )
                break
    return result


def _replace(change: SectionChange, **fields: object) -> SectionChange:
    from dataclasses import replace

    return replace(change, **fields)  # type: ignore[arg-type]


SUMMARY_ORDER = ("modified", "added", "removed", "moved", "renamed", "split", "merged")
SUMMARY_NAMES = 4  # sections named in a summary; the rest are counted ("and 3 more")


def _named(change: dict[str, Any]) -> str:
    old, new = change.get("old_heading"), change.get("new_heading")
    if change.get("kind") == "renamed" and old and new:
        return f"'{old}' renamed '{new}'"
    heading = new if new is not None else old
    return f"'{heading}'" if heading else "the preamble"


def summary_of(changes: Sequence[dict[str, Any]]) -> str:
    """One line that names what changed: "'Data Retention' modified; 'Biometric Data' added;
    1 cosmetic", at most SUMMARY_NAMES sections named, then "and N more". `changes` are
    section changes as `SectionChange.to_dict` writes them (so stored changes can be
    summarised again)."""
    real = [c for c in changes if c.get("significance") == "substantive"]
    cosmetic = sum(1 for c in changes if c.get("significance") == "cosmetic")
    parts: list[str] = []
    named = 0
    for kind in SUMMARY_ORDER:
        of_kind = [c for c in real if c.get("kind") == kind]
        room = max(0, SUMMARY_NAMES - named)
        if not of_kind or not room:
            continue
        names = [_named(c) for c in of_kind[:room]]
        named += len(names)
        verb = "" if kind == "renamed" else f" {kind}"
        parts.append(", ".join(names) + verb)
    more = len(real) - named
    summary = "; ".join(parts)
    if more:
        summary += f"; and {more} more"
    if cosmetic:
        if summary:
            summary += f"; {cosmetic} cosmetic"
        else:
            sections = "section" if cosmetic == 1 else "sections"
            summary = f"{cosmetic} {sections} changed cosmetically only"
    return summary or "no change"


def _summarise(changes: tuple[SectionChange, ...]) -> Diff:
    """The diff with its one-line summary (see `summary_of`)."""
    counts = Counter(c.kind for c in changes)
    substantive = any(c.significance == "substantive" for c in changes)
    summary = summary_of([c.to_dict(redline=False) for c in changes if c.kind != "unchanged"])
    return Diff(
        changes,
        summary,
        substantive,
        sum(c.words_added for c in changes),
        sum(c.words_removed for c in changes),
        dict(counts),
    )


def diff_texts(old: str, new: str, ignore: Sequence[str] = DEFAULT_IGNORE) -> Diff:
    """Split two texts into sections and diff them. Texts that differ only in markup, line
    endings or blank lines are reported as a cosmetic formatting change, never as no change."""
    from crawler.text.sections import split_sections

    result = diff(split_sections(old), split_sections(new), ignore)
    if result.summary == "no change" and old != new:
        return Diff(
            result.changes,
            "formatting only (markup, line endings or blank lines)",
            False,
            0,
            0,
            result.counts,
        )
    return result
