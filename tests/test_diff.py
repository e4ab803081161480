"""Section diffs on named before/after pairs."""

from __future__ import annotations

from crawler.text.diff import diff, normalize
from crawler.text.sections import split_sections

BASE = """# Privacy Policy

_Last updated: March 1, 2017_

We are Larkspur.

## Information We Collect

We collect your name, e-mail address and clinic name when you sign up.

## Cookies

We use cookies to keep you signed in and to understand how the service is used.

## Sharing

We do not sell your personal information. We share it with service providers.

## Contact Us

Write to privacy@larkspur-labs.example.
"""


def run(old: str, new: str) -> list[tuple[str, str | None, str | None, str]]:
    result = diff(split_sections(old), split_sections(new))
    return [
        (c.kind, c.old_heading, c.new_heading, c.significance)
        for c in result.changes
        if c.kind != "unchanged"
    ]


def test_identical_is_no_change() -> None:
    result = diff(split_sections(BASE), split_sections(BASE))
    assert result.summary == "no change" and not result.substantive


def test_reworded_sentence_is_modified_with_its_words() -> None:
    new = BASE.replace("your name, e-mail address", "your name, phone number, e-mail address")
    result = diff(split_sections(BASE), split_sections(new))
    (change,) = [c for c in result.changes if c.kind != "unchanged"]
    assert (change.kind, change.new_heading, change.significance) == (
        "modified",
        "Information We Collect",
        "substantive",
    )
    assert change.words_added == 2 and change.words_removed == 0
    assert ("insert", "phone number,") in change.redline
    assert result.summary == "'Information We Collect' modified"


def test_moved_section_is_not_delete_plus_insert() -> None:
    cookies = (
        "## Cookies\n\nWe use cookies to keep you signed in and to understand how the "
        "service is used.\n\n"
    )
    new = BASE.replace(cookies, "") + "\n" + cookies
    assert run(BASE, new) == [("moved", "Cookies", "Cookies", "substantive")]
    # Moved up past two sections, and reworded on the way: still one moved section.
    new = BASE.replace(cookies, "").replace(
        "We are Larkspur.\n\n", "We are Larkspur.\n\n" + cookies.replace("signed in", "logged in")
    )
    result = diff(split_sections(BASE), split_sections(new))
    (change,) = [c for c in result.changes if c.kind != "unchanged"]
    assert (change.kind, change.moved, change.modified) == ("moved", True, True)
    assert change.words_added == 1 and change.words_removed == 1


def test_renamed_heading() -> None:
    new = BASE.replace("## Sharing", "## How We Share Information")
    assert run(BASE, new) == [("renamed", "Sharing", "How We Share Information", "substantive")]


def test_added_and_removed_sections() -> None:
    new = BASE.replace(
        "## Contact Us", "## Data Retention\n\nWe keep data for a year.\n\n## Contact Us"
    )
    assert run(BASE, new) == [("added", None, "Data Retention", "substantive")]
    assert run(new, BASE) == [("removed", "Data Retention", None, "substantive")]
    result = diff(split_sections(BASE), split_sections(new))
    assert result.summary == "'Data Retention' added"


def test_split_section() -> None:
    old = BASE.replace(
        "signed in and to understand how the service is used.",
        "signed in. Analytics cookies from our partners measure how many people "
        "visit each page and which features they use most often.",
    )
    new = old.replace(
        " Analytics cookies from our partners",
        "\n\n## Analytics\n\nAnalytics cookies from our partners",
    )
    kinds = run(old, new)
    assert ("split", "Cookies", "Analytics", "substantive") in kinds


def test_cosmetic_edits_are_never_substantive() -> None:
    for new in (
        BASE.replace("March 1, 2017", "June 30, 2021"),  # the date after "Last updated"
        BASE.replace("We do not sell", "We  do not\nsell"),  # whitespace
        BASE.replace("We are Larkspur.", "We are \u201cLarkspur\u201d.").replace(
            "\u201cLarkspur\u201d", "\u201cLarkspur\u201d"
        ),
        BASE.replace("name, e-mail", "name; e-mail"),  # punctuation
        BASE.replace("We use cookies", "WE USE COOKIES"),  # case
    ):
        result = diff(split_sections(BASE), split_sections(new))
        assert not result.substantive, new
        assert all(c.significance in ("none", "cosmetic") for c in result.changes)


def test_quotes_fold_in_normalize() -> None:
    assert normalize("\u201cLarkspur\u201d \u2014 it\u2019s") == normalize('"Larkspur" - it\'s')


def test_changes_come_in_new_document_order() -> None:
    new = BASE.replace(
        "## Information We Collect", "## Who We Are\n\nA company.\n\n## Information We Collect"
    ).replace(
        "## Sharing\n\nWe do not sell your personal information. We share it with service "
        "providers.\n\n",
        "",
    )
    result = diff(split_sections(BASE), split_sections(new))
    order = [(c.kind, c.old_index, c.new_index) for c in result.changes]
    assert order == [
        ("unchanged", 0, 0),
        ("added", None, 1),
        ("unchanged", 1, 2),
        ("unchanged", 2, 3),
        ("removed", 3, None),
        ("unchanged", 4, 4),
    ]


def test_formatting_only_is_cosmetic_not_no_change() -> None:
    from crawler.text.diff import diff_texts

    old = "**Welcome**\n\nHello there.\n"
    new = "[**Welcome**](#w)\n-----------\n\nHello there.\n"
    result = diff_texts(old, new)
    assert result.summary.startswith("formatting only") and not result.substantive
    assert diff_texts(old, old).summary == "no change"


def test_configured_ignore_patterns() -> None:
    from crawler.text.diff import DEFAULT_IGNORE

    new = BASE.replace("We are Larkspur.", "We are Larkspur. Version 7.")
    old = BASE.replace("We are Larkspur.", "We are Larkspur. Version 6.")
    assert diff(split_sections(old), split_sections(new)).substantive
    ignore = (*DEFAULT_IGNORE, r"version \d+")
    assert not diff(split_sections(old), split_sections(new), ignore).substantive
