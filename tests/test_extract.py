"""Extraction and rendering on named HTML → text pairs, in html2text's format."""

from __future__ import annotations

import pytest

from crawler.errors import ExtractionError
from crawler.text import decode_html, extract, original_url, page_title
from crawler.text.boilerplate import _unlikely_word
from crawler.text.render import archive_provenance, live_provenance, render_text


def text_of(html: str | bytes, **kwargs: str) -> str:
    return render_text(extract(html, **kwargs))


def body(inner: str, title: str = "") -> str:
    return f"<html><head><title>{title}</title></head><body>{inner}</body></html>"


CASES = {
    "headings_and_paragraphs": (
        "<h2>Cookies</h2><p>We use  cookies.\n Really.</p><h3>Opt out</h3><p>Say no.</p>",
        "## Cookies\n\nWe use cookies. Really.\n\n### Opt out\n\nSay no.\n",
    ),
    "bold_italic_spacing": (
        "<p>We <b>never</b> sell<strong> data </strong>and <em>rarely</em> share.</p>",
        "We **never** sell **data** and _rarely_ share.\n",
    ),
    "nested_lists": (
        "<ul><li>name</li><li>contact<ul><li>e-mail</li><li>phone</li></ul></li></ul>"
        "<ol><li>first</li><li>second</li></ol>",
        "  * name\n  * contact\n    * e-mail\n    * phone\n\n  1. first\n  2. second\n",
    ),
    "wayback_links_map_back": (
        '<p>See <a href="/web/20180905001402/https://www.staah.com/cookies.htm">cookies</a> '
        'and <a href="https://web.archive.org/web/2018im_/http://x.example/a">x</a>.</p>',
        "See [cookies](https://www.staah.com/cookies.htm) and [x](http://x.example/a).\n",
    ),
    "relative_links_and_autolinks": (
        '<p><a href="/terms">Terms</a> <a href="http://a.example/">http://a.example/</a></p>',
        "[Terms](https://www.example.com/terms) <http://a.example/>\n",
    ),
    "empty_and_script_links_dropped": (
        '<p><a href="/x"><img src="a.png"></a>Hi <a href="javascript:alert(1)">there</a></p>',
        "Hi there\n",
    ),
    "number_escape": (
        "<p>1. Information. We collect it.</p><p><b>2. Choice</b></p>",
        "1\\. Information. We collect it.\n\n**2\\. Choice**\n",
    ),
    "br_is_a_line_break": (
        "<p>Larkspur Labs<br>1 Main St<br/>Springfield</p>",
        "Larkspur Labs  \n1 Main St  \nSpringfield\n",
    ),
    "entities_decoded": (
        "<p>AT&amp;T&nbsp;&amp; &ldquo;partners&rdquo; &copy;</p>",
        "AT&T & \u201cpartners\u201d \u00a9\n",
    ),
    "data_table": (
        "<table><tr><th>Cookie</th><th>Purpose</th></tr><tr><td>sid</td><td>session</td></tr>"
        "</table>",
        "Cookie | Purpose\n---|---\nsid | session\n",
    ),
    # The walker reads lexbor's serialisation: escapes, comments, raw text and late
    # discoveries (an inline element that turns out to wrap blocks).
    "inline_elements_wrapping_blocks_are_containers": (
        '<div><p>Before.</p><a href="/card"><div><p>A linked card.</p></div></a>'
        "<span>Intro <b>bold</b><p>Inside.</p> after</span></div>",
        "Before.\n\nA linked card.\n\nIntro **bold**\n\nInside.\n\nafter\n",
    ),
    "markup_characters_in_text_comments_and_hrefs": (
        '<p>a &lt;b&gt; 5 &gt; 3 <!-- a > b --><a href="/q?a=1&amp;b=2">query</a> end</p>',
        "a <b> 5 > 3 [query](https://www.example.com/q?a=1&b=2) end\n",
    ),
    "preformatted_text_keeps_its_lines": (
        "<pre>line 1\n  <b>indented</b> &amp; kept</pre><p>After.</p>",
        "    line 1\n      indented & kept\n\nAfter.\n",
    ),
    "data_table_with_inline_markup_and_caption": (
        "<table><caption>Cookies we set</caption><tr><td><b>sid</b></td>"
        '<td>session, <a href="/c">more</a></td></tr></table>',
        "**sid** | session, [more](https://www.example.com/c)\n",
    ),
    "heading_links_and_emphasis_are_plain": (
        '<h2><a href="/x">Your <em>rights</em></a></h2><p>Text.</p>',
        "## Your rights\n\nText.\n",
    ),
    "raw_text_elements_stay_text": (
        "<p>See:</p><xmp><b>not bold</b> & raw</xmp>",
        "See:\n\n<b>not bold</b> & raw\n",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_named_pairs(name: str) -> None:
    html, expected = CASES[name]
    assert text_of(body(html), base_url="https://www.example.com/legal/privacy") == expected


def test_boilerplate_is_dropped_and_policy_kept() -> None:
    html = body(
        "<div id='cookie-notice'><p>We use cookies. OK?</p></div>"
        "<header><a href='/'>Acme</a><nav><a href='/a'>A</a><a href='/b'>B</a></nav></header>"
        "<div class='sidebar'><p>Latest posts</p></div>"
        "<div class='content'><h1>Privacy</h1><p>" + "We respect your privacy. " * 20 + "</p>"
        "<p>Contact us at privacy@acme.example.</p></div>"
        "<footer><p>Copyright 2020 Acme</p></footer>",
        title="Privacy | Acme",
    )
    text = text_of(html)
    assert text.startswith("# Privacy | Acme\n\n# Privacy\n\nWe respect your privacy.")
    for leak in ("cookies. OK", "Latest posts", "Copyright", "](/a)"):
        assert leak not in text


def test_policy_in_one_big_form_and_layout_tables_is_kept() -> None:
    html = body(
        "<form action='/x'><table><tr><td><a href='/'>Home</a></td></tr><tr><td>"
        "<h2>Terms</h2><p>" + "These terms apply to you. " * 10 + "</p>"
        "<p>Second paragraph of the terms.</p></td></tr></table>"
        "<input type='hidden' name='__VIEWSTATE' value='abc'></form>"
    )
    text = text_of(html)
    assert "## Terms" in text and "Second paragraph of the terms." in text
    assert "__VIEWSTATE" not in text and "abc" not in text


def test_select_and_remove_selectors() -> None:
    html = body(
        "<div id='a'><p>Keep me.</p><p class='ad'>Drop me.</p></div><div><p>Other.</p></div>"
    )
    assert text_of(html, select="#a", remove=".ad") == "Keep me.\n"
    with pytest.raises(ExtractionError, match="matches nothing"):
        extract(html, select="#missing")


@pytest.mark.parametrize(
    ("raw", "content_type", "expected"),
    [
        ("café".encode("cp1252"), "text/html; charset=iso-8859-1", "café"),
        ("café".encode("cp1252"), "", "café"),
        (b'<meta charset="windows-1252">' + "caf\u00e9 \u2019".encode("cp1252"), "", "café \u2019"),
        (b"\xef\xbb\xbf" + "café".encode(), "text/html; charset=latin-1", "café"),
        ("プライバシー".encode("shift_jis"), "", "プライバシー"),
        (b"ok \xff\xfe\xfa bytes", "text/html; charset=utf-8", "ok"),
    ],
)
def test_encodings(raw: bytes, content_type: str, expected: str) -> None:
    assert expected in decode_html(raw, content_type)


def test_utf8_pages_keep_their_text_whatever_stray_bytes_hide_in_scripts() -> None:
    page = "<p>Café “Larkspur” ©</p>".encode()
    # A byte that is not UTF-8 where no text is taken from: the page is still UTF-8.
    stray = b"<html><body><script>var x = '\xff';</script>" + page + b"</body></html>"
    assert text_of(stray) == "Café “Larkspur” ©\n"
    # Where text is taken from: the page is decoded as decode_html decides (windows-1252).
    visible = b"<html><body><p>Caf\xc3\xa9</p><p>Menu \xe9t\xe9</p></body></html>"
    assert text_of(visible) == "CafÃ©\n\nMenu été\n"
    # The page's own replacement marks are text like any other.
    own = "<html><body><p>Broken \ufffd mark</p></body></html>".encode()
    assert text_of(own) == "Broken \ufffd mark\n"


def test_empty_body_is_a_typed_error() -> None:
    with pytest.raises(ExtractionError):
        extract(b"   ")


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Privacy Policy | XenForo", "Privacy Policy | XenForo"),
        (
            "  PayDollar |\n Online Payment Gateway Hong Kong ",
            "PayDollar | Online Payment Gateway Hong Kong",
        ),
    ],
)
def test_title_is_the_whole_page_title(title: str, expected: str) -> None:
    assert page_title(title) == expected


