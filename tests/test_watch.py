"""Watching in the background, end to end with real servers on 127.0.0.1: a policy site the
test edits, aiosmtpd for e-mail, an HTTP receiver for webhooks; a fake clock, no sleeps."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path

import pytest

from crawler.config import Config, load_config
from crawler.demo import policy_html
from crawler.watch import sign
from crawler.watch.scheduler import Watcher, next_due
from db import store
from tests.servers import PolicySite, WebhookReceiver, smtp_server

T0 = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SECRET = "s3cret-for-tests"


@dataclass
class Rig:
    site: PolicySite
    hook: WebhookReceiver
    mails: list[Message]
    config_path: Path
    folder: Path

    def config(self) -> Config:
        return load_config(self.config_path)

    def watcher(self) -> Watcher:
        return Watcher(self.config(), rng=random.Random(1))

    def db(self) -> store.Database:
        return store.connect(self.folder / "watch.db")


@pytest.fixture
def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Rig]:
    monkeypatch.setenv("PT_TEST_WEBHOOK_SECRET", SECRET)
    with (
        PolicySite(policy_html(3, 1)) as site,
        WebhookReceiver(SECRET) as hook,
        smtp_server() as (smtp_port, mails),
    ):
        config = tmp_path / "config.toml"
        config.write_text(f"""
[database]
path = "watch.db"
[http]
contact = "mailto:research@example.org"
[schedule]
check = "1d"
sync = "off"
jitter = "0"
failures = 3
[[policy]]
name = "larkspur-privacy"
url = "{site.url}/legal/privacy"
kind = "privacy"
[[alert]]
name = "mail"
type = "email"
host = "127.0.0.1"
port = {smtp_port}
security = "none"
sender = "policytrail@example.org"
to = ["team@example.org"]
[[alert]]
name = "hook"
type = "webhook"
url = "{hook.url}/hook"
secret_env = "PT_TEST_WEBHOOK_SECRET"
[[alert]]
name = "feed"
type = "feed"
dir = "feeds"
""")
        yield Rig(site, hook, mails, config, tmp_path)


def substantive_edit(rig: Rig) -> None:
    rig.site.body = policy_html(5, 2)  # adds 'Biometric Data', shortens retention


def test_a_change_sends_one_email_one_signed_webhook_and_a_feed_entry(rig: Rig) -> None:
    watcher = rig.watcher()
    first = watcher.run_cycle(T0)
    assert first.checks == ["larkspur-privacy"]
    assert rig.mails == [] and rig.hook.received == []  # a first record alerts nobody
    substantive_edit(rig)
    assert watcher.run_cycle(T0 + DAY / 2).checks == []  # not due yet
    report = watcher.run_cycle(T0 + DAY)
    assert report.checks == ["larkspur-privacy"] and report.delivered == 3
    (mail,) = rig.mails
    assert "larkspur-privacy changed" in mail["Subject"] and "'Biometric Data'" in mail["Subject"]
    plain = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "ADDED: Biometric Data" in plain and "[-three years-]" in plain
    assert mail.get_body(("html",)) is not None
    (payload,) = rig.hook.received
    assert rig.hook.bad_signatures == 0
    assert payload["summary"] == mail["Subject"].split("changed: ", 1)[1]
    assert payload["old_version"]["number"] == 1 and payload["new_version"]["number"] == 2
    assert any(s["new_heading"] == "Biometric Data" for s in payload["change"]["sections"])
    uids = {a["sink"]: a["uid"] for a in store.list_alerts(rig.db())}
    assert mail["Message-ID"] == f"<{uids['mail']}@policytrail>" and payload["id"] == uids["hook"]
    feed = (rig.folder / "feeds" / "larkspur-privacy.atom").read_text()
    assert feed.count("<entry>") == 1 and "Biometric Data" in feed
    assert "<entry>" in (rig.folder / "feeds" / "all.atom").read_text()
    # The request named the project and the contact.
    agent = rig.site.requests[-1]["user-agent"]
    assert agent.startswith("policytrail/") and "research@example.org" in agent


def test_a_cosmetic_edit_sends_nothing(rig: Rig) -> None:
    watcher = rig.watcher()
    watcher.run_cycle(T0)
    rig.site.body = (
        policy_html(3, 1)
        .replace(b"January 1, 2020", b"February 2, 2020")
        .replace(b"Larkspur Labs, Inc. (", b"Larkspur  Labs, Inc. (")
    )
    report = watcher.run_cycle(T0 + DAY)
    assert report.checks == ["larkspur-privacy"]
    db = rig.db()
    (change,) = [c for c in store.changes(db) if c["kind"] == "change"]
    assert not change["substantive"] and "cosmetic" in change["summary"]
    assert rig.mails == [] and rig.hook.received == [] and store.list_alerts(db) == []


def test_receiver_failing_three_times_gets_the_alert_once(rig: Rig) -> None:
    watcher = rig.watcher()
    watcher.run_cycle(T0)
    substantive_edit(rig)
    rig.hook.failing = 3
    now = T0 + DAY
    watcher.run_cycle(now)
    for _ in range(6):
        now += timedelta(hours=2)  # past every backoff so far
        watcher.deliver(now)
    assert rig.hook.attempts == 4
    assert len(rig.hook.unique()) == 1 and len(rig.hook.received) == 1
    assert len(rig.mails) == 1  # the e-mail went out on the first try, once


def test_receiver_down_for_ten_attempts_and_a_restart_loses_nothing(rig: Rig) -> None:
    rig.watcher().run_cycle(T0)
    substantive_edit(rig)
    rig.hook.down = True
    now = T0 + DAY
    rig.watcher().run_cycle(now)
    for _ in range(9):
        now += timedelta(hours=1, minutes=1)
        rig.watcher().deliver(now)  # a new process each time: nothing lives in memory
    assert rig.hook.attempts == 10 and rig.hook.received == []
    (pending,) = store.list_alerts(rig.db(), pending_only=True)
    assert pending["sink"] == "hook" and pending["attempts"] == 10
    rig.hook.down = False
    now += timedelta(hours=1, minutes=1)
    rig.watcher().run_cycle(now)
    assert len(rig.hook.unique()) == 1
    assert store.list_alerts(rig.db(), pending_only=True) == []


def test_a_restart_mid_cycle_neither_repeats_nor_skips(rig: Rig, tmp_path: Path) -> None:
    text = (
        rig.config_path.read_text()
        + f"""
