"""The Apprise sink: chat and push notifications through Apprise URLs (the `apprise` extra)."""

from __future__ import annotations

import os
from typing import Any

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
    for url in sink.urls:
        notifier.add(os.path.expandvars(url))
    if not notifier.notify(title=subject, body=text):
        raise DeliveryError(f"apprise could not notify {len(sink.urls)} URL(s) of {sink.name}")
