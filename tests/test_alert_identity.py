"""Alerts keep their identity when a change is re-recorded, and one undeliverable alert never
blocks the others (#17)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from crawler.config import AlertConfig, Config
from crawler.pipeline import record_changes
from crawler.watch import deliver
from db import store
from tests.web_fixtures import add_live_version

NOW = datetime(2026, 1, 1, tzinfo=UTC)
SINK = AlertConfig(name="hook", type="webhook", url="https://hooks.example/x")
OLD = "# Policy\n\n## Data\n\nWe keep data for one year.\n"
NEW = "# Policy\n\n## Data\n\nWe keep data for ten years and sell it.\n"


def _changed_once(db: store.Database) -> int:
    """A policy whose text changed once (2020 → 2022), that change's alert queued for SINK."""
    pid = store.upsert_policy(db, "p", "https://p.example/privacy", "privacy", NOW)
    add_live_version(db, pid, OLD, "20200101000000", NOW)
    record_changes(db, pid, NOW)
    add_live_version(db, pid, NEW, "20220101000000", NOW)
    record_changes(db, pid, NOW, sinks=[SINK])
    return pid


def test_a_re_recorded_change_keeps_its_alert_and_delivers_once(tmp_path: Path) -> None:
    db = store.connect(tmp_path / "a.db")
    pid = _changed_once(db)
    (alert,) = store.list_alerts(db)
    # A backfill finds the new text earlier: the change moves to 2021.
    add_live_version(db, pid, NEW, "20210101000000", NOW)
    record_changes(db, pid, NOW, sinks=[SINK])
    alerts = store.list_alerts(db)
    assert [a["uid"] for a in alerts] == [alert["uid"]]  # the same alert, not a new one
    sent: list[dict[str, Any]] = []
    config = Config(path=tmp_path / "config.toml", database=tmp_path / "a.db", alerts=(SINK,))
    report = deliver(db, config, NOW, senders={"webhook": lambda _sink, p: sent.append(p)})
    assert report.delivered == 1 and report.failed == 0
    assert sent[0]["id"] == alert["uid"] and sent[0]["change"]["at"].startswith("2021-01-01")


def test_one_broken_alert_does_not_block_the_others(tmp_path: Path) -> None:
    db = store.connect(tmp_path / "b.db")
    pid = _changed_once(db)
    # An alert whose change row is gone (as older versions left behind).
    store.enqueue_alert(
        db,
        uid="pt-broken",
        event="change",
        pid=pid,
        sink="hook",
        change_id=999,
        problem_id=None,
        now=NOW,
    )
    sent: list[dict[str, Any]] = []
    config = Config(path=tmp_path / "config.toml", database=tmp_path / "b.db", alerts=(SINK,))
    report = deliver(db, config, NOW, senders={"webhook": lambda _sink, p: sent.append(p)})
    assert report.delivered == 1 and report.failed == 1
    assert [p["id"] for p in sent] != ["pt-broken"] and len(sent) == 1
    broken = next(a for a in store.list_alerts(db) if a["uid"] == "pt-broken")
    assert broken["state"] == "pending" and broken["last_error"]


def test_serve_answers_while_a_slow_diff_runs(tmp_path: Path) -> None:
    """Pages run in a thread pool: a diff that takes seconds never holds the others (#17)."""
    import threading
    import time

    import httpx

    from tests.servers import serve_on_free_port

    db = store.connect(tmp_path / "test.db")
    pid = store.upsert_policy(db, "slow-privacy", "https://slow.example/privacy", "privacy", NOW)
    alpha = "\n\n".join(
        f"## Alpha heading {i}\n\nalpha {i} " + "lorem ipsum " * 10 for i in range(400)
    )
    beta = "\n\n".join(f"## Beta title {i}\n\nbeta {i} " + "dolor sit " * 10 for i in range(400))
    add_live_version(db, pid, alpha, "20200101000000", NOW)
    add_live_version(db, pid, beta, "20210101000000", NOW)
    db.close()
    config = tmp_path / "config.toml"
    config.write_text('[database]\npath = "test.db"\n')
    process, base = serve_on_free_port(config)
    try:
        slow = threading.Thread(
            target=lambda: httpx.get(base + "/p/slow-privacy/diff?from=2020&to=2021", timeout=120)
        )
        slow.start()
        time.sleep(0.5)  # the diff is under way
        started = time.monotonic()
        assert httpx.get(base + "/", timeout=30).status_code == 200
        waited = time.monotonic() - started
        still_running = slow.is_alive()
        slow.join(120)
        assert still_running and waited < 2  # answered while the diff ran, not after it
    finally:
        process.terminate()
        process.wait(10)
        assert process.stderr is not None
        process.stderr.close()


def test_webhooks_are_signed_as_standard_webhooks_and_urls_stay_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import base64
    import hashlib
    import hmac

    import httpx

    from crawler.errors import DeliveryError
    from crawler.watch.webhook import send_webhook

    monkeypatch.setenv("PT_HOOK_URL", "https://hooks.example/T0K3N/abc?key=s3cret")
    monkeypatch.setenv("PT_HOOK_SECRET", "whsec")
    sink = AlertConfig(
        name="hook", type="webhook", url_env="PT_HOOK_URL", secret_env="PT_HOOK_SECRET"
    )
    seen: list[httpx.Request] = []
    client = httpx.Client(
        transport=httpx.MockTransport(lambda r: (seen.append(r), httpx.Response(204))[1])
    )
    send_webhook(sink, {"id": "pt-1", "summary": "x"}, client, now=1_700_000_000)
    (request,) = seen
    assert str(request.url) == "https://hooks.example/T0K3N/abc?key=s3cret"
    body = request.content
    expected = base64.b64encode(
        hmac.new(b"whsec", b"pt-1.1700000000." + body, hashlib.sha256).digest()
    ).decode()
    assert request.headers["webhook-id"] == "pt-1"
    assert request.headers["webhook-timestamp"] == "1700000000"
    assert request.headers["webhook-signature"] == f"v1,{expected}"
    assert request.headers["x-policytrail-signature"].startswith("sha256=")  # deprecated
    failing = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(500)))
    with pytest.raises(DeliveryError) as error:
        send_webhook(sink, {"id": "pt-2"}, failing)
    assert "T0K3N" not in str(error.value) and "s3cret" not in str(error.value)
    assert "https://hooks.example/" in str(error.value)