[[policy]]
name = "larkspur-terms"
url = "{rig.site.url}/legal/terms"
kind = "terms"
"""
    )
    rig.config_path.write_text(text)
    watcher = rig.watcher()
    watcher.run_cycle(T0)
    # The next cycle is cut short after its first check, as a kill would.
    restarted = rig.watcher()
    original = restarted._check
    calls: list[str] = []

    def check_then_die(db: store.Database, policy: object, now: datetime) -> None:
        original(db, policy, now)  # type: ignore[arg-type]
        calls.append(policy.name)  # type: ignore[attr-defined]
        restarted.stopping.set()

    restarted._check = check_then_die  # type: ignore[method-assign]
    restarted.run_cycle(T0 + DAY)
    assert len(calls) == 1
    after = rig.watcher()
    report = after.run_cycle(T0 + DAY + timedelta(minutes=1))
    assert report.checks and calls[0] not in report.checks  # the other one, once
    assert after.run_cycle(T0 + DAY + timedelta(minutes=2)).checks == []
    db = rig.db()
    counts = dict(
        db.execute(
            "SELECT p.name, count(*) FROM captures c JOIN policies p ON "
            "p.id = c.policy_id WHERE c.source = 'live' GROUP BY p.name"
        )
    )
    assert counts == {"larkspur-privacy": 2, "larkspur-terms": 2}


def test_missed_runs_happen_once_at_start(rig: Rig) -> None:
    rig.watcher().run_cycle(T0)
    # Down for a week: the first cycle after start checks once, not seven times.
    report = rig.watcher().run_cycle(T0 + 7 * DAY)
    assert report.checks == ["larkspur-privacy"]
    state = store.policy_state(rig.db(), 1)
    assert state["next_check_at"] == store.iso(T0 + 8 * DAY)


def test_failing_checks_raise_a_problem_never_a_change(rig: Rig) -> None:
    watcher = rig.watcher()
    watcher.run_cycle(T0)
    rig.site.status = 503
    for day in (1, 2, 3, 4):
        watcher.run_cycle(T0 + day * DAY)
    assert len(rig.mails) == 1 and "[policytrail problem]" in rig.mails[0]["Subject"]
    (payload,) = rig.hook.received
    assert payload["event"] == "problem" and "failed 3 checks in a row" in payload["summary"]
    assert "<entry>" in (rig.folder / "feeds" / "problems.atom").read_text()
    db = rig.db()
    assert [c["kind"] for c in store.changes(db)] == ["first"]
    rig.site.status = 200
    watcher.run_cycle(T0 + 5 * DAY)
    assert store.open_problem(db, 1, "failing") is None


def test_a_page_that_shrinks_is_a_problem_not_a_change(rig: Rig) -> None:
    watcher = rig.watcher()
    watcher.run_cycle(T0)
    rig.site.body = (
        b"<html><head><title>Consent</title></head><body><main><p>Please accept "
        b"cookies to continue reading this page.</p></main></body></html>"
    )
    watcher.run_cycle(T0 + DAY)
    assert [p["event"] for p in rig.hook.received] == ["problem"]
    assert "shrank" in rig.hook.received[0]["summary"]
    db = rig.db()
    assert [c["kind"] for c in store.changes(db)] == ["first"]
    assert len(store.history(db, 1)) == 1


def test_conditional_requests_use_the_etag(rig: Rig) -> None:
    watcher = rig.watcher()
    watcher.run_cycle(T0)
    watcher.run_cycle(T0 + DAY)
    assert rig.site.requests[-1].get("if-none-match") == rig.site.etag
    db = rig.db()
    live = list(store.rows(db, "SELECT status, state, reason FROM captures"))
    assert live[-1] == {"status": 304, "state": "fetched", "reason": "not modified (304)"}
    (version,) = store.history(db, 1)
    assert version["snapshots"] == 2 and version["last_seen"] == store.iso(T0 + DAY)


def test_schedules_interval_cron_and_jitter() -> None:
    rng = random.Random(3)
    assert next_due("6h", "0", T0, rng) == T0 + timedelta(hours=6)
    jittered = next_due("1d", "15m", T0, rng)
    assert jittered is not None and T0 + DAY <= jittered <= T0 + DAY + timedelta(minutes=15)
    # 2026-01-05 is a Monday; standard cron numbers Sunday 0 and Monday 1.
    assert next_due("cron: 30 7 * * 1", "0", T0, rng) == datetime(2026, 1, 5, 7, 30, tzinfo=UTC)
    assert next_due("cron: 0 6 * * 0", "0", T0, rng) == datetime(2026, 1, 11, 6, 0, tzinfo=UTC)
    assert next_due("off", "0", T0, rng) is None


def test_webhook_signature_is_hmac_sha256_of_the_body() -> None:
    body = json.dumps({"id": "x"}).encode()
    import hashlib
    import hmac

    assert sign("k", body) == "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()


def test_apprise_sink_notifies_a_local_json_receiver(tmp_path: Path) -> None:
    from crawler.watch import deliver

    with PolicySite(policy_html(3, 1)) as site, WebhookReceiver(None) as receiver:
        path = tmp_path / "config.toml"
        path.write_text(f"""
