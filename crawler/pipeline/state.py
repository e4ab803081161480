"""What one policy's backfill carries from step to step: its counts (`BackfillResult`) and its
crawl state (`Crawl`: database, transport, archive, policy, progress callback)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlite_utils import Database

from crawler.archive.endpoint import ArchiveEndpoint
from crawler.archive.transport import Transport
from crawler.config import ArchiveConfig, Policy
from crawler.live.browser import BrowserFetcher


@dataclass
class BackfillResult:
    policy: str
    captures_found: int = 0
    captures_new: int = 0
    fetched: int = 0
    reused: int = 0
    skipped: int = 0
    failed: int = 0
    versions_before: int = 0
    versions_after: int = 0
    playback_requests: int = 0
    cdx_requests: int = 0
    changes_new: int = 0
    errors: list[str] = field(default_factory=list)
    # CPU milliseconds of our own work: per snapshot stored (decode, extract, store), and the
    # change records (sections and diff) for the whole run.
    store_ms: list[float] = field(default_factory=list)
    changes_ms: float = 0.0

    @property
    def new_versions(self) -> int:
        return self.versions_after - self.versions_before

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if isinstance(v, int)}


Progress = Callable[[str, BackfillResult], None]


@dataclass
class Crawl:
    """What every step of one policy's backfill works with."""

    db: Database
    transport: Transport
    endpoint: ArchiveEndpoint
    archive: ArchiveConfig
    policy: Policy
    pid: int
    now: datetime
    result: BackfillResult
    notify: Progress
    # Renders archived captures whose raw HTML is a shell (None: record the raw text).
    browser: BrowserFetcher | None = None
    replay_resources: int = 40
