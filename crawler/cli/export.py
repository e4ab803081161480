"""`policytrail export`: every version as files in the corpus format, JSON lines or CSV."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import click

from crawler.cli.base import Context, _config_and_db, _policy_id, cli

log = logging.getLogger("policytrail")


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

    from crawler.archive import ArchiveEndpoint, timestamp_to_datetime
    from crawler.text import host_of
    from crawler.text.render import archive_provenance, live_provenance, render_with_provenance
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
