"""The `policytrail` command group and what every command shares: the config and database it
opens, date options, version names, tables and JSON output. The cli package is the only code
that prints.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from crawler import __version__
from crawler.config import Config, load_config
from crawler.errors import CrawlerError

log = logging.getLogger("policytrail")


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
    from db import store

    if value is None:
        return None
    try:
        return store.date_bound(value, end)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


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


FORMATS = click.Choice(["text", "json", "markdown", "html"])


def _open_db(config: Config, create: bool = False) -> Any:
    """The database, for a command that reads it (`create`: or may start it)."""
    from db import store

    with _errors():
        return store.connect(config.database, create=create)


def _config_and_db(obj: Context) -> tuple[Config, Any]:
    """The config (one-line errors) and its existing database."""
    with _errors():
        config = obj.config
    return config, _open_db(config)


def _tracked(config: Config, db: Any, names: tuple[str, ...] | list[str] = ()) -> list[Any]:
    """The config's policies and the documents site discovery found (all, or NAMES)."""
    from crawler.pipeline.segments import site_policies

    found = site_policies(db, config.policies)
    if not names:
        return [*config.policies, *found]
    by_name = {p.name: p for p in (*config.policies, *found)}
    return [by_name[name] if name in by_name else config.policy(name) for name in names]


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
    """A version named by its stable id (2021-07-05-8f5090, or its hash part alone), its
    number (an ordinal: 1 is the oldest text known), or a date (the version in force at the
    end of that day; a month or a year means its last day)."""
    from db import store

    versions = store.history(db, pid)
    value = value.strip()
    if store.UID.match(value.lower()) and not value.isdigit():
        vid = store.version_by_uid(db, pid, value)
        if vid is None:
            raise click.BadParameter(
                f"no version {value!r} (see `policytrail history` for the ids)", param_hint=option
            )
        return next(v for v in versions if v["id"] == vid)
    if value.isdigit() and len(value) < 4:
        number = int(value)
        if not 1 <= number <= len(versions):
            raise click.BadParameter(f"there are versions 1 to {len(versions)}", param_hint=option)
        return versions[number - 1]
    end = _date_to_ts(value, option, end=True)
    assert end is not None
    vid = store.version_in_force(db, pid, end)
    if vid is None:
        raise click.BadParameter(f"no version was captured by {value}", param_hint=option)
    return next(v for v in versions if v["id"] == vid)


def plural(count: int, word: str, many: str | None = None) -> str:
    """ "1 policy", "2 policies"."""
    return f"{count} {word if count == 1 else many or word + 's'}"


def _table(title: str, columns: list[str], rows_: list[list[str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for i, column in enumerate(columns):
        # Ids and dates stay whole; the other columns wrap.
        whole = i == 0 or column in ("id", "first seen", "last seen", "date")
        table.add_column(column, overflow="fold", no_wrap=whole)
    for row in rows_:
        table.add_row(*row)
    console = Console()
    if not console.is_terminal:  # piped or redirected: no terminal width to fit, so roomier
        console = Console(width=140)
    console.print(table)


def _echo_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
