"""The timeline chart: a policy's length over time, and one mark per change, as inline SVG (no
script). A mark's area follows the words the change added and removed; substantive changes are
orange, cosmetic ones grey; each mark links to its diff. Marks that would overlap (thirty
changes in a day) stack in lanes; the axis has even ticks (years, or months for short spans).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from html import escape
from typing import Any

from markupsafe import Markup

WIDTH, PAD, LINE_HEIGHT, LANE = 760, 34, 130, 16
MAX_LANES = 6


def _when(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _ticks(t0: float, t1: float) -> list[tuple[float, str]]:
    """Even ticks: every 1, 2, 5 or 10 years, or every 1, 3 or 6 months for short spans."""
    start, end = datetime.fromtimestamp(t0, UTC), datetime.fromtimestamp(t1, UTC)
    years = (t1 - t0) / (365.25 * 86400)
    ticks: list[tuple[float, str]] = []
    if years >= 2:
        step = next(s for s in (1, 2, 5, 10, 20) if years / s <= 10)
        year = (start.year // step + 1) * step
        while year <= end.year:
            ticks.append((datetime(year, 1, 1, tzinfo=UTC).timestamp(), str(year)))
            year += step
        return ticks
    months = max(1.0, years * 12)
    step = next(s for s in (1, 3, 6) if months / s <= 8) if months > 1 else 1
    year, month = start.year, start.month
    while True:
        month += 1
        if month > 12:
            year, month = year + 1, 1
        when = datetime(year, month, 1, tzinfo=UTC)
        if when.timestamp() > t1:
            return ticks
        if (month - 1) % step == 0:
            ticks.append((when.timestamp(), when.strftime("%Y-%m")))


def timeline_chart(
    versions: list[dict[str, Any]],
    changes: list[dict[str, Any]],
    diff_link: Callable[[dict[str, Any]], str],
) -> Markup:
    """The SVG: `versions` oldest first (first_seen, last_seen, words, uid), `changes` with
    at, kind, substantive, words_added, words_removed, summary; `diff_link(change)` its URL."""
    if not versions:
        return Markup("")
    t0 = _when(versions[0]["first_seen"])
    t1 = max(_when(versions[-1]["last_seen"]), *(_when(c["at"]) for c in changes), t0) + 86400
    top = max(v["words"] for v in versions) or 1

    def x(t: float) -> float:
        return PAD + (WIDTH - 2 * PAD) * (t - t0) / (t1 - t0)

    def y(words: int) -> float:
        return 20 + (LINE_HEIGHT - 30) * (1 - words / top)

    path = []
    for i, v in enumerate(versions):
        t = _when(v["first_seen"])
        if i:
            path.append(f"L{x(t):.1f},{y(versions[i - 1]['words']):.1f}")
        path.append(f"{'M' if not i else 'L'}{x(t):.1f},{y(v['words']):.1f}")
    path.append(f"L{x(t1):.1f},{y(versions[-1]['words']):.1f}")
    marks, lanes_used = _marks(changes, x, diff_link)
    height = LINE_HEIGHT + LANE * max(1, lanes_used) + 34
    axis_y = height - 22
    ticks = "".join(
        f"<line class='tick' x1='{x(t):.1f}' y1='{axis_y}' x2='{x(t):.1f}' y2='{axis_y + 4}'/>"
        f"<text x='{x(t):.1f}' y='{axis_y + 16}' text-anchor='middle'>{label}</text>"
        for t, label in _ticks(t0, t1)
    )
    return Markup(
        f"<svg viewBox='0 0 {WIDTH} {height}' role='img' aria-label='length of the text over "
        f"time, and its changes'><text x='{PAD}' y='12'>{top} words</text>"
        f"<path d='{' '.join(path)}'/>"
        f"<line x1='{PAD}' y1='{axis_y}' x2='{WIDTH - PAD}' y2='{axis_y}'/>{ticks}{marks}</svg>"
    )


def _marks(
    changes: list[dict[str, Any]],
    x: Callable[[float], float],
    diff_link: Callable[[dict[str, Any]], str],
) -> tuple[str, int]:
    """One linked circle per change (oldest first), in the first lane where it overlaps no
    other; changes past the last lane share it. Returns the SVG and the lanes used."""
    lane_ends: list[float] = []
    out = []
    for change in sorted(changes, key=lambda c: c["at"]):
        words = int(change.get("words_added") or 0) + int(change.get("words_removed") or 0)
        radius = min(9.0, 2.5 + math.sqrt(words) / 3)
        cx = x(_when(change["at"]))
        lane = next((i for i, end in enumerate(lane_ends) if cx - radius > end + 1), None)
        if lane is None:
            lane = len(lane_ends) if len(lane_ends) < MAX_LANES else MAX_LANES - 1
            if lane == len(lane_ends):
                lane_ends.append(0.0)
        lane_ends[lane] = cx + radius
        cy = LINE_HEIGHT + 8 + lane * LANE
        kind = "first" if change["kind"] == "first" else "sub" if change["substantive"] else "cos"
        label = f"{change['at'][:10]}: {change['summary']} (+{change.get('words_added') or 0} −{change.get('words_removed') or 0} words)"
        circle = f"<circle cx='{cx:.1f}' cy='{cy}' r='{radius:.1f}' class='{kind}'><title>{escape(label)}</title></circle>"
        link = diff_link(change)
        out.append(f"<a href='{escape(link)}'>{circle}</a>" if link else circle)
    return "".join(out), len(lane_ends)
