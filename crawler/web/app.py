"""`policytrail serve`: read-only pages over the database (Starlette + Jinja2).

Why Starlette: a small, well-kept ASGI toolkit with no ORM or admin to fight, so pages are plain
functions over db/store queries; Jinja2 escapes everything by default. Every piece of archived
text is escaped, and the Content-Security-Policy allows no script at all, so a policy that
carries `<script>` or `javascript:` links stays inert. Connections are opened read-only, so the
pages work while `policytrail run` writes to the same file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from sqlite_utils import Database
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from crawler.text.diff import SectionChange, diff_texts
from crawler.text.report import redline_html
from db import store

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
env = Environment(
    loader=PackageLoader("crawler.web", "templates"), autoescape=select_autoescape(["html", "xml"])
)


def _render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = env.get_template(name).render(**context)
    return HTMLResponse(
        html,
        status_code=status,
        headers={
            "Content-Security-Policy": CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


@contextmanager
def _reading(request: Request) -> Iterator[Database]:
    """A read-only connection holding one read transaction: every query of the page sees the
    same snapshot of the database, whatever `policytrail run` commits meanwhile (WAL)."""
    db = store.connect_readonly(request.app.state.database)
    try:
        db.execute("BEGIN")
        yield db
    finally:
        db.close()


def _policy(db: Database, name: str) -> dict[str, Any]:
    policy = store.policy_overview(db, name)
    if policy is None:
        raise HTTPException(404, f"no policy named {name}")
    return policy


def highlight(snippet: str) -> Markup:
    """Escape a search snippet, then mark its hits ([[…]] from FTS5)."""
    escaped = escape(snippet)
    return Markup(re.sub(r"\[\[(.*?)\]\]", r"<mark>\1</mark>", escaped))


def length_chart(versions: list[dict[str, Any]], changes: list[dict[str, Any]]) -> Markup:
    """An inline SVG of the text's length over time, with change markers."""
    if not versions:
        return Markup("")
    points = [
        (datetime.fromisoformat(v["first_seen"].replace("Z", "+00:00")).timestamp(), v["words"], v)
        for v in versions
    ]
    last = datetime.fromisoformat(versions[-1]["last_seen"].replace("Z", "+00:00")).timestamp()
    t0, t1 = points[0][0], max(last, points[-1][0] + 1)
    top = max(w for _, w, _ in points) or 1
    width, height, pad = 760, 180, 30

    def x(t: float) -> float:
        return pad + (width - 2 * pad) * (t - t0) / (t1 - t0)

    def y(words: int) -> float:
        return height - pad - (height - 2 * pad) * words / top

    path = []
    for i, (t, words, _) in enumerate(points):
        if i:
            path.append(f"L{x(t):.1f},{y(points[i - 1][1]):.1f}")
        path.append(f"{'M' if not i else 'L'}{x(t):.1f},{y(words):.1f}")
    path.append(f"L{x(t1):.1f},{y(points[-1][1]):.1f}")
    substantive = {
        c["to_version_id"] for c in changes if c["substantive"] and c["kind"] == "change"
    }
    marks = "".join(
        f"<circle cx='{x(t):.1f}' cy='{y(w):.1f}' r='5' class='"
        f"{'sub' if v['id'] in substantive else 'cos'}'><title>version {v['number']}, "
        f"{escape(v['first_seen'][:10])}, {w} words</title></circle>"
        for t, w, v in points
    )
    years = sorted(
        {datetime.fromtimestamp(t).year for t, _, _ in points} | {datetime.fromtimestamp(t1).year}
    )
    labels = f"<text x='{pad}' y='{height - 8}'>{versions[0]['first_seen'][:7]}</text>" + "".join(
        f"<text x='{x(datetime(year, 1, 1).timestamp()):.1f}' y='{height - 8}'>{year}</text>"
        for year in years
        if t0 < datetime(year, 1, 1).timestamp() <= t1
        and x(datetime(year, 1, 1).timestamp()) > pad + 60
    )
    return Markup(
        f"<svg viewBox='0 0 {width} {height}' role='img' aria-label='length of the text over "
        f"time'><text x='{pad}' y='16'>{top} words</text>"
        f"<line x1='{pad}' y1='{height - pad}' x2='{width - pad}' y2='{height - pad}'/>"
        f"<path d='{' '.join(path)}'/>{marks}{labels}</svg>"
    )


def sides(change: SectionChange) -> tuple[Markup, Markup]:
    """(old, new) HTML of a section for the side-by-side view."""
    old, new = [], []
    for op, text in change.redline:
        escaped = escape(text)
        if op == "equal":
            old.append(escaped)
            new.append(escaped)
        elif op == "delete":
            old.append(f"<del>{escaped}</del>")
        else:
            new.append(f"<ins>{escaped}</ins>")
    return Markup(" ".join(old)), Markup(" ".join(new))


