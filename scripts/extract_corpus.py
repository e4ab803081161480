"""Load the real extraction corpora in ../shared/corpus and score texts against their gold.

Shared by scripts/bench_extract.py and the quality-gate test. Reads only local files.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
PROVENANCE = re.compile(r"^> \*The following text is extracted.*$", re.M)


@dataclass
class Page:
    corpus: str
    name: str
    html: list[bytes]
    gold: str
    url: str
    kind: str = "privacy"
    timestamp: str = ""
    title: str | None = None  # the document type, as a user would name it in the config
    select: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)


def _kind(terms_type: str) -> str:
    lowered = terms_type.lower()
    if "privacy" in lowered:
        return "privacy"
    if "cookie" in lowered or "tracker" in lowered:
        return "cookies"
    if "terms" in lowered or "conditions" in lowered:
        return "terms"
    return "other"


def reference_pages(root: Path = SHARED) -> Iterator[Page]:
    """The Princeton-Leuven pages (`policies/`): gold in exactly our format."""
    folder = root / "policies"
    for line in (folder / "manifest.jsonl").read_text().splitlines():
        item = json.loads(line)
        match = re.search(r"/web/(\d{14})id_/(.+)$", item["snapshot_url"])
        assert match, item
        from urllib.parse import unquote

        yield Page(
            "policies",
            item["domain"],
            [(folder / item["html"]).read_bytes()],
            PROVENANCE.sub("", (folder / item["md"]).read_text()).strip() + "\n",
            unquote(match.group(2)),
            "privacy",
            match.group(1),
        )


def _selectors(value: object) -> list[str] | None:
    """CSS selectors as a list; None when OTA declares range selectors we cannot apply."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


# The OTA pages in other languages than English, kept out of development: a held-out set.
HELD_OUT_LANGUAGES = ("fr", "de", "pt", "mixed:es")


def ota_pages(root: Path = SHARED, language: str = "en") -> Iterator[Page]:
    """Open Terms Archive pages in one language, suspect extraction failures left out."""
    return _ota_pages(root, (language,))


def held_out_pages(root: Path = SHARED) -> Iterator[Page]:
    """The OTA pages in HELD_OUT_LANGUAGES, suspect extraction failures left out."""
    return _ota_pages(root, HELD_OUT_LANGUAGES)


def _ota_pages(root: Path, languages: tuple[str, ...]) -> Iterator[Page]:
    folder = root / "ota"
    for line in (folder / "pairs.jsonl").read_text().splitlines():
        item = json.loads(line)
        if item["language"] not in languages or item.get("suspect_extraction_failure"):
            continue
        base = folder / item["dir"]
        html = [(base / snap["file"]).read_bytes() for snap in item["snapshots"]]
        selectors = item.get("selectors") or {}
        select = _selectors(selectors.get("select"))
        remove = _selectors(selectors.get("remove"))
        page = Page(
            "ota",
            item["id"],
            html,
            (base / "version.md").read_text(),
            item["source_url"],
            _kind(item["terms_type"]),
            title=item["terms_type"],
        )
        if select is not None and remove is not None:
            page.select, page.remove = select, remove
        else:
            page.select = ["<range>"]  # declared, but not as plain CSS
        yield page


LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
TOKEN = re.compile(r"[^\W_]+")
SETEXT = re.compile(r"^(.+)\n(=+|-+)[ \t]*$", re.M)
ATX = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.M)


def tokens(markdown: str) -> Counter[str]:
    text = PROVENANCE.sub("", markdown)
    text = LINK.sub(r"\1", text)
    return Counter(TOKEN.findall(text.lower()))


def token_f1(ours: str, gold: str) -> float:
    a, b = tokens(ours), tokens(gold)
    if not a and not b:
        return 1.0
    common = sum((a & b).values())
    if not common:
        return 0.0
    precision, recall = common / sum(a.values()), common / sum(b.values())
    return 2 * precision * recall / (precision + recall)


def _norm(heading: str) -> str:
    return " ".join(TOKEN.findall(LINK.sub(r"\1", heading).lower()))


def headings(markdown: str, setext: bool = False) -> list[str]:
    found = [m.group(1) for m in ATX.finditer(markdown)]
    if setext:
        found += [
            m.group(1)
            for m in SETEXT.finditer(markdown)
            if m.group(1).strip() and not m.group(1).lstrip().startswith(("*", "-", "|"))
        ]
    return [h for h in (_norm(x) for x in found) if h]


def heading_recall(ours: str, gold: str, setext_gold: bool = False) -> float | None:
    wanted = headings(gold, setext=setext_gold)
    if not wanted:
        return None
    have = set(headings(ours))
    return sum(1 for h in wanted if h in have) / len(wanted)


WAYBACK_TARGET = re.compile(
    r"\((?:https?:)?(?://(?:web\.)?archive\.org)?/web/\d{1,14}(?:[a-z]{2}_)?/([^)\s]+)\)"
)


def _lines(markdown: str) -> list[str]:
    """Non-empty lines, whitespace-trimmed, without the provenance line, link targets that the
    Wayback Machine rewrote mapped back to the original URL (policytrail keeps original URLs)."""
    text = WAYBACK_TARGET.sub(lambda m: "(" + m.group(1) + ")", PROVENANCE.sub("", markdown))
    return [line.strip() for line in text.splitlines() if line.strip()]


def line_exactness(ours: str, gold: str) -> tuple[int, int]:
    """(gold lines found verbatim in ours, gold lines): the reference format line for line."""
    mine = set(_lines(ours))
    wanted = _lines(gold)
    return sum(1 for line in wanted if line in mine), len(wanted)
