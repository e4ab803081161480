"""How many requests each crawl strategy spends, and how many real text changes it finds.

    .venv/bin/python scripts/bench_crawl.py [--histories 20] [--per-version 6]

Builds a simulated archive from the real histories in ../shared/corpus/ota/histories/: each
real text version becomes weekly captures (at most --per-version of them) whose raw HTML
differs by page noise (a session token and a rotating ad), written as WARC files and served by
pywb on 127.0.0.1. Then, per strategy, a fresh backfill of every policy: playback and CDX
requests, text changes found against the truth (reverts included: a return to an earlier text
is a change), changes reported where there were none, wall time, and our own CPU time per
snapshot fetched. Prints markdown tables.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.config import ArchiveConfig, Policy  # noqa: E402
from crawler.demo import PywbArchive  # noqa: E402
from crawler.extract import document_hints, extract  # noqa: E402
from crawler.http import build_client  # noqa: E402
from crawler.pipeline import backfill  # noqa: E402
from crawler.ratelimit import Limiters  # noqa: E402
from crawler.render import render_text  # noqa: E402
from crawler.wayback import Transport  # noqa: E402
from db import store  # noqa: E402
from scripts.bench_diff import load_histories  # noqa: E402

STRATEGIES = ["all", "bisect:30d", "bisect:90d", "interval:6m", "interval:1y"]


def url_of(name: str) -> str:
    collection, service, terms_type = name.split("__")
    host = f"{service}-{collection}".lower().replace(".", "-").replace("_", "-")
    return f"https://www.{host}.example/{terms_type.lower()}"


def kind_of(name: str) -> str:
    terms_type = name.split("__")[2].lower()
    if "privacy" in terms_type:
        return "privacy"
    if "tracker" in terms_type or "cookie" in terms_type:
        return "cookies"
    return "terms" if "terms" in terms_type else "other"


def page_html(markdown: str, noise: int) -> bytes:
    """A policy page for one text version; `noise` varies what every tracker sees change."""
    parts = [
        f"<html><head><title>Policy</title><script>var s='{noise:08x}';</script></head>"
        f"<body><nav><a href='/'>Home</a></nav><main>"
    ]
    in_list = False
    for line in markdown.split("\n"):
        text = line.strip()
        if not text or set(text) <= set("=-"):
            continue
        if text.startswith(("- ", "* ", "*   ")):
            if not in_list:
                parts.append("<ul>")
                in_list = True
            parts.append(f"<li>{html.escape(text.lstrip('-* ').strip())}</li>")
            continue
        if in_list:
            parts.append("</ul>")
            in_list = False
        if text.startswith("#"):
            parts.append(f"<h2>{html.escape(text.lstrip('#').strip())}</h2>")
        else:
            parts.append(f"<p>{html.escape(text)}</p>")
    if in_list:
        parts.append("</ul>")
    parts.append(f"</main><aside class='ad'>Offer {noise % 7}</aside></body></html>")
    return "".join(parts).encode()


def build(
    histories: dict[str, list[dict[str, object]]],
    count: int,
    per_version: int,
    seed: int,
    folder: Path,
) -> tuple[PywbArchive, dict[str, list[tuple[str, str]]]]:
    """Write the WARC and start pywb. Returns the archive and, per policy URL, the truth:
    (timestamp, text key) of every capture, in time order."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    rng = random.Random(seed)
    names = sorted(n for n, rows in histories.items() if len(rows) <= 120)
    chosen = rng.sample(names, min(count, len(names)))
    truth: dict[str, list[tuple[str, str]]] = {}
    warc = folder / "simulated.warc.gz"
    noise = 0
    with warc.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for name in chosen:
            rows = histories[name]
            url = url_of(name)
            truth[url] = []
            dates = [datetime.fromisoformat(str(r["date"])) for r in rows]
            last = dates[0] - timedelta(days=1)
            dates.append(dates[-1] + timedelta(days=60))
            for i, row in enumerate(rows):
                markdown = str(row["markdown"])
                # The truth is the text policytrail itself makes of this version's page.
                text = render_text(
                    extract(
                        page_html(markdown, 0), base_url=url, document=document_hints(kind_of(name))
                    )
                )
                key = hashlib.sha256(text.encode()).hexdigest()
                start, end = dates[i], max(dates[i + 1], dates[i] + timedelta(hours=2))
                # Playback addresses a capture by its second: two captures of one URL in the
                # same second cannot both be played back, so keep them strictly increasing.
                when = max(start + timedelta(hours=1), last + timedelta(minutes=1))
                made = 0
                while when < end and made < per_version:
                    noise += 1
                    body = page_html(markdown, noise)
                    ts = when.astimezone(UTC).strftime("%Y%m%d%H%M%S")
                    headers = StatusAndHeaders(
                        "200 OK",
                        [
                            ("Content-Type", "text/html; charset=utf-8"),
                            ("Content-Length", str(len(body))),
                        ],
                        protocol="HTTP/1.1",
                    )
                    record = writer.create_warc_record(
                        url,
                        "response",
                        payload=__import__("io").BytesIO(body),
                        http_headers=headers,
                        warc_headers_dict={
                            "WARC-Date": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                        },
                    )
                    writer.write_record(record)
                    record.raw_stream.close()
                    truth[url].append((ts, key))
                    last = when
                    when += timedelta(days=7)
                    made += 1
    archive = PywbArchive(folder / "pywb", collection="sim")
    archive.add_warcs(warc)
    archive.start()
    return archive, truth


