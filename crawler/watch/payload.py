"""An outbox row -> what a sink sends: the alert's payload (JSON), and the e-mail's plain and HTML
bodies with the section summary and redline.
"""

from __future__ import annotations

import json
import os
from html import escape
from typing import Any

from sqlite_utils import Database

from crawler.errors import DeliveryError
from db import store

MAX_WORDS_IN_ALERT = 400  # longer redlines are cut, and the alert says so


# -- payloads ---------------------------------------------------------------------------------


def build_payload(db: Database, alert: dict[str, Any]) -> dict[str, Any]:
    """What every sink says about one alert, as JSON-ready data."""
    pid = int(alert["policy_id"])
    payload: dict[str, Any] = {
        "id": alert["uid"],
        "event": alert["event"],
        "policy": {
            "name": alert["policy"],
            "url": alert["policy_url"],
            "kind": alert["policy_kind"],
        },
    }
    if alert["event"] in ("problem", "moved"):
        problem = store.problem_row(db, int(alert["problem_id"]))
        payload["problem"] = {
            "kind": problem["kind"],
            "detail": problem["detail"],
            "opened_at": problem["opened_at"],
        }
        payload["summary"] = f"{alert['event']}: {problem['detail']}"
        return payload
    change = store.change_row(db, int(alert["change_id"]))
    old = store.version_row(db, int(change["from_version_id"]))
    new = store.version_row(db, int(change["to_version_id"]))
    numbers = {v["id"]: v["number"] for v in store.history(db, pid)}  # one query, not four
    old_number, new_number = numbers.get(old["id"], 0), numbers.get(new["id"], 0)
    sections = json.loads(change["sections"] or "[]")
    payload.update(
        summary=change["summary"],
        change={
            "at": change["at"],
            "previous_seen": store.ts_iso(change["previous_timestamp"])
            if change["previous_timestamp"]
            else None,
            "substantive": bool(change["substantive"]),
            "words_added": change["words_added"],
            "words_removed": change["words_removed"],
            "sections": sections,
        },
        old_version={
            "number": old_number,
            "first_seen": old["first_seen"],
            "last_seen": old["last_seen"],
            "text_sha256": old["text_sha256"],
        },
        new_version={
            "number": new_number,
            "first_seen": new["first_seen"],
            "text_sha256": new["text_sha256"],
        },
        links={
            "policy": alert["policy_url"],
            "diff_command": f"policytrail diff {alert['policy']} {old_number} {new_number}",
        },
    )
    if alert["event"] == "term":
        hits = json.loads(alert.get("terms") or "[]")
        payload["terms"] = hits
        payload["summary"] = "; ".join(
            f"{h['term']!r} {h['direction']}" + (f" in {h['section']!r}" if h["section"] else "")
            for h in hits
        )
    return payload


def _redline_text(section: dict[str, Any], budget: list[int]) -> tuple[str, str]:
    """(plain text, HTML) of one section's redline, within a shared word budget."""
    plain_parts: list[str] = []
    html_parts: list[str] = []
    for op, text in section.get("redline", []):
        if not text:
            continue
        words = text.split()
        if op == "equal" and len(words) > 24:
            text = " ".join(words[:10]) + " … " + " ".join(words[-10:])
            words = text.split()
        if budget[0] <= 0:
            plain_parts.append("…")
            html_parts.append("…")
            break
        budget[0] -= len(words)
        if op == "insert":
            plain_parts.append(f"[+{text}+]")
            html_parts.append(
                f"<ins style='background:#d4f7d4;text-decoration:none'>{escape(text)}</ins>"
            )
        elif op == "delete":
            plain_parts.append(f"[-{text}-]")
            html_parts.append(f"<del style='background:#fbd3d3'>{escape(text)}</del>")
        else:
            plain_parts.append(text)
            html_parts.append(escape(text))
    return " ".join(plain_parts), " ".join(html_parts)


