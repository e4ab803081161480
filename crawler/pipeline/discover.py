"""Discovery from the archive: for each site and each period (half-years by default), the
archived homepage, its link to each wanted document, and that page classified; the outcome is
an observation (a URL found, with its evidence, or a gap with its reason) from which
`segments` builds the document's URL over time.

The capture rule is the reference corpus's (PLLC): the status-200 capture nearest the period's
midpoint, else a redirect capture inside the period. A legal hub (a page linking to every legal
document) is followed one level. Each site's requests go through the shared limiters; each site
settles in its own transaction, and a rerun skips the periods already settled (but those that
failed for a passing reason), so a killed run resumes where it stopped.

Gap codes (PLLC's ERR-xxx in spirit):
  no-homepage     no homepage capture in the period (or only HTTP errors)
  blocked         the archive refuses to show the site
  no-link         the homepage holds no link to the document
  not-archived    the linked page has no capture in the period
  http-error      the linked page was captured as an HTTP error (404...)
  not-policy      the linked page is not that document (the classifier says what it is)
  before-first-capture   (no gap) a period before the homepage's first capture
  failed          a passing failure (network, archive errors): retried on the next run
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database

from crawler.archive import (
    ArchiveEndpoint,
    Capture,
    Memento,
    Transport,
    fetch_memento,
    search,
    timestamp_to_datetime,
)
from crawler.config import ArchiveConfig
from crawler.errors import Blocked, CrawlerError, Unreachable
from crawler.pipeline.segments import settle_document, url_key
from crawler.text import extract_any, render_text
from crawler.text.classify import classify
from crawler.text.links import find_links
from db import store

RETRY_CODES = ("failed",)
BEFORE = "before-first-capture"  # settled, but no gap: the site was not archived yet
MIN_LINK_SCORE = 3.0  # a link text naming the document, or a path word in a footer
MAX_CANDIDATES = 3  # links tried per period, best first
CLASSIFIER_KINDS = {"privacy": "privacy", "terms": "terms", "cookies": "cookies"}


def _ts(when: datetime) -> str:
    return when.strftime("%Y%m%d%H%M%S")


@dataclass(frozen=True)
class Period:
    start: str  # 14-digit timestamps; `end` is the next period's start
    end: str
    mid: str


def periods(first: datetime, last: datetime, months: int) -> list[Period]:
    """The periods of `months` months, aligned to the calendar year, that meet [first, last]."""
    step = months if months <= 12 else 12
    year, month = first.year, ((first.month - 1) // step) * step + 1
    if months > 12:
        year -= (year - 1970) % (months // 12)
    out: list[Period] = []
    while True:
        start = datetime(year, month, 1, tzinfo=UTC)
        if start > last:
            return out
        total = month - 1 + months
        end = datetime(year + total // 12, total % 12 + 1, 1, tzinfo=UTC)
        out.append(Period(_ts(start), _ts(end), _ts(start + (end - start) / 2)))
        year, month = end.year, end.month


def _distance(capture: Capture, period: Period) -> float:
    return abs(
        (
            timestamp_to_datetime(capture.timestamp) - timestamp_to_datetime(period.mid)
        ).total_seconds()
    )


def pick_capture(captures: list[Capture], period: Period) -> Capture | None:
    """PLLC's rule: the status-200 capture nearest the midpoint, else a redirect inside."""
    inside = [c for c in captures if period.start <= c.timestamp < period.end]
    ok = [c for c in inside if c.is_revisit or (c.status is not None and 200 <= c.status < 300)]
    if ok:
        return min(ok, key=lambda c: _distance(c, period))
    moved = [c for c in inside if c.status is not None and 300 <= c.status < 400]
    return min(moved, key=lambda c: _distance(c, period)) if moved else None


def _date(timestamp: str) -> str:
    return f"{timestamp[0:4]}-{timestamp[4:6]}-{timestamp[6:8]}"


@dataclass
class Verdict:
    url: str | None = None  # the document's URL (after redirects), when found
    code: str | None = None
    reason: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass
class SiteReport:
    """One site's discovery: its observations (not yet stored) and what it cost."""

    domain: str
    observations: list[dict[str, Any]] = field(default_factory=list)
    cdx_requests: int = 0
    playbacks: int = 0
    homepages: int = 0
    processing_ms: float = 0.0
    error: str | None = None
    found: int = 0  # observations that found the document (kept once they are stored)
    periods: int = 0
    failed: int = 0  # periods that failed for a passing reason (the next run retries them)


