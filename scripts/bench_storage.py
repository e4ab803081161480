"""How much room raw bodies take, and how fast queries stay, at scale.

    .venv/bin/python scripts/bench_storage.py [--scale-db FILE]

1. Real pages: every OTA history that kept its snapshot HTML (../shared/corpus/ota/histories/)
   is stored version after version through the store's own blob path, once with plain zstd
   (what the store did before deltas) and once with deltas against the policy's keyframe.
   Successive versions differ by real edits, so this is the hard case for deltas: captures of
   one unchanged version, which are most captures, differ only by page noise.
2. With --scale-db (a database made by `scripts/make_big_db.py FILE --policies 100000
   --versions 10 --bodies --quick-changes`): its size per version, its raw bodies' stored
   share, and the time of `history`, `show` and `search` on it.
Prints markdown tables.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from db import store  # noqa: E402
from scripts.bench_diff import HISTORIES, load_histories  # noqa: E402
from scripts.bench_query import command_runner, timed  # noqa: E402

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def real_pages() -> None:
    if not HISTORIES.is_dir():
        print(f"(skipped: {HISTORIES} is absent)\n")
        return
    folder = Path(tempfile.mkdtemp())
    plain_db = store.connect(folder / "plain.db")
    delta_db = store.connect(folder / "delta.db")
    pages = policies = 0
    for name, rows in load_histories().items():
        bodies = [html.encode() for row in rows for html in (row.get("html") or [])]  # type: ignore[union-attr]
        if len(bodies) < 2:
            continue
        policies += 1
        pid = store.upsert_policy(delta_db, name, f"https://{name}.example/", "other", NOW)
        for n, body in enumerate(bodies):
            pages += 1
            with store.writing(plain_db):
                store.put_blob(plain_db, body)
            with store.writing(delta_db):
                sha = store.put_blob(delta_db, body, base=store.keyframe(delta_db, pid))
                store.insert_snapshot(
                    delta_db,
                    pid,
                    source="archive",
                    timestamp=f"{2000 + n // 12:04d}{n % 12 + 1:02d}01000000",
                    url="",
                    requested_url="",
                    playback_url="",
                    status=200,
                    content_type="text/html",
                    digest=sha,
                    blob_sha256=sha,
                    redirects=[],
                    extractor_version=1,
                    now=NOW,
                )
    print(
        f"Real snapshot HTML of {policies} OTA histories, {pages} pages, version after version:\n"
    )
    print("| storage | raw MB | stored MB | stored share of raw |\n| --- | --- | --- | --- |")
    for label, db in [("plain zstd-10 per body", plain_db), ("zstd delta vs keyframe", delta_db)]:
        raw, stored = db.execute("SELECT sum(size), sum(length(data)) FROM blobs").fetchone()
        print(f"| {label} | {raw / 1e6:.1f} | {stored / 1e6:.2f} | {stored / raw:.1%} |")
    print()


def scale(path: Path, runs: int) -> None:
    db = store.connect_readonly(path)
    counts = store.table_counts(db)
    raw, stored, keyframes = db.execute(
        "SELECT sum(size), sum(length(data)), sum(compression = 'zstd') FROM blobs"
    ).fetchone()
    size = path.stat().st_size
    versions = counts["versions"]
    print(
        f"Scale database {path.name}: {counts['policies']:,} policies, {versions:,} versions, "
        f"{counts['blobs']:,} raw bodies ({keyframes:,} keyframes), {size / 1e9:.2f} GB\n"
    )
    print("| measure | value |\n| --- | --- |")
    print(f"| file size per version | {size / versions / 1e3:.1f} kB |")
    print(f"| raw bodies, raw | {raw / 1e9:.2f} GB ({raw / versions / 1e3:.1f} kB per version) |")
    print(f"| raw bodies, stored | {stored / 1e9:.3f} GB ({stored / raw:.1%} of raw) |")
    print()
    names = [
        r[0]
        for r in db.execute(
            "SELECT name FROM policies WHERE id IN (SELECT abs(random()) % ? + 1 FROM versions "
            "LIMIT 200) LIMIT 40",
            [counts["policies"]],
        )
    ]
    db.close()
    random.Random(5).shuffle(names)
    command = command_runner(path)
    it = iter(names * (runs + 1))
    print(f"{runs} runs each after one warm-up, commands in-process through click:\n")
    print("| command | median ms | p95 ms | target ms | met |\n| --- | --- | --- | --- | --- |")
    for label, fn, target in [
        ("history NAME --json", lambda: command("history", next(it), "--json")(), 20),
        ("show NAME --at 2025-06", lambda: command("show", next(it), "--at", "2025-06")(), 20),
        ('search "biometric" --json', command("search", "biometric", "--json"), 500),
        (
            'search "court order fraud" --json',
            command("search", "court order fraud", "--json"),
            500,
        ),
        ("search '\"opt out\"' --json", command("search", '"opt out"', "--json"), 500),
        (
            "search '\"Company 54321\"' --json (few matches: ranked)",
            command("search", '"Company 54321"', "--json"),
            500,
        ),
        (
            'search "security breach" --policy NAME --json',
            lambda: command("search", "security breach", "--policy", next(it), "--json")(),
            500,
        ),
    ]:
        median, p95 = timed(fn, runs)
        print(
            f"| `{label}` | {median:.1f} | {p95:.1f} | < {target} | "
            f"{'yes' if median < target else 'NO'} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale-db", type=Path)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    real_pages()
    if args.scale_db:
        scale(args.scale_db, args.runs)


if __name__ == "__main__":
    main()
