"""Commands on sites: add-site, sites (their documents and URL segments; `sites import FILE`
for a list of domains) and discover (each site's documents in the archive, period by period).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from crawler.cli.base import Context, _date_to_ts, _echo_json, _errors, _table, cli, plural
from crawler.config import SITE_KINDS, Config

KINDS_OPTION = click.option(
    "--kinds",
    default="privacy",
    show_default=True,
    help=f"The documents wanted, comma-separated: {', '.join(SITE_KINDS)}.",
)


def _kinds(value: str) -> tuple[str, ...]:
    kinds = tuple(k.strip() for k in value.split(",") if k.strip())
    bad = [k for k in kinds if k not in SITE_KINDS]
    if bad or not kinds:
        raise click.BadParameter(
            f"{bad[0] if bad else value!r} is not one of {', '.join(SITE_KINDS)}",
            param_hint="--kinds",
        )
    return kinds


def _sync(config: Config, db: Any) -> None:
    """The config's [[site]] tables into the database (imported sites live only there)."""
    from db import store

    now = datetime.now(UTC)
    for site in config.sites:
        store.upsert_site(db, site.domain, site.kinds, now, homepage=site.homepage, source="config")


def _chosen(db: Any, domains: tuple[str, ...]) -> list[dict[str, Any]]:
    """The sites named (all when none is), or a one-line error naming one that is unknown."""
    from crawler.config import normalize_domain
    from db import store

    wanted = [normalize_domain(d) or d for d in domains]
    found = store.list_sites(db, wanted)
    missing = sorted(set(wanted) - {s["domain"] for s in found})
    if missing:
        raise click.ClickException(
            f"no site {missing[0]!r}; add it with `policytrail add-site {missing[0]}` or "
            "`policytrail sites import FILE`"
        )
    return found


@cli.command("add-site")
@click.argument("domain")
@KINDS_OPTION
@click.option("--homepage", help="The homepage's URL, when it is not http://DOMAIN/.")
@click.pass_obj
def add_site(obj: Context, domain: str, kinds: str, homepage: str | None) -> None:
    """Follow a site's documents (its privacy policy, terms...) wherever they move: a [[site]]
    table in the config. Then `policytrail discover` finds them in the archive."""
    from crawler.config import add_site as add

    with _errors():
        site = add(obj.config_path, domain, _kinds(kinds), homepage)
    click.echo(
        f"added site {site.domain} ({', '.join(site.kinds)}) to {obj.config_path}; "
        f"run `policytrail discover {site.domain}` to find its documents in the archive"
    )


