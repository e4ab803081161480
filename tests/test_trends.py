"""Across the corpus (#18): trends, change search over added and removed words, term watches.

Three made-up companies over ten years (2014-2023), one capture a year on June 1: their policies
grow every year, add a GDPR section in 2018 and an AI-training clause in 2023. Acorn always has
an arbitration clause (and re-punctuates it in September 2020: a cosmetic change), Birch adds
one in 2016, Cedar drops its own in 2021.
"""

from __future__ import annotations

import json
import statistics
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawler.config import AlertConfig
from crawler.pipeline.changes import record_changes
from db import store
from tests.conftest import run_cli
from tests.servers import WebhookReceiver

COMPANIES = {"acorn": 3, "birch": 5, "cedar": 8}  # sentences per yearly section
YEARS = range(2014, 2024)
NOW = datetime(2026, 1, 1, tzinfo=UTC)
AI = "We may use your content and messages to train AI models that improve our services."
GDPR = "Under the General Data Protection Regulation you may access and erase your data."


def policy_text(company: str, year: int, punctuation: str = ".") -> str:
    per = COMPANIES[company]
    sections = [("Introduction", f"{company.title()} Inc. explains how it handles personal data.")]
    for y in range(2014, year + 1):
        body = " ".join(
            f"In {y} we collect item {k} about your account and use it for service {k}."
            for k in range(per)
        )
        sections.append((f"Practices of {y}", body))
    arbitration = {
        "acorn": True,
        "birch": year >= 2016,
        "cedar": year < 2021,
    }[company]
    if arbitration:
        sections.append(
            ("Disputes", f"Disputes are settled by binding arbitration{punctuation} Not in court.")
        )
    if year >= 2018:
        sections.append(("Your Rights under GDPR", GDPR))
    if year >= 2023:
        sections.append(("Artificial Intelligence", AI))
    body = "\n\n".join(f"## {h}\n\n{t}" for h, t in sections)
    return f"# {company.title()} Privacy Policy\n\n{body}\n"


def build(folder: Path, sinks: tuple[AlertConfig, ...] = ()) -> Path:
    """The three histories in a real database, their changes recorded by the pipeline."""
    from tests.web_fixtures import add_live_version

    config = folder / "config.toml"
    config.write_text('[database]\npath = "t.db"\n')
    db = store.connect(folder / "t.db")
    for company in COMPANIES:
        pid = store.upsert_policy(
            db, f"{company}-privacy", f"https://{company}.example/privacy", "privacy", NOW
        )
        captures = [(f"{y}0601000000", policy_text(company, y)) for y in YEARS]
        if company == "acorn":  # September 2020: the same words, a colon for a full stop
            captures.append(("20200901000000", policy_text(company, 2020, ":")))
        for ts, text in sorted(captures):
            add_live_version(db, pid, text, ts, NOW)
            record_changes(db, pid, NOW, sinks=sinks)  # as each capture arrives
    db.close()
    return config


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("corpus"))


def test_trends_give_the_medians_and_shares_of_each_year(corpus: Path) -> None:
    from crawler.text.readability import reading_grade

    code, out = run_cli(
        "--config", str(corpus), "trends", "--term", "GDPR", "--term", r"train\w* AI", "--json"
    )
    assert code == 0, out
    rows = json.loads(out)
    assert [r["period"] for r in rows] == [str(y) for y in YEARS]
    for row, year in zip(rows, YEARS, strict=True):
        texts = [policy_text(c, year) for c in COMPANIES]
        words = sorted(len(t.split()) for t in texts)
        assert row["documents"] == 3
        assert row["words_median"] == words[1]
        q1, _, q3 = statistics.quantiles(words, n=4, method="inclusive")
        assert (row["words_q1"], row["words_q3"]) == (round(q1, 1), round(q3, 1))
        grades = sorted(g for g in (reading_grade(t) for t in texts) if g is not None)
        assert row["grade_median"] == round(statistics.median(grades), 2)
        assert row["terms"] == {
            "GDPR": 1.0 if year >= 2018 else 0.0,
            r"train\w* AI": 1.0 if year >= 2023 else 0.0,
        }
    # Lengths grow: the median doubles, as the reference corpus found over 20 years.
    assert rows[-1]["words_median"] > 2 * rows[0]["words_median"]
    code, csv_out = run_cli("--config", str(corpus), "trends", "--csv", "--term", "GDPR")
    assert csv_out.splitlines()[0].endswith("grade_median,share: GDPR")
    assert csv_out.splitlines()[5].startswith("2018,") and csv_out.splitlines()[5].endswith(",1.0")


def test_trends_choose_documents_and_periods(corpus: Path) -> None:
    code, out = run_cli(
        "--config",
        str(corpus),
        "trends",
        "--policy",
        "birch-privacy",
        "--every",
        "6m",
        "--from",
        "2020",
        "--to",
        "2021",
        "--json",
    )
    assert code == 0, out
    rows = json.loads(out)
    assert [r["period"] for r in rows] == ["2020-H1", "2020-H2", "2021-H1", "2021-H2"]
    assert {r["documents"] for r in rows} == {1}
    code, out = run_cli("--config", str(corpus), "trends", "--term", "(unclosed")
    assert code == 1 and "--term '(unclosed' is not a valid regular expression" in out