class SiteRun:
    """Discovers one site's documents, period by period (network and our own processing; the
    database is the caller's). Every page is played back once per digest and judged once."""

    def __init__(
        self,
        transport: Transport,
        endpoint: ArchiveEndpoint,
        archive: ArchiveConfig,
        site: dict[str, Any],
        kinds: list[str],
    ) -> None:
        self.transport, self.endpoint, self.archive = transport, endpoint, archive
        self.site, self.kinds = site, kinds
        self.report = SiteReport(site["domain"])
        self.span: tuple[str | None, str | None] = (None, None)
        self._cdx: dict[str, list[Capture] | CrawlerError] = {}
        self._pages: dict[str, Memento | CrawlerError] = {}
        self._judged: dict[tuple[str, str, str, int], Verdict] = {}

    @property
    def homepage(self) -> str:
        return str(self.site.get("homepage") or f"http://{self.site['domain']}/")

    def captures(self, url: str) -> list[Capture] | CrawlerError:
        key = url_key(url)
        if key not in self._cdx:
            self.report.cdx_requests += 1
            try:
                found: list[Capture] = []
                for page in search(
                    self.transport, self.endpoint, url, from_ts=self.span[0], to_ts=self.span[1]
                ):
                    found.extend(page)
                self._cdx[key] = found
            except Unreachable:
                raise  # not this site's fault: the whole run stops (see _run_site)
            except CrawlerError as exc:
                self._cdx[key] = exc
        return self._cdx[key]

    def page(self, capture: Capture) -> Memento | CrawlerError:
        key = f"{capture.digest}" if capture.digest else f"{capture.timestamp} {capture.original}"
        if capture.status is not None and 300 <= capture.status < 400:
            key = f"{capture.timestamp} {capture.original}"  # where it leads depends on when
        if key not in self._pages:
            self.report.playbacks += 1
            try:
                self._pages[key] = fetch_memento(
                    self.transport,
                    self.endpoint,
                    capture.timestamp,
                    capture.original,
                    max_redirects=self.archive.max_redirects,
                    digest=capture.digest or None,
                )
            except Unreachable:
                raise
            except CrawlerError as exc:
                self._pages[key] = exc
        return self._pages[key]

    def run(self, todo: list[Period]) -> SiteReport:
        self.span = (todo[0].start, todo[-1].end) if todo else (None, None)
        home = self.captures(self.homepage)
        first = min((c.timestamp for c in home), default=None) if isinstance(home, list) else None
        for period in todo:
            if first is not None and period.end <= first:
                reason = f"before the homepage's first capture ({_date(first)})"
                verdicts = [(k, Verdict(code=BEFORE, reason=reason)) for k in self.kinds]
            else:
                verdicts = self._period(home, period)
            for kind, verdict in verdicts:
                self.report.observations.append(
                    {
                        "kind": kind,
                        "period_from": period.start,
                        "period_to": period.end,
                        "url": verdict.url,
                        "code": verdict.code,
                        "reason": verdict.reason,
                        "evidence": verdict.evidence,
                    }
                )
        return self.report

    def _period(
        self, home: list[Capture] | CrawlerError, period: Period
    ) -> list[tuple[str, Verdict]]:
        def every(code: str, reason: str) -> list[tuple[str, Verdict]]:
            return [(kind, Verdict(code=code, reason=reason)) for kind in self.kinds]

        if isinstance(home, CrawlerError):
            return every(*_failure(home, "the homepage's CDX query"))
        capture = pick_capture(home, period)
        if capture is None:
            return every("no-homepage", "no homepage capture in the period")
        page = self.page(capture)
        if isinstance(page, CrawlerError):
            return every(*_failure(page, f"the homepage captured {_date(capture.timestamp)}"))
        if page.status >= 400:
            return every(
                "no-homepage", f"the homepage was captured as HTTP {page.status} in the period"
            )
        self.report.homepages += 1
        where = {
            "homepage": page.url,
            "homepage_timestamp": capture.timestamp,
        }
        out = []
        for kind in self.kinds:
            started = time.thread_time()
            links = [c for c in find_links(page.body, page.url, kind) if c.score >= MIN_LINK_SCORE]
            self.report.processing_ms += (time.thread_time() - started) * 1000
            if not links:
                out.append(
                    (
                        kind,
                        Verdict(
                            code="no-link",
                            reason=f"no {kind} link on the homepage captured "
                            f"{_date(capture.timestamp)}",
                            evidence=where,
                        ),
                    )
                )
                continue
            first: Verdict | None = None
            for link in links[:MAX_CANDIDATES]:
                verdict = self.judge(link.url, period, kind)
                if verdict.url:
                    verdict.evidence = {
                        **where,
                        "link_text": link.text,
                        "link_score": link.score,
                        "rule": link.evidence,
                        **verdict.evidence,
                    }
                    first = verdict
                    break
                first = first or verdict
            assert first is not None
            if not first.url:
                first.evidence = {**where, **first.evidence}
            out.append((kind, first))
        return out

    def judge(self, url: str, period: Period, kind: str, depth: int = 0) -> Verdict:
        """Is `url`, as archived in `period`, the site's `kind` document?"""
        key = (url_key(url), period.start, kind, depth)
        if key not in self._judged:
            self._judged[key] = self._judge(url, period, kind, depth)
        return self._judged[key]

    def _judge(self, url: str, period: Period, kind: str, depth: int) -> Verdict:
        captures = self.captures(url)
        if isinstance(captures, CrawlerError):
            return Verdict(None, *_failure(captures, f"the CDX query for {url}"), {"link": url})
        capture = pick_capture(captures, period)
        if capture is None:
            errors = [
                c
                for c in captures
                if period.start <= c.timestamp < period.end and (c.status or 0) >= 400
            ]
            if errors:
                status = errors[0].status
                return Verdict(
                    None, "http-error", f"{url} was captured as HTTP {status}", {"link": url}
                )
            return Verdict(
                None, "not-archived", f"{url} was not archived in the period", {"link": url}
            )
        page = self.page(capture)
        if isinstance(page, CrawlerError):
            return Verdict(None, *_failure(page, url), {"link": url})
        if page.status >= 400:
            return Verdict(
                None, "http-error", f"{url} was captured as HTTP {page.status}", {"link": url}
            )
        started = time.thread_time()
        try:
            document = extract_any(page.body, content_type=page.content_type, base_url=page.url)
            found = classify(
                document.title,
                [b.text for b in document.blocks if b.kind == "heading"],
                render_text(document),
                page.url,
            )
        except CrawlerError as exc:
            self.report.processing_ms += (time.thread_time() - started) * 1000
            return Verdict(None, "not-policy", f"{url}: {exc}", {"link": url})
        self.report.processing_ms += (time.thread_time() - started) * 1000
        evidence: dict[str, Any] = {
            "link": url,
            "capture": capture.timestamp,
            "classifier": {
                "kind": found.kind,
                "score": round(found.score, 3),
                "evidence": found.evidence,
            },
        }
        if page.url != url and url_key(page.url) != url_key(url):
            evidence["redirected_from"] = url
        if found.kind == CLASSIFIER_KINDS.get(kind, "other-legal"):
            return Verdict(page.url, None, None, evidence)
        if depth == 0:
            hub = self._through_hub(page, period, kind)
            if hub is not None:
                return hub
        return Verdict(
            None,
            "not-policy",
            f"{url} is not a {kind} document (the classifier says {found.kind}, {found.score:.2f})",
            evidence,
        )

    def _through_hub(self, page: Memento, period: Period, kind: str) -> Verdict | None:
        """A legal hub's link to the document, followed one level."""
        for link in find_links(page.body, page.url, kind)[:MAX_CANDIDATES]:
            if not link.confident or url_key(link.url) == url_key(page.url):
                continue
            verdict = self.judge(link.url, period, kind, depth=1)
            if verdict.url:
                verdict.evidence = {**verdict.evidence, "via": page.url, "hub_link": link.text}
                return verdict
        return None


