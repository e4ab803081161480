"""Watching: the scheduler (`scheduler`: each policy's live checks and archive syncs on its
schedule) and alert delivery from the outbox (`deliver`), one module per sink (`mail`,
`webhook`, `feeds`, `notify` for Apprise), with what they send (`payload`).
"""

from __future__ import annotations

from crawler.watch.deliver import (
    BACKOFF_FIRST,
    BACKOFF_MAX,
    DeliveryReport,
    Sender,
    backoff,
    deliver,
)
from crawler.watch.feeds import (
    FEED_ENTRIES,
    atom_feed,
    write_feeds,
)
from crawler.watch.mail import (
    send_email,
)
from crawler.watch.notify import (
    send_apprise,
)
from crawler.watch.payload import (
    ID_HEADER,
    MAX_WORDS_IN_ALERT,
    build_payload,
    env_secret,
    render_message,
)
from crawler.watch.scheduler import (
    TICK_SECONDS,
    CycleReport,
    Watcher,
    next_due,
    run_forever,
)
from crawler.watch.webhook import (
    SIGNATURE_HEADER,
    send_webhook,
    sign,
)

__all__ = [
    "BACKOFF_FIRST",
    "BACKOFF_MAX",
    "CycleReport",
    "DeliveryReport",
    "FEED_ENTRIES",
    "ID_HEADER",
    "MAX_WORDS_IN_ALERT",
    "SIGNATURE_HEADER",
    "Sender",
    "TICK_SECONDS",
    "Watcher",
    "atom_feed",
    "backoff",
    "build_payload",
    "deliver",
    "env_secret",
    "next_due",
    "render_message",
    "run_forever",
    "send_apprise",
    "send_email",
    "send_webhook",
    "sign",
    "write_feeds",
]
