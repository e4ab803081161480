"""The `policytrail` command: the only module that parses argv, prints or exits.

Library errors (CrawlerError) become one-line click errors; exit codes: 0 ok, 1 runtime error,
2 usage.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from crawler import __version__
from crawler.config import KINDS, Config, Policy, add_policy, load_config
from crawler.errors import ConfigError, CrawlerError

log = logging.getLogger("policytrail")
DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


class Context:
    def __init__(self, config_path: Path) -> None:
        self.config_path = config_path
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except CrawlerError as exc:
        raise _fail(exc) from exc


def _date_to_ts(value: str | None, option: str, end: bool = False) -> str | None:
    """YYYY, YYYY-MM or YYYY-MM-DD → a 14-digit timestamp bound (inclusive)."""
    if value is None:
        return None
    match = DATE_RE.match(value.strip())
    if not match:
        raise click.BadParameter(
            f"{value!r} is not a date; write YYYY, YYYY-MM or YYYY-MM-DD", param_hint=option
        )
    year, month, day = match.groups()
    try:
        datetime(int(year), int(month or 1), int(day or 1))
    except ValueError as exc:
        raise click.BadParameter(
            f"{value!r} is not a valid date ({exc})", param_hint=option
        ) from None
    stamp = year + (month or "") + (day or "")
    return stamp.ljust(14, "9" if end else "0") if not end else _end_bound(stamp)


def _end_bound(stamp: str) -> str:
    # Pad an end date to the last second it covers; month/day padding stays valid for CDX.
    if len(stamp) == 4:
        return stamp + "1231235959"
    if len(stamp) == 6:
        return stamp + "31235959"
    return stamp + "235959"


@click.group()
@click.version_option(__version__, prog_name="policytrail")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=Path("config.toml"),
    show_default=True,
    help="The config file: database, archive, tracked policies.",
)
@click.option("-v", "--verbose", count=True, help="More log lines (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, config_path: Path, verbose: int) -> None:
    """Follow how privacy policies and terms of service change over time."""
    level = logging.WARNING - 10 * verbose if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx.obj = Context(config_path)


@cli.command()
@click.argument("url")
@click.option("--name", help="A short unique name (default: from the domain and kind).")
@click.option("--kind", type=click.Choice(KINDS), help="What the document is (default: guessed).")
@click.pass_obj
def add(obj: Context, url: str, name: str | None, kind: str | None) -> None:
    """Track URL: append a [[policy]] table to the config file, keeping its comments."""
    with _errors():
        policy = add_policy(obj.config_path, url, name=name, kind=kind)
    click.echo(f"added {policy.name} ({policy.kind}): {policy.url} to {obj.config_path}")


def _progress_printer(total_label: str) -> tuple[Callable[[str, Any], None], Callable[[], None]]:
    """A rich progress bar on a terminal; plain log lines otherwise."""
    if sys.stderr.isatty():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            transient=True,
        )
        progress.start()
        tasks: dict[str, Any] = {}

        def update(event: str, result: Any) -> None:
            task = tasks.get(result.policy)
            if task is None:
                task = tasks[result.policy] = progress.add_task(
                    result.policy, total=None, status=""
                )
            settled = result.fetched + result.reused + result.skipped + result.failed
            progress.update(
                task,
                completed=settled,
                total=max(result.captures_found, settled),
                status=f"captures {result.captures_found} · played back {result.fetched} · "
                f"reused {result.reused} · skipped {result.skipped} · failed {result.failed}",
            )

        return update, progress.stop

    def plain(event: str, result: Any) -> None:
        if event in ("planned", "done"):
            click.echo(
                f"{result.policy}: {event}: captures found {result.captures_found}, "
                f"fetched {result.fetched}, reused {result.reused}, "
                f"skipped {result.skipped}, failed {result.failed}",
                err=True,
            )

    return plain, lambda: None


@cli.command()
@click.argument("names", nargs=-1)
@click.option("--from", "from_date", help="Only captures from this date (YYYY[-MM[-DD]]).")
@click.option("--to", "to_date", help="Only captures up to this date (YYYY[-MM[-DD]]).")
@click.option(
    "--strategy",
    default="all",
    show_default=True,
    help="Which captures to play back: all (every distinct digest), bisect (only "
    "where the text changed, guided by the CDX record lengths; bisect:90d, the default gap, "
    "sets the longest stretch left unsampled), or interval:6m (one capture per period).",
)
@click.pass_obj
def backfill(
    obj: Context,
    names: tuple[str, ...],
    from_date: str | None,
    to_date: str | None,
    strategy: str,
) -> None:
    """Record the whole archived history of each policy (all, or NAMES) in the database."""
    from crawler.http import build_client
    from crawler.pipeline import backfill as run_backfill
    from crawler.ratelimit import Limiters
    from crawler.sampling import parse_strategy
    from crawler.wayback import Transport
    from db import store

    from_ts = _date_to_ts(from_date, "--from")
    to_ts = _date_to_ts(to_date, "--to", end=True)
    try:
        parse_strategy(strategy)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--strategy") from None
    with _errors():
        config = obj.config
        policies = config.select_policies(names)
        if not policies:
            raise ConfigError(
                f"{config.path}: no [[policy]] tables; add one with `policytrail add URL`"
            )
    db = store.connect(config.database)
    limiters = Limiters(config.archive.cdx_per_minute, config.archive.playback_per_second)
    update, stop = _progress_printer("captures")
    failures = 0
    totals = {"captures": 0, "fetched": 0, "versions": 0, "new_versions": 0, "playback": 0}
    with build_client(config) as client:
        transport = Transport(client, limiters, retries=config.archive.retries)
        try:
            for policy in policies:
                try:
                    result = run_backfill(
                        db,
                        transport,
                        config.archive,
                        policy,
                        datetime.now(UTC),
                        from_ts=from_ts,
                        to_ts=to_ts,
                        progress=update,
                        ignore=config.ignore_for(policy),
                        strategy=strategy,
                    )
                except CrawlerError as exc:
                    failures += 1
                    click.echo(f"{policy.name}: {exc}", err=True)
                    continue
                totals["captures"] += result.captures_found
                totals["fetched"] += result.fetched
                totals["versions"] += result.versions_after
                totals["new_versions"] += result.new_versions
                totals["playback"] += result.playback_requests
                failures += 1 if result.failed else 0
        finally:
            stop()
    click.echo(
        f"backfill: {len(policies)} policies, {totals['captures']} captures found, "
        f"{totals['playback']} playback requests, {totals['fetched']} bodies fetched, "
        f"{totals['new_versions']} new versions ({totals['versions']} in all)"
        + (f", {failures} with failures (rerun to retry)" if failures else "")
    )
    if failures:
        sys.exit(1)


FORMATS = click.Choice(["text", "json", "markdown", "html"])


def _open_db(config: Config) -> Any:
    from db import store

    if not config.database.exists():
        raise click.ClickException(
            f"{config.database}: no database yet; run `policytrail backfill` first"
        )
    return store.connect(config.database)


def _config_and_db(obj: Context) -> tuple[Config, Any]:
    """The config (one-line errors) and its existing database."""
    with _errors():
        config = obj.config
    return config, _open_db(config)


def _policy_id(db: Any, config: Config, name: str) -> int:
    from db import store

    pid = store.policy_id(db, name)
    if pid is None:
        raise click.ClickException(
            f"no policy named {name!r} in {config.database}; run "
            f"`policytrail backfill {name}` first"
        )
    return pid


def _resolve_version(db: Any, pid: int, value: str, option: str) -> dict[str, Any]:
    """A version number, or a date (the version in force at the end of that day)."""
    from db import store

    versions = store.history(db, pid)
    if value.isdigit() and len(value) < 4:
        number = int(value)
        if not 1 <= number <= len(versions):
            raise click.BadParameter(f"there are versions 1 to {len(versions)}", param_hint=option)
        return versions[number - 1]
    end = _date_to_ts(value, option, end=True)
    assert end is not None
    in_force = None
    for timestamp, version_id in store.capture_timeline(db, pid):
        if timestamp > end:
            break
        in_force = version_id
    if in_force is None:
        raise click.BadParameter(f"no version was captured by {value}", param_hint=option)
    return next(v for v in versions if v["id"] == in_force)


def _print_diff(
    result: Any, fmt: str, title: str, old: dict[str, Any], new: dict[str, Any]
) -> None:
    from crawler.report import KIND_MARKS, _folded, diff_to_html, diff_to_json, diff_to_markdown

    if fmt == "json":
        click.echo(diff_to_json(result, old, new))
        return
    if fmt == "markdown":
        click.echo(diff_to_markdown(result, title), nl=False)
        return
    if fmt == "html":
        click.echo(diff_to_html(result, title), nl=False)
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False)
    console.print(Text(title, style="bold"))
    console.print(Text(result.summary, style="italic"))
    for item in _folded(result.changes):
        if isinstance(item, int):
            console.print(
                Text(f"  … {item} unchanged section{'s' if item > 1 else ''}", style="dim")
            )
            continue
        heading = item.new_heading if item.new_heading is not None else item.old_heading
        if item.kind == "renamed":
            heading = f"{item.old_heading} → {item.new_heading}"
        console.print()
        console.print(
            Text(
                f"{KIND_MARKS.get(item.kind, '')} {heading or '(preamble)'}  "
                f"[{item.kind}, {item.significance}, +{item.words_added} "
                f"-{item.words_removed}]",
                style="bold cyan",
            )
        )
        if item.kind == "moved" and not item.modified:
            continue
        line = Text("  ")
        for op, part in item.redline:
            if not part:
                continue
            style = {"insert": "bold green", "delete": "red strike"}.get(op, "")
            if op == "equal" and len(part) > 300:
                part = part[:140] + " … " + part[-140:]
            line.append(part + " ", style=style)
        console.print(line)


def _table(title: str, columns: list[str], rows_: list[list[str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for i, column in enumerate(columns):
        table.add_column(column, overflow="fold", no_wrap=i == 0)
    for row in rows_:
        table.add_row(*row)
    Console().print(table)


def _echo_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@cli.command()
@click.argument("names", nargs=-1)
@click.pass_obj
def reextract(obj: Context, names: tuple[str, ...]) -> None:
    """Extract every stored snapshot again with this version's extractor (after an upgrade or a
    change of select/remove). A text that changes only by re-extraction is a technical change,
    never reported or alerted as a policy change."""
    from crawler.pipeline import reextract as run_reextract
    from db import store

    with _errors():
        config = obj.config
        policies = config.select_policies(names)
    db = _open_db(config)
    for policy in policies:
        result = run_reextract(db, policy, datetime.now(UTC), config.ignore_for(policy))
        click.echo(
            f"{policy.name}: {result.snapshots} snapshots, {result.texts_changed} "
            f"captures with a new text"
            + (", technical change recorded" if result.technical_change else "")
        )
    del store


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
    from crawler.render import archive_provenance, live_provenance, render_with_provenance
    from crawler.wayback import ArchiveEndpoint, timestamp_to_datetime
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


def _safe_part(value: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", value).strip("._") or "_"
    return cleaned[:100]


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["md", "jsonl", "csv"]), default="md", show_default=True
)
@click.option("--policy", "name", help="Only this policy.")
@click.pass_obj
def export(obj: Context, directory: Path, fmt: str, name: str | None) -> None:
    """Write every version: md as DIR/<domain>/<kind>/<YYYY-MM-DD>.md in the corpus format,
    jsonl and csv as one row per version with its metadata."""
    import csv

    from crawler.extract import host_of
    from crawler.render import archive_provenance, live_provenance, render_with_provenance
    from crawler.wayback import ArchiveEndpoint, timestamp_to_datetime
    from db import store

    config, db = _config_and_db(obj)
    pid = _policy_id(db, config, name) if name else None
    items = store.export_rows(db, pid)
    root = directory.resolve()
    root.mkdir(parents=True, exist_ok=True)
    fields = [
        "policy",
        "url",
        "kind",
        "number",
        "first_seen",
        "last_seen",
        "snapshots",
        "words",
        "text_sha256",
        "title",
    ]
    if fmt == "jsonl":
        with (root / "versions.jsonl").open("w", encoding="utf-8") as out:
            for item in items:
                out.write(
                    json.dumps(
                        {**{k: item[k] for k in fields}, "text": item["text"]}, ensure_ascii=False
                    )
                    + "\n"
                )
        click.echo(f"exported {len(items)} versions to {root / 'versions.jsonl'}")
        return
    if fmt == "csv":
        with (root / "versions.csv").open("w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(items)
        click.echo(f"exported {len(items)} versions to {root / 'versions.csv'}")
        return
    endpoint = ArchiveEndpoint.from_url(config.archive.url)
    written = 0
    for item in items:
        folder = (root / _safe_part(host_of(item["url"])) / _safe_part(item["kind"])).resolve()
        if root not in folder.parents:
            raise click.ClickException(f"refusing to write outside {root}: {folder}")
        folder.mkdir(parents=True, exist_ok=True)
        stem = item["first_seen"][:10]
        path = folder / f"{stem}.md"
        n = 2
        while path.exists():
            path = folder / f"{stem}-{n}.md"
            n += 1
        snapshot = store.first_snapshot(db, item["id"])
        if snapshot and snapshot["source"] == "live":
            line = live_provenance(
                snapshot["url"], item["kind"], timestamp_to_datetime(snapshot["timestamp"])
            )
        else:
            line = archive_provenance(
                snapshot["requested_url"] if snapshot else item["url"],
                item["kind"],
                item["first_timestamp"],
                endpoint.base,
                endpoint.is_internet_archive,
            )
        path.write_text(render_with_provenance(line, item["text"]), encoding="utf-8")
        written += 1
    click.echo(f"exported {written} versions to {root}")


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


@cli.command()
@click.argument("name")
@click.argument("a", required=False)
@click.argument("b", required=False)
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.pass_obj
def diff(obj: Context, name: str, a: str | None, b: str | None, fmt: str) -> None:
    """What changed in policy NAME between versions A and B, section by section.

    A and B are version numbers or dates (YYYY, YYYY-MM, YYYY-MM-DD: the version in force
    then); by default the last two versions."""
    from crawler.diff import diff_texts
    from db import store

    config, db = _config_and_db(obj)
    pid = _policy_id(db, config, name)
    if a is None:
        changes = [c for c in store.changes(db, pid) if c["kind"] == "change"]
        if not changes:
            raise click.ClickException(f"{name} has only one version so far: nothing to compare")
        versions = store.history(db, pid)
        old = next(v for v in versions if v["id"] == changes[0]["from_version_id"])
        new = next(v for v in versions if v["id"] == changes[0]["to_version_id"])
    else:
        old = _resolve_version(db, pid, a, "A")
        new = _resolve_version(db, pid, b, "B") if b else store.history(db, pid)[-1]
    ignore = next(
        (config.ignore_for(p) for p in config.policies if p.name == name),
        config.ignore_for(Policy(name, "http://x")),
    )
    result = diff_texts(
        store.version_text(db, old["id"]), store.version_text(db, new["id"]), ignore
    )
    title = (
        f"{name}: version {old['number']} ({old['first_seen'][:10]}) → version "
        f"{new['number']} ({new['first_seen'][:10]})"
    )
    fields = ("number", "first_seen", "last_seen", "text_sha256")
    _print_diff(result, fmt, title, {k: old[k] for k in fields}, {k: new[k] for k in fields})


def _read_text(path: Path) -> str:
    from crawler.extract import extract_any
    from crawler.pdf import is_pdf
    from crawler.render import render_text

    body = path.read_bytes()
    head = body[:2048].lstrip().lower()
    if (
        is_pdf(body)
        or path.suffix.lower() in (".html", ".htm", ".xhtml")
        or head.startswith((b"<!doctype", b"<html"))
    ):
        return render_text(extract_any(body))
    return body.decode("utf-8", errors="replace")


@cli.command("diff-files")
@click.argument("old", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
def diff_files(old: Path, new: Path, fmt: str) -> None:
    """Section-level diff of any two texts, HTML pages or PDFs."""
    from crawler.diff import diff_texts

    try:
        old_text, new_text = _read_text(old), _read_text(new)
    except CrawlerError as exc:
        raise click.ClickException(str(exc)) from exc
    result = diff_texts(old_text, new_text)
    _print_diff(result, fmt, f"{old} → {new}", {"file": str(old)}, {"file": str(new)})


@cli.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--url",
    "original",
    default="",
    help="The page's original URL (for links and the provenance line).",
)
@click.option("--timestamp", help="The 14-digit Wayback timestamp of the snapshot.")
@click.option("--kind", type=click.Choice(KINDS), default="privacy", show_default=True)
@click.option("--select", help="CSS selector of the policy's content.")
@click.option("--remove", help="CSS selector of parts to drop.")
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write each X.html as DIR/X.md instead of printing.",
)
def extract(
    files: tuple[Path, ...],
    original: str,
    timestamp: str | None,
    kind: str,
    select: str | None,
    remove: str | None,
    out_dir: Path | None,
) -> None:
    """Turn saved HTML pages into clean policy text (markdown with a provenance line)."""
    from crawler.extract import document_hints, extract_any
    from crawler.render import archive_provenance, render_text, render_with_provenance

    if timestamp and not re.fullmatch(r"\d{4,14}", timestamp):
        raise click.BadParameter(
            "write the 14-digit Wayback timestamp, e.g. 20180905001402", param_hint="--timestamp"
        )
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
    for path in files:
        try:
            document = extract_any(
                path.read_bytes(),
                base_url=original,
                select=select,
                remove=remove,
                document=document_hints(kind),
            )
        except CrawlerError as exc:
            raise click.ClickException(f"{path}: {exc}") from exc
        text = render_text(document)
        if original and timestamp:
            text = render_with_provenance(
                archive_provenance(
                    original, kind, timestamp.ljust(14, "0"), "https://web.archive.org"
                ),
                text,
            )
        if out_dir:
            (out_dir / (path.stem + ".md")).write_text(text, encoding="utf-8")
        else:
            click.echo(text, nl=False)


@cli.command()
@click.option(
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    help="Build the demo in this folder and keep it (default: a temporary folder).",
)
def demo(keep: Path | None) -> None:
    """Build a small WARC archive of a made-up policy, serve it with pywb on 127.0.0.1,
    backfill it into a fresh database and print its history."""
    try:
        from crawler.demo import PywbArchive, demo_config, write_warc
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise click.ClickException(
            f"the demo needs the demo extra: pip install 'policytrail[demo]' ({exc})"
        ) from exc

    with tempfile.TemporaryDirectory(prefix="policytrail-demo-") as tmp:
        folder = keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        click.echo(f"demo: writing WARC files and a pywb collection in {folder}")
        warc = write_warc(folder / "larkspur.warc.gz")
        archive = PywbArchive(folder / "pywb")
        try:
            archive.add_warcs(warc)
            archive.start()
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from exc
        with archive:
            click.echo(f"demo: pywb serves the archive at {archive.url}")
            config_path = demo_config(folder, archive.url)
            ctx = click.get_current_context()
            ctx.obj = Context(config_path)
            ctx.invoke(backfill, names=())
            ctx.invoke(history, name="larkspur-privacy", as_json=False)
        click.echo(
            f"demo: try `policytrail --config {config_path} history larkspur-privacy --json`"
            if keep
            else "demo: done (pass --keep DIR to keep the files)"
        )


@cli.command()
@click.option(
    "--tick",
    type=click.FloatRange(1, 3600),
    default=30,
    show_default=True,
    help="Seconds between looks at what is due.",
)
@click.pass_obj
def run(obj: Context, tick: float) -> None:
    """Run in the background: live checks, archive syncs and alert delivery, each policy on its
    schedule, until SIGTERM or Ctrl-C (which let the current write finish)."""
    from crawler.scheduler import run_forever
    from db import store

    with _errors():
        config = obj.config
        if not config.policies:
            raise ConfigError(
                f"{config.path}: no [[policy]] tables; add one with `policytrail add URL`"
            )
    store.connect(config.database).close()
    click.echo(
        f"policytrail run: {len(config.policies)} policies, {len(config.alerts)} alert "
        f"sinks, database {config.database}; Ctrl-C to stop",
        err=True,
    )
    run_forever(config, tick)
    click.echo("policytrail run: stopped", err=True)


@cli.command()
@click.argument("names", nargs=-1)
@click.option("--no-deliver", is_flag=True, help="Leave new alerts in the outbox.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def check(obj: Context, names: tuple[str, ...], no_deliver: bool, as_json: bool) -> None:
    """Check the live pages now (all policies, or NAMES), then deliver alerts."""
    from crawler.alerts import deliver
    from crawler.pipeline import check as check_policy
    from crawler.scheduler import Watcher
    from db import store

    with _errors():
        config = obj.config
        policies = config.select_policies(names)
    db = store.connect(config.database)
    now = datetime.now(UTC)
    results = []
    watcher = Watcher(config)
    with watcher._client_factory() as client:
        for policy in policies:
            result = check_policy(
                db,
                client,
                policy,
                now,
                failures_for_problem=config.schedule.failures,
                shrink=config.schedule.shrink,
                max_bytes=config.max_body_bytes,
                sinks=config.alerts,
                ignore=config.ignore_for(policy),
            )
            results.append(result)
    report = deliver(db, config, now) if config.alerts and not no_deliver else None
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "policy": r.policy,
                        "status": r.status,
                        "detail": r.detail,
                        "changes_new": r.changes_new,
                    }
                    for r in results
                ],
                indent=2,
            )
        )
    else:
        for r in results:
            click.echo(f"{r.policy}: {r.status}" + (f" ({r.detail})" if r.detail else ""))
        if report:
            click.echo(f"alerts: {report.delivered} delivered, {report.failed} to retry")
    if any(r.status == "failed" for r in results):
        sys.exit(1)


@cli.group(invoke_without_command=True)
@click.option("--pending", is_flag=True, help="Only alerts not delivered yet.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def alerts(ctx: click.Context, pending: bool, as_json: bool) -> None:
    """The alert outbox and its delivery state."""
    if ctx.invoked_subcommand:
        return
    from db import store

    config, db = _config_and_db(ctx.obj)
    items = store.list_alerts(db, pending_only=pending)
    if as_json:
        click.echo(json.dumps(items, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(items)} alerts")
    for column in ("id", "event", "policy", "sink", "state", "attempts", "next try", "last error"):
        table.add_column(column)
    for a in items:
        table.add_row(
            a["uid"][:15],
            a["event"],
            a["policy"],
            a["sink"],
            a["state"],
            str(a["attempts"]),
            a["next_try_at"] or "",
            (a["last_error"] or "")[:60],
        )
    Console().print(table)


@alerts.command("retry")
@click.pass_obj
def alerts_retry(obj: Context) -> None:
    """Deliver every pending alert now, whatever its backoff."""
    from crawler.alerts import deliver
    from db import store

    config, db = _config_and_db(obj)
    now = datetime.now(UTC)
    with store.writing(db):
        store.retry_alerts(db, now)
    report = deliver(db, config, now)
    click.echo(f"alerts: {report.delivered} delivered, {report.failed} still failing")
    for error in report.errors or []:
        click.echo(f"  {error}", err=True)
    if report.failed:
        sys.exit(1)


@cli.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on (127.0.0.1: this machine only).",
)
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True)
@click.pass_obj
def serve(obj: Context, host: str, port: int) -> None:
    """Read-only web pages: policies, timelines, versions, diffs, changes and search."""
    import uvicorn

    from crawler.web import create_app

    with _errors():
        config = obj.config
    if not config.database.exists():
        raise click.ClickException(
            f"{config.database}: no database yet; run `policytrail backfill` first"
        )
    from db import store

    store.connect(config.database).close()  # bring the schema up to date once, then read only
    click.echo(f"policytrail serve: http://{host}:{port}/ (read-only; Ctrl-C to stop)", err=True)
    uvicorn.run(create_app(config.database), host=host, port=port, log_level="warning")


def main() -> None:
    cli(prog_name="policytrail")


if __name__ == "__main__":  # pragma: no cover
    main()
