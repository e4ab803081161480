"""Commands that watch: run (the scheduler), check, alerts, and serve (the read-only web pages)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

import click

from crawler.cli.base import (
    Context,
    _config_and_db,
    _echo_json,
    _errors,
    _table,
    _tracked,
    cli,
    plural,
)
from crawler.errors import ConfigError
from crawler.text.diff import ignore_patterns

log = logging.getLogger("policytrail")


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
    from crawler.watch.scheduler import run_forever
    from db import store

    with _errors():
        config = obj.config
        if not config.policies:
            raise ConfigError(
                f"{config.path}: no [[policy]] tables; add one with `policytrail add URL`"
            )
        store.connect(config.database).close()
    click.echo(
        f"policytrail run: {plural(len(config.policies), 'policy', 'policies')}, "
        f"{plural(len(config.alerts), 'alert sink')}, database {config.database}; Ctrl-C to stop",
        err=True,
    )
    # A long-running job's log is its output: one line per check, sync and delivery.
    logging.getLogger("crawler.watch").setLevel(
        min(logging.INFO, logging.getLogger().getEffectiveLevel())
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
    from crawler.pipeline import check as check_policy
    from crawler.watch import deliver
    from crawler.watch.scheduler import Watcher
    from db import store

    with _errors():
        config = obj.config
        db = store.connect(config.database)
        policies = _tracked(config, db, names)
    now = datetime.now(UTC)
    results = []
    watcher = Watcher(config)
    with watcher._client_factory() as client, watcher.browser:
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
                ignore=ignore_patterns(config.ignore, policy.ignore),
                fetcher=config.fetcher_for(policy),
                browser=watcher.browser,
                browser_options=config.browser,
                allow_private=config.allow_private,
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
    from crawler.watch import deliver
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

    from crawler.web.app import create_app

    with _errors():
        config = obj.config
    from db import store

    with _errors():  # a policytrail database (never created here), its schema brought up to date
        store.connect(config.database, create=False).close()
    import socket

    try:  # a busy port is one line, not uvicorn's traceback
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); pick another with --port"
        ) from None
    site_url = next((a.site_url for a in config.alerts if a.type == "feed" and a.site_url), "")
    app = create_app(config.database, archive_url=config.archive.url, site_url=site_url)
    click.echo(f"policytrail serve: http://{host}:{port}/ (read-only; Ctrl-C to stop)", err=True)
    # SIGTERM stops it within seconds, whatever requests are still running.
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=3)


@cli.command()
@click.argument("url")
@click.option(
    "--fetcher",
    "fetchers",
    type=click.Choice(["auto", "http", "browser"]),
    multiple=True,
    help="Only these fetchers (repeatable; default: all three).",
)
@click.option("--select", help="CSS selector of the policy's content (the browser waits for it).")
@click.option(
    "--kind", type=click.Choice(["privacy", "terms", "cookies", "other"]), default="privacy"
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def fetch(
    obj: Context,
    url: str,
    fetchers: tuple[str, ...],
    select: str | None,
    kind: str,
    as_json: bool,
) -> None:
    """What each fetcher gets from URL: status, words, the fetcher auto ends up with, and the
    time it took; to decide how to configure a policy. Records nothing."""
    import time

    from crawler.config import Policy
    from crawler.config.checks import valid_selector
    from crawler.errors import CrawlerError
    from crawler.pipeline.fetching import fetch_page
    from crawler.pipeline.snapshots import _extract_for
    from crawler.text import render_text
    from crawler.text.shell import shell_reason
    from crawler.watch.scheduler import Watcher

    if select and not valid_selector(select):
        raise click.BadParameter(f"{select!r} is not a CSS selector", param_hint="--select")
    with _errors():
        config = obj.config
        from crawler.config.checks import _check_url

        _check_url(config.path, "URL", url)
    policy = Policy("fetch", url, kind, select=select)
    rows = []
    watcher = Watcher(config)
    with watcher._client_factory() as client, watcher.browser:
        for fetcher in fetchers or ("http", "browser", "auto"):
            started = time.monotonic()
            row: dict[str, Any] = {"fetcher": fetcher}
            try:
                got = fetch_page(
                    client,
                    watcher.browser,
                    policy,
                    fetcher,
                    {},
                    previous_words=None,
                    max_bytes=config.max_body_bytes,
                    options=config.browser,
                )
                result = got.result
                row.update(used=got.fetcher, status=result.status, escalated=got.escalated)
                document = _extract_for(policy, result.body, result.content_type, result.url)
                text = render_text(document)
                row["words"] = len(text.split())
                row["shell"] = shell_reason(result.body, row["words"], text)
                row["title"] = document.title
            except CrawlerError as exc:
                row["error"] = str(exc)
            row["seconds"] = round(time.monotonic() - started, 2)
            rows.append(row)
    if as_json:
        _echo_json(rows)
        return
    _table(
        url,
        ["fetcher", "used", "status", "words", "seconds", "note"],
        [
            [
                r["fetcher"],
                str(r.get("used", "")),
                str(r.get("status", "")),
                str(r.get("words", "")),
                f"{r['seconds']:.2f}",
                r.get("error")
                or (f"a shell: {r['shell']}" if r.get("shell") else "")
                or (f"escalated: {r['escalated']}" if r.get("escalated") else "ok"),
            ]
            for r in rows
        ],
    )
