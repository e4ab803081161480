"""Section diffs on named before/after pairs."""

from __future__ import annotations

from crawler.text.diff import diff, diff_texts, normalize
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


def test_a_huge_section_gets_a_redline_aligned_by_sentence() -> None:
    """Past MAX_WORD_CELLS the redline aligns sentences first: still exact where it matters."""
    from crawler.text.words import MAX_WORD_CELLS, redline

    sentences = [f"Clause {i} says we keep record {i} for {i % 7} years." for i in range(8000)]
    old = " ".join(sentences)
    changed = list(sentences)
    changed[4000] = "Clause 4000 says we sell record 4000 to brokers."
    changed.insert(6000, "We may train models on your messages.")
    new = " ".join(changed)
    assert len(old.split()) ** 2 > MAX_WORD_CELLS
    parts, added, removed = redline(old, new)
    inserted = " ".join(text for op, text in parts if op == "insert")
    deleted = " ".join(text for op, text in parts if op == "delete")
    assert "train models on your messages." in inserted and "sell" in inserted
    assert "keep" in deleted and "brokers" not in deleted
    assert added == 7 + 3 and removed == 4  # "sell", "to brokers." for "keep", "for 3 years."


def test_many_unrelated_sections_are_aligned_within_the_bound() -> None:
    from crawler.text.diff import MAX_SECTION_PAIRS

    old = "\n\n".join(f"## Old heading {i}\n\nAlpha text {i} about topic {i}." for i in range(600))
    new = "\n\n".join(f"## New heading {i}\n\nBeta words {i} on subject {i}." for i in range(600))
    assert MAX_SECTION_PAIRS < 600 * 600
    result = diff_texts(old, new)
    kinds = {c.kind for c in result.changes}
    assert kinds <= {"added", "removed", "renamed", "modified"}
    assert (
        sum(1 for c in result.changes if c.kind == "added")
        + sum(1 for c in result.changes if c.kind in ("renamed", "modified"))
        == 600
    )


def test_a_history_that_goes_back_and_forth_diffs_each_pair_once(
    tmp_path: object, monkeypatch: object
) -> None:
    """Five texts alternating over 400 captures: 399 changes, but only the distinct pairs of
    texts are diffed (each once), and outside the write lock."""
    from datetime import UTC, datetime, timedelta
    from pathlib import Path

    import crawler.pipeline.changes as changes
    from db import store
    from tests.web_fixtures import add_live_version

    calls: list[tuple[str, str]] = []
    real = changes.diff_texts

    def counting(old: str, new: str, ignore: object = ()) -> object:
        assert not db.conn.in_transaction, "a diff ran under the write lock"
        calls.append((old[:12], new[:12]))
        return real(old, new, ignore)  # type: ignore[arg-type]

    monkeypatch.setattr(changes, "diff_texts", counting)  # type: ignore[attr-defined]
    db = store.connect(Path(str(tmp_path)) / "t.db")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    pid = store.upsert_policy(db, "seesaw", "https://seesaw.example/privacy", "privacy", now)
    texts = [f"# Policy {k}\n\n## Data\n\nWe keep data for {k} years.\n" for k in range(5)]
    for i in range(400):
        add_live_version(
            db, pid, texts[(i * 3) % 5], (now + timedelta(days=i)).strftime("%Y%m%d%H%M%S"), now
        )
    assert changes.record_changes(db, pid, now) == 400
    assert len(calls) == len(set(calls)) <= 20
    assert db.execute("SELECT count(*) FROM changes").fetchone()[0] == 400
