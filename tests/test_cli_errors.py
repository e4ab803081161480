"""Bad arguments: a one-line error naming what and where, and the database left untouched."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from crawler.demo import policy_html
from db import store
from tests.conftest import run_cli
from tests.servers import PolicySite


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    config = tmp_path / "config.toml"
    config.write_text(
        '[database]\npath = "t.db"\n[[policy]]\nname = "p"\nurl = "https://p.example/privacy"\n'
    )
    db = store.connect(tmp_path / "t.db")
    db.close()
    return config, tmp_path / "t.db"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["history", "nope"], 1, "no policy named 'nope'"),
        (["show", "p", "--at", "2019-02-30"], 2, "not a valid date"),
        (["show", "p", "--at", "2019", "--version", "2"], 2, "not both"),
        (["changes", "--since", "yesterday"], 2, "YYYY, YYYY-MM or YYYY-MM-DD"),
        (["changes", "--policy", "nope"], 1, "no policy named 'nope'"),
        (["search", "x", "--policy", "nope"], 1, "no policy named 'nope'"),
        (["diff", "p", "1"], 1, "run `policytrail backfill p` first"),
        (["export", "out", "--format", "pdf"], 2, "'pdf' is not one of"),
        (["backfill", "nope"], 1, "no policy named 'nope'"),
        (["backfill", "--to", "2020-13"], 2, "not a valid date"),
        (["check", "nope"], 1, "no policy named 'nope'"),
        (["add", "ftp://x.example/p"], 1, "is not an http(s) URL"),
        (["serve", "--port", "0"], 2, "0 is not in the range"),
    ],
)
def test_bad_arguments_are_one_line_and_touch_nothing(
    setup: tuple[Path, Path], args: list[str], code: int, needle: str
) -> None:
    config, db = setup
    before = _digest(db), config.read_text()
    result_code, out = run_cli("--config", str(config), *args)
    assert result_code == code, out
    assert needle in out
    lines = [
        line
        for line in out.splitlines()
        if line.strip() and not line.startswith(("Usage:", "Try "))
    ]
    assert len(lines) == 1, out
    assert (_digest(db), config.read_text()) == before


def test_serve_binds_to_this_machine_by_default() -> None:
    code, out = run_cli("serve", "--help")
    assert code == 0 and "[default: 127.0.0.1]" in out


def test_live_bodies_over_the_cap_are_refused(tmp_path: Path) -> None:
    with PolicySite(policy_html(1, 1) + b"<!--" + b"x" * 2_000_000 + b"-->") as site:
        config = tmp_path / "config.toml"
        config.write_text(
            f'[database]\npath = "t.db"\n[http]\nmax_body_mb = 1\n'
            f'[[policy]]\nname = "p"\nurl = "{site.url}/p"\n'
        )
        code, out = run_cli("--config", str(config), "check")
    assert code == 1 and "over the 1048576-byte limit (http.max_body_mb)" in out
