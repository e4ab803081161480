"""Schedules as written in the config: intervals ("6h", "1d") and 5-field cron expressions."""

from __future__ import annotations

import re
from typing import Any

SCHEDULE_RE = re.compile(r"^(\d+)\s*([smhdw])$")


UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_interval(value: str) -> int:
    """Seconds in "30m", "6h", "1d", "2w"; raises ValueError."""
    match = SCHEDULE_RE.match(value.strip())
    if not match:
        raise ValueError(value)
    return int(match.group(1)) * UNITS[match.group(2)]


DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def cron_trigger(expression: str) -> Any:
    """An APScheduler CronTrigger for a standard 5-field cron expression (UTC).

    HACK: APScheduler 3's own from_crontab() numbers weekdays from Monday = 0, so the standard
    `30 7 * * 1` (Mondays) would fire on Tuesdays; weekday numbers are turned into names first.
    Raises ValueError for an invalid expression."""
    from apscheduler.triggers.cron import CronTrigger  # imported when a cron schedule is used

    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"{expression!r} has {len(fields)} fields, not 5")
    minute, hour, day, month, weekday = fields
    weekday = re.sub(
        r"\d+", lambda m: DAY_NAMES[int(m.group())] if int(m.group()) <= 7 else m.group(), weekday
    )
    return CronTrigger(
        minute=minute, hour=hour, day=day, month=month, day_of_week=weekday, timezone="UTC"
    )
