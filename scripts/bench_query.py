"""Time the query commands and the web pages on a large database (see make_big_db.py).

    .venv/bin/python scripts/make_big_db.py /tmp/big.db
    .venv/bin/python scripts/bench_query.py /tmp/big.db

Commands run in-process through click (so the time is the command's own, beyond interpreter
start-up and imports); pages are rendered by the app in-process (server time). Prints a
markdown table of median and 95th-percentile milliseconds.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from click.testing import CliRunner  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from crawler.cli import cli  # noqa: E402
from crawler.web.app import create_app  # noqa: E402


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    fn()  # warm: first-use imports and SQLite page cache
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def command_runner(database: Path) -> Callable[..., Callable[[], object]]:
    """command(*argv) -> a call that runs `policytrail *argv` on `database` in-process."""
    config = Path(tempfile.mkdtemp()) / "config.toml"
    config.write_text(f'[database]\npath = "{database.resolve()}"\n')
    runner = CliRunner()

    def command(*argv: str) -> Callable[[], object]:
        def run() -> object:
            result = runner.invoke(cli, ["--config", str(config), *argv])
            assert result.exit_code == 0, result.output
            return result

        return run

    return command


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", type=Path)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    command = command_runner(args.database)
    rng = random.Random(5)
    names = [f"company-{n:04d}-privacy" for n in rng.sample(range(1000), 40)]

    rows: list[tuple[str, str, float, float, float]] = []
    it = iter(names * 10)
    for label, fn, target in [
        ("history NAME --json", lambda: command("history", next(it), "--json")(), 50),
        ('search "biometric" --json', command("search", "biometric", "--json"), 200),
        (
            'search "court order fraud" --json',
            command("search", "court order fraud", "--json"),
            200,
        ),
        ("search '\"opt out\"' --json", command("search", '"opt out"', "--json"), 200),
        (
            'search "security breach" --policy NAME',
            command("search", "security breach", "--policy", names[0], "--json"),
            200,
        ),
        ("show NAME --at 2015", command("show", names[1], "--at", "2015"), 50),
        (
            "changes --since 2025 --substantive --json",
            command("changes", "--since", "2025-05", "--substantive", "--json"),
            200,
        ),
    ]:
        median, p95 = timed(fn, args.runs)
        rows.append(("command", label, median, p95, target))
    client = TestClient(create_app(args.database))

    def page(path: str) -> Callable[[], object]:
        def get() -> object:
            response = client.get(path)
            assert response.status_code == 200, path
            return response

        return get

    for path in [
        "/",
        f"/p/{names[2]}",
        f"/p/{names[2]}/v/17",
        f"/p/{names[2]}/diff?a=10&b=11",
        f"/p/{names[2]}/diff?a=1&b=30",
        "/changes",
        "/changes.atom",
        "/search?q=biometric",
        "/search?q=%22court+order%22",
    ]:
        median, p95 = timed(page(path), args.runs)
        rows.append(("page", path.replace(names[2], "NAME"), median, p95, 300))
    size = args.database.stat().st_size / 1e6
    print(
        f"Database {args.database.name}: {size:.0f} MB; {args.runs} runs each, after one warm-up\n"
    )
    print(
        "| kind | what | median ms | p95 ms | target ms | met |\n| --- | --- | --- | --- | --- | --- |"
    )
    for kind, label, median, p95, target in rows:
        print(
            f"| {kind} | `{label}` | {median:.1f} | {p95:.1f} | < {target:.0f} | "
            f"{'yes' if p95 < target else 'NO'} |"
        )


if __name__ == "__main__":
    main()
