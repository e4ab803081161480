"""Sections on named texts in the heading styles real policies use."""

from __future__ import annotations

import pytest

from crawler.text.diff import diff_texts
from crawler.text.sections import split_sections


def headings(text: str) -> list[tuple[int, str]]:
    return [(s.level, s.heading) for s in split_sections(text)]


CASES = {
    "atx_nesting": (
        "# Policy\n\nIntro.\n\n## Data\n\nWe collect.\n\n### Cookies\n\nYum.\n\n"
        "## Rights\n\nYou may.\n",
        [(1, "Policy"), (2, "Data"), (3, "Cookies"), (2, "Rights")],
    ),
    "preamble_then_bold_lines": (
        "Welcome.\n\n**Cookies**\n\nWe use cookies.\n\n**Security**\n\nWe lock doors.\n",
        [(1, ""), (1, "Cookies"), (1, "Security")],
    ),
    "bold_under_atx": (
        "# Title\n\n**Cookies**\n\nText.\n\n## Other\n\nMore.\n\n**Sub**\n\nx.\n",
        [(1, "Title"), (2, "Cookies"), (2, "Other"), (3, "Sub")],
    ),
    "all_caps_hard_wrapped": (
        "PRIVACY POLICY\nWe respect your privacy and are\ncommitted to it.\n"
        "DATA ANALYTICS\nWe count visits.\n",
        [(1, "PRIVACY POLICY"), (1, "DATA ANALYTICS")],
    ),
    "numbered_headings": (
        "Intro line.\n1. Consent and Scope\n- By using it you agree.\n"
        "2. Information We Collect\nWe collect things.\n"
        "2.1 Device Data\nIP addresses.\n",
        [
            (1, ""),
            (1, "1. Consent and Scope"),
            (1, "2. Information We Collect"),
            (2, "2.1 Device Data"),
        ],
    ),
    "escaped_numbered": (
        "1\\. INTRODUCTION\n\nHello.\n\n2\\. DATA\n\nWe collect.\n",
        [(1, "1. INTRODUCTION"), (1, "2. DATA")],
    ),
    "section_article": (
        "Section 3 – Cookies\n\nText.\n\nArticle 4 Rights\n\nMore.\n",
        [(1, "Section 3 – Cookies"), (1, "Article 4 Rights")],
    ),
    "lead_ins": (
        "# P\n\n(iv) Content You Provide Us. Should you provide content, fine.\n\n"
        "(v) Information in CRMs. As part of the Services, you may.\n\n"
        "**Do Not Track Signals.** We do not respond to them.\n",
        # Implicit styles nest in the order they first appear.
        [
            (1, "P"),
            (2, "(iv) Content You Provide Us."),
            (2, "(v) Information in CRMs."),
            (3, "Do Not Track Signals."),
        ],
    ),
    "setext": (
        "Terms of Service\n================\n\nText.\n\nPayment\n-------\n\nPay us.\n",
        [(1, "Terms of Service"), (2, "Payment")],
    ),
    "list_items_are_not_headings": (
        "# P\n\n  1. First thing\n  2. Second thing\n\n  * ITEM\n",
        [(1, "P")],
    ),
    "long_numbered_sentence_is_text": (
        "# P\n\n1\\. We may collect information from you when you register, order, or contact "
        "us about anything at all.\n",
        [(1, "P")],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_heading_styles(name: str) -> None:
    text, expected = CASES[name]
    assert headings(text) == expected


def test_paths_and_text() -> None:
    sections = split_sections(
        "> *The following text is extracted and transformed from x.*\n\n"
        "# Policy\n\n## Data\n\nWe collect **names**.\n\n### Cookies\n\n"
        "Small files.\n"
    )
    assert [s.path for s in sections] == [
        ("Policy",),
        ("Policy", "Data"),
        ("Policy", "Data", "Cookies"),
    ]
    assert sections[1].text == "We collect **names**."
    assert sections[2].words == 2


def test_lead_in_keeps_the_rest_of_its_paragraph() -> None:
    sections = split_sections("**Do Not Track.** We ignore DNT.\n")
    assert sections[0].heading == "Do Not Track." and sections[0].text == "We ignore DNT."


TOC_BODY = "\n\n".join(
    f"## {i}. Part {i}\n\nWhat part {i} says, at some length: " + "word " * 30 for i in range(1, 6)
)
TOC = "\n".join(f"{i}. [Part {i}](#part-{i})" for i in range(1, 6))
TOC_ABSOLUTE = "\n".join(f"* [Part {i}](https://example.com/privacy#part-{i})" for i in range(1, 6))


def test_a_table_of_contents_is_one_section_never_its_items() -> None:
    for toc in (TOC, TOC_ABSOLUTE):
        sections = split_sections(f"# Policy\n\nIntro.\n\n{toc}\n\n{TOC_BODY}")
        headings = [s.heading for s in sections]
        assert headings == ["Policy", "Table of contents", *[f"{i}. Part {i}" for i in range(1, 6)]]
        assert sections[1].text.count("](") == 5  # the table stays in the text


def test_a_moved_or_added_table_of_contents_is_one_change() -> None:
    with_toc = f"# Policy\n\nIntro.\n\n{TOC}\n\n{TOC_BODY}"
    moved = f"# Policy\n\nIntro.\n\n{TOC_BODY}\n\n{TOC}\n"
    without = f"# Policy\n\nIntro.\n\n{TOC_BODY}"
    for old, new, kind in ((with_toc, moved, "moved"), (without, with_toc, "added")):
        result = diff_texts(old, new)
        changed = [(c.kind, c.new_heading) for c in result.changes if c.kind != "unchanged"]
        assert changed == [(kind, "Table of contents")]
        assert result.words_removed == 0