def test_provenance_line_matches_the_corpus() -> None:
    line = archive_provenance(
        "https://www.staah.com/privacy-policy.htm",
        "privacy",
        "20180905001402",
        "https://web.archive.org",
    )
    assert line == (
        "> *The following text is extracted and transformed from the staah.com privacy policy "
        "that was archived on 2018-09-05. Please check the [original snapshot on the Wayback "
        "Machine](https://web.archive.org/web/20180905001402id_/https%3A//www.staah.com/"
        "privacy-policy.htm) for the most accurate reproduction.*"
    )
    from datetime import UTC, datetime

    live = live_provenance(
        "https://www.example.com/terms", "terms", datetime(2026, 1, 2, tzinfo=UTC)
    )
    assert "example.com terms of service that was fetched live on 2026-01-02" in live


def test_original_url_from_wayback_forms() -> None:
    base = "https://example.com/p"
    assert original_url("/web/20180101000000/http://a.example/x", base) == "http://a.example/x"
    assert (
        original_url("//web.archive.org/web/2018id_/https://a.example/", base)
        == "https://a.example/"
    )
    assert original_url("../terms", "https://example.com/legal/p") == "https://example.com/terms"


def _doc(title: str, words: int) -> str:
    return f"<h2>{title}</h2><p>{' '.join(['word'] * words)}</p><p>More of {title}.</p>"


