"""[[site]] tables and [discover]: the sites whose documents are discovered, and how; plus
the domain rule every site list goes through."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.config.checks import _check_url
from crawler.config.model import DOMAIN_RE, SITE_KINDS, DiscoverConfig, Site
from crawler.config.schedule import SCHEDULE_RE
from crawler.errors import ConfigError

EVERY_RE = re.compile(r"^\s*(\d+)\s*(m|mo|months?|y|years?)\s*$", re.I)


def parse_every(value: str) -> int:
    """ "6m", "3m", "1y" → months: a divisor of 12 or a whole number of years."""
    match = EVERY_RE.match(value)
    if not match:
        raise ConfigError(f"{value!r}: give months or years, like 6m or 1y")
    months = int(match.group(1)) * (12 if match.group(2).lower().startswith("y") else 1)
    if months <= 0 or (months < 12 and 12 % months) or (months > 12 and months % 12):
        raise ConfigError(f"{value!r}: use 1, 2, 3, 4 or 6 months, or whole years")
    return months


def normalize_domain(value: str) -> str | None:
    """`https://www.Example.com/path` → `example.com` (IDNA for other scripts); None if it
    cannot be a domain."""
    value = value.strip().strip(".").lower()
    if "://" in value:
        value = urlsplit(value).hostname or ""
    value = value.split("/")[0].split(":")[0].removeprefix("www.")
    try:
        value = value.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return value if DOMAIN_RE.fullmatch(value) else None


def check_kinds(where: str, kinds: object) -> tuple[str, ...]:
    if isinstance(kinds, str):
        kinds = [kinds]
    if not isinstance(kinds, list) or not kinds:
        raise ConfigError(f'{where}: kinds must be a list such as ["privacy", "terms"]')
    for kind in kinds:
        if kind not in SITE_KINDS:
            raise ConfigError(f"{where}: kind {kind!r} is not one of {', '.join(SITE_KINDS)}")
    return tuple(dict.fromkeys(kinds))


def parse_sites(path: Path, data: dict[str, Any]) -> tuple[Site, ...]:
    raw = data.get("site", [])
    if not isinstance(raw, list):
        raise ConfigError(f"{path}: sites are written as [[site]] tables, not [site]")
    sites: list[Site] = []
    for index, table in enumerate(raw):
        where = f"{path}: site[{index}]"
        if not isinstance(table, dict):
            raise ConfigError(f"{where} must be a table, written as a [[site]] header")
        unknown = sorted(set(table) - {"domain", "kinds", "homepage"})
        if unknown:
            raise ConfigError(f"{where}: unknown key {unknown[0]!r}; use domain, kinds, homepage")
        domain = normalize_domain(str(table.get("domain", "")))
        if not domain:
            raise ConfigError(
                f"{where}: domain {table.get('domain')!r} is not a domain name such as "
                '"example.com"'
            )
        homepage = table.get("homepage")
        if homepage is not None:
            if not isinstance(homepage, str):
                raise ConfigError(f"{where}: homepage must be a URL string")
            _check_url(path, f"site[{index}].homepage", homepage)
        kinds = check_kinds(where, table.get("kinds", ["privacy"]))
        if any(s.domain == domain for s in sites):
            raise ConfigError(f"{where}: {domain} is listed twice; keep one [[site]] for it")
        sites.append(Site(domain, kinds, homepage))
    return tuple(sites)


def parse_discover(path: Path, data: dict[str, Any]) -> DiscoverConfig:
    table = data.get("discover", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [discover] must be a table")
    unknown = sorted(set(table) - {"every", "live", "since"})
    if unknown:
        raise ConfigError(f"{path}: discover.{unknown[0]} is unknown; use every, live, since")
    every = str(table.get("every", "6m"))
    try:
        parse_every(every)
    except ConfigError as exc:
        raise ConfigError(f"{path}: discover.every {exc}") from None
    live = str(table.get("live", "30d"))
    if live != "off" and not SCHEDULE_RE.fullmatch(live):
        raise ConfigError(f'{path}: discover.live {live!r} must be an interval such as "30d"')
    since = str(table.get("since", "1996"))
    if not (since.isdigit() and len(since) in (4, 6, 8)):
        raise ConfigError(f'{path}: discover.since {since!r} must be a date such as "2006"')
    return DiscoverConfig(every=every, live=live, since=since)
