"""The database layer on real SQLite files."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

from db import store


def _open(path: str) -> None:
    db = store.connect(path)
    db.execute("SELECT count(*) FROM policies").fetchone()
    db.close()


def test_many_processes_can_open_a_new_file_at_once(tmp_path: Path) -> None:
    """`run`, `serve` and a CLI command may all create or migrate the file at the same moment."""
    context = multiprocessing.get_context("spawn")
    for trial in range(4):
        path = str(tmp_path / f"race{trial}.db")
        processes = [context.Process(target=_open, args=(path,)) for _ in range(6)]
        for process in processes:
            process.start()
        for process in processes:
            process.join(60)
        assert [p.exitcode for p in processes] == [0] * 6
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
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_write_many, args=(path, w)) for w in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
    assert [p.exitcode for p in processes] == [0] * 4
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM policies").fetchone()[0] == 160
    conn.close()
