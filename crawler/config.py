"""Read config.toml into frozen dataclasses, checking every key at load time.

Every mistake raises ConfigError with one line naming the file, the key and the fix.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.errors import ConfigError

KINDS = ("privacy", "terms", "cookies", "other")
# The Internet Archive's published limits (wayback-facts.md 1.3): CDX + TimeMap share 30/min per IP,
# playback 600/min. Our defaults follow EDGI's wayback: 80% of each ("IA folks have asked us").
IA_CDX_LIMIT_PER_MINUTE = 30
IA_PLAYBACK_LIMIT_PER_SECOND = 10
DEFAULT_CDX_PER_MINUTE = 24
DEFAULT_PLAYBACK_PER_SECOND = 8
DEFAULT_WORKERS = 4
DEFAULT_ARCHIVE_URL = "https://web.archive.org"
DEFAULT_TIMEOUT = 30.0
DEFAULT_USER_AGENT = "policytrail/0.1 (+https://github.com/policytrail/policytrail)"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")


@dataclass(frozen=True, slots=True)
class Policy:
    """One tracked document."""

    name: str
    url: str
    kind: str = "privacy"
    select: str | None = None
    remove: str | None = None
    # The document's own heading, to pick it out of a page holding several documents.
    title: str | None = None
    # Regexes whose matches never make a change substantive (besides "Last updated: <date>").
    ignore: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ArchiveConfig:
    url: str = DEFAULT_ARCHIVE_URL
    cdx_per_minute: float = DEFAULT_CDX_PER_MINUTE
    playback_per_second: float = DEFAULT_PLAYBACK_PER_SECOND
    workers: int = DEFAULT_WORKERS
    timeout: float = DEFAULT_TIMEOUT
    retries: int = 5
    max_redirects: int = 5

    @property
    def is_internet_archive(self) -> bool:
        return urlsplit(self.url).hostname in ("web.archive.org", "archive.org")


@dataclass(frozen=True, slots=True)
class Config:
    path: Path
    database: Path
    archive: ArchiveConfig = field(default_factory=ArchiveConfig)
    user_agent: str = DEFAULT_USER_AGENT
    policies: tuple[Policy, ...] = ()
    ignore: tuple[str, ...] = ()  # [diff] ignore: patterns for every policy

    def ignore_for(self, policy: Policy) -> tuple[str, ...]:
        from crawler.diff import DEFAULT_IGNORE

        return (*DEFAULT_IGNORE, *self.ignore, *policy.ignore)

    def policy(self, name: str) -> Policy:
        for policy in self.policies:
            if policy.name == name:
                return policy
        known = ", ".join(p.name for p in self.policies) or "none"
        raise ConfigError(
            f"{self.path}: no policy named {name!r} (known: {known}); "
            f"add it with `policytrail add URL --name {name}`"
        )

    def select_policies(self, names: tuple[str, ...] | list[str]) -> list[Policy]:
        if not names:
            return list(self.policies)
        return [self.policy(name) for name in names]


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
    return value


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


def _parse_policy(path: Path, index: int, raw: object) -> Policy:
    where = f"policy[{index}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: {where} must be a table, written as a [[policy]] header")
    allowed = {"name", "url", "kind", "select", "remove", "title", "ignore"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ConfigError(
            f"{path}: unknown key {where}.{unknown[0]}; allowed keys are {', '.join(sorted(allowed))}"
        )
    if "url" not in raw:
        raise ConfigError(f'{path}: {where} has no url; add url = "https://..."')
    url = _check_url(path, f"{where}.url", raw["url"])
    name = raw.get("name", policy_name_for(url, str(raw.get("kind", guess_kind(url)))))
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ConfigError(
            f"{path}: {where}.name = {name!r} is not a valid name; use lowercase letters, digits, "
            "'.', '_' and '-', such as \"example-privacy\""
        )
    kind = raw.get("kind", guess_kind(url))
    if kind not in KINDS:
        raise ConfigError(f"{path}: {where}.kind = {kind!r} is not one of {', '.join(KINDS)}")
    selectors: dict[str, str | None] = {}
    for key in ("select", "remove", "title"):
        value = raw.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            what = "the document's heading" if key == "title" else "a CSS selector"
            raise ConfigError(f"{path}: {where}.{key} must be a string: {what}")
        selectors[key] = value
    ignore = _patterns(path, f"{where}.ignore", raw.get("ignore", []))
    return Policy(name=name, url=url, kind=kind, ignore=ignore, **selectors)


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


def load_config(path: str | Path) -> Config:
    """Read and check a config file. Raises ConfigError naming the file, the key and the fix."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: config file not found; create it (see config.toml in the project) "
            "or pass --config FILE"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc})") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}; fix the syntax at that line") from exc

    unknown = sorted(set(data) - {"database", "archive", "http", "diff", "policy"})
    if unknown:
        raise ConfigError(
            f"{path}: unknown section [{unknown[0]}]; "
            "allowed sections are database, archive, http, diff, policy"
        )
    diff_table = _table(path, data, "diff", {"ignore"})
    global_ignore = _patterns(path, "diff.ignore", diff_table.get("ignore", []))
    db_table = _table(path, data, "database", {"path"})
    db_path = db_table.get("path", "policytrail.db")
    if not isinstance(db_path, str) or not db_path:
        raise ConfigError(f'{path}: database.path must be a file name such as "policytrail.db"')
    database = (path.parent / db_path) if not Path(db_path).is_absolute() else Path(db_path)

    a = _table(
        path,
        data,
        "archive",
        {
            "url",
            "cdx_per_minute",
            "playback_per_second",
            "workers",
            "timeout",
            "retries",
            "max_redirects",
        },
    )
    archive_url = _check_url(path, "archive.url", a.get("url", DEFAULT_ARCHIVE_URL)).rstrip("/")
    archive = ArchiveConfig(
        url=archive_url,
        cdx_per_minute=_number(
            path,
            "archive.cdx_per_minute",
            a.get("cdx_per_minute", DEFAULT_CDX_PER_MINUTE),
            0.1,
            100000,
        ),
        playback_per_second=_number(
            path,
            "archive.playback_per_second",
            a.get("playback_per_second", DEFAULT_PLAYBACK_PER_SECOND),
            0.01,
            100000,
        ),
        workers=int(_number(path, "archive.workers", a.get("workers", DEFAULT_WORKERS), 1, 32)),
        timeout=_number(path, "archive.timeout", a.get("timeout", DEFAULT_TIMEOUT), 1, 600),
        retries=int(_number(path, "archive.retries", a.get("retries", 5), 0, 20)),
        max_redirects=int(_number(path, "archive.max_redirects", a.get("max_redirects", 5), 0, 20)),
    )
    if archive.is_internet_archive:
        if archive.cdx_per_minute > IA_CDX_LIMIT_PER_MINUTE:
            raise ConfigError(
                f"{path}: archive.cdx_per_minute = {archive.cdx_per_minute:g} is above the Internet "
                f"Archive's limit of {IA_CDX_LIMIT_PER_MINUTE}/min per IP; use {DEFAULT_CDX_PER_MINUTE}"
            )
        if archive.playback_per_second > IA_PLAYBACK_LIMIT_PER_SECOND:
            raise ConfigError(
                f"{path}: archive.playback_per_second = {archive.playback_per_second:g} is above the "
                f"Internet Archive's limit of 600/min; use {DEFAULT_PLAYBACK_PER_SECOND}"
            )

    http = _table(path, data, "http", {"user_agent", "contact"})
    user_agent = http.get("user_agent", DEFAULT_USER_AGENT)
    if not isinstance(user_agent, str) or not user_agent.strip():
        raise ConfigError(f"{path}: http.user_agent must be a non-empty string")
    contact = http.get("contact")
    if contact is not None:
        if not isinstance(contact, str):
            raise ConfigError(f"{path}: http.contact must be a URL or e-mail address string")
        user_agent = f"{user_agent} contact: {contact}"

    raw_policies = data.get("policy", [])
    if not isinstance(raw_policies, list):
        raise ConfigError(f"{path}: policies are written as [[policy]] tables, not [policy]")
    policies = tuple(_parse_policy(path, i, raw) for i, raw in enumerate(raw_policies))
    seen: set[str] = set()
    for policy in policies:
        if policy.name in seen:
            raise ConfigError(
                f"{path}: two policies are named {policy.name!r}; give each a unique name"
            )
        seen.add(policy.name)
    return Config(
        path=path,
        database=database,
        archive=archive,
        user_agent=user_agent,
        policies=policies,
        ignore=global_ignore,
    )


