"""A real `policytrail backfill` process killed with SIGKILL at seeded random moments, restarted
each time, ends with the same database as an uninterrupted run."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from crawler.demo import PywbArchive
from tests.conftest import write_config

# Slow playback so that a run lasts a few seconds and kills land in the middle of it.
SLOW = "workers = 2\n"


def _config(folder: Path, archive: PywbArchive) -> Path:
    path = write_config(folder, archive.url, extra=SLOW)
    text = path.read_text().replace("playback_per_second = 1000", "playback_per_second = 3")
    path.write_text(text)
    return path


def _command(config: Path) -> list[str]:
    return [sys.executable, "-m", "crawler.cli", "--config", str(config), "backfill"]


def _state(db_path: Path) -> dict[str, object]:
    if not db_path.exists():
        return {}  # killed before it created the file
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return {
            "captures": conn.execute(
                "SELECT c.timestamp, c.original, c.digest, c.state, c.reason, v.text_sha256 "
                "FROM captures c LEFT JOIN versions v ON v.id = c.version_id "
                "ORDER BY c.timestamp, c.original"
            ).fetchall(),
            "versions": conn.execute(
                "SELECT text_sha256, first_timestamp, last_timestamp, captures, words "
                "FROM versions ORDER BY first_timestamp"
            ).fetchall(),
            "snapshots": conn.execute(
                "SELECT timestamp, url, status, blob_sha256 FROM snapshots ORDER BY timestamp, url"
            ).fetchall(),
            "blobs": conn.execute("SELECT sha256, size FROM blobs ORDER BY sha256").fetchall(),
            "changes": conn.execute(
                "SELECT f.text_sha256, t.text_sha256, c.at_timestamp, c.kind, c.summary "
                "FROM changes c LEFT JOIN versions f ON f.id = c.from_version_id "
                "JOIN versions t ON t.id = c.to_version_id ORDER BY c.at_timestamp"
            ).fetchall(),
        }
    finally:
        conn.close()


def _set_rate(config: Path, per_second: float) -> None:
    import re

    text = re.sub(
        r"playback_per_second = [0-9.]+", f"playback_per_second = {per_second}", config.read_text()
    )
    config.write_text(text)


def test_sigkill_at_20_random_moments_then_resume_equals_one_run(
    tmp_path: Path, pywb_archive: PywbArchive
) -> None:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1]))
    reference = _config(tmp_path / "reference", pywb_archive)
    _set_rate(reference, 1000)
    subprocess.run(_command(reference), check=True, env=env, capture_output=True, timeout=120)
    expected = _state(reference.parent / "test.db")
    assert len(expected["changes"]) == 5  # type: ignore[arg-type]

    config = _config(tmp_path / "killed", pywb_archive)
    _set_rate(config, 0.7)  # slow playback, so that kills land in the middle of the work
    rng = random.Random(20261122)
    moments = []
    for _ in range(20):
        process = subprocess.Popen(
            _command(config), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        moment = rng.uniform(0.2, 1.3)
        time.sleep(moment)
        assert process.poll() is None, "the run finished before its kill: slow it down"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        moments.append(moment)
        _state(config.parent / "test.db")  # asserts PRAGMA integrity_check after every kill
    partial = _state(config.parent / "test.db")
    assert partial != expected, "the kills left nothing to resume: they came too late"
    _set_rate(config, 1000)
    finished = subprocess.run(
        _command(config), env=env, capture_output=True, text=True, timeout=120
    )
    assert finished.returncode == 0, finished.stderr
    assert _state(config.parent / "test.db") == expected
    # And once more: nothing to do.
    again = subprocess.run(_command(config), env=env, capture_output=True, text=True, timeout=120)
    assert "0 playback requests" in again.stdout
    assert _state(config.parent / "test.db") == expected
