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
    names the text of every capture left unfetched, from equal texts on both sides."""

    timestamps: list[str]
    max_gap_days: float = DEFAULT_MAX_GAP_DAYS
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
        # Captures before the first and after the last text are unknown too.
        edges = [(-1, known[0]), (known[-1], n)]
        for a, b in [*zip(known, known[1:], strict=False), *edges]:
            if b - a <= 1:
                continue
            if a < 0 or b >= n:
                differ = True
            else:
                gap = (_seconds(self.timestamps[b]) - _seconds(self.timestamps[a])) / 86400
                differ = self.keys[a] != self.keys[b] or gap > self.max_gap_days
            if differ:
                candidate = self._free_between(a, b)
                if candidate is not None:
                    batch.add(candidate)
        return sorted(batch)

    def _density_seeds(self) -> set[int]:
        return set(interval_sample(self.timestamps, self.max_gap_days))

    def inferred(self) -> dict[int, str]:
        """Unfetched captures whose text is known: the same text was fetched on both sides."""
        out: dict[int, str] = {}
        known = self._with_text()
        for a, b in zip(known, known[1:], strict=False):
            if self.keys[a] == self.keys[b]:
                key = self.keys[a]
                assert key is not None
                for i in range(a + 1, b):
                    if i not in self.keys:
                        out[i] = key
        return out