def _runs(keys: list[str | None]) -> list[str]:
    out: list[str] = []
    for key in keys:
        if key is not None and (not out or out[-1] != key):
            out.append(key)
    return out


def _matched_transitions(truth: list[str], ours: list[str]) -> int:
    """Truth transitions (consecutive texts) that our sequence shows too, by LCS alignment."""
    n, m = len(truth), len(ours)
    table = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            table[i][j] = (
                table[i + 1][j + 1] + 1
                if truth[i] == ours[j]
                else max(table[i + 1][j], table[i][j + 1])
            )
    pairs, i, j = [], 0, 0
    while i < n and j < m:
        if truth[i] == ours[j]:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
    return sum(
        1 for (a, b), (c, d) in zip(pairs, pairs[1:], strict=False) if c == a + 1 and d == b + 1
    )


def score(db: store.Database, truth: dict[str, list[tuple[str, str]]]) -> tuple[int, int, int]:
    """(true changes, found, false): changes are transitions between consecutive distinct
    texts along the capture timeline, so a return to an earlier text counts."""
    total = found = false = 0
    for url, sequence in truth.items():
        pid = db.execute("SELECT id FROM policies WHERE url = ?", [url]).fetchone()[0]
        ours = dict(
            db.execute(
                "SELECT c.timestamp, v.text_sha256 FROM captures c JOIN versions v ON "
                "v.id = c.version_id WHERE c.policy_id = ? AND c.state IN ('fetched', 'inferred')",
                [pid],
            ).fetchall()
        )
        truth_runs = _runs([key for _, key in sequence])
        our_runs = _runs([ours.get(ts) for ts, _ in sequence])
        matched = _matched_transitions(truth_runs, our_runs)
        total += len(truth_runs) - 1
        found += matched
        false += max(0, len(our_runs) - 1 - matched)
    return total, found, false


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--histories", type=int, default=20)
    parser.add_argument("--per-version", type=int, default=6)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    started = time.monotonic()
    archive, truth = build(load_histories(), args.histories, args.per_version, args.seed, folder)
    chosen_names = [n for n in load_histories() if url_of(n) in truth]
    captures = sum(len(s) for s in truth.values())
    print(
        f"Simulated archive: {len(truth)} real histories, {captures} captures (every capture a "
        f"distinct digest), built in {time.monotonic() - started:.0f} s\n"
    )
    rows = []
    try:
        for strategy in STRATEGIES:
            db_path = folder / f"{strategy.replace(':', '_')}.db"
            db = store.connect(db_path)
            config = ArchiveConfig(
                url=archive.url, cdx_per_minute=60000, playback_per_second=1000, workers=4
            )
            from crawler.config import Config

            client = build_client(Config(path=folder / "c.toml", database=db_path, archive=config))
            transport = Transport(client, Limiters(60000, 1000))
            wall, cpu = time.monotonic(), time.process_time()
            fetched = 0
            for url in truth:
                name = next(n for n in chosen_names if url_of(n) == url)
                result = backfill(
                    db,
                    transport,
                    config,
                    Policy(hashlib.sha1(url.encode()).hexdigest()[:10], url, kind_of(name)),
                    datetime.now(UTC),
                    strategy=strategy,
                )
                fetched += result.fetched
            wall, cpu = time.monotonic() - wall, time.process_time() - cpu
            total, found, false = score(db, truth)
            rows.append(
                (
                    strategy,
                    transport.requests["playback"],
                    transport.requests["cdx"],
                    total,
                    found,
                    false,
                    wall,
                    cpu * 1000 / max(1, fetched),
                )
            )
            client.close()
            db.close()
    finally:
        archive.stop()
    base = rows[0][1]
    print(
        "| strategy | playback requests | share of `all` | CDX requests | text changes "
        "(truth) | found | recall | false changes | wall s | our CPU ms per snapshot |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for strategy, playback, cdx, total, found, false, wall, cpu in rows:
        print(
            f"| {strategy} | {playback} | {playback / max(1, base):.1%} | {cdx} | {total} | "
            f"{found} | {found / max(1, total):.3f} | {false} | {wall:.1f} | {cpu:.1f} |"
        )
    times = []
    sample = [
        page_html(str(r["markdown"]), 1)
        for rows_ in list(load_histories().values())[:8]
        for r in rows_[:5]
    ]
    for body in sample:
        start = time.process_time()
        render_text(extract(body))
        times.append((time.process_time() - start) * 1000)
    print(f"\nExtraction alone on these pages: median {statistics.median(times):.2f} ms")


if __name__ == "__main__":
    main()
