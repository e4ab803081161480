"""Crawl strategies against a real pywb archive with dense captures: bisect finds the same
text versions as `all` with far fewer playbacks; interval samples one capture per period."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from crawler.archive.sampling import Bisect, interval_sample, parse_strategy
from crawler.demo import POLICY_URL, FixtureCapture, PywbArchive, write_warc
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
    # Same versions, same first/last seen, same counts. (Not the same ids: an id carries the
    # day its text was first recorded, which depends on the order captures were played back;
    # its hash part names the same text in both databases.)
    assert [{**v, "uid": v["uid"][11:]} for v in bisected] == [
        {**v, "uid": v["uid"][11:]} for v in everything
    ]
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
    assert parse_strategy("bisect") == ("bisect", 90.0)


def _plan(stamps: list[str], truth: list[str], lengths: list[int | None] | None, gap: float):
    plan = Bisect(stamps, gap, lengths=lengths)
    while batch := plan.next_batch():
        for i in batch:
            plan.record(i, truth[i])
    return plan, {**plan.keys, **plan.inferred()}


def test_bisect_reads_cdx_lengths_to_find_short_reverts() -> None:
    """A text that lasts one capture between two equal ends hides from plain bisection inside
    the density bound; its record's length gives it away. Noise moves lengths a little."""
    rng = random.Random(4)
    stamps = [(date(2015, 1, 1) + timedelta(days=d)).strftime("%Y%m%d000000") for d in range(400)]
    truth = ["A"] * 400
    for day, text in [(90, "B"), (91, "B"), (200, "C"), (310, "B")]:
        truth[day] = text  # A → B → A → C → A → B → A: reverts of one or two days
    size = {"A": 5000, "B": 5230, "C": 4800}
    lengths: list[int | None] = [size[t] + rng.randint(-6, 6) for t in truth]
    without, known_without = _plan(stamps, truth, None, 60)
    assert known_without != dict(enumerate(truth))  # blind to them
    plan, known = _plan(stamps, truth, lengths, 60)
    assert known == dict(enumerate(truth))
    assert len(plan.keys) <= len(without.keys) + 12


def test_bisect_locates_a_change_by_lengths_and_falls_back_when_they_are_equal() -> None:
    stamps = [(date(2015, 1, 1) + timedelta(days=d)).strftime("%Y%m%d000000") for d in range(300)]
    truth = ["A" if d < 137 else "B" for d in range(300)]
    lengths: list[int | None] = [7000 if t == "A" else 7400 for t in truth]
    plan, known = _plan(stamps, truth, lengths, 400)
    assert known == dict(enumerate(truth))
    assert sorted(plan.keys) == [0, 136, 137, 299]  # the ends, and both sides of the jump
    same = [7000] * 300  # a same-length edit: the lengths say nothing, bisection finds it
    plan, known = _plan(stamps, truth, list(same), 400)
    assert known == dict(enumerate(truth))
    assert 8 <= len(plan.keys) <= 12


def test_bisect_with_lengths_is_exact_whenever_texts_have_distinct_lengths() -> None:
    """Random histories with reverts, noise of a few bytes and a rotating banner that moves
    some captures' length by a whole step: every capture's text comes out right."""
    for seed in range(40):
        rng = random.Random(seed)
        n = rng.randint(20, 300)
        stamps = [
            (date(2018, 1, 1) + timedelta(days=2 * d)).strftime("%Y%m%d000000") for d in range(n)
        ]
        texts = [rng.choice("ABCD") for _ in range(rng.randint(1, 8))]
        cuts = sorted(rng.sample(range(1, n), len(texts) - 1)) if n > len(texts) else []
        truth = []
        for i in range(n):
            truth.append(texts[sum(1 for c in cuts if c <= i)])
        base = {"A": 3000, "B": 3600, "C": 4200, "D": 4800}
        lengths: list[int | None] = [
            base[t] + rng.randint(-8, 8) + (120 if rng.random() < 0.2 else 0) for t in truth
        ]
        if seed % 5 == 0:
            lengths[rng.randrange(n)] = None  # '-' in the CDX
        plan, known = _plan(stamps, truth, lengths, 90)
        assert known == dict(enumerate(truth)), seed


def test_bisect_finds_a_one_capture_revert_from_the_cdx_lengths(tmp_path: Path) -> None:
    """Forty weekly captures of one text, but one capture shows another text for a week: inside
    the 90-day density bound, only its CDX record length gives it away."""
    timeline = [
        FixtureCapture(
            (date(2021, 1, 4) + timedelta(weeks=w)).strftime("%Y%m%d120000"),
            POLICY_URL,
            "page",
            3 if w == 17 else 2,
            300 + w,
        )
        for w in range(40)
    ]
    archive = PywbArchive(tmp_path / "archive", collection="blip")
    archive.add_warcs(write_warc(tmp_path / "blip.warc.gz", timeline))
    archive.start()
    try:
        versions, requests = _run(tmp_path, archive, "bisect:90d")
    finally:
        archive.stop()
    assert [v["snapshots"] for v in versions] == [39, 1]  # the blip is found, and only it
    assert requests <= 16
    db = store.connect(tmp_path / "bisect_90d" / "test.db")
    assert len(store.changes(db)) == 3  # first, 2 → 3, and back 3 → 2
