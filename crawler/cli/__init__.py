"""The command line: `policytrail` and its commands, one module per command group.

- `base`: the group, the config and database it opens, options every command shares;
- `archive`: add, backfill, reextract, demo (the archive into the database);
- `query`: policies, history, show, changes, search, stats; `export`: files for others' tools;
- `text`: diff, diff-files, extract (texts and saved pages);
- `corpus`: trends;
- `sites`: add-site, sites (and `sites import`), discover;
- `watch`: run, check, alerts, serve (watching, alerting, the web pages).

The cli package is the only code that prints (click, rich).
"""

from __future__ import annotations

from crawler.cli import archive, corpus, export, query, sites, text, watch  # noqa: F401  (they register commands)
from crawler.cli.base import cli

__all__ = ["cli", "main"]


def main() -> None:
    cli(prog_name="policytrail")