def test_a_page_of_several_documents_yields_the_wanted_one() -> None:
    from crawler.text import document_hints

    html = body(
        "<h1>Legal</h1>"
        + _doc("Terms of Service", 200)
        + _doc("Privacy Policy", 150)
        + _doc("Cookie Policy", 90)
    )
    privacy = text_of(html, document=document_hints("privacy"))
    assert privacy.startswith("## Privacy Policy") and "More of Privacy Policy." in privacy
    assert "Terms of Service" not in privacy and "Cookie Policy" not in privacy
    cookies = text_of(html, document=document_hints("other", "Trackers Policy"))
    assert cookies.startswith("## Cookie Policy")


def test_a_single_document_is_never_cut() -> None:
    from crawler.text import document_hints

    html = body(
        "<h1>Privacy Policy</h1>"
        + _doc("Cookie Policy", 100)
        + _doc("Terms", 100)
        + _doc("Children's Privacy Notice", 100)
    )
    assert text_of(html, document=document_hints("privacy")) == text_of(html)
    menu = body(
        "<p>Policies</p><p>Privacy Policy</p><p>Spam Policy</p><p>Terms</p>"
        "<p>" + "word " * 300 + "</p>"
    )
    assert text_of(menu, document=document_hints("privacy")) == text_of(menu)


def test_a_page_title_naming_several_documents_does_not_stop_the_choice() -> None:
    from crawler.text import document_hints

    html = body(
        "<h1>Terms, Privacy, &amp; Copyright</h1>"
        + _doc("Terms of Service", 200)
        + _doc("Privacy Policy", 150)
        + _doc("Copyright Policy", 90)
    )
    copyright_ = text_of(html, document=document_hints("other", "Copyright Claims Policy"))
    assert copyright_.startswith("## Copyright Policy") and "Privacy Policy" not in copyright_
    # "Data Processor Agreement" also finds a document titled "Data Processing Addendum".
    dpa = body(
        _doc("Terms of Service", 200)
        + _doc("Data Processing Addendum", 150)
        + _doc("Usage Policy", 90)
    )
    assert text_of(dpa, document=document_hints("other", "Data Processor Agreement")).startswith(
        "## Data Processing Addendum"
    )


def test_aria_hidden_text_is_kept_and_hidden_text_dropped() -> None:
    """Collapsed accordion panels and the page behind a consent dialog carry aria-hidden; they
    are on the page for every sighted reader. `hidden` and `display: none` are not."""
    html = body(
        "<h1>Privacy Policy</h1><p>We collect what you give us.</p>"
        + "<p>"
        + "We keep records. " * 100
        + "</p>"
        "<h2>FAQ</h2><button id='t1'>Do you sell data?</button>"
        "<div id='c1' class='panel' aria-labelledby='t1' aria-hidden='true'><p>We never sell your data.</p></div>"
        "<div class='section' aria-hidden='true'><p>Retention is one year.</p></div>"
        "<div hidden><p>Old draft clause.</p></div>"
        "<div style='display:none'><p>Another draft clause.</p></div>"
    )
    text = text_of(html)
    assert "We never sell your data." in text and "Retention is one year." in text
    assert "draft clause" not in text


