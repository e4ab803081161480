"""config.toml -> Config. Every mistake raises ConfigError with one line naming the file, the key
and the fix.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from crawler.config.checks import _check_url, _flag, _number, _patterns, _table, valid_selector
from crawler.config.model import (
    ALERT_KEYS,
    ALERT_TYPES,
    DEFAULT_ARCHIVE_URL,
    DEFAULT_CDX_PER_MINUTE,
    DEFAULT_PLAYBACK_PER_SECOND,
    DEFAULT_TIMEOUT,
    DEFAULT_USER_AGENT,
    DEFAULT_WORKERS,
    FETCHERS,
    IA_CDX_LIMIT_PER_MINUTE,
    IA_PLAYBACK_LIMIT_PER_SECOND,
    KINDS,
    NAME_RE,
    AlertConfig,
    ArchiveConfig,
    BrowserConfig,
    Config,
    Policy,
    ScheduleConfig,
    guess_kind,
    policy_name_for,
)
from crawler.config.schedule import cron_trigger, parse_interval
from crawler.config.sites import parse_discover, parse_sites
from crawler.errors import ConfigError


def _parse_policy(path: Path, index: int, raw: object) -> Policy:
    where = f"policy[{index}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: {where} must be a table, written as a [[policy]] header")
    allowed = {
        "name",
        "url",
        "kind",
        "select",
        "remove",
        "title",
        "ignore",
        "check",
        "sync",
        "alert",
        "fetcher",
        "watch",
    }
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ConfigError(
            f"{path}: unknown key {where}.{unknown[0]}; allowed keys are {', '.join(sorted(allowed))}"
        )
    if "url" not in raw:
        raise ConfigError(f'{path}: {where} has no url; add url = "https://..."')
    url = _check_url(path, f"{where}.url", raw["url"])
    name = raw.get("name", policy_name_for(url, str(raw.get("kind", guess_kind(url)))))
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
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
        if value is not None and key != "title" and not valid_selector(value):
            raise ConfigError(
                f"{path}: {where}.{key} = {value!r} is not a CSS selector lexbor can parse; "
                'fix it, such as "main article" or "#policy, .terms"'
            )
        selectors[key] = value
    ignore = _patterns(path, f"{where}.ignore", raw.get("ignore", []))
    schedules = {k: _schedule(path, f"{where}.{k}", raw[k]) for k in ("check", "sync") if k in raw}
    alert = raw.get("alert", "any")
    if alert not in ("any", "substantive", "none"):
        raise ConfigError(f"{path}: {where}.alert = {alert!r} must be any, substantive or none")
    fetcher = raw.get("fetcher")
    if fetcher is not None and fetcher not in FETCHERS:
        raise ConfigError(
            f"{path}: {where}.fetcher = {fetcher!r} must be one of {', '.join(FETCHERS)}"
        )
    return Policy(
        name=name,
        url=url,
        kind=kind,
        ignore=ignore,
        alert=alert,
        fetcher=fetcher,
        watch=_patterns(path, f"{where}.watch", raw.get("watch", [])),
        **selectors,
        **schedules,
    )


def _schedule(path: Path, key: str, value: object) -> str:
    """An interval ("6h", "1d") or a cron expression ("cron: 0 6 * * *"), or "off"."""
    if isinstance(value, str):
        text = value.strip()
        if text == "off":
            return text
        if text.startswith("cron:"):
            try:
                cron_trigger(text[5:].strip())
            except ValueError as exc:
                raise ConfigError(
                    f"{path}: {key} = {value!r} is not a valid cron expression "
                    f'({exc}); write it as "cron: 0 6 * * *"'
                ) from None
            return text
        try:
            if parse_interval(text) >= 60:
                return text
        except ValueError:
            pass
    raise ConfigError(
        f"{path}: {key} = {value!r} is not a schedule; write an interval such as "
        '"6h" or "1d" (at least 1m), "cron: 0 6 * * *", or "off"'
    )


def load_config(path: str | Path) -> Config:
    """Read and check a config file. Raises ConfigError naming the file, the key and the fix."""
    path = Path(path)
    data = _read(path)
    sections = (
        "database",
        "archive",
        "http",
        "browser",
        "diff",
        "schedule",
        "policy",
        "alert",
        "site",
        "discover",
    )
    unknown = sorted(set(data) - set(sections))
    if unknown:
        raise ConfigError(
            f"{path}: unknown section [{unknown[0]}]; allowed sections are {', '.join(sections)}"
        )
    diff_table = _table(path, data, "diff", {"ignore"})
    global_ignore = _patterns(path, "diff.ignore", diff_table.get("ignore", []))
    db_table = _table(path, data, "database", {"path"})
    db_path = db_table.get("path", "policytrail.db")
    if not isinstance(db_path, str) or not db_path:
        raise ConfigError(f'{path}: database.path must be a file name such as "policytrail.db"')
    database = (path.parent / db_path) if not Path(db_path).is_absolute() else Path(db_path)
    archive = _archive(path, data)
    http = _table(
        path, data, "http", {"user_agent", "contact", "max_body_mb", "timeout", "allow_private"}
    )
    max_body = int(
        _number(path, "http.max_body_mb", http.get("max_body_mb", 10), 0.1, 1000) * 1024 * 1024
    )
    live_timeout = _number(path, "http.timeout", http.get("timeout", 30), 1, 600)
    schedule = _schedule_config(path, data)
    browser = _browser_config(path, data)
    raw_alerts = data.get("alert", [])
    if not isinstance(raw_alerts, list):
        raise ConfigError(f"{path}: alert sinks are written as [[alert]] tables, not [alert]")
    alerts = tuple(_parse_alert(path, i, raw) for i, raw in enumerate(raw_alerts))
    user_agent, contact = _user_agent(path, http)
    policies = _policies(path, data)
    _check_names(path, policies, alerts)
    return Config(
        path=path,
        database=database,
        archive=archive,
        user_agent=user_agent,
        policies=policies,
        ignore=global_ignore,
        schedule=schedule,
        alerts=alerts,
        contact=contact,
        max_body_bytes=max_body,
        live_timeout=live_timeout,
        browser=browser,
        allow_private=_flag(path, "http.allow_private", http.get("allow_private", False)),
        sites=parse_sites(path, data),
        discover=parse_discover(path, data),
    )


def _read(path: Path) -> dict[str, Any]:
    """The file's TOML, or ConfigError saying why it cannot be read."""
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
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}; fix the syntax at that line") from exc


