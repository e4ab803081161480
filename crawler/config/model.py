"""The configuration as frozen dataclasses: the archive, the policies, schedules and alert sinks,
with the defaults and the Internet Archive's published limits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
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
    check: str | None = None  # live check schedule; None: [schedule] check
    sync: str | None = None  # archive sync schedule; None: [schedule] sync
    # Which of this policy's changes may alert at all: any (the sinks decide), substantive, none.
    alert: str = "any"
    # How its live page is fetched: auto (httpx, the browser when needed), http or browser;
    # None: [browser] fetcher.
    fetcher: str | None = None
    # Terms whose addition or removal alerts every sink that takes this policy (a "term" alert).
    watch: tuple[str, ...] = ()


SITE_KINDS = ("privacy", "terms", "cookies")
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


@dataclass(frozen=True, slots=True)
class Site:
    """[[site]]: a domain whose documents discovery finds and follows, wherever they move."""

    domain: str
    kinds: tuple[str, ...] = ("privacy",)
    homepage: str | None = None  # None: http://DOMAIN/


@dataclass(frozen=True, slots=True)
class DiscoverConfig:
    """[discover]: how sites' documents are found."""

    every: str = "6m"  # the archive's periods: one homepage capture per period
    live: str = "30d"  # `run` re-discovers from the live homepage this often ("off": never)
    since: str = "1996"  # discovery in the archive starts no earlier


@dataclass(frozen=True, slots=True)
class ArchiveConfig:
    url: str = DEFAULT_ARCHIVE_URL
    cdx_per_minute: float = DEFAULT_CDX_PER_MINUTE
    playback_per_second: float = DEFAULT_PLAYBACK_PER_SECOND
    workers: int = DEFAULT_WORKERS
    timeout: float = DEFAULT_TIMEOUT
    retries: int = 5
    max_redirects: int = 5
    # Ask the Internet Archive's Save Page Now to capture a live page whose text changed.
    # Credentials come from POLICYTRAIL_IA_ACCESS and POLICYTRAIL_IA_SECRET.
    save_page_now: bool = False

    @property
    def is_internet_archive(self) -> bool:
        return urlsplit(self.url).hostname in ("web.archive.org", "archive.org")


FETCHERS = ("auto", "http", "browser")


@dataclass(frozen=True, slots=True)
class BrowserConfig:
    """[browser]: headless Chromium (Debian's, driven by Playwright) for pages that need one."""

    fetcher: str = "auto"  # the policies' default: auto, http or browser
    executable: str = ""  # Chromium; "" = chromium (or chromium-browser) on PATH
    concurrency: int = 2  # pages rendered at once
    settle: float = 10.0  # seconds to wait, after the load event, for the text to settle
    timeout: float = 30.0  # hard limit on one page
    replay_resources: int = 40  # requests an archived page may make to the archive
    retry_http_every: int = 10  # an escalated policy tries plain http again every N checks


@dataclass(frozen=True, slots=True)
class ScheduleConfig:
    check: str = "1d"
    sync: str = "7d"
    jitter: str = "15m"
    failures: int = 3  # consecutive failed checks that raise a problem notice
    shrink: float = 0.5  # a text under this share of the last version's words is a problem


@dataclass(frozen=True, slots=True)
class AlertConfig:
    """One alert sink. Secrets are never here: `password_env` and `secret_env` name the
    environment variables that hold them."""

    name: str
    type: str  # email | webhook | feed | apprise
    threshold: str = "substantive"  # substantive | any
    policies: tuple[str, ...] = ()  # empty: every policy
    problems: bool = True
    moves: bool = True  # "moved" notices: a site's document followed to a new URL
    watch: tuple[str, ...] = ()  # terms whose addition or removal sends a "term" alert
    host: str = ""
    port: int = 587
    security: str = "starttls"  # starttls | tls | none
    username: str = ""
    password_env: str = ""
    sender: str = ""
    to: tuple[str, ...] = ()
    url: str = ""
    url_env: str = ""  # the environment variable holding the URL (a token in it stays out)
    secret_env: str = ""
    dir: str = "feeds"
    site_url: str = ""
    urls: tuple[str, ...] = ()

    def wants(self, policy: str, substantive: bool) -> bool:
        return (not self.policies or policy in self.policies) and (
            substantive or self.threshold == "any"
        )


@dataclass(frozen=True, slots=True)
class Config:
    path: Path
    database: Path
    archive: ArchiveConfig = field(default_factory=ArchiveConfig)
    user_agent: str = DEFAULT_USER_AGENT
    policies: tuple[Policy, ...] = ()
    ignore: tuple[str, ...] = ()  # [diff] ignore: patterns for every policy
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    alerts: tuple[AlertConfig, ...] = ()
    contact: str = ""
    max_body_bytes: int = 10 * 1024 * 1024
    live_timeout: float = 30.0
    browser: BrowserConfig = field(default_factory=BrowserConfig)
    # Let redirects reach private addresses and other ports (see crawler.live.guard).
    allow_private: bool = False
    sites: tuple[Site, ...] = ()
    discover: DiscoverConfig = field(default_factory=DiscoverConfig)

    def fetcher_for(self, policy: Policy) -> str:
        return policy.fetcher or self.browser.fetcher

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


ALERT_TYPES = ("email", "webhook", "feed", "apprise")


ALERT_KEYS = {
    "email": {"host", "port", "security", "username", "password_env", "sender", "to"},
    "webhook": {"url", "url_env", "secret_env"},
    "feed": {"dir", "site_url"},
    "apprise": {"urls"},
}


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
