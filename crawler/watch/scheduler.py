"""`policytrail run`: APScheduler 3 wiring for live checks, archive syncs and alert delivery.

What must survive a restart lives in SQLite (each policy's next check and sync time, failure
counts, the alert outbox), so the in-memory job store is rebuilt from the config at start and
runs missed while the process was down happen once, at start. Each check or sync records its
next due time in the same transaction as its result: a restart never repeats or skips one.
Jobs for different hosts run concurrently; one host is never hit by two at once.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlite_utils import Database

from crawler.config import Config, Policy, cron_trigger, parse_interval
from crawler.errors import CrawlerError
from crawler.live.browser import BrowserFetcher
from crawler.text.diff import ignore_patterns
from db import store

log = logging.getLogger(__name__)
TICK_SECONDS = 30


def next_due(schedule: str, jitter: str, after: datetime, rng: random.Random) -> datetime | None:
    """The next run of an interval ("6h") or cron ("cron: 0 6 * * *") schedule after `after`,
    with up to `jitter` added; None for "off"."""
    if schedule == "off":
        return None
    spread = parse_interval(jitter) if jitter not in ("0", "0s") else 0
    extra = timedelta(seconds=rng.uniform(0, spread)) if spread else timedelta()
    if schedule.startswith("cron:"):
        trigger = cron_trigger(schedule[5:].strip())
        fire = trigger.get_next_fire_time(None, after + timedelta(seconds=1))
        return fire.astimezone(UTC) + extra if fire else None
    return after + timedelta(seconds=parse_interval(schedule)) + extra


@dataclass(frozen=True)
class SiteJob:
    """A site whose live homepage is due to be read again (live re-discovery)."""

    site: dict[str, Any] = field(hash=False)

    @property
    def name(self) -> str:
        return str(self.site["domain"])

    @property
    def url(self) -> str:
        from crawler.pipeline.rediscover import homepage_of

        return homepage_of(self.site)


Job = tuple[Policy | SiteJob, str]


@dataclass
class CycleReport:
    checks: list[str] = field(default_factory=list)
    syncs: list[str] = field(default_factory=list)
    discoveries: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    delivered: int = 0


class Watcher:
    """Runs whatever is due at `now`. `run_cycle(now)` is what the scheduler calls each tick;
    tests call it with a fake clock."""

    def __init__(
        self,
        config: Config,
        *,
        client_factory: Callable[[], httpx.Client] | None = None,
        rng: random.Random | None = None,
        workers: int = 4,
        browser: BrowserFetcher | None = None,
    ) -> None:
        self.config = config
        self.rng = rng or random.Random()
        self.workers = workers
        self.stopping = threading.Event()
        self._client_factory = client_factory or self._default_client
        self._host_locks: dict[str, threading.Lock] = {}
        # One Chromium for the run, started the first time a page needs it.
        self.browser = browser if browser is not None else BrowserFetcher(config.browser)
        self._sites_synced = False

    def _default_client(self) -> httpx.Client:
        from crawler.http import build_live_client

        return build_live_client(self.config)

    def _schedule(self, policy: Policy, kind: str) -> str:
        own = policy.check if kind == "check" else policy.sync
        return own or (self.config.schedule.check if kind == "check" else self.config.schedule.sync)

    def due(self, now: datetime) -> list[Job]:
        from crawler.pipeline.segments import site_policies

        db = store.connect(self.config.database)
        try:
            jobs: list[Job] = []
            if not self._sites_synced:
                for site in self.config.sites:
                    store.upsert_site(
                        db, site.domain, site.kinds, now, homepage=site.homepage, source="config"
                    )
                self._sites_synced = True
            if self.config.discover.live != "off":
                jobs += [(SiteJob(site), "discover") for site in store.due_sites(db, now)]
            for policy in [*self.config.policies, *site_policies(db, self.config.policies)]:
                pid = store.upsert_policy(db, policy.name, policy.url, policy.kind, now)
                state = store.policy_state(db, pid)
                for kind in ("check", "sync"):
                    if self._schedule(policy, kind) == "off":
                        continue
                    at = state[f"next_{kind}_at"]
                    if at is None or at <= store.iso(now):
                        jobs.append((policy, kind))
            return jobs
        finally:
            db.close()

    def run_cycle(self, now: datetime | None = None) -> CycleReport:
        now = now or datetime.now(UTC)
        report = CycleReport()
        by_host: dict[str, list[Job]] = {}
        for policy, kind in self.due(now):
            host = urlsplit(policy.url).hostname if kind != "sync" else "archive"
            by_host.setdefault(host or "", []).append((policy, kind))
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="watch") as pool:
            futures = [
                pool.submit(self._run_host, host, jobs, now, report)
                for host, jobs in by_host.items()
            ]
            for future in futures:
                future.result()
        if not self.stopping.is_set():
            report.delivered = self.deliver(now)
        return report

    def _run_host(self, host: str, jobs: list[Job], now: datetime, report: CycleReport) -> None:
        lock = self._host_locks.setdefault(host, threading.Lock())
        with lock:  # one host is never hit by two jobs at once
            db = store.connect(self.config.database)
            try:
                for policy, kind in jobs:
                    if self.stopping.is_set():
                        return  # no new jobs after SIGTERM; the one running has finished
                    try:
                        if isinstance(policy, SiteJob):
                            self._rediscover(db, policy, now)
                            report.discoveries.append(policy.name)
                        elif kind == "check":
                            self._check(db, policy, now)
                            report.checks.append(policy.name)
                        else:
                            self._sync(db, policy, now)
                            report.syncs.append(policy.name)
                    except Exception as exc:  # whatever happens, the job keeps its schedule
                        if self.stopping.is_set():  # cut short by SIGTERM: due again at start
                            log.warning("%s of %s stopped by the shutdown", kind, policy.name)
                            return
                        report.failures.append(f"{policy.name} {kind}: {exc}")
                        if isinstance(exc, CrawlerError):
                            log.warning("%s of %s failed: %s", kind, policy.name, exc)
                        else:
                            log.exception("%s of %s failed unexpectedly", kind, policy.name)
                        self._postpone(db, policy, kind, now)
            finally:
                db.close()

    def _postpone(self, db: Database, policy: Policy | SiteJob, kind: str, now: datetime) -> None:
        """A failed job's next due time, so that a failure never makes it due again at once
        (a daily check fetched 15 times in 30 s)."""
        if isinstance(policy, SiteJob):
            self._next_discovery(db, policy, now)
            return
        upcoming = next_due(
            self._schedule(policy, kind), self.config.schedule.jitter, now, self.rng
        )
        pid = store.upsert_policy(db, policy.name, policy.url, policy.kind, now)
        with store.writing(db):
            store.update_policy_state(
                db, pid, **{f"next_{kind}_at": store.iso(upcoming) if upcoming else "9999"}
            )

    def _next_discovery(self, db: Database, job: SiteJob, now: datetime) -> None:
        upcoming = next_due(self.config.discover.live, self.config.schedule.jitter, now, self.rng)
        with store.writing(db):
            store.set_next_discover(db, job.site["id"], store.iso(upcoming) if upcoming else "9999")

    def _rediscover(self, db: Database, job: SiteJob, now: datetime) -> None:
        from crawler.pipeline.rediscover import rediscover_site

        with self._client_factory() as client:
            result = rediscover_site(
                db,
                client,
                job.site,
                now,
                sinks=self.config.alerts,
                max_bytes=self.config.max_body_bytes,
                allow_private=self.config.allow_private,
            )
        self._next_discovery(db, job, now)
        for detail in result.moved:
            log.warning("%s", detail)

    def _check(self, db: Database, policy: Policy, now: datetime) -> None:
        from dataclasses import replace

        from crawler.pipeline import check

        if all(p.name != policy.name for p in self.config.policies):
            # A site's document: a re-discovery earlier in this cycle may have moved it.
            row = db.execute("SELECT url FROM policies WHERE name = ?", [policy.name]).fetchone()
            if row and row[0] != policy.url:
                policy = replace(policy, url=str(row[0]))

        upcoming = next_due(
            self._schedule(policy, "check"), self.config.schedule.jitter, now, self.rng
        )
        with self._client_factory() as client:
            result = check(
                db,
                client,
                policy,
                now,
                failures_for_problem=self.config.schedule.failures,
                shrink=self.config.schedule.shrink,
                max_bytes=self.config.max_body_bytes,
                sinks=self.config.alerts,
                ignore=ignore_patterns(self.config.ignore, policy.ignore),
                next_check_at=store.iso(upcoming) if upcoming else "9999",
                save_page_now=self.config.archive.url
                if self.config.archive.save_page_now
                else None,
                fetcher=self.config.fetcher_for(policy),
                browser=self.browser,
                browser_options=self.config.browser,
                allow_private=self.config.allow_private,
            )
        log.info("checked %s: %s %s", policy.name, result.status, result.detail)

    def _sync(self, db: Database, policy: Policy, now: datetime) -> None:
        from crawler.archive import Transport
        from crawler.archive.ratelimit import Limiters
        from crawler.http import build_client
        from crawler.pipeline import backfill

        archive = self.config.archive
        limiters = Limiters(archive.cdx_per_minute, archive.playback_per_second)
        with build_client(self.config) as client:
            transport = Transport(client, limiters, retries=archive.retries)
            backfill(
                db,
                transport,
                archive,
                policy,
                now,
                ignore=ignore_patterns(self.config.ignore, policy.ignore),
                sinks=self.config.alerts,
                browser=self.browser if self.config.fetcher_for(policy) != "http" else None,
                replay_resources=self.config.browser.replay_resources,
            )
        upcoming = next_due(
            self._schedule(policy, "sync"), self.config.schedule.jitter, now, self.rng
        )
        pid = store.policy_id(db, policy.name)
        assert pid is not None
        with store.writing(db):
            store.update_policy_state(
                db, pid, next_sync_at=store.iso(upcoming) if upcoming else "9999"
            )

    def deliver(self, now: datetime) -> int:
        from crawler.watch.deliver import deliver

        if not self.config.alerts:
            return 0
        db = store.connect(self.config.database)
        try:
            return deliver(db, self.config, now).delivered
        finally:
            db.close()


def run_forever(config: Config, tick: float = TICK_SECONDS) -> None:
    """Block, running due jobs every `tick` seconds, until SIGTERM or Ctrl-C."""
    import signal

    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.interval import IntervalTrigger

    watcher = Watcher(config)
    scheduler = BlockingScheduler(
        timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    scheduler.add_job(
        watcher.run_cycle,
        IntervalTrigger(seconds=tick),
        id="cycle",
        next_run_time=datetime.now(UTC),
    )

    def stop(signum: int, _frame: object) -> None:
        from crawler.http import STOP

        log.warning("signal %d: finishing the current write, starting nothing new", signum)
        watcher.stopping.set()
        STOP.set()  # requests in flight give up within a second
        scheduler.shutdown(wait=True)  # the running cycle stops between jobs and returns

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        scheduler.start()
    finally:
        watcher.browser.close()  # no Chromium outlives the run
