"""policytrail: follow how privacy policies and terms of service change over time.

The packages, in the order data flows through them (docs/architecture.md has the whole map):
`config` (config.toml -> dataclasses) -> `archive` and `live` (fetching) -> `text` (pure:
extraction, rendering, sections, diffs) -> `db` (beside this package: SQLite) -> `pipeline`
(fetch -> text -> store, change records) -> `watch` (scheduler, alert delivery) and `web`
(read-only pages) -> `cli` (the only printer).
"""

from __future__ import annotations

__version__ = "0.1.0"
