"""The source tree keeps its house rules (tests/layout_rules.py): layers in the order data
flows, no forbidden import, no import circle, no module over 500 lines, no function over 100."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.layout_rules import check

ROOT = Path(__file__).resolve().parents[1]


def test_the_tree_keeps_the_house_rules() -> None:
    assert [str(v) for v in check(ROOT)] == []


def _copy_tree(tmp_path: Path) -> Path:
    for package in ("crawler", "db"):
        shutil.copytree(
            ROOT / package,
            tmp_path / package,
            ignore=shutil.ignore_patterns("*.so", "__pycache__", "templates"),
        )
    return tmp_path


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_each_rule_fails_when_it_is_broken(tmp_path: Path) -> None:
    root = _copy_tree(tmp_path)
    _append(root / "crawler/text/model.py", "\nfrom db import store\n")
    _append(root / "crawler/text/sections.py", "\n\ndef fetch():\n    import httpx\n")
    _append(root / "crawler/pipeline/check.py", "\nimport click\n")
    _append(root / "db/versions.py", "\nfrom crawler.pipeline import backfill\n")
    _append(root / "crawler/config/model.py", "\nfrom crawler.text.diff import DEFAULT_IGNORE\n")
    _append(root / "crawler/archive/cdx.py", "\nfrom crawler.watch import deliver\n")
    _append(root / "crawler/text/diff.py", "\nfrom crawler.text.report import diff_to_json\n")
    body = "".join(f"    x{i} = {i}\n" for i in range(101))
    _append(root / "crawler/live/fetch.py", f"\n\ndef long_one():\n{body}")
    found = [str(v) for v in check(root)]

    def reported(fragment: str, rule: str) -> bool:
        return any(fragment in line and rule in line for line in found)

    assert reported("crawler/text/model.py", "text is pure: it never touches the database")
    assert reported("crawler/text/sections.py", "text is pure: it never fetches")
    assert reported("crawler/pipeline/check.py", "only crawler.cli prints")
    assert reported("db/versions.py", "db never calls back into the pipeline")
    assert reported("crawler/config/model.py", "config imports nothing of ours but errors")
    assert reported("crawler/archive/cdx.py", "imports a higher layer, crawler.watch")
    assert reported("crawler.text.diff -> crawler.text.report", "an import circle")
    assert reported("crawler/live/fetch.py", "long_one: 102 lines (at most 100)")
    assert len(found) >= 8


def test_a_hot_loop_may_be_long_when_its_docstring_says_why(tmp_path: Path) -> None:
    root = _copy_tree(tmp_path)
    body = "".join(f"    x{i} = {i}\n" for i in range(101))
    doc = '    """The hot loop: split, it costs 30% per page (bench_extract)."""\n'
    _append(root / "crawler/live/fetch.py", f"\n\ndef hot():\n{doc}{body}")
    assert [str(v) for v in check(root)] == []
