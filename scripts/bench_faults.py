"""Print the table of archive faults tried and their outcomes (issue #7).

    .venv/bin/python scripts/bench_faults.py [--rounds 15]

Starts pywb over the Larkspur fixture WARC, puts the fault-injecting proxy of the test suite
in front of it, and backfills through it round after round (fresh database, new seed, the
fault decks dealt on across rounds), rerunning each round until nothing is pending or failed.
Each round is compared with a fault-free run. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.archive.ratelimit import FakeClock  # noqa: E402
from crawler.demo import PywbArchive, write_warc  # noqa: E402
from tests.faultproxy import CDX_FAULTS, PLAYBACK_FAULTS, FaultProxy  # noqa: E402
from tests.test_faults import _check_rates, _run_round, _state  # noqa: E402

EXPECTED = {
    "429": "every worker paused 60 s (IA sends no Retry-After), then retried",
    "429-retry-after": "every worker paused for Retry-After, then retried",
    "5xx-burst": "retried with exponential backoff",
    "reset-before-body": "connection error retried",
    "reset-mid-body": "incomplete body detected and retried",
    "stalled-body": "read timeout, retried",
    "truncated-gzip": "truncated stream refused and retried",
    "double-content-encoding": "decoded (empty header ignored)",
    "empty-200": "digest mismatch, fetched again",
    "pdf-instead": "digest mismatch, fetched again",
    "image-instead": "digest mismatch, fetched again",
    "20mb-page": "digest mismatch, fetched again (under the 50 MB cap)",
    "invalid-utf8": "digest mismatch, fetched again",
    "redirect-loop": "loop detected; capture failed, retried next run",
    "cdx-malformed-lines": "lines skipped with a log line",
    "cdx-triplicates": "duplicates dropped",
    "cdx-invalid-timestamps": "row skipped as malformed",
    "cdx-dash-fields": "length read as unknown",
    "cdx-blocked-403": "run ends with a Blocked error; next run asks again",
    "cdx-5xx": "retried with exponential backoff",
    "cdx-429": "every worker paused, then retried",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp())
    archive = PywbArchive(root / "archive")
    archive.add_warcs(write_warc(root / "larkspur.warc.gz"))
    archive.start()
    try:
        _run_round(archive.url, root / "reference.db", FakeClock())
        expected = _state(root / "reference.db")
        injected: Counter[str] = Counter()
        decks: dict[str, list[str]] = {}
        equal = runs_total = 0
        for seed in range(1, args.rounds + 1):
            with FaultProxy(
                archive.url.rsplit("/", 1)[0], seed=seed, rate=0.45, stall_seconds=1.6, decks=decks
            ) as proxy:
                db = root / f"round{seed}.db"
                runs, limiters = _run_round(f"{proxy.url}/{archive.collection}", db, FakeClock())
                injected.update(proxy.injected)
            _check_rates(limiters)
            runs_total += runs
            equal += _state(db) == expected
    finally:
        archive.stop()
    captures = len(expected["captures"])  # type: ignore[arg-type]
    print(
        f"{args.rounds} rounds of {captures} captures through the fault proxy (45% of "
        f"requests faulted), {runs_total} backfill runs in all; rounds whose final database "
        f"equals the fault-free run: {equal}/{args.rounds}; requests above the configured "
        "rates or inside a 429 pause: 0\n"
    )
    print("| fault | where | injected | outcome |\n| --- | --- | --- | --- |")
    for fault in PLAYBACK_FAULTS + CDX_FAULTS:
        where = "CDX" if fault in CDX_FAULTS else "playback"
        print(f"| {fault} | {where} | {injected[fault]} | {EXPECTED[fault]} |")


if __name__ == "__main__":
    main()