def _archive(path: Path, data: dict[str, Any]) -> ArchiveConfig:
    """[archive], within the Internet Archive's published limits when it is the archive."""
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
            "save_page_now",
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
        save_page_now=_flag(path, "archive.save_page_now", a.get("save_page_now", False)),
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

    return archive


def _browser_config(path: Path, data: dict[str, Any]) -> BrowserConfig:
    keys = {
        "fetcher",
        "executable",
        "concurrency",
        "settle",
        "timeout",
        "replay_resources",
        "retry_http_every",
    }
    table = _table(path, data, "browser", keys)
    fetcher = table.get("fetcher", "auto")
    if fetcher not in FETCHERS:
        raise ConfigError(
            f"{path}: browser.fetcher = {fetcher!r} must be one of {', '.join(FETCHERS)}"
        )
    executable = table.get("executable", "")
    if not isinstance(executable, str):
        raise ConfigError(f'{path}: browser.executable must be a path such as "/usr/bin/chromium"')
    return BrowserConfig(
        fetcher=fetcher,
        executable=executable,
        concurrency=int(_number(path, "browser.concurrency", table.get("concurrency", 2), 1, 16)),
        settle=_number(path, "browser.settle", table.get("settle", 10), 0, 120),
        timeout=_number(path, "browser.timeout", table.get("timeout", 30), 5, 600),
        replay_resources=int(
            _number(path, "browser.replay_resources", table.get("replay_resources", 40), 1, 1000)
        ),
        retry_http_every=int(
            _number(path, "browser.retry_http_every", table.get("retry_http_every", 10), 1, 1000)
        ),
    )


def _schedule_config(path: Path, data: dict[str, Any]) -> ScheduleConfig:
    sched = _table(path, data, "schedule", {"check", "sync", "jitter", "failures", "shrink"})
    return ScheduleConfig(
        check=_schedule(path, "schedule.check", sched.get("check", "1d")),
        sync=_schedule(path, "schedule.sync", sched.get("sync", "7d")),
        jitter=_jitter(path, sched.get("jitter", "15m")),
        failures=int(_number(path, "schedule.failures", sched.get("failures", 3), 1, 100)),
        shrink=_number(path, "schedule.shrink", sched.get("shrink", 0.5), 0, 1),
    )


def _user_agent(path: Path, http: dict[str, Any]) -> tuple[str, str]:
    """The User-Agent (with the contact, if given) and the contact."""
    user_agent = http.get("user_agent", DEFAULT_USER_AGENT)
    if not isinstance(user_agent, str) or not user_agent.strip():
        raise ConfigError(f"{path}: http.user_agent must be a non-empty string")
    contact = http.get("contact")
    if contact is not None:  # noqa: SIM102
        if not isinstance(contact, str):
            raise ConfigError(f"{path}: http.contact must be a URL or e-mail address string")
        user_agent = f"{user_agent} contact: {contact}"
    return user_agent, str(contact or "")


