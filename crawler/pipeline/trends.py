"""Trends across the corpus, as the reference corpus's authors measured them: per period, over
the versions in force at the period's midpoint (one per document), the number of documents, the
median and quartiles of their length in words, their median reading grade (Flesch-Kincaid,
through textstat), and the share of documents whose text matches each term.

A document counts in a period when its first text was recorded by the midpoint and it was still
captured at or after the period's start (a policy last seen in 2015 is not in 2020's figures).
Reading grades are computed once per version and kept (`versions.grade`).
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from crawler.archive import timestamp_to_datetime
from crawler.pipeline.discover import Period, periods
from crawler.text.readability import reading_grade
from crawler.text.terms import Term
from db import store


def _quartiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def _in_force(steps: list[dict[str, Any]], midpoint: str) -> dict[str, Any] | None:
    """The step (version) in force at `midpoint`: the last one at or before it."""
    found = None
    for step in steps:
        if step["at_timestamp"] > midpoint:
            break
        found = step
    return found


Progress = Callable[[int], None]


def fill_grades(db: Database, version_ids: set[int], progress: Progress | None = None) -> None:
    """Compute and keep the reading grade of the versions that have none yet."""
    missing = [vid for vid, grade in store.version_grades(db, version_ids).items() if grade is None]
    for start in range(0, len(missing), 200):
        chunk = missing[start : start + 200]
        texts = store.version_texts(db, chunk)
        grades = {vid: reading_grade(texts[vid]) for vid in chunk}
        with store.writing(db):
            store.set_grades(db, grades)
        if progress:
            progress(len(chunk))


def trends(
    db: Database,
    pids: list[int] | None,
    months: int,
    terms: list[Term],
    now: datetime,
    *,
    first: datetime | None = None,
    last: datetime | None = None,
    progress: Progress | None = None,
    keep: bool = True,
) -> list[dict[str, Any]]:
    """The figures per period, oldest first (see the module's docstring). `keep`: store the
    reading grades computed (False on a read-only connection)."""
    steps_by_doc: dict[int, list[dict[str, Any]]] = {}
    for step in store.timelines(db, pids):
        steps_by_doc.setdefault(step["policy_id"], []).append(step)
    if not steps_by_doc:
        return []
    start = first or timestamp_to_datetime(min(s[0]["at_timestamp"] for s in steps_by_doc.values()))
    end = last or timestamp_to_datetime(
        max(s[0]["last_timestamp"] or s[-1]["at_timestamp"] for s in steps_by_doc.values())
    )
    spans = periods(start, min(end, now), months)
    chosen: list[tuple[Period, list[dict[str, Any]]]] = []
    for period in spans:
        docs = []
        for steps in steps_by_doc.values():
            current = _in_force(steps, period.mid)
            if (
                current is not None
                and (current["last_timestamp"] or current["at_timestamp"]) >= period.start
            ):
                docs.append(current)
        chosen.append((period, docs))
    wanted = {d["version_id"] for _, docs in chosen for d in docs}
    if keep:
        fill_grades(db, wanted, progress)
    grades = store.version_grades(db, wanted)
    missing = [vid for vid, grade in grades.items() if grade is None]
    if missing:  # not kept (a read-only page): computed for this answer only
        texts = store.version_texts(db, missing)
        grades.update({vid: reading_grade(texts[vid]) for vid in missing})
    matches: dict[str, set[int]] = {}
    if terms:
        texts = store.version_texts(db, wanted)
        for term in terms:
            matches[term.label] = {vid for vid, text in texts.items() if term.pattern.search(text)}
    out = []
    for period, docs in chosen:
        if not docs:
            continue
        words = [float(d["words"]) for d in docs]
        q1, median, q3 = _quartiles(words)
        scored = [
            g for g in (grades.get(d["version_id"]) for d in docs) if g is not None and g >= 0
        ]
        out.append(
            {
                "period": _label(period, months),
                "from": store.ts_iso(period.start),
                "to": store.ts_iso(period.end),
                "midpoint": store.ts_iso(period.mid),
                "documents": len(docs),
                "words_median": round(median, 1),
                "words_q1": round(q1, 1),
                "words_q3": round(q3, 1),
                "grade_median": round(statistics.median(scored), 2) if scored else None,
                "terms": {
                    label: round(sum(1 for d in docs if d["version_id"] in hits) / len(docs), 4)
                    for label, hits in matches.items()
                },
            }
        )
    return out


def _label(period: Period, months: int) -> str:
    year, month = period.start[:4], int(period.start[4:6])
    if months % 12 == 0:
        return year if months == 12 else f"{year}-{int(year) + months // 12 - 1}"
    if months == 6:
        return f"{year}-H{1 if month <= 6 else 2}"
    if months == 3:
        return f"{year}-Q{(month - 1) // 3 + 1}"
    return f"{year}-{month:02d}"


TREND_COLUMNS = [
    "period",
    "from",
    "to",
    "midpoint",
    "documents",
    "words_median",
    "words_q1",
    "words_q3",
    "grade_median",
]


def select_policies(
    db: Any, names: tuple[str, ...], kinds: tuple[str, ...], sites: tuple[str, ...]
) -> list[int] | None:
    """The policy ids chosen by name, kind and site (None: all)."""
    if not (names or kinds or sites):
        return None
    sql = "SELECT p.id FROM policies p WHERE 1 = 1"
    params: list[Any] = []
    if names:
        sql += f" AND p.name IN ({', '.join('?' for _ in names)})"
        params += names
    if kinds:
        sql += f" AND p.kind IN ({', '.join('?' for _ in kinds)})"
        params += kinds
    if sites:
        sql += (
            " AND p.id IN (SELECT d.policy_id FROM site_documents d JOIN sites s ON s.id = d.site_id"
            f" WHERE s.domain IN ({', '.join('?' for _ in sites)}))"
        )
        params += sites
    return [int(r[0]) for r in db.execute(sql, params)]


def trends_csv(rows: list[dict[str, Any]], terms: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*TREND_COLUMNS, *(f"share: {t}" for t in terms)])
    for row in rows:
        writer.writerow([row[c] for c in TREND_COLUMNS] + [row["terms"][t] for t in terms])
    return out.getvalue()