def render_message(payload: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of an alert."""
    policy = payload["policy"]
    if payload["event"] == "moved":
        subject = f"[policytrail moved] {policy['name']} has a new URL"
        text = (
            f"{payload['problem']['detail']}.\n\nFrom now on {policy['name']} is read at "
            f"{policy['url']}; its history continues there as one timeline.\n"
        )
        return subject, text, f"<p>{escape(text)}</p>"
    if payload["event"] == "problem":
        subject = f"[policytrail problem] {policy['name']}: {payload['problem']['kind']}"
        text = (
            f"{policy['name']} ({policy['url']}) has a problem, not a policy change:\n\n"
            f"{payload['problem']['detail']}\n\nOpened {payload['problem']['opened_at']}.\n"
        )
        return subject, text, f"<p>{escape(text)}</p>"
    if payload["event"] == "term":
        subject = f"[policytrail term] {policy['name']}: {payload['summary']}"
        lines = [f"{policy['name']} ({policy['url']}): a watched term changed.", ""]
        for hit in payload["terms"]:
            where = f" in {hit['section']!r}" if hit["section"] else ""
            lines += [f"{hit['term']!r} {hit['direction']}{where}:", f"  {hit['sentence']}", ""]
        lines.append(f"See: {payload['links']['diff_command']}")
        text = "\n".join(lines) + "\n"
        return subject, text, f"<pre>{escape(text)}</pre>"
    change = payload["change"]
    subject = f"[policytrail] {policy['name']} changed: {payload['summary']}"
    lines = [
        f"{policy['name']} ({policy['kind']}) changed: {payload['summary']}",
        f"URL: {policy['url']}",
        f"Version {payload['old_version']['number']} (seen {payload['old_version']['first_seen']}"
        f" to {payload['old_version']['last_seen']}) -> version {payload['new_version']['number']}"
        f" (first seen {payload['new_version']['first_seen']})",
        f"Words: +{change['words_added']} -{change['words_removed']}",
        "",
    ]
    html_lines = [
        f"<h2>{escape(policy['name'])} changed</h2>",
        f"<p><b>{escape(payload['summary'])}</b></p>",
        f"<p><a href='{escape(policy['url'])}'>{escape(policy['url'])}</a><br>"
        f"Version {payload['old_version']['number']} → "
        f"{payload['new_version']['number']}, first seen "
        f"{escape(payload['new_version']['first_seen'])}</p>",
    ]
    budget = [MAX_WORDS_IN_ALERT]
    for section in change["sections"]:
        if section["significance"] != "substantive":
            continue
        heading = (
            section["new_heading"] if section["new_heading"] is not None else section["old_heading"]
        )
        title = f"{section['kind'].upper()}: {heading or '(preamble)'}"
        if section["kind"] == "renamed":
            title = f"RENAMED: {section['old_heading']} -> {section['new_heading']}"
        plain, html = _redline_text(section, budget)
        lines += [title, plain, ""]
        html_lines += [f"<h3>{escape(title)}</h3>", f"<p>{html}</p>"]
    if budget[0] <= 0:
        note = "(Cut short: the full diff is in `" + payload["links"]["diff_command"] + "`.)"
        lines.append(note)
        html_lines.append(f"<p><i>{escape(note)}</i></p>")
    lines.append(f"Full diff: {payload['links']['diff_command']}")
    lines.append(f"Alert id: {payload['id']}")
    return subject, "\n".join(lines) + "\n", "<html><body>" + "".join(html_lines) + "</body></html>"


# Every alert's stable id, for receivers to drop repeats: a webhook header and an e-mail header.
ID_HEADER = "X-Policytrail-Alert-Id"


def env_secret(name: str, what: str) -> str:
    if not name:
        return ""
    value = os.environ.get(name)
    if value is None:
        raise DeliveryError(f"the environment variable {name} ({what}) is not set")
    return value
