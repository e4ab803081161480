"""Load the labelled pages of ../shared/corpus for the document classifier: OTA's declared
document types (privacy, terms, cookies, other legal), the Princeton-Leuven privacy pages and
the workmanjack privacy texts, each with its service (for cross-validation by service).

Shared by scripts/train_classifier.py and scripts/bench_discover.py. Reads only local files.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from crawler.errors import CrawlerError
from crawler.text import extract_any, render_text
from scripts.extract_corpus import SHARED

TERMS = (
    "terms of service",
    "commercial terms",
    "developer terms",
    "general conditions of sale",
    "in-app purchases policy",
    "terms of use",
    "terms and conditions",
)


@dataclass
class Example:
    group: str  # the service: never in both the training and the test folds
    kind: str  # privacy | terms | cookies | other-legal
    title: str
    headings: list[str]
    text: str
    url: str
    source: str


def kind_of(terms_type: str) -> str:
    lowered = terms_type.lower()
    if "privacy" in lowered:
        return "privacy"
    if "tracker" in lowered or "cookie" in lowered:
        return "cookies"
    if lowered in TERMS:
        return "terms"
    return "other-legal"


def from_html(body: bytes, url: str) -> tuple[str, list[str], str] | None:
    try:
        document = extract_any(body, base_url=url)
    except CrawlerError:
        return None
    headings = [b.text for b in document.blocks if b.kind == "heading"]
    return document.title, headings, render_text(document)


def ota_examples(root: Path = SHARED) -> Iterator[Example]:
    folder = root / "ota"
    for line in (root / "discovery" / "ota-classifier-labels.jsonl").read_text().splitlines():
        item = json.loads(line)
        if item.get("suspect_extraction_failure"):
            continue
        base = folder / item["dir"]
        snapshot = sorted(base.glob("snapshot*.html"))[0]
        read = from_html(snapshot.read_bytes(), item["source_url"])
        if read is None:
            continue
        service = item["id"].split("__")[1]
        yield Example(service, kind_of(item["terms_type"]), *read, item["source_url"], "ota")


def reference_examples(root: Path = SHARED) -> Iterator[Example]:
    folder = root / "policies"
    for line in (folder / "manifest.jsonl").read_text().splitlines():
        item = json.loads(line)
        url = re.sub(r"^.*/web/\d{14}id_/", "", item["snapshot_url"])
        read = from_html((folder / item["html"]).read_bytes(), url)
        if read is not None:
            yield Example(item["domain"], "privacy", *read, url, "policies")


def workmanjack_examples(root: Path = SHARED) -> Iterator[Example]:
    """Plain texts: no title, no headings; the URL from the capture it came from."""
    folder = root / "discovery" / "workmanjack-ppt" / "privacy-policies-through-time"
    seen: set[Path] = set()
    for index in sorted(folder.glob("*-privacy-policies-index.csv")):
        company = index.name.split("-privacy-policies-index")[0]
        if company == "master":
            continue
        with index.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                values = list(row.values())
                path = next((v for v in values if v and v.endswith(".txt")), None)
                url = next((v for v in values if v and "://" in v), "")
                if not path:
                    continue
                file = (
                    folder / path
                    if (folder / path).exists()
                    else folder / company / Path(path).name
                )
                if not file.exists() or file in seen:
                    continue
                seen.add(file)
                text = file.read_text(encoding="utf-8", errors="replace")
                original = re.sub(r"^.*/web/\d{1,14}[a-z_]*/", "", url)
                yield Example(company, "privacy", "", [], text, original, "workmanjack")


def examples(root: Path = SHARED) -> list[Example]:
    return [*ota_examples(root), *reference_examples(root), *workmanjack_examples(root)]