def _read_list(path: Path) -> Iterator[tuple[int, str, int | None]]:
    """(line number, domain, rank) from a Tranco-style `rank,domain` CSV or a list of domains;
    a header, blank lines and # comments are passed over."""
    with path.open(encoding="utf-8-sig", errors="replace") as lines:
        for number, line in enumerate(lines, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            fields = [f.strip().strip('"') for f in line.replace(";", ",").split(",")]
            rank: int | None = None
            if len(fields) >= 2 and fields[0].isdigit():
                rank, value = int(fields[0]), fields[1]
            else:
                value = fields[0]
            yield number, value, rank


def _import(obj: Context, path: Path, kinds: tuple[str, ...]) -> None:
    from crawler.config import normalize_domain
    from db import store

    if not path.is_file():
        raise click.ClickException(f"{path}: no such file; give a CSV (rank,domain) or a list")
    bad: list[tuple[int, str]] = []

    def entries() -> Iterator[tuple[str, int | None]]:
        for number, value, rank in _read_list(path):
            domain = normalize_domain(value)
            if domain is None:
                if not (number == 1 and not bad):  # a header line is no error
                    bad.append((number, value))
                continue
            yield domain, rank

    with _errors():
        db = store.connect(obj.config.database)
    started = time.monotonic()
    added, known = store.import_sites(db, entries(), kinds, datetime.now(UTC))
    if added + known == 0:
        raise click.ClickException(
            f"{path}: no domain found; give one per line, or rank,domain (a Tranco list)"
        )
    if bad:
        number, value = bad[0]
        click.echo(
            f"{path}:{number}: {value!r} is not a domain; skipped "
            f"({plural(len(bad), 'line')} in all)",
            err=True,
        )
    click.echo(
        f"imported {plural(added, 'site')} from {path} ({known} known already) in "
        f"{time.monotonic() - started:.1f} s; `policytrail discover` finds their documents"
    )


def site_report(db: Any, site: dict[str, Any]) -> dict[str, Any]:
    """What `sites --json` prints for one site."""
    from crawler.pipeline.segments import build_segments, document_name
    from db import store

    documents, gaps = [], []
    policies = {d["kind"]: d for d in store.site_documents(db, site["id"])}
    for kind in site["kinds"]:
        timeline = build_segments(store.observations(db, site["id"], kind))
        pid = policies[kind]["policy_id"] if kind in policies else None
        segments = store.url_segments(db, pid) if pid is not None else []
        documents.append(
            {
                "kind": kind,
                "policy": policies[kind]["policy"] if kind in policies else None,
                "name": document_name(site["domain"], kind),
                "segments": [
                    {
                        "url": s["url"],
                        "from": store.ts_iso(s["from_ts"]),
                        "to": store.ts_iso(s["to_ts"]) if s["to_ts"] else None,
                        "evidence": s["evidence"],
                    }
                    for s in segments
                ],
                "pending_move": timeline.pending,
            }
        )
        gaps += [
            {
                "kind": kind,
                "from": store.ts_iso(g["from"]),
                "to": store.ts_iso(g["to"]),
                "code": g["code"],
                "reason": g["reason"],
            }
            for g in timeline.gaps
        ]
    return {"domain": site["domain"], "rank": site["rank"], "documents": documents, "gaps": gaps}


@cli.command()
@click.argument("domains", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@KINDS_OPTION
@click.pass_obj
def sites(obj: Context, domains: tuple[str, ...], as_json: bool, kinds: str) -> None:
    """Each site's documents and their URL segments, with the gaps and their reasons (all
    sites, or DOMAINS). `policytrail sites import FILE [--kinds privacy,terms]` adds the sites
    of a list (a Tranco `rank,domain` CSV, or one domain per line) to the database."""
    from db import store

    if domains[:1] == ("import",):
        if len(domains) != 2:
            raise click.UsageError("usage: policytrail sites import FILE [--kinds privacy,terms]")
        _import(obj, Path(domains[1]), _kinds(kinds))
        return
    with _errors():
        config = obj.config
        db = store.connect(config.database)
    _sync(config, db)

    found = _chosen(db, domains)
    reports = [site_report(db, site) for site in found]
    if as_json:
        _echo_json(reports)
        return
    rows_ = []
    for report in reports:
        for document in report["documents"]:
            for segment in document["segments"] or [{"url": "-", "from": "", "to": None}]:
                rows_.append(
                    [
                        report["domain"],
                        document["kind"],
                        segment["url"],
                        (segment["from"] or "")[:10],
                        (segment["to"] or "now")[:10] if segment["from"] else "",
                    ]
                )
        for gap in report["gaps"]:
            rows_.append(
                [
                    report["domain"],
                    gap["kind"],
                    f"gap: {gap['reason']}",
                    gap["from"][:10],
                    gap["to"][:10],
                ]
            )
    _table(f"{plural(len(reports), 'site')}", ["site", "kind", "URL", "from", "to"], rows_)


def _periods(config: Config, from_date: str | None, to_date: str | None, every: str) -> Any:
    from crawler.archive import timestamp_to_datetime
    from crawler.config import parse_every
    from crawler.pipeline.discover import periods

    try:
        months = parse_every(every)
    except Exception as exc:
        raise click.BadParameter(str(exc), param_hint="--every") from None
    start = _date_to_ts(from_date or config.discover.since, "--from") or "19960101000000"
    end = _date_to_ts(to_date, "--to", end=True)
    first = timestamp_to_datetime(start[:8])
    last = timestamp_to_datetime(end[:8]) if end else datetime.now(UTC)
    if first > last:
        raise click.BadParameter(f"--from {from_date} is after --to {to_date}", param_hint="--from")
    return months, periods(first, last, months)


@cli.command()
@click.argument("domains", nargs=-1)
@click.option("--from", "from_date", help="First period (YYYY[-MM]); default: [discover] since.")
@click.option("--to", "to_date", help="Last period (YYYY[-MM]); default: now.")
@click.option("--every", default=None, help="Period length: 6m (default), 3m, 1y...")
@click.option("--plan", is_flag=True, help="Print the request budget and stop.")
@click.option(
    "--workers", type=click.IntRange(1, 64), help="Sites at once (default: archive workers)."
)
@click.pass_obj
def discover(
    obj: Context,
    domains: tuple[str, ...],
    from_date: str | None,
    to_date: str | None,
    every: str | None,
    plan: bool,
    workers: int | None,
) -> None:
    """Find each site's documents in the archive (all sites, or DOMAINS): per period, the
    archived homepage, its link to each document, the page classified; the document's URL over
    time becomes its segments (see `policytrail sites`). Resumable: a rerun does only what is
    missing. Then `policytrail backfill` records every version along the segments."""
    from crawler.archive import Transport
    from crawler.archive.ratelimit import Limiters
    from crawler.http import build_client
    from crawler.pipeline.discover import discover_sites
    from crawler.pipeline.discover import plan as make_plan
    from db import store

    with _errors():
        config = obj.config
        db = store.connect(config.database)
    _sync(config, db)
    months, all_periods = _periods(config, from_date, to_date, every or config.discover.every)
    chosen = _chosen(db, domains)
    if not chosen:
        raise click.ClickException(
            f"{config.path}: no sites; add one with `policytrail add-site DOMAIN` or import a "
            "list with `policytrail sites import FILE`"
        )
    budget = make_plan(db, chosen, config.archive, all_periods)
    hours, rest = divmod(int(budget.seconds), 3600)
    click.echo(
        f"discover: {plural(budget.sites, 'site')} to do, {budget.periods} site-periods "
        f"({months}-month periods); about {budget.cdx_requests} CDX queries and at most "
        f"{budget.playbacks} playbacks; the archive's limits ({config.archive.cdx_per_minute:g} "
        f"CDX/min, {config.archive.playback_per_second:g} playbacks/s) imply at least "
        f"{hours}:{rest // 60:02d}:{rest % 60:02d}",
        err=True,
    )
    if plan:
        return
    started = time.monotonic()
    done = [0]

    def progress(site: dict[str, Any], report: Any, moved: list[str]) -> None:
        done[0] += 1
        elapsed = time.monotonic() - started
        eta = elapsed / done[0] * (budget.sites - done[0])
        state = (
            f"error: {report.error}"
            if report.error
            else (
                f"{report.found}/{report.periods} found, {report.cdx_requests} CDX, "
                f"{report.playbacks} playbacks"
            )
        )
        click.echo(
            f"[{done[0]}/{budget.sites}] {site['domain']}: {state}"
            + (f"; moved {'; '.join(moved)}" if moved else "")
            + f" · ETA {int(eta) // 60}:{int(eta) % 60:02d}",
            err=True,
        )

    limiters = Limiters(config.archive.cdx_per_minute, config.archive.playback_per_second)
    with build_client(config) as client:
        transport = Transport(client, limiters, retries=config.archive.retries)
        with _errors():
            reports = discover_sites(
                db,
                transport,
                config.archive,
                chosen,
                all_periods,
                datetime.now(UTC),
                workers=workers,
                progress=progress,
            )
    errors = [r for r in reports if r.error or r.failed]
    click.echo(
        f"discover: {plural(len(reports), 'site')} in {time.monotonic() - started:.1f} s, "
        f"{sum(r.cdx_requests for r in reports)} CDX queries, "
        f"{sum(r.playbacks for r in reports)} playbacks, "
        f"{sum(r.processing_ms for r in reports) / max(1, sum(r.homepages for r in reports)):.1f}"
        " ms of our processing per homepage"
        + (f", {len(errors)} failed (rerun to retry)" if errors else "")
        + "; `policytrail sites` shows the documents, `policytrail backfill` records them"
    )
    if errors:
        sys.exit(1)
