"""The Apprise sink: chat and push notifications through Apprise URLs (the `apprise` extra)."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from crawler.config import AlertConfig
from crawler.errors import DeliveryError
from crawler.watch.payload import render_message


def send_apprise(sink: AlertConfig, payload: dict[str, Any]) -> None:
    try:
        import apprise  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:
        raise DeliveryError(
            "the apprise sink needs the apprise extra: pip install 'policytrail[apprise]'"
        ) from exc
    subject, text, _ = render_message(payload)
    notifier = apprise.Apprise()
    expanded = [os.path.expandvars(url) for url in sink.urls]
    secrets: set[str] = set()
    for url, full in zip(sink.urls, expanded, strict=True):
        secrets |= _secrets_of(url, full)
    # Apprise (and urllib3 under it) log the URLs, tokens and all, at debug level
    # (`policytrail -vv`): while it runs, every log record has them masked.
    with _redacted(secrets):
        for full in expanded:
            notifier.add(full)
        sent = notifier.notify(title=subject, body=text)
    if not sent:
        raise DeliveryError(f"apprise could not notify {len(sink.urls)} URL(s) of {sink.name}")


def _secrets_of(url: str, expanded: str) -> set[str]:
    """What an Apprise URL holds that no log may show: the values of the environment variables
    it names, and any password written in it."""
    names = re.findall(r"\$\{?(\w+)\}?", url)
    found = {os.environ[n] for n in names if os.environ.get(n)}
    try:
        password = urlsplit(expanded).password
    except ValueError:
        password = None
    if password:
        found.add(password)
    return {s for s in found if len(s) >= 4}


@contextmanager
def _redacted(secrets: set[str]) -> Iterator[None]:
    """Mask `secrets` in every log record made inside the block, whichever logger makes it."""
    ordered = sorted(secrets, key=len, reverse=True)
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        message = record.getMessage()
        if any(secret in message for secret in ordered):
            for secret in ordered:
                message = message.replace(secret, "***")
            record.msg, record.args = message, ()
        return record

    if ordered:
        logging.setLogRecordFactory(factory)
    try:
        yield
    finally:
        if ordered:
            logging.setLogRecordFactory(previous)
