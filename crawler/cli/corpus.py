"""Commands across the corpus: trends (length, reading grade and terms per period)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any

import click

from crawler.cli.base import Context, _config_and_db, _date_to_ts, _echo_json, _errors, _table, cli


def trend_rows(
    config: Any, db: Any, options: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The trends asked for by the options (shared by the command and the web page)."""
    from crawler.archive import timestamp_to_datetime
    from crawler.config import parse_every
    from crawler.pipeline.trends import select_policies, trends
    from crawler.text.terms import parse_term

    months = parse_every(options.get("every") or "1y")
    terms = [parse_term(t) for t in options.get("terms", ())]
    pids = select_policies(
        db, options.get("policies", ()), options.get("kinds", ()), options.get("sites", ())
    )
    start = _date_to_ts(options.get("from"), "--from")
    end = _date_to_ts(options.get("to"), "--to", end=True)
    rows = trends(
        db,
        pids,
        months,
        terms,
        datetime.now(UTC),
        first=timestamp_to_datetime(start) if start else None,
        last=timestamp_to_datetime(end[:8]) if end else None,
        progress=options.get("progress"),
    )
    return rows, [t.label for t in terms]


@cli.command("trends")
@click.option("--policy", "policies", multiple=True, help="Only this policy (repeatable).")
@click.option("--kind", "kinds", multiple=True, help="Only documents of this kind (repeatable).")
@click.option("--site", "sites", multiple=True, help="Only this site's documents (repeatable).")
@click.option("--every", default="1y", show_default=True, help="Period length: 1y, 6m, 3m...")
@click.option(
    "--term",
    "terms",
    multiple=True,
    help='A word or regular expression ("sell|sale of"); repeatable.',
)
@click.option("--from", "from_date", help="First period (YYYY[-MM]).")
@click.option("--to", "to_date", help="Last period (YYYY[-MM]).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")
@click.pass_obj
def trends_command(
    obj: Context,
    policies: tuple[str, ...],
    kinds: tuple[str, ...],
    sites: tuple[str, ...],
    every: str,
    terms: tuple[str, ...],
    from_date: str | None,
    to_date: str | None,
    as_json: bool,
    as_csv: bool,
) -> None:
    """Per period, over the versions in force at its midpoint (one per document): documents,
    median and quartiles of length in words, median reading grade (Flesch-Kincaid), and the
    share of documents whose text matches each --term (case-insensitive)."""
    config, db = _config_and_db(obj)
    done = [0]

    def progress(count: int) -> None:
        done[0] += count
        if done[0] >= 1000:  # a first run over a large corpus: say why it takes a while
            click.echo(
                f"reading grades: {done[0]} versions computed (kept for next time)", err=True
            )

    with _errors():
        rows, labels = trend_rows(
            config,
            db,
            {
                "policies": policies,
                "kinds": kinds,
                "sites": sites,
                "every": every,
                "terms": terms,
                "from": from_date,
                "to": to_date,
                "progress": progress,
            },
        )
    if as_json:
        _echo_json(rows)
        return
    if as_csv:
        from crawler.pipeline.trends import trends_csv

        sys.stdout.write(trends_csv(rows, labels))
        return
    _table(
        f"trends: {len(rows)} periods",
        ["period", "documents", "words (median)", "words (q1-q3)", "grade (median)", *labels],
        [
            [
                r["period"],
                str(r["documents"]),
                f"{r['words_median']:g}",
                f"{r['words_q1']:g}-{r['words_q3']:g}",
                "-" if r["grade_median"] is None else f"{r['grade_median']:.1f}",
                *(f"{100 * r['terms'][t]:.0f}%" for t in labels),
            ]
            for r in rows
        ],
    )
