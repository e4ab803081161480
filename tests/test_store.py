"""The database layer on real SQLite files."""

from __future__ import annotations

import hashlib
import multiprocessing
import random
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from db import queries, store

_NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _open(path: str) -> None:
    db = store.connect(path)
    db.execute("SELECT count(*) FROM policies").fetchone()
    db.close()


def _exit_codes(
    target: Callable[..., None], args: list[tuple[object, ...]], wait: float
) -> list[int | None]:
    """Run `target` in one spawned process per argument tuple, all at once; their exit codes."""
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=target, args=a) for a in args]
    for process in processes:
        process.start()
    for process in processes:
        process.join(wait)
    return [p.exitcode for p in processes]


def test_many_processes_can_open_a_new_file_at_once(tmp_path: Path) -> None:
    """`run`, `serve` and a CLI command may all create or migrate the file at the same moment."""
    for trial in range(4):
        path = str(tmp_path / f"race{trial}.db")
        assert _exit_codes(_open, [(path,)] * 6, 60) == [0] * 6
        conn = sqlite3.connect(path)
        names = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations")]
        conn.close()
        assert len(names) == len(set(names)) and "m001_initial" in names


def test_blobs_are_content_addressed_and_compressed(tmp_path: Path) -> None:
    db = store.connect(tmp_path / "b.db")
    body = b"<html>" + b"policy text " * 1000 + b"</html>"
    first = store.put_blob(db, body)
    assert store.put_blob(db, body) == first
    assert store.table_counts(db)["blobs"] == 1
    assert store.get_blob(db, first) == body
    size = db.execute("SELECT length(data) FROM blobs").fetchone()[0]
    assert size < len(body) / 10


def _write_many(path: str, worker: int) -> None:
    db = store.connect(path)
    for n in range(40):
        with store.writing(db):
            # Read first, then write: under a deferred BEGIN another process's commit in between
            # makes SQLite refuse the write at once with "database is locked".
            count = db.execute("SELECT count(*) FROM policies").fetchone()[0]
            db.execute(
                "INSERT INTO policies (name, url, kind, created_at) VALUES (?, ?, ?, ?)",
                [
                    f"w{worker}-{n}-{count}",
                    "https://example.com/",
                    "privacy",
                    "2026-01-01T00:00:00Z",
                ],
            )
    db.close()


def test_concurrent_writers_wait_for_each_other(tmp_path: Path) -> None:
    """`run` and a `backfill` may write the same file at once: neither fails, nothing is lost."""
    path = str(tmp_path / "writers.db")
    store.connect(path).close()
    assert _exit_codes(_write_many, [(path, w) for w in range(4)], 120) == [0] * 4
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM policies").fetchone()[0] == 160
    conn.close()


def _page(year: int, token: str) -> bytes:
    clauses = "".join(
        f"<p>Clause {n}: we keep your data for {n + year % 7} months and never sell it.</p>"
        for n in range(300)
    )
    return f"<html><script>var t='{token}'</script><body><h1>Privacy {year}</h1>{clauses}</body></html>".encode()


def test_similar_bodies_of_a_policy_are_stored_as_deltas(tmp_path: Path) -> None:
    db = store.connect(tmp_path / "d.db")
    pid = store.upsert_policy(db, "p", "https://example.com/privacy", "privacy", _NOW)
    bodies = [_page(2020, f"{n:032x}") for n in range(20)] + [_page(2021, "x" * 32)]
    for n, body in enumerate(bodies):
        sha = store.put_blob(db, body, base=store.keyframe(db, pid))
        store.insert_snapshot(
            db,
            pid,
            source="archive",
            timestamp=f"2020010{n % 9}000000",
            url="u",
            requested_url="u",
            playback_url="p",
            status=200,
            content_type="text/html",
            digest=f"D{n}",
            blob_sha256=sha,
            redirects=[],
            extractor_version=1,
            now=_NOW,
        )
    kinds = [r[0] for r in db.execute("SELECT compression FROM blobs ORDER BY rowid")]
    assert kinds[0] == "zstd" and kinds[1:] == ["zstd-delta"] * 20
    raw, stored = db.execute("SELECT sum(size), sum(length(data)) FROM blobs").fetchone()
    assert stored < 0.02 * raw
    store._dictionaries.clear()  # read back cold, as another process would
    for body in bodies:
        assert store.get_blob(db, hashlib.sha256(body).hexdigest()) == body


