"""Survive the real archive: a fault-injecting proxy in front of pywb, on seeded schedules.

Each round backfills through the proxy, rerunning until nothing is left pending or failed, and
must end with the same database as a fault-free run: 0 lost captures, 0 duplicate versions.
The limiters' grants prove that no request went out above the configured rates, and none
during a 429 pause. Rounds repeat with new seeds until every fault class has been injected.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx

from crawler.archive import Transport
from crawler.archive.ratelimit import FakeClock, Limiters
from crawler.config import ArchiveConfig, Policy
from crawler.demo import POLICY_URL, PywbArchive
from crawler.errors import CrawlerError
from crawler.pipeline import backfill
from db import store
from tests.faultproxy import CDX_FAULTS, PLAYBACK_FAULTS, FaultProxy

NOW = datetime(2026, 11, 1, tzinfo=UTC)
POLICY = Policy("larkspur-privacy", POLICY_URL)
CDX_PER_MINUTE, PLAYBACK_PER_SECOND = 24.0, 8.0


def _state(path: Path) -> dict[str, object]:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return {
            "captures": conn.execute(
                "SELECT c.timestamp, c.original, c.state, v.text_sha256 FROM captures c "
                "LEFT JOIN versions v ON v.id = c.version_id ORDER BY c.timestamp, c.original"
            ).fetchall(),
            "versions": conn.execute(
                "SELECT text_sha256, first_timestamp, last_timestamp, captures FROM versions "
                "ORDER BY first_timestamp"
            ).fetchall(),
            "changes": conn.execute(
                "SELECT at_timestamp, kind, summary FROM changes ORDER BY at_timestamp"
            ).fetchall(),
        }
    finally:
        conn.close()


class RecordingLimiters(Limiters):
    def __init__(self, clock: FakeClock) -> None:
        super().__init__(CDX_PER_MINUTE, PLAYBACK_PER_SECOND, clock)
        self.pauses: list[tuple[float, float]] = []

    def pause(self, seconds: float) -> None:
        self.pauses.append((self.clock.now(), seconds))
        super().pause(seconds)


def _run_round(archive_url: str, db_path: Path, clock: FakeClock) -> tuple[int, RecordingLimiters]:
    limiters = RecordingLimiters(clock)
    config = ArchiveConfig(
        url=archive_url,
        timeout=1.0,
        workers=4,
        retries=4,
        cdx_per_minute=CDX_PER_MINUTE,
        playback_per_second=PLAYBACK_PER_SECOND,
    )
    runs = 0
    with httpx.Client(timeout=httpx.Timeout(1.0)) as client:
        while runs < 15:
            runs += 1
            db = store.connect(db_path)
            transport = Transport(client, limiters, retries=config.retries)
            # A blocked or failing CDX answer ends a run: the next run asks again.
            with contextlib.suppress(CrawlerError):
                backfill(db, transport, config, POLICY, NOW)
            open_left = db.execute(
                "SELECT count(*) FROM captures WHERE state IN ('pending', 'failed')"
            ).fetchone()[0]
            complete = db.execute("SELECT count(*) FROM policy_state").fetchone()[0]
            db.close()
            if not open_left and complete:
                break
    return runs, limiters


def _check_rates(limiters: RecordingLimiters) -> None:
    for limiter in (limiters.cdx, limiters.playback):
        grants = sorted(limiter.granted)
        assert all(
            b - a >= limiter.interval - 1e-6 for a, b in zip(grants, grants[1:], strict=False)
        )
        for start, seconds in limiters.pauses:
            assert not [g for g in grants if start < g < start + seconds - 1e-6]


def test_every_fault_class_is_survived(tmp_path: Path, pywb_archive: PywbArchive) -> None:
    reference = tmp_path / "reference.db"
    _run_round(pywb_archive.url, reference, FakeClock())
    expected = _state(reference)
    assert len(expected["versions"]) == 5  # type: ignore[arg-type]
    upstream = pywb_archive.url.rsplit("/", 1)[0]
    seen: Counter[str] = Counter()
    decks: dict[str, list[str]] = {}
    for seed in range(1, 16):
        with FaultProxy(upstream, seed=seed, rate=0.45, stall_seconds=1.6, decks=decks) as proxy:
            db_path = tmp_path / f"faults{seed}.db"
            runs, limiters = _run_round(
                f"{proxy.url}/{pywb_archive.collection}", db_path, FakeClock()
            )
            seen.update(proxy.injected)
        assert _state(db_path) == expected, f"seed {seed}: {dict(proxy.injected)}"
        _check_rates(limiters)
        if all(seen[f] for f in PLAYBACK_FAULTS + CDX_FAULTS):
            break
    missing = [f for f in PLAYBACK_FAULTS + CDX_FAULTS if not seen[f]]
    assert not missing, f"never injected: {missing}"
