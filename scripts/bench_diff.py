"""Measure the section diff on the real histories in ../shared/corpus/ota/histories/.

    .venv/bin/python scripts/bench_diff.py [--cases N] [--seed S]

1. Synthetic edits with known truth applied to real policies (move a section, rename a heading,
   reword a sentence, insert or delete a section, split one, change only whitespace, quotes or
   the "last updated" date, move the table of contents, add a table of contents): alignment
   accuracy and per-kind precision, recall and F1.
2. Real consecutive versions (each recorded by Open Terms Archive as a content change): share
   reported substantive, share reported as "no change", and time per diff.
3. Speed: two ~10,000-word versions; the longest history end to end.
Reads only local files; prints markdown tables.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import zstandard

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.text.diff import diff, diff_texts  # noqa: E402
from crawler.text.sections import Section, split_sections  # noqa: E402

HISTORIES = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "ota" / "histories"
KINDS = ("modified", "added", "removed", "moved", "renamed", "split")


def load_histories() -> dict[str, list[dict[str, object]]]:
    out = {}
    for path in sorted(HISTORIES.glob("*.jsonl.zst")):
        with path.open("rb") as fh:
            text = zstandard.ZstdDecompressor().stream_reader(fh).read().decode()
        out[path.name.removesuffix(".jsonl.zst")] = [
            json.loads(x) for x in text.split("\n") if x.strip()
        ]
    return out


# -- synthetic edits --------------------------------------------------------------------------

Doc = list[tuple[int, str, str]]  # (level, heading, text)


def to_doc(sections: list[Section]) -> Doc:
    return [(s.level, s.heading, s.text) for s in sections]


def render(doc: Doc) -> str:
    parts = []
    for level, heading, text in doc:
        if heading:
            parts.append(f"{'#' * min(level, 6)} {heading}")
        if text:
            parts.append(text)
    return "\n\n".join(parts) + "\n"


def usable(sections: list[Section]) -> bool:
    headings = [s.heading for s in sections if s.heading]
    return (
        len(sections) >= 6
        and len(set(headings)) == len(headings)
        and sum(1 for s in sections if s.words >= 25) >= 5
    )


REWORDS = [
    ("may", "might"),
    ("we", "the company"),
    ("your", "the user's"),
    ("will", "shall"),
    ("information", "data"),
    ("use", "process"),
    ("with", "alongside"),
    ("and", "as well as"),
]


def make_case(
    doc: Doc, donor: Doc, edit: str, rng: random.Random
) -> tuple[Doc, dict[int, int | None], dict[int, str], set[int], bool] | None:
    """(new doc, truth alignment old→new, truth kind by new index, truth kinds by old index for
    removals, cosmetic?)."""
    n = len(doc)
    body = [i for i in range(1, n) if len(doc[i][2].split()) >= 25 and doc[i][1]]
    if not body:
        return None
    identity: dict[int, int | None] = {i: i for i in range(n)}
    if edit == "move":
        i = rng.choice(body)
        targets = [j for j in range(1, n) if abs(j - i) >= 2]
        if not targets:
            return None
        j = rng.choice(targets)
        new = doc[:i] + doc[i + 1 :]
        new.insert(j, doc[i])
        order = list(range(n))
        order.pop(i)
        order.insert(j, i)
        return new, {o: k for k, o in enumerate(order)}, {j: "moved"}, set(), False
    if edit == "rename":
        i = rng.choice(body)
        level, heading, text = doc[i]
        renamed = (
            f"{heading} and Your Choices" if rng.random() < 0.5 else f"About {heading.lower()}"
        )
        new = list(doc)
        new[i] = (level, renamed, text)
        return new, identity, {i: "renamed"}, set(), False
    if edit == "reword":
        i = rng.choice(body)
        level, heading, text = doc[i]
        words = text.split(" ")
        spots = [k for k, w in enumerate(words) if w.lower() in dict(REWORDS)]
        if not spots:
            return None
        for k in rng.sample(spots, min(3, len(spots))):
            words[k] = dict(REWORDS)[words[k].lower()]
        new = list(doc)
        new[i] = (level, heading, " ".join(words))
        return new, identity, {i: "modified"}, set(), False
    if edit == "insert":
        extra = [
            s
            for s in donor[1:]
            if len(s[2].split()) >= 25 and s[1] and s[1] not in {h for _, h, _ in doc}
        ]
        if not extra:
            return None
        j = rng.randrange(1, n + 1)
        new = doc[:j] + [rng.choice(extra)] + doc[j:]
        return new, {o: (o if o < j else o + 1) for o in range(n)}, {j: "added"}, set(), False
    if edit == "delete":
        i = rng.choice(body)
        new = doc[:i] + doc[i + 1 :]
        truth = {o: (o if o < i else o - 1) for o in range(n)}
        truth[i] = None
        return new, truth, {}, {i}, False
    if edit == "split":
        candidates = [
            i for i in body if len(doc[i][2].split("\n\n")) >= 2 and len(doc[i][2].split()) >= 60
        ]
        if not candidates:
            return None
        i = rng.choice(candidates)
        level, heading, text = doc[i]
        paragraphs = text.split("\n\n")
        cut = len(paragraphs) // 2
        first, second = "\n\n".join(paragraphs[:cut]), "\n\n".join(paragraphs[cut:])
        if len(second.split()) < 15 or len(first.split()) < 15:
            return None
        new = doc[: i + 1] + [(level, f"{heading} (continued)", second)] + doc[i + 1 :]
        new[i] = (level, heading, first)
        return (
            new,
            {o: (o if o <= i else o + 1) for o in range(n)},
            {i: "modified", i + 1: "split"},
            set(),
            False,
        )
    if edit in ("toc-move", "toc-add"):
        # A table of contents: entries linking to the document's own headings.
        headed = [h for _, h, _ in doc[1:] if h]
        if len(headed) < 3:
            return None
        toc = "\n".join(
            f"{k}. [{h}](#{re.sub(r'[^a-z0-9]+', '-', h.lower()).strip('-')})"
            for k, h in enumerate(headed, start=1)
        )
        entry = (doc[0][0] + 1, "", toc)
        if edit == "toc-add":
            new = doc[:1] + [entry] + doc[1:]
            return new, {o: (o if o < 1 else o + 1) for o in range(n)}, {1: "added"}, set(), False
        doc.insert(1, entry)  # the old text has it after its opening section...
        j = rng.randrange(3, n + 1)  # ...the new one further down
        new = doc[:1] + doc[2:]
        new.insert(j, entry)
        order = list(range(n + 1))
        order.pop(1)
        order.insert(j, 1)
        return new, {o: k for k, o in enumerate(order)}, {j: "moved"}, set(), False
    if edit == "cosmetic":
        new = []
        for level, heading, text in doc:
            text = text.replace("'", "\u2019").replace('"', "\u201c").replace(". ", ".  ")
            text = text.replace(" and ", " and\n", 1)
            new.append((level, heading, text))
        level, heading, text = new[0]
        new[0] = (
            level,
            heading,
            f"Last updated: March {rng.randint(1, 28)}, 20{rng.randint(10, 25)}\n\n{text}",
        )
        old0 = doc[0]
        doc[0] = (old0[0], old0[1], f"Last updated: June 1, 2009\n\n{old0[2]}")
        return new, identity, {}, set(), True
    return None


def synthetic(histories: dict[str, list[dict[str, object]]], cases: int, seed: int) -> None:
    rng = random.Random(seed)
    docs = []
    for rows in histories.values():
        sections = split_sections(str(rows[-1]["markdown"]))
        if usable(sections):
            docs.append(to_doc(sections))
    edits = [
        "move",
        "rename",
        "reword",
        "insert",
        "delete",
        "split",
        "cosmetic",
        "toc-move",
        "toc-add",
    ]
    aligned = total = 0
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    cosmetic_cases = cosmetic_substantive = 0
    toc_cases = toc_one = 0
    done = Counter[str]()
    attempts = 0
    while sum(done.values()) < cases and attempts < cases * 20:
        attempts += 1
        edit = edits[attempts % len(edits)]
        doc = list(rng.choice(docs))
        donor = rng.choice(docs)
        case = make_case(doc, donor, edit, rng)
        if case is None:
            continue
        new_doc, truth, kinds_new, removed_old, cosmetic = case
        old_sections = split_sections(render(doc))
        new_sections = split_sections(render(new_doc))
        if len(old_sections) != len(doc) or len(new_sections) != len(new_doc):
            continue  # the rendering re-split differently: not a clean case
        done[edit] += 1
        result = diff(old_sections, new_sections)
        found: dict[int, int | None] = {}
        for change in result.changes:
            if change.kind == "split":
                continue  # its old_index names where the text came from, not an alignment
            if change.old_index is not None and change.kind not in ("removed", "merged"):
                found[change.old_index] = change.new_index
            elif change.old_index is not None:
                found[change.old_index] = None
        for old_index, new_index in truth.items():
            total += 1
            aligned += found.get(old_index, "missing") == new_index
        reported: set[tuple[str, int]] = set()
        for change in result.changes:
            if change.kind in ("unchanged",) or change.significance == "cosmetic":
                continue
            where = change.new_index if change.kind != "removed" else change.old_index
            reported.add((change.kind, where if where is not None else -1))
        expected = {(kind, i) for i, kind in kinds_new.items()} | {
            ("removed", i) for i in removed_old
        }
        for kind in KINDS:
            r = {x for x in reported if x[0] == kind}
            e = {x for x in expected if x[0] == kind}
            tp[kind] += len(r & e)
            fp[kind] += len(r - e)
            fn[kind] += len(e - r)
        if cosmetic:
            cosmetic_cases += 1
            cosmetic_substantive += result.substantive
        if edit.startswith("toc"):
            toc_cases += 1
            toc_one += len(reported) == 1 and reported == expected
    print(
        f"Synthetic edits on {len(docs)} real policies, {sum(done.values())} cases "
        f"({', '.join(f'{k} {v}' for k, v in sorted(done.items()))}), seed {seed}\n"
    )
    print("| measure | value |\n| --- | --- |")
    print(f"| section alignment accuracy | {aligned / max(1, total):.4f} ({aligned}/{total}) |")
    print(f"| cosmetic-only cases reported substantive | {cosmetic_substantive}/{cosmetic_cases} |")
    print(
        f"| table of contents moved or added, reported as that one change alone "
        f"| {toc_one}/{toc_cases} |"
    )
    print("\n| kind | precision | recall | F1 | true + | false + | false − |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for kind in KINDS:
        p = tp[kind] / max(1, tp[kind] + fp[kind])
        r = tp[kind] / max(1, tp[kind] + fn[kind])
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        print(f"| {kind} | {p:.3f} | {r:.3f} | {f1:.3f} | {tp[kind]} | {fp[kind]} | {fn[kind]} |")


# -- real versions ----------------------------------------------------------------------------


def real(histories: dict[str, list[dict[str, object]]]) -> None:
    pairs = no_change = substantive = identical = 0
    times: list[float] = []
    for rows in histories.values():
        previous = None
        for row in rows:
            text = str(row["markdown"])
            if previous is not None and row.get("is_content_change") and previous == text:
                identical += 1  # OTA recorded the very same text again: not a change at all
            elif previous is not None and row.get("is_content_change"):
                start = time.process_time()
                result = diff_texts(previous, text)
                times.append((time.process_time() - start) * 1000)
                pairs += 1
                no_change += result.summary == "no change"
                substantive += result.substantive
            previous = text
    print(
        f"\nReal consecutive versions recorded as content changes: {pairs} (and {identical} "
        "records whose text is byte-identical to the one before, left out)\n"
    )
    print("| measure | value |\n| --- | --- |")
    print(f'| reported "no change" | {no_change} |')
    print(f"| reported substantive | {substantive / max(1, pairs):.3f} ({substantive}) |")
    print(
        f"| ms per diff (split both + diff), median / mean / max | "
        f"{statistics.median(times):.2f} / "
        f"{statistics.fmean(times):.2f} / {max(times):.1f} |"
    )


def speed(histories: dict[str, list[dict[str, object]]], seed: int) -> None:
    rng = random.Random(seed)
    pool = [
        s
        for rows in histories.values()
        for s in split_sections(str(rows[-1]["markdown"]))
        if s.heading and s.words >= 40
    ]
    timings = []
    for _ in range(15):
        doc: Doc = []
        words = 0
        while words < 10_000:
            s = rng.choice(pool)
            doc.append((2, f"{s.heading} {len(doc)}", s.text))
            words += s.words
        new = list(doc)
        for _ in range(5):
            i = rng.randrange(len(new))
            level, heading, text = new[i]
            new[i] = (level, heading, text.replace(" the ", " a ", 2))
        j = rng.randrange(len(new))
        new.insert(rng.randrange(len(new)), new.pop(j))
        old_text, new_text = render(doc), render(new)
        start = time.process_time()
        diff(split_sections(old_text), split_sections(new_text))
        timings.append((time.process_time() - start) * 1000)
    name, rows = max(histories.items(), key=lambda item: len(item[1]))
    start = time.process_time()
    previous = None
    for row in rows:
        sections = split_sections(str(row["markdown"]))  # each version is split once
        if previous is not None:
            diff(previous, sections)
        previous = sections
    whole = time.process_time() - start
    print("\n| speed (one core, CPU time) | value |\n| --- | --- |")
    print(
        f"| two ~10,000-word versions: split + diff, median of {len(timings)} | "
        f"{statistics.median(timings):.1f} ms |"
    )
    print(f"| longest history ({name}, {len(rows)} versions) end to end | {whole:.2f} s |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=700)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", choices=["synthetic", "real", "speed"])
    args = parser.parse_args()
    histories = load_histories()
    if args.only in (None, "synthetic"):
        synthetic(histories, args.cases, args.seed)
    if args.only in (None, "real"):
        real(histories)
    if args.only in (None, "speed"):
        speed(histories, args.seed)


if __name__ == "__main__":
    main()
