"""Measure the document classifier (and the rule for pages that are no legal document) on the
real pages, cross-validated by service: no service is in both the training and the test folds;
and the link finder on ota-crosslinks.jsonl (from one page of a service, find the declared URL
of its privacy policy, or its terms).

    .venv/bin/pip install -e '.[bench]' && .venv/bin/python scripts/bench_discover.py

Prints markdown tables: privacy policy vs anything else (precision, recall), the document type
(privacy / terms / cookies / other legal) accuracy on Open Terms Archive's labelled pages, and a
confusion table. Reads only ../shared/corpus.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.text.classify import classify  # noqa: E402
from crawler.text.links import EXACT, find_links  # noqa: E402
from scripts.discovery_corpus import examples  # noqa: E402
from scripts.extract_corpus import SHARED  # noqa: E402
from scripts.train_classifier import fit  # noqa: E402

FOLDS = 5


def main() -> None:
    data = examples()
    groups = sorted({e.group for e in data})
    # Services dealt round-robin into folds, largest first, so the folds are of similar size.
    sizes = Counter(e.group for e in data)
    fold_of: dict[str, int] = {}
    for n, group in enumerate(sorted(groups, key=lambda g: (-sizes[g], g))):
        fold_of[group] = n % FOLDS
    predictions = []
    for fold in range(FOLDS):
        train = [e for e in data if fold_of[e.group] != fold]
        weights = fit(train)
        for e in data:
            if fold_of[e.group] == fold:
                got = classify(e.title, e.headings, e.text, e.url, weights=weights)
                predictions.append((e, got.kind))
    print(f"{len(data)} pages of {len(groups)} services, {FOLDS} folds by service\n")
    print("| task | pages | precision | recall | accuracy |")
    print("| --- | --- | --- | --- | --- |")
    for name, subset in (
        ("privacy policy vs anything else, all pages", predictions),
        (
            "privacy policy vs anything else, OTA pages",
            [p for p in predictions if p[0].source == "ota"],
        ),
    ):
        tp = sum(1 for e, k in subset if e.kind == "privacy" and k == "privacy")
        fp = sum(1 for e, k in subset if e.kind != "privacy" and k == "privacy")
        fn = sum(1 for e, k in subset if e.kind == "privacy" and k != "privacy")
        right = sum(1 for e, k in subset if (e.kind == "privacy") == (k == "privacy"))
        print(
            f"| {name} | {len(subset)} | {tp / max(1, tp + fp):.3f} | {tp / max(1, tp + fn):.3f} "
            f"| {right / len(subset):.3f} |"
        )
    ota = [p for p in predictions if p[0].source == "ota"]
    right = sum(1 for e, k in ota if e.kind == k)
    print(
        f"| document type (privacy/terms/cookies/other legal), OTA pages | {len(ota)} | – | – | {right / len(ota):.3f} |"
    )
    print(
        "\n| true \\ predicted | "
        + " | ".join(("privacy", "terms", "cookies", "other-legal", "not-legal"))
        + " |"
    )
    print("| --- " * 6 + "|")
    for kind in ("privacy", "terms", "cookies", "other-legal"):
        counts = Counter(k for e, k in predictions if e.kind == kind)
        cells = " | ".join(
            str(counts.get(k, 0))
            for k in ("privacy", "terms", "cookies", "other-legal", "not-legal")
        )
        print(f"| {kind} | {cells} |")
    wrong = [(e.source, e.group, e.kind, k, e.title[:60]) for e, k in predictions if e.kind != k]
    for item in wrong[:25]:
        print("    wrong:", item, file=sys.stderr)
    links()


def normalise(url: str) -> str:
    """As ota-crosslinks.jsonl normalises URLs: no scheme, no www., lower-case host, no query
    or fragment, no trailing slash, index.html dropped, path percent-decoded."""
    parts = urlsplit(url)
    host = parts.netloc.lower().removeprefix("www.")
    path = unquote(parts.path).removesuffix("index.html").rstrip("/")
    return host + path


def links() -> None:
    """From one page of a service, find the declared URL of its privacy policy (or terms)."""
    rows = [json.loads(line) for line in (SHARED / "discovery" / "ota-crosslinks.jsonl").open()]
    pages: dict[str, bytes] = {}
    print(
        "\n| link finder: target | pages where the target is linked | top candidate right "
        "| pages where it is not linked | a confident candidate other than the declared URL "
        "| of those, a link named as the policy on the service's own domain | ms per page |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for kind, terms_type in (("privacy", "Privacy Policy"), ("terms", "Terms of Service")):
        subset = [
            r
            for r in rows
            if r["target_terms_type"] == terms_type and not r["target_same_url_as_page"]
        ]
        linked_right = linked = unlinked = wrong_confident = variant = 0
        spent = 0.0
        for row in subset:
            body = pages.setdefault(
                row["page_file"], (SHARED / "ota" / row["page_file"]).read_bytes()
            )
            started = time.process_time()
            found = find_links(body, row["page_url"], kind)
            spent += time.process_time() - started
            top = found[0] if found else None
            right = top is not None and normalise(top.url) == row["expected_norm"]
            if row["found"]:
                linked += 1
                linked_right += right
            else:
                unlinked += 1
                if top and top.confident and not right:
                    wrong_confident += 1
                    # OTA declares one regional or locale version (the EU policy, /intl/en);
                    # the page links the service's general one, by the policy's own name.
                    site = ".".join(row["expected_norm"].split("/")[0].split(".")[-2:])
                    own = normalise(top.url).split("/")[0].endswith(site)
                    variant += own and top.text in EXACT[kind]
        print(
            f"| {terms_type} | {linked} | {linked_right / max(1, linked):.3f} | {unlinked} "
            f"| {wrong_confident / max(1, unlinked):.3f} | {variant}/{wrong_confident} "
            f"| {1000 * spent / max(1, len(subset)):.1f} |"
        )


if __name__ == "__main__":
    main()
