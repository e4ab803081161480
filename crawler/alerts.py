"""Deliver the alert outbox: email (SMTP), signed webhooks, Atom feeds and Apprise.

At least once: an alert stays pending until its sink accepts it, retried with exponential
backoff; every alert carries a stable id (`uid`) that receivers use to drop repeats (the
webhook's `X-Policytrail-Alert-Id` header and payload `id`, the email's Message-ID).
Secrets come only from the environment variables the config names, and are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from html import escape
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import httpx
from sqlite_utils import Database

from crawler.config import AlertConfig, Config
from crawler.errors import CrawlerError
from db import store

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Policytrail-Signature"
ID_HEADER = "X-Policytrail-Alert-Id"
BACKOFF_FIRST = 30.0  # seconds before the first retry; doubled each time
BACKOFF_MAX = 3600.0
MAX_WORDS_IN_ALERT = 400  # longer redlines are cut, and the alert says so
FEED_ENTRIES = 50


class DeliveryError(CrawlerError):
    """A sink refused or could not take an alert; it is retried later."""


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed: int = 0
    errors: list[str] | None = None


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** max(0, attempts)))


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
    if alert["event"] == "problem":
        problem = store.problem_row(db, int(alert["problem_id"]))
        payload["problem"] = {
            "kind": problem["kind"],
            "detail": problem["detail"],
            "opened_at": problem["opened_at"],
        }
        payload["summary"] = f"problem: {problem['detail']}"
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
    if payload["event"] == "problem":
        subject = f"[policytrail problem] {policy['name']}: {payload['problem']['kind']}"
        text = (
            f"{policy['name']} ({policy['url']}) has a problem, not a policy change:\n\n"
            f"{payload['problem']['detail']}\n\nOpened {payload['problem']['opened_at']}.\n"
        )
        return subject, text, f"<p>{escape(text)}</p>"
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


# -- sinks ------------------------------------------------------------------------------------


def _secret(name: str, what: str) -> str:
    if not name:
        return ""
    value = os.environ.get(name)
    if value is None:
        raise DeliveryError(f"the environment variable {name} ({what}) is not set")
    return value


def send_email(sink: AlertConfig, payload: dict[str, Any]) -> None:
    subject, text, html = render_message(payload)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sink.sender
    message["To"] = ", ".join(sink.to)
    message["Message-ID"] = f"<{payload['id']}@policytrail>"
    message[ID_HEADER] = payload["id"]
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    password = _secret(sink.password_env, f"SMTP password of {sink.name}")
    try:
        if sink.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                sink.host, sink.port, timeout=30, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(sink.host, sink.port, timeout=30)
        with smtp:
            if sink.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if sink.username:
                smtp.login(sink.username, password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"SMTP {sink.host}:{sink.port}: {type(exc).__name__}: {exc}") from exc


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send_webhook(sink: AlertConfig, payload: dict[str, Any], client: httpx.Client) -> None:
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    headers = {"Content-Type": "application/json", ID_HEADER: payload["id"]}
    secret = _secret(sink.secret_env, f"webhook secret of {sink.name}")
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, body)
    try:
        response = client.post(sink.url, content=body, headers=headers, timeout=30)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"webhook {sink.url}: {type(exc).__name__}: {exc}") from exc
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"webhook {sink.url} answered HTTP {response.status_code}")


def send_apprise(sink: AlertConfig, payload: dict[str, Any]) -> None:
    try:
        import apprise  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:
        raise DeliveryError(
            "the apprise sink needs the apprise extra: pip install 'policytrail[apprise]'"
        ) from exc
    subject, text, _ = render_message(payload)
    notifier = apprise.Apprise()
    for url in sink.urls:
        notifier.add(os.path.expandvars(url))
    if not notifier.notify(title=subject, body=text):
        raise DeliveryError(f"apprise could not notify {len(sink.urls)} URL(s) of {sink.name}")


def _atom(title: str, feed_id: str, entries: list[dict[str, Any]], updated: str) -> str:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<title>{xml_escape(title)}</title>",
        f"<id>{xml_escape(feed_id)}</id>",
        f"<updated>{updated}</updated>",
        "<generator>policytrail</generator>",
    ]
    for entry in entries:
        parts += [
            "<entry>",
            f"<title>{xml_escape(entry['title'])}</title>",
            f"<id>{xml_escape(entry['id'])}</id>",
            f"<updated>{entry['updated']}</updated>",
            f'<link href="{xml_escape(entry["link"])}"/>',
            f'<content type="html">{xml_escape(entry["html"])}</content>',
            "</entry>",
        ]
    parts.append("</feed>")
    return "\n".join(parts) + "\n"


def write_feeds(db: Database, sink: AlertConfig, config_dir: Path, substantive_only: bool) -> Path:
    """Rewrite the Atom files: one per policy and `all.atom`, from the stored changes."""
    folder = Path(sink.dir)
    folder = folder if folder.is_absolute() else config_dir / folder
    folder.mkdir(parents=True, exist_ok=True)
    changes = [
        c
        for c in store.changes(db, substantive_only=substantive_only, kind="change", limit=5000)
        if not sink.policies or c["policy"] in sink.policies
    ]
    by_policy: dict[str, list[dict[str, Any]]] = {}
    entries_all = []
    for change in changes:
        policy_url = db.execute(
            "SELECT url FROM policies WHERE id = ?", [change["policy_id"]]
        ).fetchone()[0]
        sections = json.loads(change["sections"] or "[]")
        items = "".join(
            f"<li>{escape(s['kind'])}: {escape(str(s['new_heading'] or s['old_heading'] or ''))}"
            f" ({escape(s['significance'])})</li>"
            for s in sections
        )
        entry = {
            "title": f"{change['policy']}: {change['summary']}",
            "id": f"urn:policytrail:change:{change['policy']}:{change['at_timestamp']}:"
            f"{change['to_version_id']}",
            "updated": change["at"],
            "link": policy_url,
            "html": f"<p>{escape(change['summary'])}</p><ul>{items}</ul>",
        }
        by_policy.setdefault(change["policy"], []).append(entry)
        entries_all.append(entry)
    updated = entries_all[0]["updated"] if entries_all else "1970-01-01T00:00:00Z"
    for name, entries in by_policy.items():
        _atomic_write(
            folder / f"{_safe(name)}.atom",
            _atom(
                f"{name}: policy changes",
                f"urn:policytrail:feed:{name}",
                entries[:FEED_ENTRIES],
                entries[0]["updated"],
            ),
        )
    _atomic_write(
        folder / "all.atom",
        _atom(
            "All policy changes", "urn:policytrail:feed:all", entries_all[:FEED_ENTRIES], updated
        ),
    )
    problems = list(
        store.rows(
            db,
            "SELECT p.*, q.name AS policy FROM problems p JOIN policies q "
            "ON q.id = p.policy_id ORDER BY p.opened_at DESC LIMIT 50",
        )
    )
    _atomic_write(
        folder / "problems.atom",
        _atom(
            "Problems (not policy changes)",
            "urn:policytrail:feed:problems",
            [
                {
                    "title": f"{p['policy']}: {p['kind']}",
                    "id": f"urn:policytrail:problem:{p['id']}",
                    "updated": p["opened_at"],
                    "link": "",
                    "html": f"<p>{escape(p['detail'])}</p>",
                }
                for p in problems
            ],
            problems[0]["opened_at"] if problems else updated,
        ),
    )
    return folder


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name).lstrip(".") or "policy"


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


# -- the outbox -------------------------------------------------------------------------------

Sender = Callable[[AlertConfig, dict[str, Any]], None]


def deliver(
    db: Database,
    config: Config,
    now: datetime,
    client: httpx.Client | None = None,
    senders: dict[str, Sender] | None = None,
) -> DeliveryReport:
    """Try every alert that is due. Failures are retried later with exponential backoff."""
    report = DeliveryReport(errors=[])
    sinks = {s.name: s for s in config.alerts}
    own_client = client is None
    client = client or httpx.Client(headers={"User-Agent": config.user_agent})
    try:
        for alert in store.due_alerts(db, now):
            sink = sinks.get(alert["sink"])
            try:
                if sink is None:
                    raise DeliveryError(
                        f"no [[alert]] named {alert['sink']!r} in {config.path} "
                        "any more; add it back or delete the alert"
                    )
                payload = build_payload(db, alert)
                if senders and sink.type in senders:
                    senders[sink.type](sink, payload)
                elif sink.type == "email":
                    send_email(sink, payload)
                elif sink.type == "webhook":
                    send_webhook(sink, payload, client)
                elif sink.type == "apprise":
                    send_apprise(sink, payload)
                else:
                    write_feeds(db, sink, config.path.parent, sink.threshold == "substantive")
            except (DeliveryError, OSError) as exc:
                retry_at = now + backoff(int(alert["attempts"]))
                with store.writing(db):
                    store.mark_alert(
                        db,
                        int(alert["id"]),
                        delivered=False,
                        now=now,
                        error=str(exc),
                        next_try=retry_at,
                    )
                report.failed += 1
                assert report.errors is not None
                report.errors.append(f"{alert['sink']}: {exc}")
                log.warning(
                    "alert %s to %s failed (attempt %d), retry at %s: %s",
                    alert["uid"],
                    alert["sink"],
                    int(alert["attempts"]) + 1,
                    store.iso(retry_at),
                    exc,
                )
                continue
            with store.writing(db):
                store.mark_alert(db, int(alert["id"]), delivered=True, now=now)
            report.delivered += 1
    finally:
        if own_client:
            client.close()
    return report
