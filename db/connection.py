"""Opening the database: migrations, WAL, the one-writer lock (`writing`), read-only
connections; the time formats every table uses (ISO-8601 UTC text; Wayback's 14-digit
timestamps in their own columns).
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from crawler.errors import ConfigError
from db import migrations

MIGRATION_SET = "policytrail"


def check_file(path: str | Path, create: bool = True) -> None:
    """Refuse a file that is not policytrail's database, before anything is written to it:
    ConfigError naming the file and the fix. A missing or empty file is a new database when
    `create`; read-only commands pass create=False and never create tables."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        if create:
            return
        raise ConfigError(f"{path}: no database yet; run `policytrail backfill` first")
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as exc:
        raise ConfigError(f"{path}: cannot open the database ({exc})") from None
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        marked = (
            "_sqlite_migrations" in tables
            and conn.execute(
                "SELECT 1 FROM _sqlite_migrations WHERE migration_set = ? LIMIT 1", [MIGRATION_SET]
            ).fetchone()
        )
    except sqlite3.DatabaseError:
        raise ConfigError(
            f"{path}: not a SQLite database; set database.path to a policytrail database or to "
            "a new file name"
        ) from None
    finally:
        conn.close()
    if tables and not marked:
        shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise ConfigError(
            f"{path}: a SQLite database of another program (tables {shown}); policytrail "
            "never writes into it: set database.path to a new file name"
        )
    if not tables and not create:
        raise ConfigError(f"{path}: an empty database; run `policytrail backfill` first")


def connect(path: str | Path, create: bool = True) -> Database:
    """Open (and migrate) the database file, in WAL mode so readers never block the writer.
    Refuses (ConfigError) a file that is not policytrail's (see `check_file`).

    Safe when several processes open the same new file at once (`run` and `serve`, say): the
    busy timeout comes first, and pending migrations run under one write lock."""
    check_file(path, create)
    # Driver autocommit: every write is either one statement or inside `writing(db)`.
    conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=30000")
    db = Database(conn)
    _use_wal(conn)
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    if migrations.migrations.pending(db):
        conn.execute("BEGIN IMMEDIATE")  # waits for any other writer, then holds the lock
        try:
            migrations.apply(db)  # each migration nests as a savepoint in this transaction
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return db


@contextmanager
def writing(db: Database) -> Iterator[Database]:
    """One write transaction, taken with BEGIN IMMEDIATE: it waits (busy timeout) for any other
    writer up front, where a deferred BEGIN that reads first would fail at once with "database is
    locked" when another process committed in between. Nested uses become savepoints."""
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    try:
        db.conn.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise


def _use_wal(conn: sqlite3.Connection, patience: float = 30.0) -> None:
    """Switch the file to WAL. The switch needs an exclusive lock, and SQLite may answer
    "database is locked" at once, without its busy handler, while another process creates
    or switches the same file (or recovers its WAL index): retry until `patience` runs out."""
    deadline = time.monotonic() + patience
    delay = 0.01
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ts_iso(timestamp: str) -> str:
    """A 14-digit Wayback timestamp as ISO-8601 (month or day 00 read as 01)."""
    t = timestamp.ljust(14, "0")
    month = t[4:6] if t[4:6] != "00" else "01"
    day = t[6:8] if t[6:8] != "00" else "01"
    return f"{t[0:4]}-{month}-{day}T{t[8:10]}:{t[10:12]}:{t[12:14]}Z"


def table_counts(db: Database) -> dict[str, int]:
    return {
        name: int(db.execute(f"SELECT count(*) FROM [{name}]").fetchone()[0])  # noqa: S608
        for name in ("policies", "captures", "blobs", "snapshots", "versions", "runs")
    }


def rows(db: Database, sql: str, params: list[Any] | None = None) -> Iterator[dict[str, Any]]:
    cursor = db.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    for row in cursor.fetchall():
        yield dict(zip(names, row, strict=True))


def connect_readonly(path: str | Path) -> Database:
    """A read-only connection for the web pages: it can never write, and never blocks `run`."""
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=30000")
    return Database(conn)


DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


def date_bound(value: str, end: bool = False) -> str:
    """YYYY, YYYY-MM or YYYY-MM-DD as a 14-digit timestamp: its first second, or with `end`
    its last (a month or a year means its last day). Raises ValueError saying how to write it."""
    match = DATE.match(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a date; write YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = match.groups()
    try:
        datetime(int(year), int(month or 1), int(day or 1))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid date ({exc})") from None
    stamp = year + (month or "") + (day or "")
    if not end:
        return stamp.ljust(14, "0")
    # Month and day padding past the calendar stays a valid bound for CDX and comparisons.
    return stamp + {4: "1231235959", 6: "31235959"}.get(len(stamp), "235959")
