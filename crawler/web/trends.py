"""The Trends page: `policytrail trends` as charts (inline SVG, no script) and a CSV download.
Each chart plots one figure per period: the median length with its quartile band, the median
reading grade, and each watched term's share of documents."""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

WIDTH, HEIGHT, PAD = 760, 170, 40
COLOURS = ("#c2410c", "#1d4ed8", "#15803d", "#7e22ce", "#a16207")


def _x(i: int, n: int) -> float:
    return PAD + (WIDTH - 2 * PAD) * (i / max(1, n - 1))


def line_chart(
    rows: list[dict[str, Any]],
    series: list[tuple[str, list[float | None]]],
    *,
    band: tuple[list[float], list[float]] | None = None,
    top: float | None = None,
    unit: str = "",
) -> Markup:
    """One line per series (label, values per period), an optional shaded band, period labels
    under the axis and the scale at the left."""
    n = len(rows)
    values = [v for _, vs in series for v in vs if v is not None] + (band[1] if band else [])
    high = top if top is not None else (max(values) * 1.1 if values else 1.0) or 1.0

    def y(v: float) -> float:
        return HEIGHT - PAD + -(HEIGHT - 2 * PAD) * (v / high)

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#999"/>',
        f'<text x="4" y="{y(high / 1.1) + 4:.0f}" font-size="11">{high / 1.1:.3g}{escape(unit)}</text>',
        f'<text x="4" y="{HEIGHT - PAD + 4}" font-size="11">0</text>',
    ]
    if band:
        low, up = band
        points = [f"{_x(i, n):.1f},{y(v):.1f}" for i, v in enumerate(up)]
        points += [f"{_x(i, n):.1f},{y(v):.1f}" for i, v in reversed(list(enumerate(low)))]
        parts.append(f'<polygon points="{" ".join(points)}" fill="#fed7aa" opacity="0.6"/>')
    for k, (label, vs) in enumerate(series):
        colour = COLOURS[k % len(COLOURS)]
        points = [f"{_x(i, n):.1f},{y(v):.1f}" for i, v in enumerate(vs) if v is not None]
        parts.append(
            f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" stroke-width="2">'
            f"<title>{escape(label)}</title></polyline>"
        )
        for i, v in enumerate(vs):
            if v is not None:
                parts.append(
                    f'<circle cx="{_x(i, n):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}">'
                    f"<title>{escape(rows[i]['period'])}: {v:g}{escape(unit)} ({escape(label)})</title></circle>"
                )
    step = max(1, n // 12)
    for i, row in enumerate(rows):
        if i % step == 0:
            parts.append(
                f'<text x="{_x(i, n):.1f}" y="{HEIGHT - PAD + 16}" font-size="11" '
                f'text-anchor="middle">{escape(row["period"])}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def charts(rows: list[dict[str, Any]], terms: list[str]) -> dict[str, Markup]:
    if not rows:
        return {}
    out = {
        "words": line_chart(
            rows,
            [("median words", [r["words_median"] for r in rows])],
            band=([r["words_q1"] for r in rows], [r["words_q3"] for r in rows]),
        ),
        "grade": line_chart(rows, [("median reading grade", [r["grade_median"] for r in rows])]),
    }
    if terms:
        out["terms"] = line_chart(
            rows,
            [(t, [100 * r["terms"][t] for r in rows]) for t in terms],
            top=100.0,
            unit="%",
        )
    return out


# -- the pages ----------------------------------------------------------------------------


def _trend_form(request: Request) -> dict[str, Any]:
    params = request.query_params
    terms_text = params.get("terms", "")
    terms = [t.strip() for t in terms_text.splitlines() if t.strip()][:8]
    terms += [t for t in params.getlist("term") if t.strip()][: 8 - len(terms)]
    return {
        "kind": params.get("kind", "").strip(),
        "every": params.get("every", "1y").strip() or "1y",
        "terms": terms,
        "terms_text": "\n".join(terms),
    }


def _trend_rows(
    request: Request, form: dict[str, Any], reading: Any
) -> tuple[list[dict[str, Any]], list[str]]:
    from datetime import UTC, datetime

    from crawler.config import parse_every
    from crawler.errors import ConfigError
    from crawler.pipeline.trends import select_policies, trends
    from crawler.text.terms import parse_term

    try:
        months = parse_every(form["every"])
        terms = [parse_term(t, "term") for t in form["terms"]]
    except ConfigError as exc:
        raise HTTPException(400, str(exc)) from None
    with reading(request) as db:
        pids = select_policies(db, (), (form["kind"],) if form["kind"] else (), ())
        rows = trends(db, pids, months, terms, datetime.now(UTC), keep=False)
    return rows, [t.label for t in terms]


def trends_page(request: Request, render: Any, reading: Any) -> Response:
    """/trends: the figures as charts and a table (`render`, `reading`: the app's helpers)."""
    form = _trend_form(request)
    rows, terms = _trend_rows(request, form, reading)
    query = urlencode(
        [("kind", form["kind"]), ("every", form["every"]), *(("term", t) for t in terms)]
    )
    return render(  # type: ignore[no-any-return]
        "trends.html",
        rows=rows,
        terms=terms,
        form=form,
        charts=charts(rows, terms),
        csv_link=f"/trends.csv?{query}",
    )


def trends_csv_page(request: Request, download: Any, reading: Any) -> Response:
    from crawler.pipeline.trends import trends_csv

    form = _trend_form(request)
    rows, terms = _trend_rows(request, form, reading)
    return download(trends_csv(rows, terms), "trends.csv", "text/csv; charset=utf-8")  # type: ignore[no-any-return]
