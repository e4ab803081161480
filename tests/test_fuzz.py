"""Fuzzing with hypothesis: any input gives a result or a typed error, never a crash."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.archive import parse_cdx_text
from crawler.errors import ExtractionError
from crawler.text import decode_html, extract
from crawler.text.diff import diff, diff_texts
from crawler.text.pdf import extract_pdf
from crawler.text.render import render_text
from crawler.text.sections import split_sections

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TAGS = [
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "ul",
    "ol",
    "li",
    "table",
    "tr",
    "td",
    "th",
    "b",
    "i",
    "a",
    "br",
    "span",
    "nav",
    "footer",
    "main",
    "article",
    "form",
    "script",
    "style",
    "pre",
    "blockquote",
    "img",
    "section",
    "header",
    "aside",
    "strong",
    "em",
    "hr",
]
ATTRS = [
    'class="cookie-banner"',
    'id="main"',
    'href="/web/2018/http://x.example/a"',
    'href="javascript:alert(1)"',
    'style="display:none"',
    "hidden",
    'role="navigation"',
    'class="content"',
    'href="#top"',
    "",
    'src="x"',
    'onerror="x()"',
]


@st.composite
def html(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        if depth < 4 and draw(st.booleans()):
            tag = draw(st.sampled_from(TAGS))
            attr = draw(st.sampled_from(ATTRS))
            inner = draw(html(depth + 1))
            closing = draw(st.sampled_from([f"</{tag}>", "", f"</{tag}>"]))
            parts.append(f"<{tag} {attr}>{inner}{closing}")
        else:
            parts.append(draw(st.text(max_size=40)))
    return "".join(parts)


@FUZZ
@given(
    st.binary(max_size=3000),
    st.sampled_from(
        [
            "",
            "text/html; charset=utf-8",
            "text/html; charset=shift_jis",
            "text/html; charset=nonsense",
        ]
    ),
)
def test_any_bytes_give_text_or_a_typed_error(body: bytes, content_type: str) -> None:
    assert isinstance(decode_html(body, content_type), str)
    try:
        document = extract(body, content_type=content_type, base_url="https://x.example/p")
    except ExtractionError:
        return
    assert isinstance(render_text(document), str)


@FUZZ
@given(html(), st.sampled_from([(), ("privacy policy",)]))
def test_any_markup_extracts(markup: str, hints: tuple[str, ...]) -> None:
    try:
        document = extract(
            f"<html><body>{markup}</body></html>", base_url="https://x.example/p", document=hints
        )
    except ExtractionError:
        return
    text = render_text(document)
    assert isinstance(text, str) and "\x00" not in text
    split_sections(text)


@FUZZ
@given(st.text(max_size=2000))
def test_any_cdx_text_parses(text: str) -> None:
    captures, _, malformed = parse_cdx_text(text)
    assert malformed >= 0
    for capture in captures:
        assert len(capture.timestamp) == 14 and capture.timestamp.isdigit()
        capture.when  # noqa: B018 - must not raise, even for month 00


@FUZZ
@given(
    st.lists(
        st.sampled_from(
            [
                "# Title",
                "## Cookies",
                "**Bold heading**",
                "PRIVACY POLICY",
                "1. Consent and Scope",
                "1\\. INTRODUCTION",
                "Section 3 – Data",
                "(iv) Content You Provide Us. We may.",
                "**Do Not Track.** We ignore it.",
                "We collect data.",
                "",
                "  * item",
                "  1. item",
                "Title\n=====",
                "----",
                "> quote",
                "| a | b |",
                "Last updated: May 1, 2020",
            ]
        ),
        max_size=40,
    ),
    st.text(max_size=200),
)
def test_any_text_splits_into_sections(lines: list[str], noise: str) -> None:
    text = "\n".join(lines) + "\n" + noise
    sections = split_sections(text)
    assert [s.index for s in sections] == list(range(len(sections)))
    assert all(s.level >= 1 for s in sections)


@FUZZ
@given(st.text(max_size=1500), st.text(max_size=1500))
def test_any_two_texts_diff(old: str, new: str) -> None:
    result = diff_texts(old, new)
    assert result.summary
    same = diff(split_sections(old), split_sections(old))
    assert all(c.kind == "unchanged" for c in same.changes) and not same.substantive


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=2000))
def test_any_pdf_bytes_give_text_or_a_typed_error(tail: bytes) -> None:
    try:
        document = extract_pdf(b"%PDF-1.4\n" + tail)
    except ExtractionError:
        return
    assert document.blocks  # a PDF with no text is an ExtractionError, not an empty document