def test_accordion_titles_and_sections_named_like_boilerplate_are_kept() -> None:
    """An accordion's trigger button holds the section's title; headings and sections carry
    ids that are slugs of their text ("cookies", "sharing"); a banner is still dropped."""
    filler = "<p>" + "We explain this part of the policy in plain words. " * 20 + "</p>"
    html = body(
        "<h1>Privacy Policy</h1>" + filler + "<div class='accordion'><button aria-expanded='false'>"
        "<h3>Do you sell my data?</h3></button><div><p>We do not sell it.</p></div></div>"
        "<h2 id='sharing'>Sharing</h2>" + filler + "<section id='cookies'><h2 id='cookies-and-"
        "tracking'>Cookies and tracking</h2>" + filler + "</section><div id='cookie-banner'>"
        "<p>We use cookies. Accept all?</p></div><button>Accept</button>"
    )
    text = text_of(html)
    assert "### Do you sell my data?" in text and "We do not sell it." in text
    assert "## Sharing" in text and "## Cookies and tracking" in text
    assert "Accept all?" not in text and "Accept" not in text.replace("Accept all", "")


def test_a_section_is_judged_on_the_page_as_it_is() -> None:
    """A section named like boilerplate by its id is kept for its heading and text, even when
    that heading sits in a <header> of its own, which is dropped."""
    filler = "<p>" + "We explain this part of the policy in plain words. " * 20 + "</p>"
    html = body(
        "<div>" + filler + "<section id='cookies'><header><h2>Cookies</h2></header>"
        "<p>Larkspur sets two cookies, both needed to sign in.</p>" + filler + "</section></div>"
    )
    text = text_of(html)
    assert "Larkspur sets two cookies, both needed to sign in." in text
    assert "## Cookies" not in text


def test_a_consent_wall_longer_than_the_page_is_not_taken_for_it() -> None:
    """A short imprint under a cookie dialog with far more text: the strict pass drops the
    dialog, and the lenient fallback (for pages the strict pass strips bare) must drop it too."""
    wall = "<p>" + "Our partners and we use cookies to measure the audience. " * 40 + "</p>"
    html = body(
        "<div><h1>Imprint</h1><p>Larkspur Labs SAS, 1 rue de la Paix, Paris.</p></div>"
        "<div class='consent' role='dialog' aria-modal='true'><h2>Your choices</h2>"
        + wall * 3
        + "</div>"
    )
    text = text_of(html)
    assert "Larkspur Labs SAS, 1 rue de la Paix, Paris." in text
    assert "measure the audience" not in text


def test_the_h1_naming_the_document_is_kept_when_a_page_has_several() -> None:
    from crawler.text import document_hints

    filler = "<p>" + "These terms govern your use of the service. " * 40 + "</p>"
    html = body(
        "<section class='hero'><h1>Terms of Service</h1></section>"
        "<div class='content'><h1>Help Center</h1>"
        + filler
        + "<h2>Definitions</h2>"
        + filler
        + "</div>"
    )
    text = text_of(html, document=document_hints("terms"))
    assert text.startswith("# Terms of Service\n") and "## Definitions" in text
    assert not text_of(html).startswith("# Terms of Service")  # no hint: no way to tell


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        ("site-footer", True),
        ("ad_slot main", True),
        ("adslot", True),
        ("Cookie Banner", True),
        ("header\tnav", True),
        ("footerish leader", False),
        ("navigator", False),
        ("", False),
    ],
)
def test_boilerplate_words_are_whole_words_of_class_or_id(names: str, expected: bool) -> None:
    assert _unlikely_word(names) is expected


LAYOUT_QUOTES = b"""<html><body><blockquote><blockquote><p><b>Information We Collect</b></p>
<p>We collect your name and e-mail address when you register, and the pages you visit.</p>
<p><b>How We Use It</b></p><p>We use it to run the service and to answer your questions.</p>
<ul><li>To send receipts</li><li>To improve the site</li></ul></blockquote></blockquote>
</body></html>"""
REAL_QUOTE = b"""<html><body><h1>Privacy</h1><p>We collect your name and e-mail address when
you register, and nothing else.</p><blockquote>We never sell your data.</blockquote>
<p>That is what our founder promised in 2010, and we keep the promise.</p></body></html>"""


def test_a_blockquote_that_indents_the_page_is_layout_not_a_quote() -> None:
    from crawler.text.sections import split_sections

    text = render_text(extract(LAYOUT_QUOTES))
    assert "> " not in text and "**Information We Collect**" in text
    assert [s.heading for s in split_sections(text)] == ["Information We Collect", "How We Use It"]


def test_a_short_quoted_passage_stays_a_quote() -> None:
    text = render_text(extract(REAL_QUOTE))
    assert "> We never sell your data." in text
