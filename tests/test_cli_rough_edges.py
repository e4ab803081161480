"""Rough edges a new user meets: the wrong database file, a selector typo, dates the wrong way
round, an unreachable archive, export reruns, empty searches, a busy port, quiet demos."""

from __future__ import annotations

import csv
import json
import re
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawler.demo import PywbArchive, free_port, policy_html
from tests.conftest import run_cli, write_config
from tests.servers import ROOT, PolicySite

POLICY = '[[policy]]\nname = "p"\nurl = "https://p.example/privacy"\n'


def _config(tmp_path: Path, extra: str = "") -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\npath = "t.db"\n{extra}{POLICY}')
    return config


def _one_line(out: str) -> str:
    lines = [
        line
        for line in out.splitlines()
        if line.strip() and not line.startswith(("Usage:", "Try "))
    ]
    assert len(lines) == 1, out
    return lines[0]


@pytest.mark.parametrize("command", [["history", "p"], ["backfill"], ["check"], ["serve"]])
def test_a_file_that_is_not_sqlite_is_named_and_left_alone(
    tmp_path: Path, command: list[str]
) -> None:
    config = _config(tmp_path)
    (tmp_path / "t.db").write_bytes(b"these are my notes, not a database\n" * 10)
    code, out = run_cli("--config", str(config), *command)
    assert code == 1 and "t.db: not a SQLite database" in _one_line(out)
    assert (tmp_path / "t.db").read_bytes().startswith(b"these are my notes")


@pytest.mark.parametrize("command", [["history", "p"], ["backfill"], ["stats"]])
def test_another_programs_database_gets_no_tables_of_ours(
    tmp_path: Path, command: list[str]
) -> None:
    config = _config(tmp_path)
    conn = sqlite3.connect(tmp_path / "t.db")
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.commit()
    conn.close()
    code, out = run_cli("--config", str(config), *command)
    assert code == 1 and "a SQLite database of another program (tables notes)" in _one_line(out)
    conn = sqlite3.connect(tmp_path / "t.db")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"notes"}


def test_read_only_commands_never_create_a_database(tmp_path: Path) -> None:
    config = _config(tmp_path)
    for command in (["history", "p"], ["changes"], ["search", "x"], ["stats"], ["serve"]):
        code, out = run_cli("--config", str(config), *command)
        assert code == 1 and "no database yet" in _one_line(out), command
    assert not (tmp_path / "t.db").exists()
    (tmp_path / "t.db").touch()
    code, out = run_cli("--config", str(config), "stats")
    assert code == 1 and (tmp_path / "t.db").stat().st_size == 0


def test_an_invalid_selector_is_a_config_error_at_load_time(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\npath = "t.db"\n{POLICY}select = "div[class="\n')
    code, out = run_cli("--config", str(config), "backfill")
    line = _one_line(out)
    assert code == 1 and "policy[0].select = 'div[class=' is not a CSS selector" in line
    assert not (tmp_path / "t.db").exists()
    page = tmp_path / "page.html"
    page.write_bytes(policy_html(1, 1))
    code, out = run_cli("extract", str(page), "--remove", "p >>")
    assert code == 2 and "is not a CSS selector" in out


def test_dates_the_wrong_way_round_are_refused(tmp_path: Path) -> None:
    code, out = run_cli(
        "--config", str(_config(tmp_path)), "backfill", "--from", "2020", "--to", "2019"
    )
    assert code == 2 and "--from 2020 is after --to 2019" in out
    assert not (tmp_path / "t.db").exists()


def test_an_unreachable_archive_says_so_with_its_retries(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()  # nothing listens there
    config = _config(tmp_path, f'[archive]\nurl = "http://127.0.0.1:{port}/coll"\n')
    code, out = run_cli("--config", str(config), "backfill")
    assert code == 1
    assert "cannot reach the archive" in out and "check archive.url and the network" in out
    # Two quick retries, each shown (a warning, printed at the default log level).
    retries = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(retries) == 2 and "retry 2 of 2" in retries[1]


def test_run_logs_one_line_per_check(tmp_path: Path) -> None:
    with PolicySite(policy_html(1, 1)) as site:
        config = tmp_path / "config.toml"
        config.write_text(
            '[database]\npath = "t.db"\n[schedule]\ncheck = "1m"\njitter = "0"\n'
            f'[[policy]]\nname = "p"\nurl = "{site.url}/p"\n'
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "crawler.cli", "--config", str(config), "run", "--tick", "1"],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            while not site.requests and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(1)
        finally:
            process.terminate()
            _, err = process.communicate(timeout=30)
    checked = [line for line in err.splitlines() if "checked p:" in line]
    assert len(checked) == 1 and "new-version" in checked[0], err


def test_export_reruns_write_the_same_files(tmp_path: Path, pywb_archive: PywbArchive) -> None:
    config = write_config(tmp_path, pywb_archive.url)
    assert run_cli("--config", str(config), "backfill")[0] == 0
    out_dir = tmp_path / "md"
    for _ in range(2):
        code, _ = run_cli("--config", str(config), "export", str(out_dir))
        assert code == 0
    files = sorted(p.name for p in out_dir.rglob("*.md"))
    assert len(files) == 5 and all(re.fullmatch(r"\d{4}-\d{2}-\d{2}\.md", f) for f in files)
    code, out = run_cli(
        "--config", str(config), "export", str(tmp_path / "out.csv"), "--format", "csv"
    )
    assert code == 0 and (tmp_path / "out.csv").is_file()
    with (tmp_path / "out.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 5
    assert rows[1]["uid"].startswith("2018-05-25-") and "'Your Rights'" in rows[1]["summary"]
    assert rows[1]["first_capture"].startswith(pywb_archive.url + "/20180525")
    code, _ = run_cli("--config", str(config), "export", str(tmp_path / "v.jsonl"))
    lines = (tmp_path / "v.jsonl").read_text(encoding="utf-8").splitlines()
    assert code == 0 and json.loads(lines[0])["uid"] == rows[0]["uid"]
    code, out = run_cli("--config", str(config), "changes", "--limit", "1", "--json")
    assert code == 0 and len(json.loads(out)) == 1
    code, out = run_cli("--config", str(config), "search", "  ")
    assert code == 2 and "an empty query; write words" in out
    code, out = run_cli("--config", str(config), "search", "data AND")
    assert code == 2 and "not a search query" in out and "fts5" not in out


def test_serve_on_a_busy_port_says_so_in_one_line(
    tmp_path: Path, pywb_archive: PywbArchive
) -> None:
    config = write_config(tmp_path, pywb_archive.url)
    assert run_cli("--config", str(config), "backfill")[0] == 0
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        code, out = run_cli("--config", str(config), "serve", "--port", str(port))
    assert code == 1 and f"cannot listen on 127.0.0.1:{port}" in _one_line(out)


def test_the_demo_prints_no_library_warnings(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "demo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(ROOT), "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr and "pypdf" not in result.stderr + result.stdout
