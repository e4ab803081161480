"""Commands that fill the database from the archive: add, backfill, reextract, demo."""

from __future__ import annotations

import logging
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from crawler.cli.base import Context, _date_to_ts, _errors, _open_db, _tracked, cli, plural
from crawler.cli.query import history
from crawler.config import KINDS, Config, add_policy
from crawler.errors import ConfigError, CrawlerError
from crawler.text.diff import ignore_patterns

log = logging.getLogger("policytrail")


@cli.command()
@click.argument("url")
@click.option("--name", help="A short unique name (default: from the domain and kind).")
@click.option("--kind", type=click.Choice(KINDS), help="What the document is (default: guessed).")
@click.option(
    "--fetcher",
    type=click.Choice(["auto", "http", "browser"]),
    help="How to fetch the live page (default: [browser] fetcher, auto: see `policytrail fetch`).",
)
@click.pass_obj
def add(obj: Context, url: str, name: str | None, kind: str | None, fetcher: str | None) -> None:
    """Track URL: append a [[policy]] table to the config file, keeping its comments."""
    with _errors():
        policy = add_policy(obj.config_path, url, name=name, kind=kind, fetcher=fetcher)
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
    from crawler.archive import Transport
    from crawler.archive.ratelimit import Limiters
    from crawler.archive.sampling import parse_strategy
    from crawler.http import build_client
    from crawler.live.browser import BrowserFetcher
    from crawler.pipeline import backfill as run_backfill
    from db import store

    from_ts = _date_to_ts(from_date, "--from")
    to_ts = _date_to_ts(to_date, "--to", end=True)
    if from_ts and to_ts and from_ts > to_ts:
        raise click.BadParameter(
            f"--from {from_date} is after --to {to_date}; swap them", param_hint="--from"
        )
    try:
        parse_strategy(strategy)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--strategy") from None
    with _errors():
        config = obj.config
        db = store.connect(config.database)
        policies = _tracked(config, db, names)
        if not policies:
            raise ConfigError(
                f"{config.path}: no [[policy]] tables and no discovered sites; add one with "
                "`policytrail add URL`, or a site with `policytrail add-site DOMAIN` and run "
                "`policytrail discover`"
            )
    limiters = Limiters(config.archive.cdx_per_minute, config.archive.playback_per_second)
    update, stop = _progress_printer("captures")
    failures = 0
    totals = {"captures": 0, "fetched": 0, "versions": 0, "new_versions": 0, "playback": 0}
    with build_client(config) as client, BrowserFetcher(config.browser) as browser:
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
                        ignore=ignore_patterns(config.ignore, policy.ignore),
                        strategy=strategy,
                        browser=browser if config.fetcher_for(policy) != "http" else None,
                        replay_resources=config.browser.replay_resources,
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
    _write_feeds(config, db)
    click.echo(
        f"backfill: {plural(len(policies), 'policy', 'policies')}, {totals['captures']} captures found, "
        f"{totals['playback']} playback requests, {totals['fetched']} bodies fetched, "
        f"{totals['new_versions']} new versions ({totals['versions']} in all)"
        + (f", {failures} with failures (rerun to retry)" if failures else "")
    )
    if failures:
        sys.exit(1)


def _write_feeds(config: Config, db: Any) -> None:
    """The feed sinks' files follow the database after a backfill too, not only after alerts."""
    from crawler.watch.feeds import write_feeds

    for sink in config.alerts:
        if sink.type == "feed":
            write_feeds(db, sink, config.path.parent, sink.threshold == "substantive")


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
        result = run_reextract(
            db, policy, datetime.now(UTC), ignore_patterns(config.ignore, policy.ignore)
        )
        click.echo(
            f"{policy.name}: {result.snapshots} snapshots, {result.texts_changed} "
            f"captures with a new text"
            + (", technical change recorded" if result.technical_change else "")
        )
    del store


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
