"""The checks every config value goes through: URLs (http(s), never a link-local or cloud
metadata address), numbers in range, tables with known keys, flags, regular expressions and
CSS selectors. Each raises ConfigError naming the file, the key and the fix.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.errors import ConfigError


def _check_url(path: Path, key: str, value: object) -> str:
    if not isinstance(value, str):
        raise ConfigError(
            f'{path}: {key} must be a string URL such as "https://example.com/privacy"'
        )
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{path}: {key} = {value!r} is not an http(s) URL; write it in full, "
            'such as "https://example.com/privacy"'
        )
    host = (parts.hostname or "").lower()
    try:
        link_local = ipaddress.ip_address(host).is_link_local
    except ValueError:
        link_local = False
    if link_local or host in METADATA_HOSTS:
        raise ConfigError(
            f"{path}: {key} = {value!r} is a link-local or cloud metadata address, never a "
            "policy's; remove it"
        )
    return value


# Cloud instance metadata services: their answers hold credentials.
METADATA_HOSTS = frozenset(["metadata.google.internal", "metadata", "instance-data"])


def _number(path: Path, key: str, value: object, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{path}: {key} must be a number between {low:g} and {high:g}")
    if not low <= value <= high:
        raise ConfigError(f"{path}: {key} = {value} is out of range; use {low:g} to {high:g}")
    return float(value)


def _table(path: Path, data: dict[str, Any], key: str, allowed: set[str]) -> dict[str, Any]:
    table = data.get(key, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{key}] must be a table, written as a [{key}] header")
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(
            f"{path}: unknown key {key}.{unknown[0]}; allowed keys are {', '.join(sorted(allowed))}"
        )
    return table


def valid_selector(selector: str) -> bool:
    """Whether the extractor's HTML parser (lexbor) can parse this CSS selector: checked when
    the config is read, so that a typo never stops a backfill half-way."""
    from selectolax.lexbor import LexborHTMLParser, SelectolaxError

    try:
        LexborHTMLParser("<p></p>").css(selector)
    except SelectolaxError:
        return False
    return True


def _flag(path: Path, key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{path}: {key} must be true or false")
    return value


def _patterns(path: Path, key: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(
            f'{path}: {key} must be a list of regular expressions, such as ["Version \\\\d+"]'
        )
    for pattern in value:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(
                f"{path}: {key} has an invalid regular expression {pattern!r} "
                f"({exc}); fix or remove it"
            ) from None
    return tuple(value)