[database]
path = "a.db"
[schedule]
jitter = "0"
sync = "off"
[[policy]]
name = "larkspur-privacy"
url = "{site.url}/p"
[[alert]]
name = "chat"
type = "apprise"
urls = ["json://127.0.0.1:{receiver.httpd.server_address[1]}/notify"]
""")
        watcher = Watcher(load_config(path))
        watcher.run_cycle(T0)
        site.body = policy_html(5, 1)
        watcher.run_cycle(T0 + DAY)
        (message,) = receiver.received
        assert "larkspur-privacy changed" in message["title"]
        assert "Biometric Data" in message["message"]
        assert deliver(store.connect(tmp_path / "a.db"), load_config(path), T0 + DAY).delivered == 0


def test_run_stops_cleanly_on_sigterm(rig: Rig) -> None:
    import signal
    import subprocess
    import time

    from tests.servers import policytrail_process

    process = policytrail_process(
        "--config",
        str(rig.config_path),
        "run",
        "--tick",
        "1",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        checked = False
        while time.monotonic() < deadline and not checked:
            time.sleep(0.2)
            if (rig.folder / "watch.db").exists():
                db = rig.db()
                checked = bool(
                    db.execute("SELECT count(*) FROM captures WHERE source = 'live'").fetchone()[0]
                )
                db.close()
        assert checked, "policytrail run did not check the page within 30 s"
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:  # never leave a process behind, whatever failed
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "stopped" in err
    assert store.rows(rig.db(), "PRAGMA integrity_check").__next__() == {"integrity_check": "ok"}


def test_save_page_now_is_asked_only_when_on_and_text_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SPN2 is Internet Archive behaviour pywb lacks: a MockTransport handler modelled on its
    documented answer ({"url": ..., "job_id": ...})."""
    import httpx

    from crawler.config import Policy
    from crawler.pipeline import check

    posts: list[httpx.Request] = []
    page = {"body": policy_html(3, 1)}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posts.append(request)
            return httpx.Response(200, json={"url": "https://x.example/p", "job_id": "spn2-42"})
        return httpx.Response(200, content=page["body"], headers={"content-type": "text/html"})

    monkeypatch.setenv("POLICYTRAIL_IA_ACCESS", "ak")
    monkeypatch.setenv("POLICYTRAIL_IA_SECRET", "sk")
    client = httpx.Client(transport=httpx.MockTransport(handler))
    db = store.connect(tmp_path / "s.db")
    policy = Policy("x-privacy", "https://x.example/p")
    archive = "https://web.archive.org"
    first = check(db, client, policy, T0, save_page_now=archive)
    assert first.detail == "save page now job spn2-42"
    assert check(db, client, policy, T0 + DAY, save_page_now=archive).status == "unchanged"
    page["body"] = policy_html(5, 1)
    check(db, client, policy, T0 + 2 * DAY)  # off: not asked
    assert len(posts) == 1
    assert posts[0].headers["authorization"] == "LOW ak:sk"
    assert b"url=https%3A%2F%2Fx.example%2Fp" in posts[0].content


