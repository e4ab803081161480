"""Commands that read the database: policies, history, show, changes, search, stats."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import click

from crawler.cli.base import (
    Context,
    _config_and_db,
    _date_to_ts,
    _echo_json,
    _policy_id,
    _resolve_version,
    _table,
    cli,
    plural,
)

log = logging.getLogger("policytrail")


@cli.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def history(obj: Context, name: str, as_json: bool) -> None:
    """The versions of policy NAME, oldest first, with the change that brought each.

    `id` is each version's stable id, for citing and for `show --version` / `diff`; `#` is an
    ordinal that changes when an older text is found."""
    from crawler.cite import replay_prefix, version_evidence
    from db import store

    config, db = _config_and_db(obj)
    pid = _policy_id(db, config, name)
    versions = store.history_with_changes(db, pid)
    if as_json:
        prefix = replay_prefix(db, pid, config.archive.url)
        fields = (
            "uid",
            "number",
            "first_seen",
            "last_seen",
            "snapshots",
            "words",
            "text_sha256",
            "change",
            "substantive",
        )
        _echo_json(
            [
                {
                    **{k: v[k] for k in fields},
                    **version_evidence(db, v["id"], prefix),
                }
                for v in versions
            ]
        )
        return
    rows_ = [
        (
            v["first_seen"],
            [
                str(v["number"]),
                v["uid"],
                v["first_seen"][:10],
                v["last_seen"][:10],
                str(v["snapshots"]),
                str(v["words"]),
                v["change"],
            ],
        )
        for v in versions
    ]
    # A URL move is an event on the timeline, not a text change.
    for move in store.policy_moves(db, pid):
        at = store.ts_iso(move["at"])
        rows_.append((at, ["→", "", at[:10], "", "", "", f"moved to {move['to_url']}"]))
    _table(
        f"{name}: {plural(len(versions), 'version')}",
        ["#", "id", "first seen", "last seen", "snapshots", "words", "change"],
        [row for _, row in sorted(rows_, key=lambda r: r[0])],
    )


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def policies(obj: Context, as_json: bool) -> None:
    """Tracked policies: versions, first and last change, last check and its status."""
    from db import store

    config, db = _config_and_db(obj)
    items = store.policies_overview(db)
    if as_json:
        _echo_json(items)
        return
    _table(
        f"{len(items)} policies",
        ["name", "url", "versions", "first change", "last change", "last check"],
        [
            [
                p["name"],
                p["url"],
                str(p["versions"]),
                (p["first_change"] or "")[:10],
                (p["last_change"] or "")[:10],
                f"{(p['last_check_at'] or '')[:16]} {p['last_check_status'] or ''}".strip()
                + (" ⚠" if p["open_problems"] else ""),
            ]
            for p in items
        ],
    )


@cli.command()
@click.argument("name")
@click.option(
    "--at",
    "at",
    help="The text as it stood on this date (YYYY[-MM[-DD]]; a month or year: its end).",
)
@click.option(
    "--version",
    "ref",
    help="The text of this version: its id (2021-07-05-8f5090) or number (1 is the oldest).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def show(obj: Context, name: str, at: str | None, ref: str | None, as_json: bool) -> None:
    """The text of policy NAME as it stood then (default: now), in the corpus format.

    --at 2020-02 (or 2020) means the end of that month (or year): the text in force on its
    last day."""
    from crawler.archive import ArchiveEndpoint, timestamp_to_datetime
    from crawler.cite import citation, replay_prefix, version_evidence
    from crawler.text.render import archive_provenance, live_provenance, render_with_provenance
    from db import store

    if at and ref:
        raise click.UsageError("give --at or --version, not both")
    _date_to_ts(at, "--at", end=True)  # a bad date is a usage error before anything is opened
    config, db = _config_and_db(obj)
    pid = _policy_id(db, config, name)
    if not store.history(db, pid):
        raise click.ClickException(f"{name} has no version yet; run `policytrail backfill {name}`")
    version = _resolve_version(db, pid, ref or at or "9999", "--version" if ref else "--at")
    text = store.version_text(db, version["id"])
    policy = store.policy_overview(db, name)
    assert policy is not None
    snapshot = store.first_snapshot(db, version["id"])
    if snapshot and snapshot["source"] == "live":
        line = live_provenance(
            snapshot["url"], policy["kind"], timestamp_to_datetime(snapshot["timestamp"])
        )
    else:
        endpoint = ArchiveEndpoint.from_url(config.archive.url)
        line = archive_provenance(
            snapshot["requested_url"] if snapshot else policy["url"],
            policy["kind"],
            version["first_timestamp"],
            endpoint.base,
            endpoint.is_internet_archive,
        )
    if as_json:
        evidence = version_evidence(db, version["id"], replay_prefix(db, pid, config.archive.url))
        _echo_json(
            {
                **version,
                **evidence,
                "citation": citation(policy, version, evidence),
                "provenance": line,
                "text": text,
            }
        )
        return
    click.echo(render_with_provenance(line, text), nl=False)


@cli.command()
@click.option("--since", help="Only changes from this date (YYYY[-MM[-DD]]).")
@click.option("--policy", "name", help="Only this policy.")
@click.option("--substantive", is_flag=True, help="Only substantive changes.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many (the newest).")
@click.option("--added", help='Only changes that added matching words: "train* AND (model OR AI)".')
@click.option("--removed", help='Only changes that removed matching words: "not sell".')
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def changes(
    obj: Context,
    since: str | None,
    name: str | None,
    substantive: bool,
    limit: int | None,
    added: str | None,
    removed: str | None,
    as_json: bool,
) -> None:
    """Changes, newest first, with their section summaries and the window each happened in
    (the last capture of the old text, the first of the new). --added / --removed find the
    changes whose added (or removed) words match a full-text query, each with its excerpt."""
    import sqlite3

    from crawler.cite import change_evidence, change_id, replay_prefixes, window_text
    from crawler.text.terms import excerpt
    from db import store
    from db.queries import MAX_QUERY_TERMS, query_terms

    for option, query in (("--added", added), ("--removed", removed)):
        if query is not None and (not query.strip() or query_terms(query) > MAX_QUERY_TERMS):
            raise click.BadParameter(
                f'give 1 to {MAX_QUERY_TERMS} words, "phrases" or prefix* terms', param_hint=option
            )
    config, db = _config_and_db(obj)
    pid = _policy_id(db, config, name) if name else None
    start = _date_to_ts(since, "--since")
    try:
        items = store.changes(
            db,
            pid,
            store.ts_iso(start) if start else None,
            substantive,
            limit,
            kind=None,
            words=store.words_query(added, removed),
        )
    except sqlite3.OperationalError:
        raise click.BadParameter(
            'not a query full-text search understands: words, "phrases", prefix*, AND, OR, '
            "NOT and parentheses",
            param_hint="--added" if added else "--removed",
        ) from None
    items = [c for c in items if c["kind"] != "technical"]
    if added or removed:
        for item in items:
            sections = json.loads(item["sections"] or "[]")
            item["excerpt"] = (
                excerpt(sections, added, "insert")
                if added
                else excerpt(sections, str(removed), "delete")
            )
    prefix = replay_prefixes(db, config.archive.url)
    for item in items:
        item["id"] = change_id(item)
        item.update(change_evidence(db, item, prefix(item["policy_id"])))
    if as_json:
        for item in items:
            item["sections"] = json.loads(item["sections"] or "[]")
        _echo_json(items)
        return
    _table(
        plural(len(items), "change"),
        ["date", "policy", "kind", "summary", "changed"],
        [
            [
                c["at"][:10],
                c["policy"],
                c["kind"] + ("" if c["substantive"] else " (cosmetic)"),
                c["summary"]
                + (
                    f"\n{c['excerpt']['section']}: {c['excerpt']['text']}"
                    if c.get("excerpt")
                    else ""
                ),
                window_text(c),
            ]
            for c in items
        ],
    )


@cli.command()
@click.argument("query")
@click.option("--policy", "name", help="Only this policy.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def search(obj: Context, query: str, name: str | None, limit: int, as_json: bool) -> None:
    """Full-text search of every version: snippets, and the dates the matching text was there."""
    import sqlite3

    from crawler.cite import replay_prefixes, version_evidence
    from db import store

    how = 'write words (all must appear), a "quoted phrase", or word* for a prefix'
    if not query.strip():
        raise click.BadParameter(f"an empty query; {how}", param_hint="QUERY")
    from db.queries import MAX_QUERY_TERMS, query_terms

    if query_terms(query) > MAX_QUERY_TERMS:
        raise click.BadParameter(
            f"more than {MAX_QUERY_TERMS} terms; narrow the query to the words that matter",
            param_hint="QUERY",
        )
    config, db = _config_and_db(obj)
    pid = _policy_id(db, config, name) if name else None
    try:
        hits = store.search(db, store.fts_query(query), pid, limit)
    except sqlite3.OperationalError:
        raise click.BadParameter(
            f"{query!r} is not a search query full-text search understands; {how}",
            param_hint="QUERY",
        ) from None
    ranges = store.present_ranges(db, hits)
    prefix = replay_prefixes(db, config.archive.url)
    results = [
        {
            "policy": h["policy"],
            "version": h["uid"],
            **version_evidence(db, h["id"], prefix(h["policy_id"])),
            "version_id": h["id"],
            "first_seen": h["first_seen"],
            "last_seen": h["last_seen"],
            "snippet": h["snippet"],
            "present": ranges.get(h["policy_id"], []),
            "order": h["order"],
        }
        for h in hits
    ]
    if as_json:
        _echo_json(results)
        return
    if not results:
        click.echo(f"no version mentions {query!r}")
        return
    if hits[0]["order"] == "newest":
        click.echo(
            f"more than {store.RANK_AT_MOST:,} versions match: the most recently recorded "
            "first (narrow the query, or add --policy, to rank them)"
        )
    _print_hits(hits, ranges)


def _print_hits(hits: list[dict[str, Any]], ranges: dict[int, list[dict[str, Any]]]) -> None:
    """Hits by policy: where the match was present, and up to three snippets each, the match
    highlighted in a terminal and plain when piped."""
    from rich.console import Console
    from rich.text import Text

    from db import store

    console = Console(highlight=False, soft_wrap=True)
    for policy_id in dict.fromkeys(h["policy_id"] for h in hits):
        mine = [h for h in hits if h["policy_id"] == policy_id]
        spans = ", ".join(store.range_text(r) for r in ranges[policy_id])
        console.print(Text(f"{mine[0]['policy']}: present {spans}", style="bold"))
        for hit in mine[:3]:
            line = Text(f"    {hit['uid']}: ")
            for n, part in enumerate(re.split(r"\[\[|\]\]", hit["snippet"])):
                line.append(part, style="reverse" if n % 2 else "")
            console.print(line)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def stats(obj: Context, as_json: bool) -> None:
    """What the database holds."""
    from db import store

    config, db = _config_and_db(obj)
    data = store.stats(db)
    if as_json:
        _echo_json(data)
        return
    lines = [f"database {config.database}: {data['database_bytes'] / 1e6:.1f} MB"]
    lines += [f"  {k}: {v}" for k, v in data["tables"].items()]
    lines.append(
        "  captures by state: "
        + ", ".join(f"{k} {v}" for k, v in sorted(data["captures_by_state"].items()))
    )
    ratio = data["stored_raw_bytes"] / data["raw_bytes"] if data["raw_bytes"] else 0
    lines.append(
        f"  raw bodies: {data['raw_bytes'] / 1e6:.1f} MB stored as "
        f"{data['stored_raw_bytes'] / 1e6:.1f} MB ({ratio:.0%})"
    )
    lines.append(
        f"  substantive changes {data['substantive_changes']}, pending alerts "
        f"{data['pending_alerts']}, open problems {data['open_problems']}"
    )
    click.echo("\n".join(lines))
