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
from dataclasses import dataclass, field
from datetime import UTC, datetime

PERIOD_RE = re.compile(r"^(\d+)\s*([dwmy])$", re.I)
DAYS = {"d": 1, "w": 7, "m": 30.44, "y": 365.25}
DEFAULT_MAX_GAP_DAYS = 60.0
# How far (bytes) a compressed record's length may stray from its text's band and still be
# taken for the same text: gzip's own jitter when a same-length token changes.
LENGTH_SLACK = 16
SAME_TEXT_AROUND = "same text fetched before and after it (bisect)"
LENGTH_FITS = "its CDX length fits the text on its side of a change (bisect)"


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
    plan also reads the index itself. Page noise (tokens, ads) moves a record's length a little;
    a different text usually moves it more. So the lengths of the fetched captures of each text
    give that text's band, and:
    - between two fetched captures with the same text, a capture whose length lies outside that
      text's band is fetched (a change that reverted, A → B → A, hides there);
    - between two different texts whose bands are apart, the captures split cleanly (every one
      fits the first text's band up to some point and the second's after it) are settled by
      their lengths, without playback; otherwise the first capture that breaks the split is
      fetched, and texts of equal length fall back to plain bisection.
    A text change that keeps the record's length within the noise band of both neighbours
    (a date edit, say) is caught only by the density bound."""

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
            first.update(i for i in range(n) if i in self._density_seeds())
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

    def _bands(self) -> dict[str | None, tuple[int, int]]:
        """Per text, the lowest and highest length among its fetched captures."""
        bands: dict[str | None, tuple[int, int]] = {}
        if self.lengths is None:
            return bands
        for i, key in self.keys.items():
            length = self.lengths[i]
            if key is None or length is None:
                continue
            low, high = bands.get(key, (length, length))
            bands[key] = (min(low, length), max(high, length))
        return bands

    def _fits(self, i: int, band: tuple[int, int] | None) -> bool:
        length = None if self.lengths is None else self.lengths[i]
        if length is None or band is None:
            return False
        return band[0] - self.slack <= length <= band[1] + self.slack

    def _free(self, a: int, b: int) -> list[int]:
        return [i for i in range(a + 1, b) if i not in self.keys]

    def _misfit(self, a: int, b: int, band: tuple[int, int] | None) -> int | None:
        """Between two captures of one text: the first unfetched one whose length is outside
        that text's band (captures without a length are taken to fit)."""
        if self.lengths is None or band is None:
            return None
        for i in self._free(a, b):
            if self.lengths[i] is not None and not self._fits(i, band):
                return i
        return None

    def _split(self, a: int, b: int, bands: dict[str | None, tuple[int, int]]) -> int | None:
        """Where the lengths between two different texts switch cleanly from the first's band
        to the second's: the number of unfetched captures that go with `a`, or None."""
        band_a, band_b = bands.get(self.keys[a]), bands.get(self.keys[b])
        free = self._free(a, b)
        side = []
        for i in free:
            fits_a, fits_b = self._fits(i, band_a), self._fits(i, band_b)
            if fits_a == fits_b:
                return None
            side.append(fits_a)
        cut = side.index(False) if False in side else len(side)
        return cut if all(not s for s in side[cut:]) else None

    def _locate(self, a: int, b: int, bands: dict[str | None, tuple[int, int]]) -> int | None:
        """Between two different texts: nothing when the lengths settle it, else the first
        capture that breaks a clean split, else the middle."""
        band_a, band_b = bands.get(self.keys[a]), bands.get(self.keys[b])
        if band_a is None or band_b is None or self._overlap(band_a, band_b):
            return self._free_between(a, b)
        if self._split(a, b, bands) is not None:
            return None
        for i in self._free(a, b):
            if not (self._fits(i, band_a) and not self._fits(i, band_b)):
                return i
        return None

    def _overlap(self, one: tuple[int, int], two: tuple[int, int]) -> bool:
        return (
            one[0] - self.slack <= two[1] + self.slack
            and two[0] - self.slack <= one[1] + self.slack
        )

    def inferred(self) -> dict[int, str]:
        """Unfetched captures whose text is known: the same text was fetched on both sides, or
        their lengths split cleanly between the two different texts around them."""
        return {i: key for i, (key, _) in self.inferred_with_reasons().items()}

    def inferred_with_reasons(self) -> dict[int, tuple[str, str]]:
        """`inferred()`, each with the reason to record."""
        out: dict[int, tuple[str, str]] = {}
        known = self._with_text()
        bands = self._bands()
        for a, b in zip(known, known[1:], strict=False):
            key_a, key_b = self.keys[a], self.keys[b]
            assert key_a is not None and key_b is not None
            free = self._free(a, b)
            if key_a == key_b:
                out.update((i, (key_a, SAME_TEXT_AROUND)) for i in free)
                continue
            band_a, band_b = bands.get(key_a), bands.get(key_b)
            if band_a is None or band_b is None or self._overlap(band_a, band_b):
                continue
            cut = self._split(a, b, bands)
            if cut is not None:
                out.update((i, (key_a, LENGTH_FITS)) for i in free[:cut])
                out.update((i, (key_b, LENGTH_FITS)) for i in free[cut:])
        return out