def test_a_redesigned_page_starts_a_new_keyframe(tmp_path: Path) -> None:
    db = store.connect(tmp_path / "k.db")
    first = store.put_blob(db, _page(2020, "a" * 32))
    other = random.Random(1).randbytes(20000)  # nothing in common with the first body
    sha = store.put_blob(db, other, base=first)
    row = db.execute(
        "SELECT compression, base_sha256 FROM blobs WHERE sha256 = ?", [sha]
    ).fetchone()
    assert row == ("zstd", None)
    assert store.get_blob(db, sha) == other


def test_a_capture_of_a_known_text_does_not_reindex_it(tmp_path: Path) -> None:
    """Counting one more capture updates the version row; the full-text index is left alone,
    and still finds the text; changing the text itself re-indexes it."""
    db = store.connect(tmp_path / "fts.db")
    pid = store.upsert_policy(db, "p", "https://example.com/privacy", "privacy", _NOW)
    text = "We collect biometric identifiers. " * 200
    with store.writing(db):
        vid = store.record_version(
            db,
            pid,
            text=text,
            title="T",
            timestamp="20200101000000",
            snapshot_id=None,
            extractor_version=1,
            now=_NOW,
        )
    segments = db.execute("SELECT count(*), sum(length(block)) FROM versions_fts_data").fetchone()
    for day in range(2, 30):
        with store.writing(db):
            store.record_version(
                db,
                pid,
                text=text,
                title="T",
                timestamp=f"202001{day:02d}000000",
                snapshot_id=None,
                extractor_version=1,
                now=_NOW,
            )
    assert (
        db.execute("SELECT count(*), sum(length(block)) FROM versions_fts_data").fetchone()
        == segments
    )
    assert [r["id"] for r in store.search(db, "biometric")] == [vid]
    with store.writing(db):
        db.execute("UPDATE versions SET text = ? WHERE id = ?", ["We collect location data.", vid])
    assert store.search(db, "biometric") == [] and len(store.search(db, "location")) == 1


def test_search_ranks_a_few_matches_and_lists_many_newest_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = store.connect(tmp_path / "s.db")
    ids = {}
    for name in ("a", "b"):
        pid = store.upsert_policy(db, name, f"https://{name}.example/", "privacy", _NOW)
        for n in range(4):
            with store.writing(db):
                ids[name, n] = store.record_version(
                    db,
                    pid,
                    text=f"We keep biometric data. Clause {name}{n}. " + "Filler. " * n,
                    title=name,
                    timestamp=f"20{10 + n}0101000000",
                    snapshot_id=None,
                    extractor_version=1,
                    now=_NOW,
                )
    ranked = store.search(db, "biometric")
    assert {h["order"] for h in ranked} == {"relevance"} and len(ranked) == 8
    assert ranked[0]["id"] in (ids["a", 0], ids["b", 0])  # the shortest text ranks first
    monkeypatch.setattr(queries, "RANK_AT_MOST", 5)
    newest = store.search(db, "biometric", limit=3)
    assert [h["id"] for h in newest] == [ids["b", 3], ids["b", 2], ids["b", 1]]
    assert {h["order"] for h in newest} == {"newest"}
    one = store.search(db, "biometric", pid=store.policy_id(db, "a"))
    assert sorted(h["id"] for h in one) == sorted(ids["a", n] for n in range(4))
    assert one[0]["order"] == "relevance"