def test_changes_added_finds_exactly_the_ai_training_changes(corpus: Path) -> None:
    code, out = run_cli(
        "--config", str(corpus), "changes", "--added", "train* AND (model* OR AI)", "--json"
    )
    assert code == 0, out
    found = json.loads(out)
    assert sorted((c["policy"], c["at"][:4]) for c in found) == [
        ("acorn-privacy", "2023"),
        ("birch-privacy", "2023"),
        ("cedar-privacy", "2023"),
    ]
    assert all(c["excerpt"]["section"] == "Artificial Intelligence" for c in found)
    assert "[+train+]" in found[0]["excerpt"]["text"]
    code, out = run_cli("--config", str(corpus), "changes", "--removed", "arbitration", "--json")
    (dropped,) = json.loads(out)
    assert (dropped["policy"], dropped["at"][:4]) == ("cedar-privacy", "2021")
    assert "[-arbitration" in dropped["excerpt"]["text"]
    code, out = run_cli("--config", str(corpus), "changes", "--added", "a* OR " * 20 + "b")
    assert code == 2 and "1 to 12 words" in out


def test_a_term_watch_alerts_once_per_matching_change_never_on_a_cosmetic_one(
    tmp_path: Path,
) -> None:
    from crawler.config import load_config
    from crawler.watch import deliver

    with WebhookReceiver(None) as hook:
        sink = AlertConfig(
            name="hook",
            type="webhook",
            url=f"{hook.url}/hook",
            threshold="substantive",
            watch=("arbitration", "AI models"),
        )
        config = build(tmp_path, (sink,))
        text = config.read_text() + (
            f'\n[[alert]]\nname = "hook"\ntype = "webhook"\nurl = "{hook.url}/hook"\n'
            'watch = ["arbitration", "AI models"]\n'
        )
        config.write_text(text)
        db = store.connect(tmp_path / "t.db")
        deliver(db, load_config(config), NOW)
        terms = [p for p in hook.received if p["event"] == "term"]
        said = sorted(
            (p["policy"]["name"], p["change"]["at"][:4], h["term"], h["direction"])
            for p in terms
            for h in p["terms"]
        )
        assert said == [
            ("acorn-privacy", "2023", "AI models", "added"),
            ("birch-privacy", "2016", "arbitration", "added"),
            ("birch-privacy", "2023", "AI models", "added"),
            ("cedar-privacy", "2021", "arbitration", "removed"),
            ("cedar-privacy", "2023", "AI models", "added"),
        ]
        assert len({p["id"] for p in terms}) == len(terms) == 5  # once per change
        ai = next(p for p in terms if p["policy"]["name"] == "acorn-privacy")
        assert ai["terms"][0]["sentence"] == AI
        assert ai["terms"][0]["section"] == "Artificial Intelligence"
        # The cosmetic change of 2020 (a colon for a full stop) alerted nobody of a term.
        assert not [p for p in terms if p["change"]["at"].startswith("2020")]
        # Recording again (a rerun) queues nothing more.
        for name in ("acorn-privacy", "birch-privacy", "cedar-privacy"):
            pid = store.policy_id(db, name)
            assert pid is not None
            record_changes(db, pid, NOW, sinks=(sink,))
        assert deliver(db, load_config(config), NOW).delivered == 0


def test_the_trends_page_and_the_changes_filter(corpus: Path) -> None:
    import httpx

    from tests.servers import serve_on_free_port

    process, base = serve_on_free_port(corpus)
    try:
        page = httpx.get(f"{base}/trends?every=1y&terms=GDPR%0Atrain%5Cw*+AI", timeout=30).text
        assert page.count("<svg") == 3 and "Download CSV" in page
        assert '<td class="nowrap">2018</td><td>3</td>' in page and "100.0%" in page
        csv_text = httpx.get(f"{base}/trends.csv?every=1y&term=GDPR", timeout=30).text
        assert csv_text.splitlines()[5].startswith("2018,") and csv_text.splitlines()[5].endswith(
            ",1.0"
        )
        changes = httpx.get(f"{base}/changes?added=train*+AND+AI", timeout=30).text
        assert "3 changes" in changes and changes.count("Artificial Intelligence:") == 3
        bad = httpx.get(f"{base}/changes?added=%22unclosed", timeout=30)
        assert bad.status_code == 400
        assert httpx.get(f"{base}/trends?every=5m", timeout=30).status_code == 400
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_the_trends_page_reads_a_database_whose_grades_are_not_kept_yet(
    corpus: Path, tmp_path: Path
) -> None:
    """A database from before reading grades: the read-only page computes them for its answer
    and keeps none (it cannot write)."""
    import shutil
    import sqlite3

    import httpx

    from tests.servers import serve_on_free_port

    shutil.copy(corpus.parent / "t.db", tmp_path / "t.db")
    (tmp_path / "config.toml").write_text('[database]\npath = "t.db"\n')
    with sqlite3.connect(tmp_path / "t.db") as conn:
        conn.execute("UPDATE versions SET grade = NULL")
    process, base = serve_on_free_port(tmp_path / "config.toml")
    try:
        page = httpx.get(f"{base}/trends?every=1y", timeout=30)
    finally:
        process.terminate()
        process.communicate(timeout=10)
    assert page.status_code == 200 and page.text.count("<svg") == 2
    with sqlite3.connect(tmp_path / "t.db") as conn:
        assert (
            conn.execute("SELECT count(*) FROM versions WHERE grade IS NOT NULL").fetchone()[0] == 0
        )
