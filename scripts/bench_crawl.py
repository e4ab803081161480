"""How many requests each crawl strategy spends, and how many real text changes it finds.

    .venv/bin/python scripts/bench_crawl.py [--histories 20] [--every 3] [--per-version N]

Builds a simulated archive from the real histories in ../shared/corpus/ota/histories/: the
archive captures each page at random (gaps averaging --every days, as the Wayback Machine does
a popular page), so each real text version becomes as many captures as its life allows, and
every capture's raw HTML differs by page noise (a session token, a build id, a promotion
banner of four lengths); written as WARC files and served by pywb on 127.0.0.1. With
--per-version N, every version instead gets weekly captures from its start (at most N, at
least one), however short its life. Then, per strategy, a fresh backfill of every policy:
playback and CDX requests, text changes found against the truth (reverts included: a return to
an earlier text is a change), changes reported where there were none, wall time, and our own
CPU time per snapshot fetched. Prints markdown tables.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import io
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.archive import Transport  # noqa: E402
from crawler.archive.ratelimit import Limiters  # noqa: E402
from crawler.config import ArchiveConfig, Policy  # noqa: E402
from crawler.demo import PywbArchive  # noqa: E402
from crawler.http import build_client  # noqa: E402
from crawler.pipeline import backfill  # noqa: E402
from crawler.text import document_hints, extract  # noqa: E402
from crawler.text.render import render_text  # noqa: E402
from db import store  # noqa: E402
from scripts.bench_diff import load_histories  # noqa: E402

STRATEGIES = ["all", "bisect:30d", "bisect:90d", "bisect:180d", "interval:6m", "interval:1y"]


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


PROMOS = [
    "",
    "<div class='promo'>Try Pro free for 30 days</div>",
    "<div class='promo'>Spring sale: 20% off every annual plan, this week only</div>",
    "<div class='promo'>New: dark mode is here. See what else changed in the release notes, "
    "and tell us what you think.</div>",
]


def page_html(markdown: str, noise: int) -> bytes:
    """A policy page for one text version; `noise` varies what every tracker sees change: a
    session token, a build id and a rotating promotion banner of four lengths."""
    token = hashlib.sha256(str(noise).encode()).hexdigest()
    parts = [
        f"<html><head><title>Policy</title><script>var s='{token}';var build={noise % 97};"
        f"</script></head><body>{PROMOS[noise % len(PROMOS)]}<nav><a href='/'>Home</a></nav>"
        "<main>"
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
    parts.append("</main></body></html>")
    return "".join(parts).encode()


def capture_times(
    dates: list[datetime], rng: random.Random, every: float, per_version: int | None
) -> list[tuple[datetime, int]]:
    """(when, version index) of each capture. `dates` holds each version's start, then the
    end of the last one.

    By default the archive captures the page at random (exponential gaps averaging `every`
    days), as the Wayback Machine does a popular page: a version is archived only if a capture
    falls while it is live, and gets captures in proportion to its life. With `per_version`,
    every version gets weekly captures from its start, at most that many, at least one: a
    harsher test where a version of a day weighs as much as one of years."""
    out: list[tuple[datetime, int]] = []
    if per_version:
        last = dates[0] - timedelta(days=1)
        for i in range(len(dates) - 1):
            start, end = dates[i], max(dates[i + 1], dates[i] + timedelta(hours=2))
            # Playback addresses a capture by its second: keep capture times strictly increasing.
            when = max(start + timedelta(hours=1), last + timedelta(minutes=1))
            made = 0
            while when < end and made < per_version:
                out.append((when, i))
                last = when
                when += timedelta(days=7)
                made += 1
        return out
    when, i = dates[0] + timedelta(hours=1), 0
    while when < dates[-1]:
        while i + 1 < len(dates) - 1 and dates[i + 1] <= when:
            i += 1
        out.append((when, i))
        when += timedelta(days=max(1 / 24, rng.expovariate(1 / every)))
    return out


def build(
    histories: dict[str, list[dict[str, object]]],
    count: int,
    per_version: int | None,
    every: float,
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
    with warc.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for name in chosen:
            rows = histories[name]
            url = url_of(name)
            truth[url] = []
            dates = [datetime.fromisoformat(str(r["date"])) for r in rows]
            dates.append(dates[-1] + timedelta(days=60))
            keys: dict[int, str] = {}
            for when, i in capture_times(dates, rng, every, per_version):
                markdown = str(rows[i]["markdown"])
                if i not in keys:
                    # The truth is the text policytrail itself makes of this version's page.
                    text = render_text(
                        extract(
                            page_html(markdown, 0),
                            base_url=url,
                            document=document_hints(kind_of(name)),
                        )
                    )
                    keys[i] = hashlib.sha256(text.encode()).hexdigest()
                noise = rng.getrandbits(32)
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
                    payload=io.BytesIO(body),
                    http_headers=headers,
                    warc_headers_dict={
                        "WARC-Date": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                    },
                )
                writer.write_record(record)
                record.raw_stream.close()
                truth[url].append((ts, keys[i]))
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
    parser.add_argument("--every", type=float, default=3.0, help="mean days between captures")
    parser.add_argument(
        "--per-version", type=int, help="instead: weekly captures per version, at most N"
    )
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument(
        "--strategies", default=",".join(STRATEGIES), help="comma-separated, e.g. all,bisect:30d"
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    started = time.monotonic()
    archive, truth = build(
        load_histories(), args.histories, args.per_version, args.every, args.seed, folder
    )
    chosen_names = [n for n in load_histories() if url_of(n) in truth]
    captures = sum(len(s) for s in truth.values())
    print(
        f"Simulated archive: {len(truth)} real histories, {captures} captures (every capture a "
        f"distinct digest), built in {time.monotonic() - started:.0f} s\n"
    )
    rows = []
    try:
        for strategy in args.strategies.split(","):
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
            store_ms: list[float] = []
            changes_ms = 0.0
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
                store_ms.extend(result.store_ms)
                changes_ms += result.changes_ms
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
                    statistics.median(store_ms) if store_ms else 0.0,
                    changes_ms / max(1, len(store_ms)),
                    sum(store_ms) + changes_ms,
                )
            )
            client.close()
            db.close()
    finally:
        archive.stop()
    base = captures  # every capture has its own digest: what `all` plays back
    print(
        "| strategy | playback requests | share of `all` | CDX requests | text changes "
        "(truth) | found | recall | false changes | wall s |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    )
    for strategy, playback, cdx, total, found, false, wall, *_ in rows:
        print(
            f"| {strategy} | {playback} | {playback / max(1, base):.1%} | {cdx} | {total} | "
            f"{found} | {found / max(1, total):.3f} | {false} | {wall:.1f} |"
        )
    print(
        "\nOur own processing, CPU of the thread that does it: per snapshot stored (decode, "
        "extract, store; median), the change records (sections and diff) spread over the "
        "snapshots, the whole process per snapshot (HTTP client and threads included), and "
        "the time the Internet Archive's limits alone allow (10 playbacks/s, 24 CDX/min) "
        "against that time plus all our processing done serially:\n"
    )
    print(
        "| strategy | extract + store ms (median) | changes ms per snapshot | whole process "
        "CPU ms per snapshot | rate-limited s | + our processing s | ratio |\n"
        "| --- | --- | --- | --- | --- | --- | --- |"
    )
    for strategy, playback, cdx, *_, cpu, store_median, changes, ours in rows:
        limited = playback / 10 + cdx / (24 / 60)
        print(
            f"| {strategy} | {store_median:.1f} | {changes:.1f} | {cpu:.1f} | {limited:.0f} | "
            f"{limited + ours / 1000:.0f} | {(limited + ours / 1000) / max(limited, 1e-9):.3f} |"
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
