"""Pure text work, no I/O and no clock: a page's bytes to a Document, a Document to the corpus
format, texts to sections and section diffs.

- `extraction`: HTML or PDF bytes -> Document, in steps: `decode` (bytes -> str), `boilerplate`
  (what is never content, and the main container), `walk` and `inline` (blocks as html2text
  lays them out), `urls` (links back to their original URLs), `documents` (one document of a
  page holding several), `model` (Block, Document); PDFs in `pdf`;
- `render`: Document -> text in the reference corpus's format, with its provenance line;
- `sections`: text -> sections; `diff`: two texts -> a section diff; `report`: a diff as JSON,
  markdown or HTML.

The extraction modules (`COMPILED`) are compiled with mypyc when setup.py can (about a sixth
faster per page); `crawler.text._compiled` makes sure a compiled copy older than its source is
never run.
"""

from __future__ import annotations

from crawler.text._compiled import prefer_edited_sources

prefer_edited_sources()

from crawler.text.decode import decode_html, looks_like_html  # noqa: E402
from crawler.text.documents import choose_document, document_hints  # noqa: E402
from crawler.text.extraction import EXTRACTOR_VERSION, extract, extract_any, page_title  # noqa: E402
from crawler.text.model import Block, Document  # noqa: E402
from crawler.text.render import (  # noqa: E402
    archive_provenance,
    live_provenance,
    render_blocks,
    render_text,
    render_with_provenance,
)
from crawler.text.urls import host_of, original_url  # noqa: E402

__all__ = [
    "EXTRACTOR_VERSION",
    "Block",
    "Document",
    "archive_provenance",
    "choose_document",
    "decode_html",
    "document_hints",
    "extract",
    "extract_any",
    "host_of",
    "live_provenance",
    "looks_like_html",
    "original_url",
    "page_title",
    "render_blocks",
    "render_text",
    "render_with_provenance",
]
