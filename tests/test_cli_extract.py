"""`policytrail extract` through click's CliRunner."""

from __future__ import annotations

from pathlib import Path

from crawler.demo import policy_html
from tests.conftest import run_cli


def test_one_file_prints_text_with_provenance(tmp_path: Path) -> None:
    page = tmp_path / "larkspur.html"
    page.write_bytes(policy_html(2, 1))
    code, out = run_cli(
        "extract",
        str(page),
        "--url",
        "https://www.larkspur-labs.example/legal/privacy",
        "--timestamp",
        "20180525120000",
    )
    assert code == 0, out
    first, _, rest = out.partition("\n\n")
    assert first.startswith(
        "> *The following text is extracted and transformed from the "
        "larkspur-labs.example privacy policy that was archived on 2018-05-25"
    )
    assert "20180525120000id_/https%3A//www.larkspur-labs.example/legal/privacy" in first
    assert rest.startswith("# Privacy Policy | Larkspur Labs\n\n# Privacy Policy\n\n")


def test_out_dir_writes_every_file(tmp_path: Path) -> None:
    pages = []
    for version in (1, 3, 5):
        page = tmp_path / f"v{version}.html"
        page.write_bytes(policy_html(version, version))
        pages.append(str(page))
    out_dir = tmp_path / "out"
    code, out = run_cli("extract", *pages, "--out-dir", str(out_dir))
    assert code == 0 and out == ""
    written = sorted(p.name for p in out_dir.iterdir())
    assert written == ["v1.md", "v3.md", "v5.md"]
    assert "## Biometric Data" in (out_dir / "v5.md").read_text()
    assert "## Biometric Data" not in (out_dir / "v1.md").read_text()


def test_selectors_and_bad_input(tmp_path: Path) -> None:
    page = tmp_path / "p.html"
    page.write_bytes(policy_html(1, 1))
    code, out = run_cli("extract", str(page), "--select", "h2")
    assert code == 0 and out.startswith("# Privacy Policy | Larkspur Labs\n\n## Information")
    code, out = run_cli("extract", str(page), "--select", "#nothing")
    assert code == 1 and "p.html" in out and "matches nothing" in out
    code, out = run_cli("extract", str(page), "--timestamp", "yesterday")
    assert code == 2 and "14-digit" in out
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    code, out = run_cli("extract", str(empty))
    assert code == 1 and "empty.html: empty body" in out
