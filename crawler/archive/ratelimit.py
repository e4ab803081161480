"""Rate limiters shared by every worker, one per archive endpoint class.

A limiter spaces requests at least 1/rate seconds apart, across threads. `pause(seconds)` holds
every worker of every limiter in the same `Limiters` group: the Internet Archive blocks an IP at
its firewall when 429s are ignored for a minute (wayback-facts.md 1.3), so one 429 stops all.

The clock and the sleep are injectable so that tests prove the spacing without sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Clock:
    """Monotonic time and sleep; tests pass a FakeClock."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


class FakeClock(Clock):
    """A clock that only moves when something sleeps. Records every sleep."""

    def __init__(self, start: float = 1000.0) -> None:
        self.t = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()
        super().__init__(now=self._now, sleep=self._sleep)

    def _now(self) -> float:
        with self._lock:
            return self.t

    def _sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.t += max(0.0, seconds)


@dataclass
class _Pause:
    until: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


class RateLimiter:
    """At most `rate` acquisitions per second, spaced evenly, shared by all threads."""

    def __init__(
        self, rate: float, clock: Clock | None = None, pause: _Pause | None = None, name: str = ""
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate
        self.clock = clock or Clock()
        self.name = name
        self._next = float("-inf")
        self._lock = threading.Lock()
        self._pause = pause or _Pause()
        self.granted: list[float] = []  # times granted; lets tests and benchmarks check the rate

    def acquire(self) -> None:
        """Block until this caller may send one request."""
        with self._lock:
            now = self.clock.now()
            with self._pause.lock:
                paused_until = self._pause.until
            slot = max(now, self._next, paused_until)
            self._next = slot + self.interval
            self.granted.append(slot)
        wait = slot - now
        if wait > 0:
            self.clock.sleep(wait)
        # A pause may have started while we waited: honour it before sending.
        while True:
            with self._pause.lock:
                remaining = self._pause.until - self.clock.now()
            if remaining <= 0:
                return
            self.clock.sleep(remaining)

    def pause(self, seconds: float) -> None:
        """Hold every worker sharing this limiter's group for `seconds` from now."""
        with self._pause.lock:
            self._pause.until = max(self._pause.until, self.clock.now() + seconds)
        with self._lock:
            self._next = max(self._next, self._pause.until)


class Limiters:
    """The limiter group of one archive: CDX (+ TimeMap) and playback, with one shared pause."""

    def __init__(
        self, cdx_per_minute: float, playback_per_second: float, clock: Clock | None = None
    ) -> None:
        clock = clock or Clock()
        pause = _Pause()
        self.clock = clock
        self.cdx = RateLimiter(cdx_per_minute / 60.0, clock, pause, name="cdx")
        self.playback = RateLimiter(playback_per_second, clock, pause, name="playback")

    def pause(self, seconds: float) -> None:
        self.cdx.pause(seconds)
        self.playback.pause(seconds)
