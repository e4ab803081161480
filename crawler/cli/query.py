"""Commands that read the database: policies, history, show, changes, search, stats."""

from __future__ import annotations

import json
import logging

import click

from crawler.cli.base import (
    Context,
    _config_and_db,
    _date_to_ts,
    _echo_json,
    _policy_id,
    _table,
    cli,
)

log = logging.getLogger("policytrail")


@cli.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def history(obj: Context, name: str, as_json: bool) -> None:
    """The versions of policy NAME, oldest first, with the change that brought each."""
    from db import store

    config, db = _config_and_db(obj)
    pid = _policy_id(db, config, name)
    versions = store.history_with_changes(db, pid)
    if as_json:
        fields = (
            "number",
            "first_seen",
            "last_seen",
            "snapshots",
            "words",
            "text_sha256",
            "change",
            "substantive",
        )
        _echo_json([{k: v[k] for k in fields} for v in versions])
        return
    _table(
        f"{name}: {len(versions)} versions",
        ["#", "first seen", "last seen", "snapshots", "words", "change"],
        [
            [
                str(v["number"]),
                v["first_seen"][:10],
                v["last_seen"][:10],
                str(v["snapshots"]),
                str(v["words"]),
                v["change"],
            ]
            for v in versions
        ],
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
@click.option("--at", "at", help="The text as it stood on this date (YYYY[-MM[-DD]]).")
@click.option("--version", "number", type=int, help="The text of version N.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def show(obj: Context, name: str, at: str | None, number: int | None, as_json: bool) -> None:
    """The text of policy NAME as it stood then (default: now), in the corpus format."""
    from crawler.archive import ArchiveEndpoint, timestamp_to_datetime
    from crawler.text.render import archive_provenance, live_provenance, render_with_provenance
    from db import store

    if at and number:
        raise click.UsageError("give --at or --version, not both")
    end = _date_to_ts(at, "--at", end=True) if at else "99999999999999"
    config, db = _config_and_db(obj)
    pid = _policy_id(db, config, name)
    versions = store.history(db, pid)
    if not versions:
        raise click.ClickException(f"{name} has no version yet; run `policytrail backfill {name}`")
    if number is not None:
        if not 1 <= number <= len(versions):
            raise click.BadParameter(
                f"there are versions 1 to {len(versions)}", param_hint="--version"
            )
        version = versions[number - 1]
    else:
        assert end is not None
        vid = store.version_in_force(db, pid, end)
        if vid is None:
            raise click.BadParameter(f"no version was captured by {at}", param_hint="--at")
        version = next(v for v in versions if v["id"] == vid)
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
        _echo_json({**version, "provenance": line, "text": text})
        return
    click.echo(render_with_provenance(line, text), nl=False)


@cli.command()
@click.option("--since", help="Only changes from this date (YYYY[-MM[-DD]]).")
@click.option("--policy", "name", help="Only this policy.")
@click.option("--substantive", is_flag=True, help="Only substantive changes.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def changes(
    obj: Context, since: str | None, name: str | None, substantive: bool, as_json: bool
) -> None:
    """Changes, newest first, with their section summaries."""
    from db import store

    config, db = _config_and_db(obj)
    pid = _policy_id(db, config, name) if name else None
    start = _date_to_ts(since, "--since")
    items = [
        c
        for c in store.changes(db, pid, store.ts_iso(start) if start else None, substantive)
        if c["kind"] != "technical"
    ]
    if as_json:
        for item in items:
            item["sections"] = json.loads(item["sections"] or "[]")
        _echo_json(items)
        return
    _table(
        f"{len(items)} changes",
        ["date", "policy", "kind", "summary"],
        [
            [
                c["at"][:10],
                c["policy"],
                c["kind"] + ("" if c["substantive"] else " (cosmetic)"),
                c["summary"],
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

    from db import store

    config, db = _config_and_db(obj)
    pid = _policy_id(db, config, name) if name else None
    try:
        hits = store.search(db, store.fts_query(query), pid, limit)
    except sqlite3.OperationalError as exc:
        raise click.BadParameter(
            f"{query!r} is not a search query SQLite understands ({exc}); "
            'try plain words or a "quoted phrase"',
            param_hint="QUERY",
        ) from None
    by_policy: dict[int, set[int]] = {}
    for hit in hits:
        by_policy.setdefault(hit["policy_id"], set()).add(hit["id"])
    ranges: dict[int, list[dict[str, str | None]]] = {}
    for policy_id, matching in by_policy.items():
        merged: list[dict[str, str | None]] = []
        previous_matched = False
        for version_id, start, until in store.presence(db, policy_id):
            if version_id in matching:
                if previous_matched and merged:
                    merged[-1]["until"] = store.ts_iso(until) if until else None
                else:
                    merged.append(
                        {
                            "from": store.ts_iso(start),
                            "until": store.ts_iso(until) if until else None,
                        }
                    )
                previous_matched = True
            else:
                previous_matched = False
        ranges[policy_id] = merged
    results = [
        {
            "policy": h["policy"],
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
    for policy_id, _ in by_policy.items():
        policy_name = next(h["policy"] for h in hits if h["policy_id"] == policy_id)
        spans = ", ".join(
            f"{(r['from'] or '')[:10]} → {(r['until'] or 'now')[:10]}" for r in ranges[policy_id]
        )
        click.echo(f"{policy_name}: present {spans}")
        for hit in [h for h in hits if h["policy_id"] == policy_id][:3]:
            click.echo(f"    {hit['first_seen'][:10]}: {hit['snippet']}")


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