def test_per_policy_alert_threshold_none_silences_it(rig: Rig) -> None:
    rig.config_path.write_text(
        rig.config_path.read_text().replace('kind = "privacy"', 'kind = "privacy"\nalert = "none"')
    )
    watcher = rig.watcher()
    watcher.run_cycle(T0)
    substantive_edit(rig)
    watcher.run_cycle(T0 + DAY)
    assert [c["kind"] for c in store.changes(rig.db())] == ["change", "first"]
    assert rig.mails == [] and rig.hook.received == []


def test_check_and_alerts_commands(rig: Rig) -> None:
    from tests.conftest import run_cli

    code, out = run_cli("--config", str(rig.config_path), "check", "--json")
    assert code == 0 and json.loads(out)[0]["status"] == "new-version"
    substantive_edit(rig)
    rig.hook.down = True
    code, out = run_cli("--config", str(rig.config_path), "check")
    assert code == 0 and "larkspur-privacy: new-version" in out
    assert "alerts: 2 delivered, 1 to retry" in out
    code, out = run_cli("--config", str(rig.config_path), "alerts", "--pending", "--json")
    (pending,) = json.loads(out)
    assert (
        pending["sink"] == "hook"
        and pending["attempts"] == 1
        and "HTTP 500" in pending["last_error"]
    )
    rig.hook.down = False
    code, out = run_cli("--config", str(rig.config_path), "alerts", "retry")
    assert code == 0 and "1 delivered, 0 still failing" in out
    assert len(rig.hook.unique()) == 1
    code, out = run_cli("--config", str(rig.config_path), "alerts", "--json")
    assert code == 0 and {a["state"] for a in json.loads(out)} == {"delivered"}
    code, out = run_cli("--config", str(rig.config_path), "alerts")
    assert code == 0 and "3 alerts" in out


def test_secrets_come_from_the_environment_and_are_never_logged(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from tests.conftest import run_cli

    password = "pw-never-shown-1234"
    monkeypatch.setenv("PT_TEST_SMTP_PASSWORD", password)
    rig.config_path.write_text(
        rig.config_path.read_text().replace(
            'security = "none"',
            'security = "none"\nusername = "bot"\npassword_env = "PT_TEST_SMTP_PASSWORD"',
        )
    )
    caplog.set_level(logging.DEBUG)
    watcher = rig.watcher()
    watcher.run_cycle(T0)
    substantive_edit(rig)
    rig.hook.down = True
    watcher.run_cycle(T0 + DAY)  # SMTP login fails (the test server has no AUTH), hook is down
    code, out = run_cli("--config", str(rig.config_path), "alerts", "--json")
    errors = " ".join(a["last_error"] or "" for a in json.loads(out))
    assert "SMTP" in errors and "HTTP 500" in errors
    for secret in (password, SECRET):
        assert secret not in caplog.text and secret not in out
        assert secret not in rig.config_path.read_text()
    monkeypatch.delenv("PT_TEST_SMTP_PASSWORD")
    rig.watcher().deliver(T0 + 2 * DAY)
    code, out = run_cli("--config", str(rig.config_path), "alerts", "--json")
    assert "PT_TEST_SMTP_PASSWORD" in out and "is not set" in out  # names the variable only


def test_apprise_debug_logs_never_show_the_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Apprise logs its URLs, tokens included, at debug level (`policytrail -vv`)."""
    import logging

    from crawler.config import AlertConfig
    from crawler.watch.notify import send_apprise

    monkeypatch.setenv("CHAT_TOKEN", "tok-5ecret-4711")
    with WebhookReceiver(None) as receiver:
        port = receiver.httpd.server_address[1]
        sink = AlertConfig(
            name="chat",
            type="apprise",
            urls=(f"json://bot:pa55word-99@127.0.0.1:{port}/notify/$CHAT_TOKEN",),
        )
        payload = {
            "event": "problem",
            "policy": {"name": "x", "url": "u", "kind": "privacy"},
            "problem": {"kind": "failing", "detail": "d", "opened_at": "t"},
        }
        with caplog.at_level(logging.DEBUG):
            send_apprise(sink, payload)
        assert len(receiver.received) == 1
    assert "127.0.0.1" in caplog.text  # apprise did log its URL...
    assert "tok-5ecret-4711" not in caplog.text and "pa55word-99" not in caplog.text  # ...redacted
