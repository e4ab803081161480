"""PDF bytes → Document: policies published as PDF files become text too.

Pure. Needs the `pdf` extra (pypdf); without it, PDFs raise ExtractionError saying how to add it.
Each page's text is split into paragraphs at blank lines and at lines that end a sentence; short
lines in capitals or numbered ("1. Scope") read as headings.
"""

from __future__ import annotations

import io
import logging
import re

from crawler.errors import ExtractionError
from crawler.text.model import Block, Document

MAX_PAGES = 500
# pypdf logs what it repairs in a malformed file ("EOF marker not found") as warnings: noise in
# a policytrail run, whose own errors say when a PDF could not be read.
logging.getLogger("pypdf").setLevel(logging.ERROR)
HEADING_LINE = re.compile(r"^(?:\d+(?:\.\d+)*\.?|[IVXL]+\.|Article \d+|Section \d+)\s+\S.{0,80}$")


def is_pdf(body: bytes, content_type: str = "") -> bool:
    return body[:1024].lstrip().startswith(b"%PDF") or "pdf" in content_type.lower()


def _is_heading(line: str) -> bool:
    words = line.split()
    if not words or len(words) > 10 or line.endswith((".", ",", ";", ":")):
        return bool(HEADING_LINE.match(line)) and len(words) <= 10 and not line.endswith(",")
    letters = [c for c in line if c.isalpha()]
    return bool(letters) and (all(c.isupper() for c in letters) or bool(HEADING_LINE.match(line)))


def extract_pdf(body: bytes) -> Document:
    """Extract the text of a PDF. Raises ExtractionError for a broken or image-only PDF."""
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError as exc:
        raise ExtractionError(
            "PDF support needs the pdf extra: pip install 'policytrail[pdf]'"
        ) from exc
    try:
        reader = PdfReader(io.BytesIO(body), strict=False)
        pages = [page.extract_text() or "" for page in reader.pages[:MAX_PAGES]]
        metadata = reader.metadata
        title = str(metadata.title).strip() if metadata and metadata.title else ""
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ExtractionError(f"unreadable PDF: {exc}") from exc
    except Exception as exc:  # pypdf's LimitReachedError, RecursionError on cycles
        raise ExtractionError(f"unreadable PDF ({type(exc).__name__}: {exc})") from exc
    blocks: list[Block] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(Block("para", " ".join(paragraph)))
            paragraph.clear()

    for text in pages:
        for raw in text.splitlines():
            line = " ".join(raw.split())
            if not line:
                flush()
            elif _is_heading(line):
                flush()
                blocks.append(Block("heading", line, 2))
            else:
                paragraph.append(line)
                if line.endswith((".", "!", "?", ":")) and len(line) < 60:
                    flush()
        flush()
    if not blocks:
        raise ExtractionError("the PDF has no text layer (scanned images?)")
    return Document(title=title, blocks=tuple(blocks))
