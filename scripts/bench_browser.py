"""What the browser fetcher costs and what it reads, beside plain http.

    .venv/bin/python scripts/bench_browser.py [--limit N]

1. The local test site (tests/browser_site.py: client-rendered, bot-guarded, consent wall,
   text after 2 s, a script that never loads) and an archived client-rendered page in pywb:
   wall time per fetch for http, browser and browser-on-replay, words read, and the peak
   resident memory of the browser's processes.
2. The real Open Terms Archive snapshots OTA took with a browser (`fetcher: fullDom` in
   ../shared/corpus/ota/pairs.jsonl: 136), each served as a page from 127.0.0.1 and rendered
   by policytrail's browser (only 127.0.0.1 reachable): the share whose text policytrail
   reproduces (token F1 against OTA's gold, as bench_extract scores it; "reproduced" = F1 at
   least 0.9), time per page, and the Chromium processes left after the run.
Prints markdown tables. Touches no network beyond 127.0.0.1.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.config import BrowserConfig  # noqa: E402
from crawler.demo import PywbArchive  # noqa: E402
from crawler.errors import CrawlerError  # noqa: E402
from crawler.live.browser import BrowserFetcher, same_origin  # noqa: E402
from crawler.text import document_hints, extract, render_text  # noqa: E402
from scripts.extract_corpus import SHARED, token_f1  # noqa: E402
from tests.browser_site import BrowserSite, fable_pages  # noqa: E402

LOCAL = ["/csr", "/guard", "/consent", "/slow", "/hang"]


def chromium_rss_mb() -> float:
    """Memory of the Chromium processes Playwright started, in MB: their proportional set
    size (PSS: shared pages split between the processes sharing them, so the sum is what the
    browser really holds; plain RSS counts shared libraries once per process)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            if b"chrom" not in cmdline or b"--remote-debugging-pipe" not in cmdline:
                continue
            for line in Path(f"/proc/{entry}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def chromium_processes() -> int:
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            count += b"chrom" in cmdline and b"--remote-debugging-pipe" in cmdline
    return count


class Sampler:
    """Samples the browser's memory every 100 ms; `peak` is the highest seen."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, chromium_rss_mb())
            time.sleep(0.1)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def words_of(body: bytes, url: str) -> int:
    try:
        return len(render_text(extract(body, base_url=url)).split())
    except CrawlerError:
        return 0


def local_table(browser: BrowserFetcher) -> list[str]:
    rows = []
    with BrowserSite() as site, httpx.Client(timeout=30) as client:
        for path in LOCAL:
            url = site.url + path
            start = time.monotonic()
            answer = client.get(url)
            http_s = time.monotonic() - start
            http_words = words_of(answer.content, url) if answer.status_code == 200 else 0
            with Sampler() as sampler:
                start = time.monotonic()
                page = browser.render(url)
                browser_s = time.monotonic() - start
            rows.append(
                f"| local {path} | {answer.status_code} / {http_words} words / {http_s * 1000:.0f} ms "
                f"| {page.status} / {words_of(page.body, url)} words / {browser_s * 1000:.0f} ms "
                f"| {sampler.peak:.0f} |"
            )
        with tempfile.TemporaryDirectory() as folder:
            rows.append(replay_row(browser, Path(folder), site.url))
    return rows


def replay_row(browser: BrowserFetcher, folder: Path, elsewhere: str) -> str:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    warc = folder / "fable.warc.gz"
    with warc.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for url, (ctype, body) in fable_pages(elsewhere).items():
            headers = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
            record = writer.create_warc_record(
                url,
                "response",
                payload=io.BytesIO(body),
                http_headers=headers,
                warc_headers_dict={"WARC-Date": "2023-03-01T12:00:00Z"},
            )
            writer.write_record(record)
            record.raw_stream.close()
    archive = PywbArchive(folder / "pywb", collection="fable")
    archive.add_warcs(warc)
    archive.start()
    try:
        target = "https://www.fable-labs.example/privacy"
        start = time.monotonic()
        raw = httpx.get(f"{archive.url}/20230301120000id_/{target}", timeout=30)
        http_s = time.monotonic() - start
        with Sampler() as sampler:
            start = time.monotonic()
            page = browser.render(
                f"{archive.url}/20230301120000/{target}", allow=same_origin(archive.url)
            )
            replay_s = time.monotonic() - start
        return (
            f"| archived client-rendered page (pywb) | {raw.status_code} / "
            f"{words_of(raw.content, target)} words / {http_s * 1000:.0f} ms (raw id_) "
            f"| {page.status} / {words_of(page.body, target)} words / {replay_s * 1000:.0f} ms "
            f"(rendered replay, {page.requests} requests to the archive, {page.blocked} refused) "
            f"| {sampler.peak:.0f} |"
        )
    finally:
        archive.stop()


def full_dom_snapshots(limit: int | None) -> list[dict[str, Any]]:
    found = []
    for line in (SHARED / "ota" / "pairs.jsonl").read_text().splitlines():
        item = json.loads(line)
        for snapshot in item["snapshots"]:
            if snapshot.get("fetcher") == "fullDom":
                found.append({**item, "file": snapshot["file"]})
    return found[:limit] if limit else found


class Pages:
    """Serves the fullDom snapshots as pages from 127.0.0.1 (/<n>)."""

    def __init__(self, bodies: list[bytes]) -> None:
        served = bodies

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                index = self.path.strip("/").split("?")[0]
                if not index.isdigit() or int(index) >= len(served):
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = served[int(index)]
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def ota_table(browser: BrowserFetcher, limit: int | None) -> list[str]:
    items = full_dom_snapshots(limit)
    bodies = [(SHARED / "ota" / item["dir"] / item["file"]).read_bytes() for item in items]
    pages = Pages(bodies)
    scores_http, scores_browser, seconds = [], [], []
    with Sampler() as sampler:
        for n, item in enumerate(items):
            gold = (SHARED / "ota" / item["dir"] / "version.md").read_text()
            kind = "privacy" if "rivacy" in item["terms_type"] else "terms"
            hints = document_hints(kind, item["terms_type"])
            url = f"{pages.url}/{n}"
            try:
                raw = render_text(extract(bodies[n], base_url=url, document=hints))
            except CrawlerError:
                raw = ""
            scores_http.append(token_f1(raw, gold))
            start = time.monotonic()
            try:
                page = browser.render(url, allow=same_origin(pages.url))
                text = render_text(extract(page.body, base_url=url, document=hints))
            except CrawlerError as exc:
                print(f"  {item['id']}: {exc}", file=sys.stderr)
                text = ""
            seconds.append(time.monotonic() - start)
            scores_browser.append(token_f1(text, gold))
    pages.server.shutdown()
    count = len(items)

    def share(scores: list[float]) -> str:
        good = sum(1 for s in scores if s >= 0.9)
        return f"{good}/{count} ({good / count:.0%})"

    return [
        f"| OTA fullDom snapshots, the served HTML read as-is (http) | {count} | "
        f"{share(scores_http)} | {statistics.fmean(scores_http):.3f} | – | – |",
        f"| OTA fullDom snapshots, rendered by policytrail's browser | {count} | "
        f"{share(scores_browser)} | {statistics.fmean(scores_browser):.3f} | "
        f"{statistics.median(seconds) * 1000:.0f} / {max(seconds) * 1000:.0f} | "
        f"{sampler.peak:.0f} |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="only the first N OTA snapshots")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    before = chromium_processes()
    browser = BrowserFetcher(BrowserConfig())
    try:
        print(
            "| page | http: status / words / time | browser: status / words / time | "
            "browser peak memory (PSS, MB) |"
        )
        print("| --- | --- | --- | --- |")
        for row in local_table(browser):
            print(row)
        print()
        if not (SHARED / "ota" / "pairs.jsonl").exists():
            print("../shared/corpus is absent: the OTA part is skipped")
            return
        print(
            "| corpus | snapshots | text reproduced (F1 ≥ 0.9) | F1 mean | "
            "ms per page, median / max | browser peak memory (PSS, MB) |"
        )
        print("| --- | --- | --- | --- | --- | --- |")
        for row in ota_table(browser, args.limit):
            print(row)
    finally:
        browser.close()
        time.sleep(0.5)
        print(
            f"\nChromium processes before: {before}, after the run: {chromium_processes()}; "
            f"browser launches: {browser.launches}, pages: {browser.pages}"
        )


if __name__ == "__main__":
    main()
