"""Trends (#18): the reference corpus's two headline trends (length, reading grade) on the real
histories we have, a synthetic sanity check, the reading-grade function against the
Flesch-Kincaid formula on texts whose counts are unambiguous, and the speed of `trends` and
`changes --added` on a large database.

    .venv/bin/python scripts/bench_trends.py [--big-db PATH]   # PATH: from scripts/make_big_db.py

Needs ../shared/corpus (the OTA histories) for the first table.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.pipeline.trends import trends  # noqa: E402
from crawler.text.readability import reading_grade  # noqa: E402
from db import store  # noqa: E402

SHARED = ROOT.parent / "shared" / "corpus"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _import_history(db: store.Database, name: str, versions: list[dict[str, object]]) -> None:
    """One OTA history as a policy: each recorded version a capture on its date, each step of
    the timeline a change row (trends read the timeline, not the diffs)."""
    pid = store.upsert_policy(db, name, f"https://ota.example/{name}", "privacy", NOW)
    previous = None
    with store.writing(db):
        for version in versions:
            ts = str(version["date"])[:19].replace("-", "").replace("T", "").replace(":", "")
            url = f"https://ota.example/{name}"
            vid = store.add_seen_text(db, pid, str(version["markdown"]), ts, url, NOW)
            if vid != previous:
                store.insert_change(
                    db,
                    pid,
                    from_version_id=previous,
                    to_version_id=vid,
                    at_timestamp=ts,
                    previous_timestamp=None,
                    kind="first" if previous is None else "change",
                    substantive=True,
                    summary="",
                    sections="[]",
                    words_added=0,
                    words_removed=0,
                    now=NOW,
                )
            previous = vid


def _table(rows: list[dict[str, object]], title: str) -> None:
    print(f"\n{title}\n")
    print("| year | documents | words (median) | words (q1-q3) | reading grade (median) |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        print(
            f"| {r['period']} | {r['documents']} | {r['words_median']:g} | "
            f"{r['words_q1']:g}-{r['words_q3']:g} | {r['grade_median']} |"
        )


def real_histories() -> None:
    import zstandard

    if not SHARED.exists():
        print("(../shared/corpus is absent: no real histories)")
        return
    index = [json.loads(line) for line in (SHARED / "ota" / "histories.jsonl").open()]
    with tempfile.TemporaryDirectory() as folder:
        db = store.connect(Path(folder) / "ota.db")
        for item in index:
            if item["language"] != "en":
                continue
            raw = (
                zstandard.ZstdDecompressor()
                .stream_reader((SHARED / "ota" / item["file"]).open("rb"))
                .read()
            )
            versions = [json.loads(line) for line in raw.decode().split("\n") if line.strip()]
            _import_history(db, item["id"].lower().replace("_", "-")[:90], versions)
        started = time.monotonic()
        rows = trends(db, None, 12, [], NOW)
        seconds = time.monotonic() - started
        count = len([i for i in index if i["language"] == "en"])
        _table(
            rows,
            f"Real histories: {count} English OTA documents (of {len(index)}), per year, version in force on July 1 ({seconds:.1f} s with grades)",
        )


def synthetic() -> None:
    """100 documents, 2000-2019, each doubling its length over the 20 years and writing longer
    sentences: the trends must show both."""
    import random

    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as folder:
        db = store.connect(Path(folder) / "syn.db")
        for n in range(100):
            versions = []
            for year in range(2000, 2020):
                k = 20 + year - 2000  # sentences
                words_per = 8 + (year - 2000) // 4  # longer sentences over time
                text = " ".join(
                    " ".join(
                        rng.choice(["data", "service", "account", "information", "provide"])
                        for _ in range(words_per)
                    )
                    + "."
                    for _ in range(k * 2)
                )
                versions.append(
                    {"date": f"{year}-03-0{1 + n % 9}T00:00:00", "markdown": f"# P{n}\n\n{text}\n"}
                )
            _import_history(db, f"syn-{n}", versions)
        rows = trends(db, None, 12, [], NOW)
        _table(
            [r for r in rows if int(r["period"]) % 5 == 0 or r["period"] == "2019"],
            "Synthetic sanity check: 100 documents whose length doubles and sentences lengthen",
        )
        first, last = rows[0], rows[-1]
        built = (2 * 39 * (8 + 19 // 4) + 2) / (2 * 20 * 8 + 2)  # sentences x words + heading
        print(
            f"\nlength x{last['words_median'] / first['words_median']:.2f} (x{built:.2f} by "
            f"construction), grade {first['grade_median']} -> {last['grade_median']} (rising: "
            "longer sentences)"
        )


KNOWN = [
    # (text, words, sentences, syllables): every word of one syllable or of an unambiguous count.
    ("The cat sat on the mat. The dog ran to the big red box.", 14, 2, 14),
    ("We keep your name and your mail for one year. Then we delete them.", 14, 2, 15),
    # Markdown marks are not words: the heading "Data" is one, and "data" has two syllables.
    (
        "## Data\n\n- We **sell** no data to third firms or to the press, and we log each time we read it.",
        20,
        1,
        22,
    ),
]


def formula() -> None:
    print(
        "\nReading grade against the Flesch-Kincaid formula (0.39 words/sentence + 11.8 syllables/word - 15.59), counts by hand\n"
    )
    print("| text | words | sentences | syllables | formula | ours (textstat) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for text, words, sentences, syllables in KNOWN:
        expected = 0.39 * words / sentences + 11.8 * syllables / words - 15.59
        ours = reading_grade(text)
        shown = text.replace("\n", " ")[:40]
        print(f"| {shown}… | {words} | {sentences} | {syllables} | {expected:.2f} | {ours} |")


def big(source: Path) -> None:
    """Timings on a copy of `source` whose reading grades are cleared (so the first run is the
    cold one on every run of the bench)."""
    import shutil

    folder = Path(tempfile.mkdtemp())
    path = folder / source.name
    shutil.copy(source, path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE versions SET grade = NULL")
    config = folder / "config.toml"
    config.write_text(f'[database]\npath = "{path}"\n')

    def timed(*args: str) -> tuple[float, str]:
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "crawler.cli", "--config", str(config), *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
        )
        return time.monotonic() - started, done.stdout

    def in_process(fn: object) -> float:
        started = time.monotonic()
        fn()  # type: ignore[operator]
        return time.monotonic() - started

    db = store.connect(path)
    policies = db.execute("SELECT count(*) FROM policies").fetchone()[0]
    versions = db.execute("SELECT count(*) FROM versions").fetchone()[0]
    cold = in_process(lambda: trends(db, None, 12, [], NOW))
    warm = in_process(lambda: trends(db, None, 12, [], NOW))
    term = in_process(
        lambda: trends(
            db,
            None,
            12,
            [__import__("crawler.text.terms", fromlist=["x"]).parse_term("arbitration")],
            NOW,
        )
    )
    rare_word = '"order acquisition health"'  # a phrase one change added (of 29,000)
    common = "newsletter"
    added = in_process(lambda: store.changes(db, words=store.words_query(rare_word, None)))
    hits = len(store.changes(db, words=store.words_query(rare_word, None)))
    common_time = in_process(lambda: store.changes(db, words=store.words_query(common, None)))
    common_hits = len(store.changes(db, words=store.words_query(common, None)))
    cli_trends, _ = timed("trends", "--json")
    cli_added, _ = timed("changes", "--added", rare_word, "--json")
    print(f"\nOn {source} (scripts/make_big_db.py): {policies} policies, {versions} versions\n")
    print("| measure | time | target |")
    print("| --- | --- | --- |")
    print(
        f"| trends over all policies, first run (computes and keeps every reading grade) | {cold:.2f} s | - |"
    )
    print(f"| trends over all policies, grades kept | {warm:.2f} s | < 2 s |")
    print(
        f"| trends with a --term (regular expression over the texts in force) | {term:.2f} s | - |"
    )
    print(
        f"| changes --added {rare_word} ({hits} changes), the query | {1000 * added:.0f} ms | < 200 ms |"
    )
    print(
        f"| changes --added {common} ({common_hits} changes), the query | {1000 * common_time:.0f} ms | - |"
    )
    print(f"| `policytrail trends --json` (process, start-up included) | {cli_trends:.2f} s | - |")
    print(
        f"| `policytrail changes --added {rare_word} --json` (process, start-up included) | {cli_added:.2f} s | - |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--big-db", type=Path)
    args = parser.parse_args()
    formula()
    real_histories()
    synthetic()
    if args.big_db:
        big(args.big_db)


if __name__ == "__main__":
    main()
