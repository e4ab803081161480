"""Internet Archive behaviour pywb cannot show, through httpx.MockTransport handlers modelled on
the real recordings in ../shared/corpus/wayback-recordings/ (see tests/fixtures/README.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from crawler.archive import ArchiveEndpoint, Transport, fetch_memento, search
from crawler.archive.ratelimit import FakeClock, Limiters
from crawler.config import ArchiveConfig, Policy
from crawler.errors import Blocked, FetchError, NoMemento, RedirectLoop
from crawler.pipeline import backfill
from db import store

FIXTURES = Path(__file__).parent / "fixtures"
IA = ArchiveEndpoint.from_url("https://web.archive.org")
NOW = datetime(2026, 11, 22, tzinfo=UTC)
Handler = Callable[[httpx.Request], httpx.Response]


def page(text: str, noise: str = "") -> bytes:
    return (
        f"<html><head><title>Privacy Policy | Example</title><script>var t='{noise}'"
        f"</script></head><body><nav><a href='/'>Home</a></nav><main><h1>Privacy</h1>"
        f"<p>{text}</p></main><footer>{noise}</footer></body></html>"
    ).encode()


def memento(body: bytes, when: str, status: int = 200, **headers: str) -> httpx.Response:
    stamp = datetime.strptime(when, "%Y%m%d%H%M%S").strftime("%a, %d %b %Y %H:%M:%S GMT")
    return httpx.Response(
        status,
        content=body,
        headers={"content-type": "text/html; charset=utf-8", "memento-datetime": stamp, **headers},
    )


def archive_redirect(location: str) -> httpx.Response:
    # IA's own 302 to the nearest capture: text/plain and no Memento-Datetime.
    return httpx.Response(
        302, headers={"location": location, "content-type": "text/plain; charset=utf-8"}
    )


def make_transport(
    handler: Handler, clock: FakeClock | None = None, retries: int = 3
) -> tuple[Transport, FakeClock, list[httpx.Request]]:
    clock = clock or FakeClock()
    seen: list[httpx.Request] = []

    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    client = httpx.Client(transport=httpx.MockTransport(recording))
    limiters = Limiters(cdx_per_minute=24, playback_per_second=8, clock=clock)
    return Transport(client, limiters, retries=retries), clock, seen


V1, V2, V3 = "We collect your e-mail.", "We collect your e-mail and phone.", "We sell nothing."


def ia_handler(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == "/cdx/search/cdx":
        key = request.url.params.get("resumeKey")
        name = {
            None: "ia_cdx_page1.txt",
            "com%2Cexample%29%2Fprivacy+2017060100000%3A": "ia_cdx_page2.txt",
        }.get(key, "ia_cdx_last_page.txt")
        return httpx.Response(
            200, text=(FIXTURES / name).read_text(), headers={"content-type": "text/plain"}
        )
    routes: dict[str, Callable[[], httpx.Response]] = {
        "/web/20170101000000id_/http://www.example.com/privacy": lambda: memento(
            page(V1, "a"), "20170101000000"
        ),
        "/web/20170601000000id_/http://www.example.com/privacy": lambda: memento(
            page(V1, "b"), "20170601000000"
        ),
        # A captured 302 with a path-only Location, then IA's 302 to the nearest capture.
        "/web/20180301000000id_/https://example.com/privacy": lambda: httpx.Response(
            302,
            headers={
                "location": "/web/20180301000000id_/https://www.example.com/privacy-new",
                "memento-datetime": "Thu, 01 Mar 2018 00:00:00 GMT",
            },
        ),
        "/web/20180301000000id_/https://www.example.com/privacy-new": lambda: archive_redirect(
            "https://web.archive.org/web/20180302120000id_/https://www.example.com/privacy-new"
        ),
        "/web/20180302120000id_/https://www.example.com/privacy-new": lambda: memento(
            page(V2, "c"), "20180302120000"
        ),
        "/web/20180501000000id_/https://www.example.com/privacy": lambda: archive_redirect(
            "//web.archive.org/web/20180501000007id_/https://www.example.com/privacy"
        ),
        "/web/20180501000007id_/https://www.example.com/privacy": lambda: memento(
            page(V2, "d"), "20180501000007"
        ),
        "/web/20180600000000id_/https://www.example.com/privacy": lambda: memento(
            page(V3, "e"), "20180601000000"
        ),
    }
    route = routes.get(path)
    return route() if route else httpx.Response(404, text="not archived")


def test_cdx_pages_with_resume_keys_and_drops_repeated_rows() -> None:
    transport, _, seen = make_transport(ia_handler)
    pages = list(search(transport, IA, "https://www.example.com/privacy"))
    captures = [c for p in pages for c in p]
    assert [c.timestamp for c in captures] == [
        "20170101000000",
        "20170601000000",
        "20180101000000",
        "20180301000000",
        "20180401000000",
        "20180501000000",
        "20180600000000",
    ]
    assert captures[0].original == "http://www.example.com/privacy"  # :80 stripped
    assert captures[2].is_revisit and captures[2].status is None
    assert captures[4].length is None
    # The key is sent on as an opaque string (httpx encodes its % again, as IA accepted).
    assert "resumeKey=com%252Cexample%2529" in str(seen[1].url)
    assert len(seen) == 3 and seen[2].url.params["resumeKey"].endswith("20180701000000")


def test_backfill_over_the_internet_archive_layout(tmp_path: Path) -> None:
    transport, _, seen = make_transport(ia_handler)
    db = store.connect(tmp_path / "ia.db")
    policy = Policy("example-privacy", "https://www.example.com/privacy")
    result = backfill(db, transport, ArchiveConfig(), policy, NOW)
    versions = store.history(db, store.policy_id(db, policy.name) or 0)
    assert [(v["first_timestamp"], v["last_timestamp"], v["snapshots"]) for v in versions] == [
        ("20170101000000", "20180101000000", 3),
        ("20180301000000", "20180501000000", 2),
        ("20180600000000", "20180600000000", 1),
    ]
    states = {
        r["timestamp"]: (r["state"], r["reason"])
        for r in store.rows(db, "SELECT timestamp, state, reason FROM captures")
    }
    assert states["20180401000000"] == ("skipped", "HTTP 503 capture")
    assert states["20180101000000"][0] == "fetched"  # the revisit, without playback
    playbacks = [r for r in seen if r.url.path.startswith("/web/")]
    assert not any("20180101000000" in str(r.url) for r in playbacks)
    # 8, and one more for each redirect target, fetched again to confirm its body.
    assert result.playback_requests == len(playbacks) == 10
    # Again: nothing new, no playback.
    again = backfill(db, transport, ArchiveConfig(), policy, NOW)
    assert again.playback_requests == 0 and again.new_versions == 0


def test_blocked_site_cdx_403_is_a_clear_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            403,
            text=(FIXTURES / "ia_cdx_blocked_403.txt").read_text(),
            headers={
                "x-archive-wayback-runtime-error": (
                    "org.archive.util.io.RuntimeIOException: org.archive.wayback."
                    "exception.AdministrativeAccessControlException: Blocked Site "
                    "Error"
                )
            },
        )

    transport, _, _ = make_transport(handler)
    with pytest.raises(Blocked, match="blocks https://nationalpost.com/health"):
        list(search(transport, IA, "https://nationalpost.com/health"))


def test_excluded_url_200_without_memento_datetime_is_blocked() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            text="<p>This URL has been excluded from the Wayback Machine.</p>",
            headers={"content-type": "text/html"},
        )

    transport, _, _ = make_transport(handler)
    with pytest.raises(Blocked, match="excluded"):
        fetch_memento(transport, IA, "20170929002712", "https://nationalpost.com/health/")


def test_never_archived_is_no_memento() -> None:
    transport, _, _ = make_transport(lambda r: httpx.Response(404, text="not archived"))
    with pytest.raises(NoMemento):
        fetch_memento(transport, IA, "20170929002712", "https://not-real.example/")


def test_redirect_loop_is_detected() -> None:
    """Modelled on test_get_memento_raises_for_mementos_that_redirect_in_a_loop.yaml."""
    a, b = "https://link.example/article", "https://idp.example/authorize"

    def handler(request: httpx.Request) -> httpx.Response:
        raw = str(request.url)
        if raw.endswith(f"20200925075402id_/{a}"):
            return httpx.Response(
                303,
                headers={
                    "location": f"https://web.archive.org/web/20200925075402id_/{b}",
                    "memento-datetime": "Fri, 25 Sep 2020 07:54:02 GMT",
                },
            )
        if raw.endswith(f"20200925075402id_/{b}"):
            return archive_redirect(f"https://web.archive.org/web/20200925075411id_/{b}")
        if raw.endswith(f"20200925075411id_/{b}"):
            return httpx.Response(
                302,
                headers={
                    "location": f"https://web.archive.org/web/20200925075411id_/{a}",
                    "memento-datetime": "Fri, 25 Sep 2020 07:54:11 GMT",
                },
            )
        return archive_redirect(f"https://web.archive.org/web/20200925075402id_/{a}")

    transport, _, seen = make_transport(handler)
    with pytest.raises(RedirectLoop):
        fetch_memento(transport, IA, "20200925075402", a, max_redirects=10)
    assert len(seen) == 4


def test_429_pauses_every_worker_then_retries() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return httpx.Response(429, text="Too Many Requests")  # IA sent no Retry-After
        if calls["n"] == 2:
            return httpx.Response(429, headers={"retry-after": "7"})
        return memento(page(V1), "20170101000000")

    transport, clock, _ = make_transport(handler)
    start = clock.t
    result = fetch_memento(transport, IA, "20170101000000", "https://www.example.com/privacy")
    assert result.status == 200
    assert clock.t - start >= 60 + 7
    # The pause holds the CDX limiter too: its next slot is after the pause.
    before = clock.t
    transport.limiters.cdx.acquire()
    assert clock.t >= before


def test_archived_429_is_a_capture_not_a_rate_limit() -> None:
    """A memento of a site's own 429 carries Memento-Datetime: no pause, no retry."""
    transport, clock, seen = make_transport(
        lambda r: memento(b"<title>Too Many Requests</title>", "20150129034904", status=429)
    )
    result = fetch_memento(transport, IA, "20150129034904", "http://www.reddit.com/r/x")
    assert result.status == 429 and len(seen) == 1 and not clock.sleeps


