"""`policytrail serve`: read-only pages over the database (Starlette + Jinja2).

Why Starlette: a small, well-kept ASGI toolkit with no ORM or admin to fight, so pages are plain
functions over db/store queries; Jinja2 escapes everything by default. Every piece of archived
text is escaped, and the Content-Security-Policy allows no script at all, so a policy that
carries `<script>` or `javascript:` links stays inert. Connections are opened read-only, so the
pages work while `policytrail run` writes to the same file.

Handlers are plain functions: Starlette runs them in its thread pool, so a slow diff or search
never holds the event loop, and `/` answers while one runs.

Versions are named in URLs by their stable ids (`/p/NAME/v/2021-07-05-8f5090`); the old
ordinal links (`/v/3`, `diff?a=2&b=3`) redirect to them.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from sqlite_utils import Database
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from crawler.cite import (
    change_evidence,
    citation,
    replay_prefix,
    replay_prefixes,
    version_evidence,
    window_text,
)
from crawler.text.diff import Diff, diff_texts
from crawler.text.report import diff_to_html, diff_to_json, diff_to_markdown
from crawler.text.sections import split_sections
from crawler.text.terms import excerpt
from crawler.web.charts import timeline_chart
from crawler.web.feeds import changes_atom, policy_changes_atom
from crawler.web.redline import markdown_html, redline
from db import store

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
PAGE_SIZE = 50
env = Environment(
    loader=PackageLoader("crawler.web", "templates"), autoescape=select_autoescape(["html", "xml"])
)


def _render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = env.get_template(name).render(**context)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def _download(body: str, filename: str, media_type: str) -> Response:
    headers = {**HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(body, media_type=media_type, headers=headers)


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


def version_url(name: str, uid: str, suffix: str = "") -> str:
    return f"/p/{quote(name, safe='')}/v/{uid}{suffix}"


def diff_url(name: str, a: str | None, b: str, **extra: str) -> str:
    query = {"a": a, "b": b} if a else {"b": b}
    return f"/p/{quote(name, safe='')}/diff?" + urlencode({**query, **extra})


def highlight(snippet: str) -> Markup:
    """Escape a search snippet, then mark its hits ([[…]] from FTS5)."""
    escaped = escape(snippet)
    return Markup(re.sub(r"\[\[(.*?)\]\]", r"<mark>\1</mark>", escaped))


def _find(versions: list[dict[str, Any]], db: Database, pid: int, ref: str) -> dict[str, Any]:
    """The version a stable id, or a date (YYYY[-MM[-DD]]: the one in force at its end), names."""
    vid = store.version_by_uid(db, pid, ref)
    if vid is None and store.DATE.match(ref.strip()):
        try:
            vid = store.version_in_force(db, pid, store.date_bound(ref, end=True))
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None
        if vid is None:
            raise HTTPException(404, f"no version was captured by {ref}")
    found = next((v for v in versions if v["id"] == vid), None)
    if found is None:
        raise HTTPException(404, f"no version {ref!r}; the timeline lists every version")
    return found


def policies_page(request: Request) -> Response:
    with _reading(request) as db:
        return _render("policies.html", policies=store.policies_overview(db))


def timeline_page(request: Request) -> Response:
    with _reading(request) as db:
        policy = _policy(db, request.path_params["name"])
        versions = store.history_with_changes(db, policy["id"])
        changes = store.changes(db, policy["id"])
        name = policy["name"]
        for change in changes:
            change["diff_link"] = (
                diff_url(name, change["from_version"], change["to_version"])
                if change["from_version"]
                else version_url(name, change["to_version"])
            )
        segments = store.url_segments(db, policy["id"])
        for segment in segments:
            segment["from"] = store.ts_iso(segment["from_ts"])[:10]
            segment["to"] = store.ts_iso(segment["to_ts"])[:10] if segment["to_ts"] else "now"
        return _render(
            "timeline.html",
            policy=policy,
            versions=versions,
            changes=changes,
            segments=segments if len(segments) > 1 else [],
            chart=timeline_chart(versions, changes, lambda c: str(c["diff_link"])),
            feed=f"/p/{quote(name, safe='')}/changes.atom",
            version_url=version_url,
            diff_url=diff_url,
        )


def version_page(request: Request) -> Response:
    name, ref = request.path_params["name"], request.path_params["ref"]
    suffix = next((s for s in (".md", ".txt") if ref.endswith(s)), "")
    ref = ref.removesuffix(suffix)
    with _reading(request) as db:
        policy = _policy(db, name)
        versions = store.history(db, policy["id"])
        if ref.isdigit() and len(ref) < 6:  # an ordinal link of old: to the stable id
            number = int(ref)
            if not 1 <= number <= len(versions):
                raise HTTPException(404, f"{name} has versions 1 to {len(versions)}")
            return RedirectResponse(
                version_url(name, versions[number - 1]["uid"], suffix), 301, headers=HEADERS
            )
        version = _find(versions, db, policy["id"], ref)
        text = store.version_text(db, version["id"])
        prefix = replay_prefix(db, policy["id"], request.app.state.archive_url)
        evidence = version_evidence(db, version["id"], prefix)
        cite = citation(policy, version, evidence)
        if suffix:
            body = f"{cite}\n\n{text}" if suffix == ".txt" else text
            media = "text/markdown" if suffix == ".md" else "text/plain"
            filename = f"{name}-{version['uid']}{suffix}"
            return _download(body, filename, f"{media}; charset=utf-8")
        index = versions.index(version)
        return _render(
            "version.html",
            policy=policy,
            version=version,
            count=len(versions),
            previous=versions[index - 1] if index else None,
            following=versions[index + 1] if index + 1 < len(versions) else None,
            html=markdown_html(text),
            evidence=evidence,
            citation=cite,
            version_url=version_url,
            diff_url=diff_url,
        )


def _sections_html(result: Diff, old_text: str, new_text: str) -> list[dict[str, Any] | list[Any]]:
    """Changed sections with their redlines (inline and both sides); runs of unchanged
    sections as lists, to fold."""
    old_sections, new_sections = split_sections(old_text), split_sections(new_text)
    items: list[dict[str, Any] | list[Any]] = []
    for change in result.changes:
        if change.kind == "unchanged":
            if items and isinstance(items[-1], list):
                items[-1].append(change)
            else:
                items.append([change])
            continue
        old = old_sections[change.old_index].text if change.old_index is not None else ""
        new = new_sections[change.new_index].text if change.new_index is not None else ""
        items.append(
            {
                "change": change,
                "inline": redline(old, new),
                "old": redline(old, new, "old"),
                "new": redline(old, new, "new"),
            }
        )
    return items


def diff_page(request: Request) -> Response:
    name, params = request.path_params["name"], request.query_params
    with _reading(request) as db:
        policy = _policy(db, name)
        versions = store.history(db, policy["id"])
        if len(versions) < 2:
            raise HTTPException(404, f"{name} has only one version so far: nothing to compare")
        a, b = params.get("a") or params.get("from"), params.get("b") or params.get("to")
        if (a or "").isdigit() and len(a or "") < 4 or (b or "").isdigit() and len(b or "") < 4:
            # Ordinal links of old: to the stable ids.
            numbers = [int(v) if v and v.isdigit() else None for v in (a, b)]
            if any(n is not None and not 1 <= n <= len(versions) for n in numbers):
                raise HTTPException(404, f"{name} has versions 1 to {len(versions)}")
            uids = [
                versions[n - 1]["uid"] if n else v for n, v in zip(numbers, (a, b), strict=True)
            ]
            extra = {k: v for k, v in params.items() if k in ("view", "format")}
            return RedirectResponse(
                diff_url(name, uids[0], uids[1] or versions[-1]["uid"], **extra),
                301,
                headers=HEADERS,
            )
        new = _find(versions, db, policy["id"], b) if b else versions[-1]
        old = (
            _find(versions, db, policy["id"], a) if a else versions[max(0, versions.index(new) - 1)]
        )
        old_text, new_text = store.version_text(db, old["id"]), store.version_text(db, new["id"])
        result = diff_texts(old_text, new_text)
        title = f"{name}: {old['uid']} → {new['uid']}"
        fmt = params.get("format", "")
        if fmt in ("md", "json", "html"):
            return _diff_download(result, fmt, title, old, new, name)
        view = "inline" if params.get("view") == "inline" else "side"
        prefix = replay_prefix(db, policy["id"], request.app.state.archive_url)
        return _render(
            "diff.html",
            policy=policy,
            old=old,
            new=new,
            diff=result,
            items=_sections_html(result, old_text, new_text),
            versions=versions,
            view=view,
            version_url=version_url,
            diff_url=diff_url,
            old_evidence=version_evidence(db, old["id"], prefix),
            new_evidence=version_evidence(db, new["id"], prefix),
        )


def _diff_download(
    result: Diff, fmt: str, title: str, old: dict[str, Any], new: dict[str, Any], name: str
) -> Response:
    fields = ("uid", "number", "first_seen", "last_seen", "text_sha256")
    filename = f"{name}-{old['uid']}-to-{new['uid']}.{fmt}"
    if fmt == "json":
        body = diff_to_json(result, {k: old[k] for k in fields}, {k: new[k] for k in fields})
        return _download(body, filename, "application/json")
    if fmt == "md":
        return _download(diff_to_markdown(result, title), filename, "text/markdown; charset=utf-8")
    return _download(diff_to_html(result, title), filename, "text/html; charset=utf-8")


def _change_filters(request: Request) -> dict[str, Any]:
    params = request.query_params
    filters: dict[str, Any] = {
        "policy": params.get("policy", "").strip(),
        "kind": params.get("kind", "").strip(),
        "from": params.get("from", "").strip(),
        "to": params.get("to", "").strip(),
        "q": params.get("q", "").strip(),
        "added": params.get("added", "").strip(),
        "removed": params.get("removed", "").strip(),
        "all": params.get("all") == "1",
    }
    from db.queries import MAX_QUERY_TERMS, query_terms

    for key in ("added", "removed"):
        if query_terms(filters[key]) > MAX_QUERY_TERMS:
            raise HTTPException(400, f"{key}: at most {MAX_QUERY_TERMS} terms")
    try:
        filters["page"] = max(1, int(params.get("page", "1")))
    except ValueError:
        raise HTTPException(400, "page is a number: ?page=2") from None
    return filters


def trends_page(request: Request) -> Response:
    from crawler.web.trends import trends_page as page

    return page(request, _render, _reading)


def trends_csv_page(request: Request) -> Response:
    from crawler.web.trends import trends_csv_page as page

    return page(request, _download, _reading)


def changes_page(request: Request) -> Response:
    filters = _change_filters(request)
    with _reading(request) as db:
        pid = None
        if filters["policy"]:
            pid = store.policy_id(db, filters["policy"])
            if pid is None:
                raise HTTPException(404, f"no policy named {filters['policy']}")
        try:
            since = store.ts_iso(store.date_bound(filters["from"])) if filters["from"] else None
            until = store.ts_iso(store.date_bound(filters["to"], True)) if filters["to"] else None
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None
        query: dict[str, Any] = {
            "pid": pid,
            "since": since,
            "substantive_only": not filters["all"],
            "kind": "change",
            "until": until,
            "policy_kind": filters["kind"] or None,
            "section": filters["q"] or None,
            "words": store.words_query(filters["added"] or None, filters["removed"] or None),
        }
        try:
            total = store.count_changes(db, **query)
        except sqlite3.OperationalError:
            raise HTTPException(
                400, 'added/removed: words, "phrases", prefix*, AND, OR, NOT, parentheses'
            ) from None
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(filters["page"], pages)
        items = store.changes(db, **query, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        prefix = replay_prefixes(db, request.app.state.archive_url)
        for item in items:
            item["sections_list"] = json.loads(item["sections"] or "[]")
            item["diff_link"] = diff_url(item["policy"], item["from_version"], item["to_version"])
            item["evidence"] = change_evidence(db, item, prefix(item["policy_id"]))
            item["window"] = window_text(item["evidence"])
            if filters["added"] or filters["removed"]:
                item["excerpt"] = excerpt(
                    item["sections_list"],
                    filters["added"] or filters["removed"],
                    "insert" if filters["added"] else "delete",
                )
        keep = {k: v for k, v in request.query_params.items() if k != "page" and v}
        return _render(
            "changes.html",
            changes=items,
            filters=filters,
            total=total,
            page=page,
            pages=pages,
            page_link=lambda n: "/changes?" + urlencode({**keep, "page": n}),
            policies=[p["name"] for p in store.policies_overview(db)],
        )


def feed_all(request: Request) -> Response:
    with _reading(request) as db:
        xml = changes_atom(db, request.app.state.site_url or str(request.base_url))
    return Response(xml, media_type="application/atom+xml", headers=HEADERS)


def feed_policy(request: Request) -> Response:
    with _reading(request) as db:
        policy = _policy(db, request.path_params["name"])
        xml = policy_changes_atom(db, policy, request.app.state.site_url or str(request.base_url))
    return Response(xml, media_type="application/atom+xml", headers=HEADERS)


def search_page(request: Request) -> Response:
    query = request.query_params.get("q", "").strip()
    with _reading(request) as db:
        hits: list[dict[str, Any]] = []
        error = ""
        if query and store.query_terms(query) > store.MAX_QUERY_TERMS:
            error = (
                f"That query has more than {store.MAX_QUERY_TERMS} terms; "
                "narrow it to the words that matter."
            )
        elif query:
            try:
                hits = store.search(db, store.fts_query(query), limit=100)
            except sqlite3.OperationalError:
                error = (
                    "That is not a query full-text search understands: write words "
                    '(all must appear), a "quoted phrase", or word* for a prefix.'
                )
        ranges = store.present_ranges(db, hits) if hits else {}
        for hit in hits:
            hit["snippet_html"] = highlight(hit["snippet"])
            hit["link"] = version_url(hit["policy"], hit["uid"])
            hit["present"] = ", ".join(store.range_text(r) for r in ranges[hit["policy_id"]])
        return _render(
            "search.html", query=query, hits=hits, error=error, rank_at_most=store.RANK_AT_MOST
        )


async def not_found(request: Request, exc: Exception) -> Response:
    detail = exc.detail if isinstance(exc, HTTPException) else "not found"
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    return _render("error.html", status, code=status, message=detail)


def create_app(database: Path, archive_url: str | None = None, site_url: str = "") -> Starlette:
    """The app over `database`. `archive_url`: the configured archive, for links to captures
    whose replay address the database does not show; `site_url`: the public address of these
    pages, for feed links (default: the address each request came to)."""
    if not database.exists():
        raise FileNotFoundError(database)
    app = Starlette(
        routes=[
            Route("/", policies_page),
            Route("/trends", trends_page),
            Route("/trends.csv", trends_csv_page),
            Route("/p/{name}", timeline_page),
            Route("/p/{name}/changes.atom", feed_policy),
            Route("/p/{name}/v/{ref}", version_page),
            Route("/p/{name}/diff", diff_page),
            Route("/changes", changes_page),
            Route("/changes.atom", feed_all),
            Route("/search", search_page),
        ],
        exception_handlers={HTTPException: not_found},
    )
    app.state.database = database
    app.state.archive_url = archive_url
    app.state.site_url = site_url.rstrip("/")
    return app
