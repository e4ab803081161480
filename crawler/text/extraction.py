"""HTML or PDF bytes -> Document: the main content of a policy page as html2text-style markdown.

Pure: no I/O, no clock. With its sibling modules, the only code that imports selectolax (the
lexbor backend).

Steps: decode (`decode`: HTTP charset, BOM, <meta charset>, then detection) -> parse -> drop
what is never content and what is boilerplate, and pick the main container by where the
non-link text is (`boilerplate`) -> render blocks as html2text would, without line wrapping
(`walk`, `inline`) -> keep the wanted document of a page holding several (`documents`).
"""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.errors import ExtractionError
from crawler.text.boilerplate import (
    _chars,
    _drop_boilerplate,
    _drop_hidden,
    _link_chars,
    _main_container,
    _prepare,
)
from crawler.text.decode import _replaced, _utf8, _utf8_bytes, decode_html
from crawler.text.documents import _plain, choose_document
from crawler.text.inline import _escape
from crawler.text.model import WS, Block, Document
from crawler.text.pdf import extract_pdf, is_pdf
from crawler.text.walk import _Walker

# Bump when the output for the same bytes changes: versions re-extracted by a newer extractor are
# recorded as technical changes, never as policy changes. 2: a UTF-8 page with stray bytes only
# where no text is taken from (a script) keeps its UTF-8 text, instead of being decoded whole as
# windows-1252; the lenient fallback drops modal dialogs (consent walls) too. 3: a blockquote
# that indents the page (headings, lists or several paragraphs inside, or most of the text) is
# layout, not a quote; no-break spaces are kept as spaces, bold stays bold in headings, and a
# link's trailing space stays inside its brackets, as html2text (the reference format) writes
# them.
EXTRACTOR_VERSION = 3
MAX_MARKUP = 150_000  # tags ("<") a page may have


def page_title(raw: str) -> str:
    """The page's <title>, whitespace collapsed: the reference corpus keeps it whole (all 46 of
    its pages), even where Readability's heuristics would trim a site name."""
    return WS.sub(" ", raw).strip()


def extract(
    body: bytes | str,
    *,
    content_type: str = "",
    base_url: str = "",
    select: str | None = None,
    remove: str | None = None,
    document: tuple[str, ...] = (),
) -> Document:
    """Extract the main content of an HTML page. Raises ExtractionError for a page with no text.

    `document`: phrases naming the wanted document (see `document_hints`), used when a page
    holds several documents, such as terms, privacy and cookie policies on one page."""
    tags = body.count(b"<") if isinstance(body, bytes) else body.count("<")
    if tags > MAX_MARKUP:
        # lexbor's tree building grows faster than the page on deep nesting: a hostile page of
        # a few megabytes would take minutes. No policy page comes near (6,218 at most in the
        # corpora).
        raise ExtractionError(
            f"page too complex to extract ({tags:,} tags, at most {MAX_MARKUP:,})"
        )
    if isinstance(body, bytes):
        utf8 = _utf8_bytes(body, content_type)
        if utf8 is not None:
            found = _extract(utf8, base_url, select, remove, document)
            # Bytes that are not UTF-8 show as U+FFFD. If they reach the text, decode the page
            # as decode_html does (another label, or detection) and extract again; if they
            # are only in what is never text (a script, say), the UTF-8 reading stands.
            if not _replaced(found) or _utf8(utf8):
                return found
        body = decode_html(body, content_type)
    return _extract(body, base_url, select, remove, document)


def _extract(
    source: str | bytes,
    base_url: str,
    select: str | None,
    remove: str | None,
    document: tuple[str, ...],
) -> Document:
    if isinstance(source, str):
        if not source or source.isspace():
            raise ExtractionError("empty body: no HTML to extract")
        source = source.replace("\x00", "")
    elif b"\x00" in source:
        source = source.replace(b"\x00", b"")
    parser = LexborHTMLParser(source)
    title_node = parser.css_first("title")
    title = page_title(title_node.text(deep=True) if title_node else "")
    root = parser.body
    if root is None:
        raise ExtractionError("no <body> in the page")
    _prepare(root, remove)
    containers: list[LexborNode]
    walker = _Walker(base_url)
    if select:
        containers = root.css(select)
        if not containers:
            raise ExtractionError(f"the select selector {select!r} matches nothing on this page")
    else:
        page_text = root.text(deep=True) or ""
        page_chars = _chars(page_text)
        h1s = [h for h in root.css("h1") if 0 < _chars(h.text(deep=True)) <= 200]
        h1_texts = [WS.sub(" ", h.text(deep=True)).strip() for h in h1s]
        lone_h1 = h1_texts[0] if len(h1_texts) == 1 else None
        # Among several <h1>s, the one that names the wanted document is its title.
        named = [t for t in h1_texts if document and any(d in _plain(t) for d in document)]
        named_h1 = named[0] if len(h1_texts) > 1 and len(named) == 1 else None
        removed, removed_length = _drop_boilerplate(root)
        body_size = page_chars - removed, len(page_text) - removed_length
        main, weight = _main_container(root, body_size)
        # Readability's fallback: if the strict pass lost most of the page's non-link text,
        # parse again and drop only what is hidden. That text weighs at most the page's text:
        # parse again (and weigh the page's links) only when that could be so.
        if weight < 0.3 * page_chars:
            lenient_root = LexborHTMLParser(source).body
            assert lenient_root is not None
            _prepare(lenient_root, remove)  # the page as it was before the strict pass
            if weight < 0.3 * (page_chars - _link_chars(lenient_root)):
                _drop_hidden(lenient_root)
                lenient, lenient_weight = _main_container(lenient_root)
                if lenient_weight > weight:
                    main = lenient
        containers = [main]
        # The document's title often sits in a page header outside the text's container.
        if lone_h1 and main.css_first("h1") is None:
            walker.blocks.append(Block("heading", _escape(lone_h1), 1))
        elif named_h1 and named_h1 not in [
            WS.sub(" ", h.text(deep=True)).strip() for h in main.css("h1")
        ]:
            walker.blocks.append(Block("heading", _escape(named_h1), 1))
    for container in containers:
        walker.walk(container)
        walker.flush()
    blocks = walker.finish()
    if document and not select:
        blocks = choose_document(blocks, document)
    return Document(title=title, blocks=tuple(blocks))


def extract_any(
    body: bytes,
    *,
    content_type: str = "",
    base_url: str = "",
    select: str | None = None,
    remove: str | None = None,
    document: tuple[str, ...] = (),
) -> Document:
    """A PDF through crawler.text.pdf, anything else as HTML. Raises ExtractionError."""
    if is_pdf(body, content_type):
        return extract_pdf(body)
    return extract(
        body,
        content_type=content_type,
        base_url=base_url,
        select=select,
        remove=remove,
        document=document,
    )
