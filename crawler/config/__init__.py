"""config.toml -> frozen dataclasses (`model`), read and checked by `load` (each value through
`checks`), with schedules (`schedule`: intervals and cron) and `policytrail add`'s edit of the
file (`edit`). Imports nothing of policytrail's but its errors.
"""

from __future__ import annotations

from crawler.config.checks import (
    METADATA_HOSTS,
    valid_selector,
)
from crawler.config.edit import (
    add_policy,
    add_site,
)
from crawler.config.load import (
    load_config,
)
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
    SITE_KINDS,
    AlertConfig,
    ArchiveConfig,
    BrowserConfig,
    Config,
    DiscoverConfig,
    Policy,
    ScheduleConfig,
    Site,
    guess_kind,
    policy_name_for,
)
from crawler.config.schedule import (
    DAY_NAMES,
    SCHEDULE_RE,
    UNITS,
    cron_trigger,
    parse_interval,
)
from crawler.config.sites import (
    normalize_domain,
    parse_every,
)

__all__ = [
    "ALERT_KEYS",
    "ALERT_TYPES",
    "AlertConfig",
    "ArchiveConfig",
    "BrowserConfig",
    "Config",
    "DAY_NAMES",
    "DEFAULT_ARCHIVE_URL",
    "DEFAULT_CDX_PER_MINUTE",
    "DEFAULT_PLAYBACK_PER_SECOND",
    "DEFAULT_TIMEOUT",
    "DEFAULT_USER_AGENT",
    "DEFAULT_WORKERS",
    "FETCHERS",
    "IA_CDX_LIMIT_PER_MINUTE",
    "IA_PLAYBACK_LIMIT_PER_SECOND",
    "KINDS",
    "METADATA_HOSTS",
    "NAME_RE",
    "Policy",
    "SCHEDULE_RE",
    "ScheduleConfig",
    "UNITS",
    "add_policy",
    "add_site",
    "normalize_domain",
    "parse_every",
    "SITE_KINDS",
    "DiscoverConfig",
    "Site",
    "cron_trigger",
    "guess_kind",
    "load_config",
    "parse_interval",
    "policy_name_for",
    "valid_selector",
]
