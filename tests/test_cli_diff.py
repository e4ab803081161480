"""`policytrail diff` on a real database, and `diff-files` on pages and texts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.demo import PywbArchive, policy_html
from tests.conftest import run_cli, write_config


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory: pytest.TempPathFactory, pywb_archive: PywbArchive) -> Path:
    config = write_config(tmp_path_factory.mktemp("diff"), pywb_archive.url)
    assert run_cli("--config", str(config), "backfill")[0] == 0
    return config


def test_default_is_the_last_two_versions(backfilled: Path) -> None:
    code, out = run_cli("--config", str(backfilled), "diff", "larkspur-privacy", "--format", "json")
    assert code == 0, out
    data = json.loads(out)
    assert (data["old"]["number"], data["new"]["number"]) == (4, 5)
    kinds = {(s["kind"], s["new_heading"]) for s in data["sections"]}
    assert ("added", "Biometric Data") in kinds and ("modified", "Data Retention") in kinds
    for section in data["sections"]:
        assert {
            "kind",
            "old_heading",
            "new_heading",
            "old_index",
            "new_index",
            "significance",
            "words_added",
            "words_removed",
        } <= set(section)


def test_versions_by_number_and_date(backfilled: Path) -> None:
    by_number = run_cli(
        "--config", str(backfilled), "diff", "larkspur-privacy", "2", "4", "--format", "json"
    )[1]
    by_date = run_cli(
        "--config",
        str(backfilled),
        "diff",
        "larkspur-privacy",
        "2019",
        "2021-12",
        "--format",
        "json",
    )[1]
    assert json.loads(by_number)["sections"] == json.loads(by_date)["sections"]
    code, out = run_cli("--config", str(backfilled), "diff", "larkspur-privacy", "2016")
    assert code == 2 and "no version was captured by 2016" in out
    code, out = run_cli("--config", str(backfilled), "diff", "larkspur-privacy", "9")
    assert code == 2 and "versions 1 to 5" in out


def test_text_markdown_and_html_views(backfilled: Path) -> None:
    code, out = run_cli("--config", str(backfilled), "diff", "larkspur-privacy", "1", "2")
    assert code == 0 and "Legal Bases for Processing" in out and "unchanged section" in out
    code, out = run_cli(
        "--config", str(backfilled), "diff", "larkspur-privacy", "1", "2", "--format", "markdown"
    )
    assert "~~privacy@larkspur-labs.example.~~" in out and "## + Your Rights" in out
    code, out = run_cli(
        "--config", str(backfilled), "diff", "larkspur-privacy", "1", "2", "--format", "html"
    )
    assert out.startswith("<!doctype html>") and "<ins>" in out and "<del>" in out


def test_unknown_policy_is_one_line(backfilled: Path) -> None:
    code, out = run_cli("--config", str(backfilled), "diff", "nope")
    assert code == 1 and "no policy named 'nope'" in out and out.count("\n") == 1


def test_diff_files_on_html_and_text(tmp_path: Path) -> None:
    old, new = tmp_path / "old.html", tmp_path / "new.html"
    old.write_bytes(policy_html(4, 1))
    new.write_bytes(policy_html(5, 2))
    code, out = run_cli("diff-files", str(old), str(new), "--format", "json")
    assert code == 0, out
    sections = json.loads(out)["sections"]
    assert [s["new_index"] for s in sections if s["new_index"] is not None] == sorted(
        s["new_index"] for s in sections if s["new_index"] is not None
    )
    assert {"kind": "added", "new_heading": "Biometric Data"}.items() <= next(
        s for s in sections if s["kind"] == "added"
    ).items()
    a, b = tmp_path / "a.md", tmp_path / "b.md"
    a.write_text("# T\n\n## X\n\nHello <script>alert(1)</script> world.\n")
    b.write_text("# T\n\n## X\n\nHello brave <script>alert(1)</script> world.\n")
    code, out = run_cli("diff-files", str(a), str(b), "--format", "html")
    assert "<script>" not in out and "&lt;script&gt;" in out and "<ins>brave</ins>" in out