def guess_kind(url: str) -> str:
    lowered = url.lower()
    if "cookie" in lowered:
        return "cookies"
    if "privacy" in lowered or "datenschutz" in lowered or "gdpr" in lowered:
        return "privacy"
    if "terms" in lowered or "tos" in lowered or "conditions" in lowered or "legal" in lowered:
        return "terms"
    return "other"


def policy_name_for(url: str, kind: str) -> str:
    host = (urlsplit(url).hostname or "site").lower()
    host = host.removeprefix("www.")
    stem = host.rsplit(".", 1)[0] if host.count(".") >= 1 else host
    stem = re.sub(r"[^a-z0-9]+", "-", stem).strip("-") or "site"
    return f"{stem}-{kind}"


def add_policy(
    path: str | Path, url: str, name: str | None = None, kind: str | None = None
) -> Policy:
    """Append a [[policy]] table to the config file, leaving its comments and layout alone.

    Raises ConfigError if the file is invalid, the URL is bad, or the name or URL is taken.
    """
    path = Path(path)
    config = load_config(path)
    kind = kind or guess_kind(url)
    if kind not in KINDS:
        raise ConfigError(f"--kind {kind!r} is not one of {', '.join(KINDS)}")
    _check_url(path, "URL", url)
    name = name or policy_name_for(url, kind)
    if not NAME_RE.match(name):
        raise ConfigError(
            f"--name {name!r} is not valid; use lowercase letters, digits, '.', '_' and '-'"
        )
    for policy in config.policies:
        if policy.url == url:
            raise ConfigError(f"{path}: {url} is tracked already as {policy.name!r}")
    for policy in config.policies:
        if policy.name == name:
            raise ConfigError(f"{path}: a policy named {name!r} exists already; pass --name")
    text = path.read_text(encoding="utf-8")
    block = (
        f"\n[[policy]]\nname = {json.dumps(name)}\nurl = {json.dumps(url)}\n"
        f"kind = {json.dumps(kind)}\n"
    )
    separator = "" if text.endswith("\n") or not text else "\n"
    new_text = text + separator + block
    tomllib.loads(new_text)  # never write a file we could not read back
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(new_text, encoding="utf-8")
    tmp.replace(path)
    return Policy(name=name, url=url, kind=kind)
