"""PDF policies become text."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.errors import ExtractionError
from crawler.text.pdf import extract_pdf, is_pdf
from crawler.text.render import render_text
from tests.conftest import run_cli
from tests.pdfmaker import make_pdf

LINES = [
    "PRIVACY POLICY",
    "",
    "Larkspur Labs collects your name and e-mail address",
    "when you create an account.",
    "",
    "1. Data Retention",
    "We keep account data for one year after the account closes.",
    "",
    "Contact: privacy@larkspur-labs.example",
]


def test_pdf_text_with_headings_and_paragraphs() -> None:
    pdf = make_pdf(LINES, title="Larkspur Privacy Policy")
    assert is_pdf(pdf)
    text = render_text(extract_pdf(pdf))
    assert text.startswith("# Larkspur Privacy Policy\n\n## PRIVACY POLICY\n\n")
    assert "Larkspur Labs collects your name and e-mail address when you create an account." in text
    assert "## 1. Data Retention" in text
    assert "privacy@larkspur-labs.example" in text


@pytest.mark.parametrize("body", [b"%PDF-1.4\n%broken\n", b"%PDF-1.7\n" + b"\x00" * 100])
def test_broken_pdf_is_a_typed_error(body: bytes) -> None:
    with pytest.raises(ExtractionError):
        extract_pdf(body)


def test_extract_command_reads_pdf(tmp_path: Path) -> None:
    path = tmp_path / "policy.pdf"
    path.write_bytes(make_pdf(LINES))
    code, out = run_cli("extract", str(path))
    assert code == 0, out
    assert "## 1. Data Retention" in out