def test_5xx_and_timeouts_retry_with_backoff() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ReadTimeout("timed out", request=request)
        if calls["n"] in (2, 3):
            return httpx.Response(502 if calls["n"] == 2 else 504)
        return memento(page(V1), "20170101000000")

    transport, clock, _ = make_transport(handler)
    assert fetch_memento(transport, IA, "20170101000000", "https://x.example/").status == 200
    backoffs = [s for s in clock.sleeps if s >= 1]
    assert backoffs[:3] == [1.0, 2.0, 4.0]


def test_retries_run_out_into_a_failed_capture(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/cdx/search/cdx":
            return httpx.Response(
                200,
                text=(
                    "com,example)/p 20200101000000 https://example.com/p text/html 200 "
                    "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ 100\n"
                ),
            )
        raise httpx.ConnectError("connection reset by peer", request=request)

    transport, _, _ = make_transport(handler, retries=2)
    db = store.connect(tmp_path / "f.db")
    result = backfill(db, transport, ArchiveConfig(), Policy("p", "https://example.com/p"), NOW)
    assert result.failed == 1
    row = next(store.rows(db, "SELECT state, reason, attempts FROM captures"))
    assert row["state"] == "failed" and "ConnectError" in row["reason"]
    assert row["attempts"] == 1
    with pytest.raises(FetchError):
        fetch_memento(transport, IA, "20200101000000", "https://example.com/p")


def test_a_body_that_is_not_the_capture_is_fetched_again() -> None:
    """An empty 200 (or any swapped body) does not match the CDX digest: fetch it again."""
    from crawler.archive import payload_digest

    good = page(V1)
    answers = [b"", b"%PDF-1.4 not the page", good]

    def handler(request: httpx.Request) -> httpx.Response:
        return memento(answers.pop(0), "20170101000000")

    transport, _, seen = make_transport(handler)
    result = fetch_memento(
        transport, IA, "20170101000000", "https://x.example/", digest=payload_digest(good)
    )
    assert result.body == good and len(seen) == 3


def test_a_stable_digest_mismatch_is_kept_as_ia_may_re_encode() -> None:
    transport, _, seen = make_transport(lambda r: memento(page(V2), "20170101000000"))
    result = fetch_memento(transport, IA, "20170101000000", "https://x.example/", digest="Z" * 32)
    assert result.body == page(V2) and len(seen) == 3


def test_answers_that_keep_changing_fail_the_capture_for_now() -> None:
    counter = iter(range(100))
    transport, _, seen = make_transport(
        lambda r: memento(page(f"noise {next(counter)}"), "20170101000000")
    )
    with pytest.raises(FetchError, match="retried on the next run"):
        fetch_memento(transport, IA, "20170101000000", "https://x.example/", digest="Z" * 32)
    assert len(seen) == 4


def test_decode_body_refuses_truncated_and_oversized_streams() -> None:
    import gzip

    from crawler.archive import BodyError, decode_body

    body = b"<html>" + b"policy " * 1000 + b"</html>"
    packed = gzip.compress(body)
    assert decode_body(packed, ", gzip", 10**6, "u") == body  # IA's double header
    with pytest.raises(BodyError, match="truncated"):
        decode_body(packed[: len(packed) // 2], "gzip", 10**6, "u")
    with pytest.raises(BodyError, match="over"):
        decode_body(gzip.compress(b"0" * 5_000_000), "gzip", 1_000_000, "u")
    with pytest.raises(BodyError, match="undecodable"):
        decode_body(b"not gzip at all", "gzip", 10**6, "u")


def test_a_nearest_capture_weeks_away_is_not_taken_for_this_one(tmp_path: Path) -> None:
    """IA answers a capture it cannot play with a 302 to its nearest one, which may be weeks
    away: that text must not be dated to this capture, and the other capture counts itself."""
    cdx = (
        "com,example)/privacy 20190101000000 https://www.example.com/privacy text/html 200 "
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA 2000\n"
        "com,example)/privacy 20190215000000 https://www.example.com/privacy text/html 200 "
        "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB 2100\n"
        "com,example)/privacy 20190220000000 https://www.example.com/privacy text/html 200 "
        "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC 2110\n"
    )
    later = "https://web.archive.org/web/20190215000000id_/https://www.example.com/privacy"

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/cdx/search/cdx":
            return httpx.Response(200, text=cdx, headers={"content-type": "text/plain"})
        if path == "/web/20190101000000id_/https://www.example.com/privacy":
            return archive_redirect(later)  # 45 days away
        if path == "/web/20190215000000id_/https://www.example.com/privacy":
            return memento(page(V2, "x"), "20190215000000")
        if path == "/web/20190220000000id_/https://www.example.com/privacy":
            return archive_redirect(  # two days away: near enough to be this capture
                "https://web.archive.org/web/20190222000000id_/https://www.example.com/privacy"
            )
        if path == "/web/20190222000000id_/https://www.example.com/privacy":
            return memento(page(V3, "y"), "20190222000000")
        return httpx.Response(404, text="not archived")

    transport, _, _ = make_transport(handler)
    db = store.connect(tmp_path / "near.db")
    policy = Policy("example-privacy", "https://www.example.com/privacy")
    backfill(db, transport, ArchiveConfig(), policy, NOW)
    states = {
        r["timestamp"]: (r["state"], r["reason"] or "")
        for r in store.rows(db, "SELECT timestamp, state, reason FROM captures")
    }
    assert (
        states["20190101000000"][0] == "skipped" and "45 days away" in states["20190101000000"][1]
    )
    assert states["20190215000000"][0] == states["20190220000000"][0] == "fetched"
    versions = store.history(db, store.policy_id(db, policy.name) or 0)
    assert [(v["first_timestamp"], v["snapshots"]) for v in versions] == [
        ("20190215000000", 1),
        ("20190220000000", 1),
    ]


def test_paging_stops_when_the_archive_repeats_itself() -> None:
    """An archive repeating its resume key, or a pywb-like one ignoring `from`, would be asked
    forever (#17): the paging ends after the repeat."""
    row = "com,example)/p 2020{:02d}01000000 https://example.com/p text/html 200 D{:02d} 100\n"

    def ia(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=row.format(1, 1) + "\nSAMEKEY\n")

    transport, _, seen = make_transport(ia)
    pages = list(search(transport, IA, "https://example.com/p"))
    assert len(pages) == 1 and len(seen) == 2  # the key came back once: stop

    pywb = ArchiveEndpoint.from_url("http://127.0.0.1:9/coll")

    def ignores_from(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="".join(row.format(m, m) for m in range(1, 4)))

    transport, _, seen = make_transport(ignores_from)
    pages = list(search(transport, pywb, "https://example.com/p", page_size=3))
    assert sum(len(p) for p in pages) == 3 and len(seen) <= 3
