"""The alert outbox -> its sinks, at least once.

An alert stays pending until its sink accepts it, retried with exponential backoff; every alert
carries a stable id (`uid`) that receivers use to drop repeats (the webhook's
`X-Policytrail-Alert-Id` header and payload `id`, the email's Message-ID). Secrets come only
from the environment variables the config names, and are never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlite_utils import Database

from crawler.config import AlertConfig, Config
from crawler.errors import DeliveryError
from crawler.watch.feeds import write_feeds
from crawler.watch.mail import send_email
from crawler.watch.notify import send_apprise
from crawler.watch.payload import build_payload
from crawler.watch.webhook import send_webhook
from db import store

log = logging.getLogger(__name__)


BACKOFF_FIRST = 30.0  # seconds before the first retry; doubled each time


BACKOFF_MAX = 3600.0


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed: int = 0
    errors: list[str] | None = None


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** max(0, attempts)))


# -- the outbox -------------------------------------------------------------------------------

Sender = Callable[[AlertConfig, dict[str, Any]], None]


def deliver(
    db: Database,
    config: Config,
    now: datetime,
    client: httpx.Client | None = None,
    senders: dict[str, Sender] | None = None,
) -> DeliveryReport:
    """Try every alert that is due. Failures are retried later with exponential backoff."""
    report = DeliveryReport(errors=[])
    sinks = {s.name: s for s in config.alerts}
    own_client = client is None
    client = client or httpx.Client(headers={"User-Agent": config.user_agent})
    try:
        for alert in store.due_alerts(db, now):
            sink = sinks.get(alert["sink"])
            try:
                if sink is None:
                    raise DeliveryError(
                        f"no [[alert]] named {alert['sink']!r} in {config.path} "
                        "any more; add it back or delete the alert"
                    )
                payload = build_payload(db, alert)
                if senders and sink.type in senders:
                    senders[sink.type](sink, payload)
                elif sink.type == "email":
                    send_email(sink, payload)
                elif sink.type == "webhook":
                    send_webhook(sink, payload, client)
                elif sink.type == "apprise":
                    send_apprise(sink, payload)
                else:
                    write_feeds(db, sink, config.path.parent, sink.threshold == "substantive")
            except Exception as exc:  # one undeliverable alert never blocks the others
                if not isinstance(exc, DeliveryError | OSError):
                    log.exception("alert %s to %s: unexpected error", alert["uid"], alert["sink"])
                    exc = DeliveryError(f"{type(exc).__name__}: {exc}")
                retry_at = now + backoff(int(alert["attempts"]))
                with store.writing(db):
                    store.mark_alert(
                        db,
                        int(alert["id"]),
                        delivered=False,
                        now=now,
                        error=str(exc),
                        next_try=retry_at,
                    )
                report.failed += 1
                assert report.errors is not None
                report.errors.append(f"{alert['sink']}: {exc}")
                log.warning(
                    "alert %s to %s failed (attempt %d), retry at %s: %s",
                    alert["uid"],
                    alert["sink"],
                    int(alert["attempts"]) + 1,
                    store.iso(retry_at),
                    exc,
                )
                continue
            with store.writing(db):
                store.mark_alert(db, int(alert["id"]), delivered=True, now=now)
            report.delivered += 1
    finally:
        if own_client:
            client.close()
    return report
