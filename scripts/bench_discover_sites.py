"""Discovery at corpus scale on a simulated archive: N sites x 15 years in pywb (default 1,000),
discovered with `policytrail discover`. Prints requests per site, our processing per homepage,
the run's time against the bound the rate limiters set (the slower of CDX and playback at their
configured rates), peak memory for 10 sites and for all, and how many sites got exactly their
expected URL segments.

    .venv/bin/python scripts/bench_discover_sites.py [--sites 1000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.demo import PywbArchive  # noqa: E402
from tests.site_archive import synthetic_site, write_records  # noqa: E402

CDX_PER_MINUTE = 3000
PLAYBACK_PER_SECOND = 150


def _config(folder: Path, archive_url: str, domains: list[str], workers: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    path.write_text(
        f'[database]\npath = "sites.db"\n\n[archive]\nurl = "{archive_url}"\n'
        f"cdx_per_minute = {CDX_PER_MINUTE}\nplayback_per_second = {PLAYBACK_PER_SECOND}\n"
        f"workers = {workers}\n",
        encoding="utf-8",
    )
    (folder / "sites.txt").write_text("\n".join(domains) + "\n", encoding="utf-8")
    return path


def _run(config: Path, *args: str) -> tuple[str, float, int]:
    """(output, seconds, peak RSS in MB of that process)."""
    started = time.monotonic()
    done = subprocess.run(
        [
            "/usr/bin/time",
            "-f",
            "MAXRSS %M",
            sys.executable,
            "-m",
            "crawler.cli",
            "--config",
            str(config),
            *args,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"discover failed: {done.stderr[-2000:]}")
    if "--plan" in args:
        print(done.stderr.strip().splitlines()[0])
    rss = int(re.search(r"MAXRSS (\d+)", done.stderr).group(1)) // 1024  # type: ignore[union-attr]
    return done.stdout, seconds, rss


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-sites-"))
    work.mkdir(parents=True, exist_ok=True)
    expected: dict[str, list[tuple[str, str, str | None]]] = {}
    records = 0
    started = time.monotonic()
    warcs = []
    batch: list = []
    for i in range(args.sites):
        domain, site_records, segments = synthetic_site(i)
        expected[domain] = segments
        batch += site_records
        records += len(site_records)
        if len(batch) > 20000 or i == args.sites - 1:
            warcs.append(write_records(work / f"sites-{len(warcs)}.warc.gz", batch))
            batch = []
    archive = PywbArchive(work / "archive", collection="sites")
    if not (work / "archive" / "collections" / "sites").exists():
        archive.add_warcs(*warcs)
    build = time.monotonic() - started
    print(f"archive: {args.sites} sites, {records} captures, built and indexed in {build:.0f} s")
    with archive.start():
        small = _config(work / "ten", archive.url, list(expected)[:10], args.workers)
        big = _config(work / "all", archive.url, list(expected), args.workers)
        for config in (small, big):
            db = config.parent / "sites.db"
            if db.exists():
                db.unlink()
            _run(config, "sites", "import", str(config.parent / "sites.txt"))
        _run(big, "discover", "--from", "2009", "--to", "2023", "--plan")
        _, _, rss_small = _run(small, "discover", "--from", "2009", "--to", "2023")
        out, seconds, rss_big = _run(big, "discover", "--from", "2009", "--to", "2023")
        summary = out.strip().splitlines()[-1]
        cdx = int(re.search(r"(\d+) CDX queries", summary).group(1))  # type: ignore[union-attr]
        playbacks = int(re.search(r"(\d+) playbacks", summary).group(1))  # type: ignore[union-attr]
        per_home = float(re.search(r"([\d.]+) ms of our processing", summary).group(1))  # type: ignore[union-attr]
        sites_json, _, _ = _run(big, "sites", "--json")
    found = json.loads(sites_json[: sites_json.rindex("]") + 1])
    right = 0
    for site in found:
        segments = [(s["url"], s["from"], s["to"]) for s in site["documents"][0]["segments"]]
        want = [(url, _iso(a), _iso(b) if b else None) for url, a, b in expected[site["domain"]]]
        right += segments == want
    bound = max(cdx / (CDX_PER_MINUTE / 60), playbacks / PLAYBACK_PER_SECOND)
    print()
    print(f"| measure ({args.sites} sites x 15 years, pywb, {args.workers} workers) | value |")
    print("| --- | --- |")
    print(f"| CDX queries per site | {cdx / args.sites:.2f} |")
    print(f"| playbacks per site | {playbacks / args.sites:.1f} |")
    print(
        f"| our processing per homepage (links, extraction, classifier; CPU) | {per_home:.1f} ms |"
    )
    print(f"| rate limits | {CDX_PER_MINUTE} CDX/min, {PLAYBACK_PER_SECOND} playbacks/s |")
    print(f"| rate-limiter bound (slower of CDX and playback) | {bound:.0f} s |")
    print(f"| whole run | {seconds:.0f} s ({seconds / bound:.2f}x the bound) |")
    print(f"| peak memory: 10 sites / {args.sites} sites | {rss_small} MB / {rss_big} MB |")
    print(f"| sites with exactly the expected URL segments | {right} / {args.sites} |")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


def _iso(ts: str) -> str:
    return f"{ts[0:4]}-{ts[4:6]}-{ts[6:8]}T{ts[8:10]}:{ts[10:12]}:{ts[12:14]}Z"


if __name__ == "__main__":
    main()