def _failure(exc: CrawlerError, what: str) -> tuple[str, str]:
    if isinstance(exc, Blocked):
        return "blocked", f"the archive refuses {what}: {exc}"
    said = str(exc)
    if "retried on the next run" not in said:
        said += " (retried on the next run)"
    return "failed", f"{what} failed: {said}"


# -- many sites -------------------------------------------------------------------------------


@dataclass
class DiscoverPlan:
    sites: int
    periods: int
    cdx_requests: int
    playbacks: int
    seconds: float  # the time the archive's limits imply, at the least


def todo_periods(
    settled: dict[tuple[str, str], str], kinds: list[str], all_periods: list[Period]
) -> list[Period]:
    """The periods of a site that some kind still lacks (or failed for a passing reason)."""
    return [
        p
        for p in all_periods
        if any(settled.get((kind, p.start), "failed") in RETRY_CODES for kind in kinds)
    ]


def plan(
    db: Database, sites: list[dict[str, Any]], archive: ArchiveConfig, all_periods: list[Period]
) -> DiscoverPlan:
    """The request budget of discovering `sites` over `all_periods`, before sending any: per
    site, one CDX query for the homepage and one per linked URL (two per kind, as measured on
    the simulated archive), one playback per period for the homepage and one per kind."""
    cdx = playbacks = count = todo_total = 0
    for site in sites:
        todo = todo_periods(store.settled_periods(db, site["id"]), site["kinds"], all_periods)
        if not todo:
            continue
        count += 1
        todo_total += len(todo)
        cdx += 1 + 2 * len(site["kinds"])
        playbacks += len(todo) * (1 + len(site["kinds"]))
    seconds = max(cdx / archive.cdx_per_minute * 60, playbacks / archive.playback_per_second)
    return DiscoverPlan(count, todo_total, cdx, playbacks, seconds)


