"""Crawl strategies against a real pywb archive with dense captures: bisect finds the same
text versions as `all` with far fewer playbacks; interval samples one capture per period."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from crawler.demo import POLICY_URL, FixtureCapture, PywbArchive, write_warc
from crawler.sampling import Bisect, interval_sample, parse_strategy
from db import store
from tests.conftest import history_json, run_cli, write_config

# Weekly captures for three years; the text goes 1 → 2 → 3 → 2 (a revert, kept for 10 weeks)
# → 4, and every capture's page noise differs, so every capture has its own digest.
WEEKS = 156


def version_at(week: int) -> int:
    return 1 if week < 30 else 2 if week < 70 else 3 if week < 100 else 2 if week < 110 else 4


@pytest.fixture(scope="module")
def dense_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PywbArchive]:
    root = tmp_path_factory.mktemp("dense")
    timeline = [
        FixtureCapture(
            (date(2019, 1, 7) + timedelta(weeks=w)).strftime("%Y%m%d120000"),
            POLICY_URL,
            "page",
            version_at(w),
            100 + w,
        )
        for w in range(WEEKS)
    ]
    archive = PywbArchive(root / "archive", collection="dense")
    archive.add_warcs(write_warc(root / "dense.warc.gz", timeline))
    archive.start()
    try:
        yield archive
    finally:
        archive.stop()


def _run(tmp_path: Path, archive: PywbArchive, strategy: str) -> tuple[list[dict], int]:
    config = write_config(tmp_path / strategy.replace(":", "_"), archive.url)
    code, out = run_cli("--config", str(config), "backfill", "--strategy", strategy)
    assert code == 0, out
    playbacks = int(out.split(" playback requests")[0].rsplit(" ", 1)[1])
    return history_json(config), playbacks


def test_bisect_finds_every_change_with_few_playbacks(
    tmp_path: Path, dense_archive: PywbArchive
) -> None:
    everything, all_requests = _run(tmp_path, dense_archive, "all")
    assert all_requests == WEEKS and len(everything) == 4  # the revert reuses version 2
    bisected, bisect_requests = _run(tmp_path, dense_archive, "bisect:30d")
    assert bisected == everything  # same versions, same first/last seen, same counts
    assert bisect_requests <= 0.5 * all_requests
    db = store.connect(tmp_path / "bisect_30d" / "test.db")
    states = dict(db.execute("SELECT state, count(*) FROM captures GROUP BY state").fetchall())
    assert states == {"fetched": bisect_requests, "inferred": WEEKS - bisect_requests}
    kinds = [c["summary"] for c in reversed(store.changes(db))]
    assert len(kinds) == 5  # first, 1→2, 2→3, 3→2 (the revert), 2→4


def test_interval_samples_one_capture_per_period(
    tmp_path: Path, dense_archive: PywbArchive
) -> None:
    versions, requests = _run(tmp_path, dense_archive, "interval:6m")
    assert requests == 6  # three years, one capture per half-year
    assert len(versions) <= 4
    code, out = run_cli("--config", str(tmp_path / "x.toml"), "backfill", "--strategy", "some")
    assert code == 2 and "use all, bisect" in out


def test_bisect_plan_in_isolation() -> None:
    stamps = [(date(2015, 1, 1) + timedelta(days=d)).strftime("%Y%m%d000000") for d in range(1000)]
    truth = [
        str(0 if d < 200 else 1 if d < 500 else 2 if d < 520 else 1 if d < 800 else 3)
        for d in range(1000)
    ]
    plan = Bisect(stamps, 15)
    while batch := plan.next_batch():
        for i in batch:
            plan.record(i, truth[i])
    known = {**plan.keys, **plan.inferred()}
    assert known == dict(enumerate(truth))  # the 20-day revert is found: it is > 15 days
    assert len(plan.keys) < 150
    assert interval_sample(stamps, 365.25)[:3] == [0, 366, 731]  # 365.25-day periods
    assert parse_strategy("bisect") == ("bisect", 60.0)
