"""Hostile pages, archives and texts (#17): each case in its own process, measured with
/usr/bin/time; prints its outcome, wall time and peak memory against the targets (60 s,
500 MB). Everything runs on 127.0.0.1.

    .venv/bin/python scripts/bench_hostile.py           # every case
    .venv/bin/python scripts/bench_hostile.py --case zstd-bomb
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 60
TARGET_MB = 500
MB = 1024 * 1024


def _bodies() -> dict[str, tuple[str, bytes]]:
    """A zstd answer of 1 GB of zeros and a gzip one of 300 MB, compressed a megabyte at a
    time (the bench itself never holds the inflated bytes)."""
    import zlib

    import zstandard

    zeros = b"\0" * MB
    writer = zstandard.ZstdCompressor(level=19).compressobj()
    zstd = b"".join(writer.compress(zeros) for _ in range(1024)) + writer.flush()
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: the gzip container
    gz = b"".join(packer.compress(zeros) for _ in range(300)) + packer.flush()
    return {"/zstd": ("zstd", zstd), "/gzip": ("gzip", gz)}


@contextmanager
def hostile_server(bodies: dict[str, tuple[str, bytes]]) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            if self.path in ("/trickle-body", "/trickle-headers"):
                head = b"HTTP/1.1 200 OK\r\n"
                if self.path == "/trickle-body":
                    head += b"Content-Type: text/html\r\nContent-Length: 100000\r\n\r\n"
                self.wfile.write(head)
                for _ in range(100_000):  # a byte a second: a day for the page
                    try:
                        self.wfile.write(b"x")
                        self.wfile.flush()
                    except OSError:
                        return
                    time.sleep(1)
                return
            if self.path == "/redirect-loop":
                self.send_response(302)
                self.send_header("Location", "/redirect-loop-2")
                self.end_headers()
                return
            if self.path == "/redirect-loop-2":
                self.send_response(302)
                self.send_header("Location", "/redirect-loop")
                self.end_headers()
                return
            encoding, body = bodies[self.path]
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Encoding", encoding)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def _live(path: str) -> str:
    from crawler.config import Config
    from crawler.errors import CrawlerError
    from crawler.http import build_live_client
    from crawler.live import fetch_live

    bodies = _bodies() if path in ("/zstd", "/gzip") else {}
    with hostile_server(bodies) as base, build_live_client(Config(Path("x"), Path("x"))) as client:
        try:
            result = fetch_live(client, base + path)
        except CrawlerError as exc:
            return f"refused: {str(exc).split(';')[0][:70]}"
        return f"read {len(result.body)} bytes"


def _archive_trickle() -> str:
    """A playback answer whose headers come a byte a second, through the archive transport."""
    from crawler.archive import Transport
    from crawler.archive.ratelimit import Limiters
    from crawler.config import ArchiveConfig, Config
    from crawler.errors import CrawlerError
    from crawler.http import build_client

    with hostile_server({}) as base:
        config = Config(Path("x"), Path("x"), archive=ArchiveConfig(url=base))
        with build_client(config) as client:
            transport = Transport(client, Limiters(24, 8))
            try:
                transport.get("playback", base + "/trickle-headers")
            except CrawlerError as exc:
                return f"failed: {str(exc).split(': http')[0][:70]}"
            return "read"


def _extract(markup: bytes) -> str:
    from crawler.errors import CrawlerError
    from crawler.text import extract, render_text

    try:
        words = len(render_text(extract(markup)).split())
    except CrawlerError as exc:
        return f"refused: {exc}"[:80]
    return f"extracted {words} words"


def _diff(old: str, new: str) -> str:
    from crawler.text.diff import diff_texts

    result = diff_texts(old, new)
    return f"{len(result.changes)} section changes, +{result.words_added} -{result.words_removed}"


def _sections(count: int, tag: str) -> str:
    return "\n\n".join(
        f"## {tag} heading {i}\n\n{tag} clause {i} on topic {i * 7} with words w{i}."
        for i in range(count)
    )


def _alternating() -> str:
    """record_changes over 5 texts alternating along 20,000 captures."""
    from crawler.pipeline.changes import record_changes
    from db import store

    with tempfile.TemporaryDirectory() as folder:
        db = store.connect(Path(folder) / "t.db")
        now = datetime(2026, 1, 1, tzinfo=UTC)
        pid = store.upsert_policy(db, "seesaw", "https://seesaw.example/p", "privacy", now)
        texts = [f"# Policy\n\n{_sections(60, f'v{k}')}\n" for k in range(5)]
        with db.atomic():
            for i in range(20_000):
                ts = (now + timedelta(hours=i)).strftime("%Y%m%d%H%M%S")
                store.add_seen_text(
                    db, pid, texts[(i * 3) % 5], ts, "https://seesaw.example/p", now
                )
        changes = record_changes(db, pid, now)
        return f"{changes} changes recorded"


def _search() -> str:
    from click.testing import CliRunner

    from crawler.cli import cli
    from db import store

    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "config.toml"
        config.write_text('[database]\npath = "t.db"\n')
        store.connect(Path(folder) / "t.db").close()
        result = CliRunner().invoke(
            cli, ["--config", str(config), "search", " OR ".join(["a*"] * 200)]
        )
        return "refused: " + result.output.strip().splitlines()[-1][:60]


def _stop_time(args: list[str], folder: Path, ready: Callable[[], bool]) -> str:
    """Start `policytrail ARGS`, wait until `ready()`, SIGTERM it: how long it takes to stop."""
    import signal

    process = subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", *args],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not ready() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    try:
        process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        return "did not stop within 120 s"
    return f"stopped {time.monotonic() - started:.1f} s after SIGTERM (exit {process.returncode})"


def _run_sigterm() -> str:
    with hostile_server({}) as base, tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "config.toml"
        config.write_text(
            '[database]\npath = "t.db"\n[schedule]\njitter = "0"\nsync = "off"\n'
            f'[[policy]]\nname = "slow"\nurl = "{base}/trickle-headers"\nfetcher = "http"\n'
        )
        started = time.monotonic()
        return "run, a fetch hanging: " + _stop_time(
            ["--config", str(config), "run"], Path(folder), lambda: time.monotonic() - started > 3
        )


def _serve_sigterm() -> str:
    import httpx

    sys.path.insert(0, str(ROOT))
    import tests.conftest  # noqa: F401  (before the fixtures module, which imports it back)
    from crawler.demo import free_port
    from tests.test_hostile_live import _slow_diff_db

    with tempfile.TemporaryDirectory() as folder:
        config = _slow_diff_db(Path(folder))
        port = free_port()
        base = f"http://127.0.0.1:{port}"

        def ready() -> bool:
            try:
                httpx.get(base + "/", timeout=1)
            except httpx.HTTPError:
                return False
            threading.Thread(
                target=lambda: httpx.get(f"{base}/p/huge/diff?a=1&b=2", timeout=60), daemon=True
            ).start()
            return True

        return "serve, a diff running: " + _stop_time(
            ["--config", str(config), "serve", "--port", str(port)], Path(folder), ready
        )


WORDS_80K = " ".join(f"Clause {i} keeps record {i} for {i % 7} years." for i in range(11_000))
CASES: dict[str, tuple[str, Callable[[], str]]] = {
    "zstd-bomb": ("live page: 1 GB of zeros as zstd", lambda: _live("/zstd")),
    "gzip-bomb": ("live page: 300 MB of zeros as gzip", lambda: _live("/gzip")),
    "trickle-body": ("live page: its body a byte a second", lambda: _live("/trickle-body")),
    "trickle-headers": (
        "live page: its headers a byte a second",
        lambda: _live("/trickle-headers"),
    ),
    "redirect-loop": ("live page: a redirect loop", lambda: _live("/redirect-loop")),
    "archive-trickle": ("archive playback: its headers a byte a second", _archive_trickle),
    "nested-b": (
        "100,000 nested <b> (0.9 MB)",
        lambda: _extract(
            ("<html><body><p>x</p>" + "<b>word " * 100_000 + "</body></html>").encode()
        ),
    ),
    "nested-li": (
        "100,000 nested list items (2.3 MB)",
        lambda: _extract(("<html><body>" + "<ul><li>item " * 100_000 + "</body></html>").encode()),
    ),
    "nested-div": (
        "100,000 nested <div>",
        lambda: _extract(("<html><body>" + "<div>text " * 100_000 + "</body></html>").encode()),
    ),
    "diff-400-headings": (
        "diff: 400 unrelated headings each side",
        lambda: _diff(_sections(400, "old"), _sections(400, "new")),
    ),
    "diff-1500-sections": (
        "diff: 1,500 sections, no shared heading",
        lambda: _diff(_sections(1500, "alpha"), _sections(1500, "beta")),
    ),
    "diff-80k-words": (
        "diff: one 80,000-word section, edited",
        lambda: _diff(
            "## Terms\n\n" + WORDS_80K,
            "## Terms\n\n" + WORDS_80K.replace("Clause 5000 keeps", "Clause 5000 sells"),
        ),
    ),
    "alternating-history": ("5 texts alternating over 20,000 captures", _alternating),
    "search-200-terms": ("search: 200 OR'd prefix terms", _search),
    "run-sigterm": ("`run` stopped while a page sends its headers a byte a second", _run_sigterm),
    "serve-sigterm": ("`serve` stopped while a slow diff runs", _serve_sigterm),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", choices=sorted(CASES))
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        print("OUTCOME", CASES[args.case][1]())
        return
    names = [args.case] if args.case else list(CASES)
    print(
        f"| case | outcome | wall time | peak memory | within {TARGET_SECONDS} s and {TARGET_MB} MB |"
    )
    print("| --- | --- | --- | --- | --- |")
    for name in names:
        started = time.monotonic()
        done = subprocess.run(
            [
                "/usr/bin/time",
                "-f",
                "MAXRSS %M",
                sys.executable,
                __file__,
                "--case",
                name,
                "--inside",
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=900,
            check=False,
        )
        seconds = time.monotonic() - started
        rss = re.search(r"MAXRSS (\d+)", done.stderr)
        mb = int(rss.group(1)) // 1024 if rss else -1
        outcome = next(
            (line[8:] for line in done.stdout.splitlines() if line.startswith("OUTCOME ")),
            f"crashed: {done.stderr.strip().splitlines()[-2:] if done.stderr.strip() else '?'}",
        )
        ok = (
            seconds <= TARGET_SECONDS and 0 <= mb <= TARGET_MB and not outcome.startswith("crashed")
        )
        print(
            f"| {CASES[name][0]} | {outcome.replace('|', '/')} | {seconds:.1f} s | {mb} MB | {'yes' if ok else 'NO'} |"
        )


if __name__ == "__main__":
    main()
