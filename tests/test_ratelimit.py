"""The limiters, proven with a fake clock: no sleeping."""

from __future__ import annotations

import threading

from crawler.archive.ratelimit import FakeClock, Limiters, RateLimiter


def test_requests_are_spaced_at_the_configured_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(24 / 60, clock)  # the default CDX rate: 24 a minute
    for _ in range(10):
        limiter.acquire()
    gaps = [b - a for a, b in zip(limiter.granted, limiter.granted[1:], strict=False)]
    assert all(abs(gap - 2.5) < 1e-9 for gap in gaps)
    # Never more than 24 in any 60-second window.
    assert all(sum(1 for t in limiter.granted if s <= t < s + 60) <= 24 for s in limiter.granted)


def test_one_limiter_is_shared_by_all_threads() -> None:
    clock = FakeClock()
    limiter = RateLimiter(8, clock)
    threads = [
        threading.Thread(target=lambda: [limiter.acquire() for _ in range(25)]) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    granted = sorted(limiter.granted)
    assert len(granted) == 100
    assert all(b - a >= 1 / 8 - 1e-9 for a, b in zip(granted, granted[1:], strict=False))


def test_a_pause_holds_both_endpoints() -> None:
    clock = FakeClock()
    limiters = Limiters(cdx_per_minute=24, playback_per_second=8, clock=clock)
    limiters.playback.acquire()
    start = clock.t
    limiters.pause(60)
    limiters.cdx.acquire()
    assert clock.t >= start + 60
    limiters.playback.acquire()
    assert limiters.playback.granted[-1] >= start + 60


def test_idle_limiter_does_not_wait() -> None:
    clock = FakeClock()
    limiter = RateLimiter(1, clock)
    limiter.acquire()
    clock.t += 10
    limiter.acquire()
    assert clock.sleeps == []