SiteProgress = Callable[[dict[str, Any], SiteReport, list[str]], None]


def discover_sites(
    db: Database,
    transport: Transport,
    archive: ArchiveConfig,
    sites: Iterable[dict[str, Any]],
    all_periods: list[Period],
    now: datetime,
    *,
    workers: int | None = None,
    progress: SiteProgress | None = None,
) -> list[SiteReport]:
    """Discover each site's documents over `all_periods`. Sites run `workers` at a time; each settles in its own transaction as
    soon as it is done, so memory does not grow with the number of sites."""
    endpoint = ArchiveEndpoint.from_url(archive.url)
    reports: list[SiteReport] = []
    width = workers or archive.workers
    with ThreadPoolExecutor(max_workers=width, thread_name_prefix="discover") as pool:
        in_flight: deque[tuple[dict[str, Any], Future[SiteReport]]] = deque()
        queue = iter(sites)
        while True:
            while len(in_flight) < width * 2:
                site = next(queue, None)
                if site is None:
                    break
                todo = todo_periods(
                    store.settled_periods(db, site["id"]), site["kinds"], all_periods
                )
                if not todo:
                    continue
                run = SiteRun(transport, endpoint, archive, site, list(site["kinds"]))
                in_flight.append((site, pool.submit(_run_site, run, todo)))
            if not in_flight:
                break
            site, future = in_flight.popleft()
            report = future.result()
            moved = _settle_site(db, site, report, now)
            report.found = sum(1 for o in report.observations if o["url"])
            report.periods = len(report.observations)
            report.failed = sum(1 for o in report.observations if o["code"] in RETRY_CODES)
            report.observations = []  # stored: memory stays flat however many sites
            reports.append(report)
            if progress:
                progress(site, report, moved)
    return reports


def _run_site(run: SiteRun, todo: list[Period]) -> SiteReport:
    """One site's discovery. An archive that cannot be reached stops the whole run (every
    other site would wait on it too); anything else fails this site alone."""
    try:
        return run.run(todo)
    except Unreachable:
        raise
    except Exception as exc:  # noqa: BLE001 - one site's bug never stops the others
        run.report.error = f"{type(exc).__name__}: {exc}"
        run.report.observations = []
        return run.report


def _settle_site(
    db: Database, site: dict[str, Any], report: SiteReport, now: datetime
) -> list[str]:
    """Store one site's observations and rebuild its documents' segments, in one transaction."""
    moved: list[str] = []
    with store.writing(db):
        for seen in report.observations:
            store.add_observation(
                db,
                site["id"],
                seen["kind"],
                source="archive",
                period_from=seen["period_from"],
                period_to=seen["period_to"],
                url=seen["url"],
                code=seen["code"],
                reason=seen["reason"],
                evidence=seen["evidence"],
                now=now,
            )
        for kind in site["kinds"]:
            settled = settle_document(db, site, kind, now)
            moved += [f"{m['from_url']} → {m['to_url']} ({m['at'][:8]})" for m in settled.moved]
    return moved
