"""`policytrail add` and `add-site`: a new [[policy]] or [[site]] table appended to the config
file, keeping its comments."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from crawler.config.checks import _check_url
from crawler.config.load import load_config
from crawler.config.model import (
    FETCHERS,
    KINDS,
    NAME_RE,
    Policy,
    Site,
    guess_kind,
    policy_name_for,
)
from crawler.config.sites import check_kinds, normalize_domain
from crawler.errors import ConfigError


def add_policy(
    path: str | Path,
    url: str,
    name: str | None = None,
    kind: str | None = None,
    fetcher: str | None = None,
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
    if not NAME_RE.fullmatch(name):
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
    if fetcher is not None and fetcher not in FETCHERS:
        raise ConfigError(f"--fetcher {fetcher!r} is not one of {', '.join(FETCHERS)}")
    block = (
        f"\n[[policy]]\nname = {json.dumps(name)}\nurl = {json.dumps(url)}\n"
        f"kind = {json.dumps(kind)}\n" + (f"fetcher = {json.dumps(fetcher)}\n" if fetcher else "")
    )
    separator = "" if text.endswith("\n") or not text else "\n"
    new_text = text + separator + block
    tomllib.loads(new_text)  # never write a file we could not read back
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(new_text, encoding="utf-8")
    tmp.replace(path)
    return Policy(name=name, url=url, kind=kind, fetcher=fetcher)


def add_site(
    path: str | Path,
    domain: str,
    kinds: tuple[str, ...] = ("privacy",),
    homepage: str | None = None,
) -> Site:
    """Append a [[site]] table to the config file, leaving its comments alone."""
    path = Path(path)
    config = load_config(path)
    name = normalize_domain(domain)
    if not name:
        raise ConfigError(f"{domain!r} is not a domain name such as example.com")
    kinds = check_kinds("--kinds", list(kinds))
    if homepage:
        _check_url(path, "--homepage", homepage)
    if any(site.domain == name for site in config.sites):
        raise ConfigError(f"{path}: the site {name} is listed already")
    block = f"\n[[site]]\ndomain = {json.dumps(name)}\nkinds = {json.dumps(list(kinds))}\n"
    if homepage:
        block += f"homepage = {json.dumps(homepage)}\n"
    text = path.read_text(encoding="utf-8")
    new_text = text + ("" if text.endswith("\n") or not text else "\n") + block
    tomllib.loads(new_text)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(new_text, encoding="utf-8")
    tmp.replace(path)
    return Site(name, kinds, homepage)
