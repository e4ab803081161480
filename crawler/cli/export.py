"""`policytrail export`: every version as files in the corpus format, JSON lines or CSV."""

from __future__ import annotations

import csv
import json
import logging
import re
from pathlib import Path
from typing import Any

import click

from crawler.cli.base import Context, _config_and_db, _policy_id, cli, plural

log = logging.getLogger("policytrail")


def _safe_part(value: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", value).strip("._") or "_"
    return cleaned[:100]


FIELDS = [
    "policy",
    "url",
    "kind",
    "uid",
    "number",
    "first_seen",
    "last_seen",
    "snapshots",
    "words",
    "text_sha256",
    "title",
    "summary",
    "first_capture",
]
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@cli.command()
@click.argument("target", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "jsonl", "csv", "git"]),
    help="md (default), jsonl, csv or git; a TARGET ending in .csv or .jsonl sets it too.",
)
@click.option("--policy", "name", help="Only this policy.")
@click.pass_obj
def export(obj: Context, target: Path, fmt: str | None, name: str | None) -> None:
    """Write every version: md as TARGET/<domain>/<kind>/<YYYY-MM-DD>.md in the corpus format
    (a second version first seen the same day adds its id's hash); jsonl and csv as one row
    per version (stable id, dates, summary, archived capture) into TARGET/versions.<fmt>, or
    into TARGET itself when it names a .jsonl or .csv file; git as a repository with one
    commit per step of each policy's timeline, committed at the capture's date, one file per
    site and kind (`l/li/lin/linux.org/privacy.md`), so `git log -p FILE` is its history. A
    rerun rewrites the same files (and the same commits)."""
    from crawler.cite import replay_prefixes, version_evidence
    from db import store

    suffix = target.suffix.lower().lstrip(".")
    fmt = fmt or (suffix if suffix in ("csv", "jsonl") else "md")
    config, db = _config_and_db(obj)
    if fmt == "git":
        from crawler.cli.export_git import export_git

        if name:
            raise click.UsageError("--format git exports every policy; leave out --policy")
        commits = export_git(config, db, target.resolve())
        click.echo(
            f"exported {plural(commits, 'commit')} to the git repository {target.resolve()}; "
            "`git log -p -- FILE` shows a policy's history"
        )
        return
    pid = _policy_id(db, config, name) if name else None
    items = store.export_rows(db, pid)
    prefix = replay_prefixes(db, config.archive.url)
    for item in items:
        first = version_evidence(db, item["id"], prefix(item["policy_id"]))["first_capture"]
        item["first_capture"] = first["link"] if first else ""
    if fmt in ("jsonl", "csv"):
        path = target if suffix == fmt else target / f"versions.{fmt}"
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_rows(path, fmt, items)
        click.echo(f"exported {plural(len(items), 'version')} to {path}")
        return
    written = _write_markdown(config, db, target.resolve(), items)
    click.echo(f"exported {plural(written, 'version')} to {target.resolve()}")


def _write_rows(path: Path, fmt: str, items: list[dict[str, Any]]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as out:
        if fmt == "jsonl":
            for item in items:
                row = {**{k: item[k] for k in FIELDS}, "text": item["text"]}
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            writer = csv.DictWriter(out, fieldnames=FIELDS, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(items)
    tmp.replace(path)


def _write_markdown(config: Any, db: Any, root: Path, items: list[dict[str, Any]]) -> int:
    """One file per version, named by the day it was first seen (and its id's hash when two
    versions in one folder share a day): the same names on every run."""
    from collections import Counter

    from crawler.archive import ArchiveEndpoint, timestamp_to_datetime
    from crawler.text import host_of
    from crawler.text.render import archive_provenance, live_provenance, render_with_provenance
    from db import store

    root.mkdir(parents=True, exist_ok=True)
    endpoint = ArchiveEndpoint.from_url(config.archive.url)
    placed = []
    for item in items:
        folder = (root / _safe_part(host_of(item["url"])) / _safe_part(item["kind"])).resolve()
        day = item["first_seen"][:10]
        if root not in folder.parents or not DAY.fullmatch(day):
            raise click.ClickException(f"refusing to write outside {root}: {folder} {day!r}")
        placed.append((folder, day, item))
    days = Counter((folder, day) for folder, day, _ in placed)
    for folder, day, item in placed:
        folder.mkdir(parents=True, exist_ok=True)
        stem = day if days[(folder, day)] == 1 else f"{day}-{item['text_sha256'][:8]}"
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
        (folder / f"{stem}.md").write_text(
            render_with_provenance(line, item["text"]), encoding="utf-8"
        )
    return len(placed)
