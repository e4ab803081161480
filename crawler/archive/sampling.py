"""Which captures to play back. Pure: timestamps in, indexes out; no I/O, no clock.

- `all`: every capture with a distinct digest (what other tools do).
- `interval:PERIOD`: the first capture of each period (`6M`, `90d`, `1y`): cheap, and blind to
  changes between two samples.
- `bisect`: fetch the two ends of the capture range, and between two fetched captures fetch the
  middle one only while their texts differ: a change must lie between them. Requests grow with
  the number of text changes, not with captures. Texts that change and change back (A → B → A,
  common where sites A/B test their policies) hide between two equal ends, so no two fetched
  captures are ever left more than `max_gap_days` apart.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import UTC, datetime

PERIOD_RE = re.compile(r"^(\d+)\s*([dwmy])$", re.I)
DAYS = {"d": 1, "w": 7, "m": 30.44, "y": 365.25}
DEFAULT_MAX_GAP_DAYS = 90.0
# How far (bytes) a compressed record's length may stray from a length seen for a text and
# still be taken for that text: gzip's own jitter when a same-length token changes.
LENGTH_SLACK = 8
Band = tuple[int, ...]  # the sorted lengths of one text's fetched captures


def parse_strategy(value: str) -> tuple[str, float]:
    """("all" | "bisect" | "interval", days). Raises ValueError naming the accepted forms."""
    text = value.strip().lower()
    if text == "all":
        return "all", 0.0
    if text == "bisect" or text.startswith("bisect:"):
        days = _days(text.split(":", 1)[1]) if ":" in text else DEFAULT_MAX_GAP_DAYS
        return "bisect", days
    if text.startswith("interval:"):
        return "interval", _days(text.split(":", 1)[1])
    raise ValueError(f"{value!r}: use all, bisect, bisect:90d or interval:6m")


def _days(period: str) -> float:
    match = PERIOD_RE.match(period.strip())
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"{period!r} is not a period such as 90d, 6m or 1y")
    return int(match.group(1)) * DAYS[match.group(2).lower()]


def _seconds(timestamp: str) -> float:
    t = timestamp.ljust(14, "0")
    month, day = max(1, int(t[4:6])), max(1, int(t[6:8]))
    try:
        when = datetime(int(t[:4]), min(month, 12), min(day, 28) if day > 28 else day, tzinfo=UTC)
    except ValueError:
        when = datetime(int(t[:4]), 1, 1, tzinfo=UTC)
    return when.timestamp() + int(t[8:10]) * 3600 + int(t[10:12]) * 60 + int(t[12:14])


def interval_sample(timestamps: list[str], period_days: float) -> list[int]:
    """The first capture of each period, counted from the first capture."""
    if not timestamps:
        return []
    start = _seconds(timestamps[0])
    width = period_days * 86400
    chosen, seen = [], set()
    for i, ts in enumerate(timestamps):
        bucket = int((_seconds(ts) - start) // width)
        if bucket not in seen:
            seen.add(bucket)
            chosen.append(i)
    return chosen


@dataclass
class Bisect:
    """Plan playbacks by bisection over captures sorted by time.

    Call `next_batch()`, fetch those captures, `record()` each one's text key (a version id,
    or None when it gave no text), and repeat until `next_batch()` is empty. `inferred()` then
    names the text of every capture left unfetched.

    With `lengths` (the CDX `length` of each capture, the size of its compressed record), the
    plan also reads the index itself, to choose what to fetch; it never settles a capture's
    text from a length. Page noise (tokens, ads) moves a record's length a little, or between
    a few variants (a banner shown or not); a different text usually moves it elsewhere. So the
    lengths of the fetched captures of each text, each give or take `slack` bytes, make that
    text's band, and:
    - between two fetched captures with the same text, a capture whose length lies outside that
      text's band is fetched: a change that reverted (A → B → A) hides there;
    - between two different texts whose bands are apart, the first capture whose length leaves
      the first text's band is fetched, and then the one before it, where the change most
      likely is: two playbacks instead of a bisection's log2(n); texts whose lengths cannot be
      told apart are bisected.
    A change that reverts within the density bound and keeps the record's length within its
    neighbours' band (a date edited and put back, say) is not seen."""

    timestamps: list[str]
    max_gap_days: float = DEFAULT_MAX_GAP_DAYS
    lengths: list[int | None] | None = None
    slack: int = LENGTH_SLACK
    keys: dict[int, str | None] = field(default_factory=dict)
    _started: bool = False

    def record(self, index: int, key: str | None) -> None:
        self.keys[index] = key

    def _with_text(self) -> list[int]:
        return sorted(i for i, k in self.keys.items() if k is not None)

    def _free_between(self, a: int, b: int) -> int | None:
        """An unfetched index between a and b, nearest the middle."""
        middle = (a + b) // 2
        for step in range(b - a):
            for candidate in (middle - step, middle + step):
                if a < candidate < b and candidate not in self.keys:
                    return candidate
        return None

    def next_batch(self) -> list[int]:
        n = len(self.timestamps)
        if not n:
            return []
        if not self._started:
            self._started = True
            first = {0, n - 1}
            first.update(self._density_seeds())
            return sorted(first)
        batch: set[int] = set()
        known = self._with_text()
        if not known:
            free = [i for i in range(n) if i not in self.keys]
            return free[:1]  # every fetch so far gave no text: try the next one
        bands = self._bands()
        # Captures before the first and after the last text are unknown too.
        edges = [(-1, known[0]), (known[-1], n)]
        for a, b in [*zip(known, known[1:], strict=False), *edges]:
            if b - a <= 1:
                continue
            candidate: int | None
            if a < 0 or b >= n:
                candidate = self._free_between(a, b)
            elif self.keys[a] == self.keys[b]:
                gap = (_seconds(self.timestamps[b]) - _seconds(self.timestamps[a])) / 86400
                if gap > self.max_gap_days:
                    candidate = self._free_between(a, b)
                else:
                    candidate = self._misfit(a, b, bands.get(self.keys[a]))
            else:
                candidate = self._locate(a, b, bands)
            if candidate is not None:
                batch.add(candidate)
        return sorted(batch)

    def _density_seeds(self) -> set[int]:
        return set(interval_sample(self.timestamps, self.max_gap_days))

    def _bands(self) -> dict[str | None, Band]:
        """Per text, the lengths of its fetched captures, sorted: page noise often comes in a
        few variants (a banner shown or not), so a text's lengths form clusters, not a range."""
        points: dict[str | None, list[int]] = {}
        if self.lengths is None:
            return {}
        for i, key in self.keys.items():
            length = self.lengths[i]
            if key is not None and length is not None:
                points.setdefault(key, []).append(length)
        return {key: tuple(sorted(values)) for key, values in points.items()}

    def _fits(self, i: int, band: Band | None) -> bool:
        """Whether capture i's length lies within `slack` of a length seen for the text."""
        length = None if self.lengths is None else self.lengths[i]
        if length is None or not band:
            return False
        return self._near(band, length, self.slack)

    def _free(self, a: int, b: int) -> list[int]:
        return [i for i in range(a + 1, b) if i not in self.keys]

    def _misfit(self, a: int, b: int, band: Band | None) -> int | None:
        """Between two captures of one text: the first unfetched one whose length is outside
        that text's band (captures without a length are taken to fit)."""
        if self.lengths is None or band is None:
            return None
        for i in self._free(a, b):
            if self.lengths[i] is not None and not self._fits(i, band):
                return i
        return None

    def _locate(self, a: int, b: int, bands: dict[str | None, Band]) -> int | None:
        """Between two different texts: the first capture whose length leaves the first text's
        band, or the last capture before the second text when none does; the middle when the
        two texts' lengths cannot be told apart."""
        band_a, band_b = bands.get(self.keys[a]), bands.get(self.keys[b])
        free = self._free(a, b)
        if not free:
            return None
        if band_a is None or band_b is None or self._overlap(band_a, band_b):
            return self._free_between(a, b)
        for i in free:
            if not self._fits(i, band_a):
                return i
        return free[-1]

    def _overlap(self, one: Band, two: Band) -> bool:
        """Whether some length of one text lies within twice the slack of one of the other's:
        then a capture between them could be either."""
        return any(self._near(two, length, 2 * self.slack) for length in one)

    @staticmethod
    def _near(band: Band, length: int, distance: int) -> bool:
        at = bisect_left(band, length - distance)
        return at < len(band) and band[at] <= length + distance

    def inferred(self) -> dict[int, str]:
        """Unfetched captures whose text is known: the same text was fetched on both sides (and,
        with lengths, each one's length fits that text's band, or it would have been fetched)."""
        out: dict[int, str] = {}
        known = self._with_text()
        for a, b in zip(known, known[1:], strict=False):
            key = self.keys[a]
            if key is not None and key == self.keys[b]:
                out.update((i, key) for i in self._free(a, b))
        return out