def _policies(path: Path, data: dict[str, Any]) -> tuple[Policy, ...]:
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
    return policies


def _check_names(path: Path, policies: tuple[Policy, ...], alerts: tuple[AlertConfig, ...]) -> None:
    """Alert sinks have unique names and name only known policies."""
    names = [a.name for a in alerts]
    if len(set(names)) != len(names):
        raise ConfigError(f"{path}: two [[alert]] tables share a name; give each a unique name")
    known = {p.name for p in policies}
    for alert in alerts:
        for name in alert.policies:
            if name not in known:
                raise ConfigError(
                    f"{path}: alert {alert.name!r} names an unknown policy {name!r}; use one "
                    f"of {', '.join(sorted(known)) or 'none'}"
                )


def _jitter(path: Path, value: object) -> str:
    if isinstance(value, str):
        text = value.strip()
        if text in ("0", "off"):
            return "0s"
        try:
            parse_interval(text)
            return text
        except ValueError:
            pass
    raise ConfigError(f'{path}: schedule.jitter = {value!r} is not a duration; write "15m"')


def _parse_alert(path: Path, index: int, raw: object) -> AlertConfig:
    where = f"alert[{index}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: {where} must be a table, written as an [[alert]] header")
    kind = raw.get("type")
    if kind not in ALERT_TYPES:
        raise ConfigError(
            f"{path}: {where}.type = {kind!r} must be one of {', '.join(ALERT_TYPES)}"
        )
    common = {"type", "name", "threshold", "policies", "problems", "moves", "watch"}
    unknown = sorted(set(raw) - common - ALERT_KEYS[kind])
    if unknown:
        secret = (
            " (secrets come from the environment: use password_env or secret_env)"
            if unknown[0] in ("password", "secret", "token")
            else ""
        )
        raise ConfigError(
            f"{path}: unknown key {where}.{unknown[0]} for a {kind} sink; allowed keys are "
            f"{', '.join(sorted(common | ALERT_KEYS[kind]))}{secret}"
        )
    name = raw.get("name", f"{kind}-{index}")
    threshold = raw.get("threshold", "substantive")
    if threshold not in ("substantive", "any"):
        raise ConfigError(f'{path}: {where}.threshold must be "substantive" or "any"')
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("policies", "to", "urls"):
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{path}: {where}.{key} must be a list of strings")
        lists[key] = tuple(value)
    strings: dict[str, str] = {}
    for key in ALERT_KEYS[kind] - {"to", "urls", "port"}:
        if key in raw:
            if not isinstance(raw[key], str):
                raise ConfigError(f"{path}: {where}.{key} must be a string")
            strings[key] = raw[key]
    port = 587
    if kind == "email":
        for key in ("host", "sender"):
            if not raw.get(key):
                raise ConfigError(f'{path}: {where} (email) needs {key} = "..."')
        if not lists["to"]:
            raise ConfigError(f'{path}: {where} (email) needs to = ["you@example.org"]')
        if raw.get("security", "starttls") not in ("starttls", "tls", "none"):
            raise ConfigError(f"{path}: {where}.security must be starttls, tls or none")
        port = int(_number(path, f"{where}.port", raw.get("port", 587), 1, 65535))
    if kind == "webhook":
        if raw.get("url_env"):
            if raw.get("url"):
                raise ConfigError(f"{path}: {where} has url and url_env; keep one")
        else:
            _check_url(path, f"{where}.url", raw.get("url"))
    if kind == "apprise" and not lists["urls"]:
        raise ConfigError(f'{path}: {where} (apprise) needs urls = ["..."]')
    return AlertConfig(
        name=str(name),
        type=kind,
        threshold=threshold,
        policies=lists["policies"],
        problems=_flag(path, f"{where}.problems", raw.get("problems", True)),
        moves=_flag(path, f"{where}.moves", raw.get("moves", True)),
        watch=_patterns(path, f"{where}.watch", raw.get("watch", [])),
        to=lists["to"],
        urls=lists["urls"],
        port=port,
        host=strings.get("host", ""),
        security=strings.get("security", "starttls"),
        username=strings.get("username", ""),
        password_env=strings.get("password_env", ""),
        sender=strings.get("sender", ""),
        url=strings.get("url", ""),
        url_env=strings.get("url_env", ""),
        secret_env=strings.get("secret_env", ""),
        dir=strings.get("dir", "feeds"),
        site_url=strings.get("site_url", ""),
    )