async def policies_page(request: Request) -> Response:
    with _reading(request) as db:
        return _render("policies.html", policies=store.policies_overview(db))


async def timeline_page(request: Request) -> Response:
    with _reading(request) as db:
        policy = _policy(db, request.path_params["name"])
        versions = store.history_with_changes(db, policy["id"])
        changes = store.changes(db, policy["id"])
        return _render(
            "timeline.html",
            policy=policy,
            versions=versions,
            changes=changes,
            chart=length_chart(versions, changes),
        )


async def version_page(request: Request) -> Response:
    with _reading(request) as db:
        policy = _policy(db, request.path_params["name"])
        versions = store.history(db, policy["id"])
        number = int(request.path_params["number"])
        if not 1 <= number <= len(versions):
            raise HTTPException(404, f"{policy['name']} has versions 1 to {len(versions)}")
        version = versions[number - 1]
        return _render(
            "version.html",
            policy=policy,
            version=version,
            count=len(versions),
            text=store.version_text(db, version["id"]),
            snapshot=store.first_snapshot(db, version["id"]),
        )


async def diff_page(request: Request) -> Response:
    with _reading(request) as db:
        policy = _policy(db, request.path_params["name"])
        versions = store.history(db, policy["id"])
        if len(versions) < 2:
            raise HTTPException(404, f"{policy['name']} has only one version")
        try:
            a = int(request.query_params.get("a", len(versions) - 1))
            b = int(request.query_params.get("b", len(versions)))
        except ValueError:
            raise HTTPException(400, "a and b are version numbers") from None
        if not (1 <= a <= len(versions) and 1 <= b <= len(versions)):
            raise HTTPException(404, f"{policy['name']} has versions 1 to {len(versions)}")
        old, new = versions[a - 1], versions[b - 1]
        result = diff_texts(store.version_text(db, old["id"]), store.version_text(db, new["id"]))
        items: list[Any] = []
        for change in result.changes:
            if change.kind == "unchanged":
                if items and isinstance(items[-1], list):
                    items[-1].append(change)
                else:
                    items.append([change])
            else:
                left, right = sides(change)
                items.append(
                    {
                        "change": change,
                        "inline": Markup(redline_html(change)),
                        "old": left,
                        "new": right,
                    }
                )
        return _render(
            "diff.html",
            policy=policy,
            old=old,
            new=new,
            diff=result,
            items=items,
            versions=versions,
            view=request.query_params.get("view", "side"),
        )


async def changes_page(request: Request) -> Response:
    with _reading(request) as db:
        substantive = request.query_params.get("all") != "1"
        items = store.changes(db, substantive_only=substantive, limit=200, kind="change")
        for item in items:
            item["sections_list"] = json.loads(item["sections"] or "[]")
        return _render("changes.html", changes=items, substantive=substantive)


async def changes_atom(request: Request) -> Response:
    from crawler.watch.feeds import atom_feed

    with _reading(request) as db:
        items = store.changes(db, substantive_only=True, limit=50, kind="change")
        base = str(request.base_url).rstrip("/")
        entries = [
            {
                "title": f"{c['policy']}: {c['summary']}",
                "id": f"urn:policytrail:change:{c['policy']}:{c['at_timestamp']}:"
                f"{c['to_version_id']}",
                "updated": c["at"],
                "link": f"{base}/p/{c['policy']}",
                "html": f"<p>{escape(c['summary'])}</p>",
            }
            for c in items
        ]
        xml = atom_feed(
            "Policy changes",
            "urn:policytrail:feed:all",
            entries,
            items[0]["at"] if items else "1970-01-01T00:00:00Z",
        )
        return Response(xml, media_type="application/atom+xml")


async def search_page(request: Request) -> Response:
    import sqlite3

    query = request.query_params.get("q", "").strip()
    with _reading(request) as db:
        hits: list[dict[str, Any]] = []
        error = ""
        if query:
            try:
                hits = store.search(db, store.fts_query(query), limit=100)
            except sqlite3.OperationalError:
                error = "That query is not one SQLite's full-text search understands."
        for hit in hits:
            hit["snippet_html"] = highlight(hit["snippet"])
        return _render(
            "search.html", query=query, hits=hits, error=error, rank_at_most=store.RANK_AT_MOST
        )


async def not_found(request: Request, exc: Exception) -> Response:
    detail = exc.detail if isinstance(exc, HTTPException) else "not found"
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    return _render("error.html", status=status, message=detail)


def create_app(database: Path) -> Starlette:
    if not database.exists():
        raise FileNotFoundError(database)
    app = Starlette(
        routes=[
            Route("/", policies_page),
            Route("/p/{name}", timeline_page),
            Route("/p/{name}/v/{number:int}", version_page),
            Route("/p/{name}/diff", diff_page),
            Route("/changes", changes_page),
            Route("/changes.atom", changes_atom),
            Route("/search", search_page),
        ],
        exception_handlers={HTTPException: not_found},
    )
    app.state.database = database
    return app
