"""Live re-discovery in `run`: a site on 127.0.0.1 whose homepage changes its policy link; the
document follows the new URL after two readings in a row, and a "moved" notice goes out."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from crawler.config import load_config
from crawler.watch.scheduler import Watcher
from db import store
from tests.servers import WebhookReceiver, _Server
from tests.site_archive import homepage, policy_page

T0 = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
MONTH = timedelta(days=31)


class RouteSite(_Server):
    """Serves `routes[path]`; anything else is a 404."""

    def __init__(self) -> None:
        self.routes: dict[str, bytes] = {}
        self.hits: list[str] = []
        super().__init__(_RouteHandler)


class _RouteHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        site: RouteSite = self.server.owner  # type: ignore[attr-defined]
        site.hits.append(self.path)
        body = site.routes.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args: object) -> None:
        pass


def _config(folder: Path, site: RouteSite, hook: WebhookReceiver, extra: str = "") -> Path:
    path = folder / "config.toml"
    path.write_text(
        '[database]\npath = "t.db"\n\n[schedule]\ncheck = "1d"\nsync = "off"\njitter = "0"\n\n'
        '[discover]\nlive = "30d"\n\n'
        f'[[site]]\ndomain = "quince.example"\nhomepage = "{site.url}/"\n\n'
        f'[[alert]]\nname = "hook"\ntype = "webhook"\nurl = "{hook.url}/hook"\n'
        'threshold = "any"\n' + extra,
        encoding="utf-8",
    )
    return path


def _home(target: str) -> bytes:
    return homepage("Quince", [("Cookie settings", "/cookies"), ("Privacy Policy", target)])


def test_a_moved_link_is_followed_after_two_readings(tmp_path: Path) -> None:
    with RouteSite() as site, WebhookReceiver(None) as hook:
        site.routes["/"] = _home("/privacy")
        site.routes["/privacy"] = policy_page("Quince", "quince.example", 1, 1)
        watcher = Watcher(load_config(_config(tmp_path, site, hook)), rng=random.Random(1))
        report = watcher.run_cycle(T0)
        assert report.discoveries == ["quince.example"]
        db = store.connect(tmp_path / "t.db")
        pid = store.policy_id(db, "quince.example-privacy")
        assert pid is not None  # found at the first reading: nothing to move from
        assert [s["url"] for s in store.url_segments(db, pid)] == [f"{site.url}/privacy"]
        # The next cycle checks the document's page live like any policy.
        report = watcher.run_cycle(T0 + timedelta(days=1))
        assert report.checks == ["quince.example-privacy"] and report.discoveries == []
        assert len(store.history(db, pid)) == 1

        site.routes["/"] = _home("/legal/privacy-notice")
        site.routes["/legal/privacy-notice"] = policy_page("Quince", "quince.example", 2, 2)
        watcher.run_cycle(T0 + MONTH)  # seen once: not followed yet
        assert [s["url"] for s in store.url_segments(db, pid)] == [f"{site.url}/privacy"]
        assert not [a for a in hook.received if a["event"] == "moved"]
        watcher.run_cycle(T0 + 2 * MONTH)  # seen twice in a row: followed
        segments = store.url_segments(db, pid)
        assert [s["url"] for s in segments] == [
            f"{site.url}/privacy",
            f"{site.url}/legal/privacy-notice",
        ]
        first_seen = (T0 + MONTH).strftime("%Y%m%d%H%M%S")
        assert segments[1]["from_ts"] == first_seen  # dated by the first sighting
        moved = [a for a in hook.received if a["event"] == "moved"]
        assert len(moved) == 1
        assert (
            "moved from" in moved[0]["summary"] and "/legal/privacy-notice" in moved[0]["summary"]
        )
        assert moved[0]["policy"]["url"] == f"{site.url}/legal/privacy-notice"
        # The live checks now read the new URL, and its text continues the same history.
        site.hits.clear()
        watcher.run_cycle(T0 + 2 * MONTH + timedelta(days=1))
        assert "/legal/privacy-notice" in site.hits and "/privacy" not in site.hits
        assert len(store.history(db, pid)) == 2
        assert store.open_problem(db, pid, "moved") is None  # a notice, not an open problem


def test_a_link_seen_once_is_not_followed_and_a_sink_may_refuse_moves(tmp_path: Path) -> None:
    with RouteSite() as site, WebhookReceiver(None) as hook:
        site.routes["/"] = _home("/privacy")
        site.routes["/privacy"] = policy_page("Quince", "quince.example", 1, 1)
        site.routes["/new-privacy"] = policy_page("Quince", "quince.example", 1, 1)
        config = _config(tmp_path, site, hook)
        text = config.read_text().replace(
            'threshold = "any"\n', 'threshold = "any"\nmoves = false\n'
        )
        config.write_text(text)
        watcher = Watcher(load_config(config), rng=random.Random(1))
        watcher.run_cycle(T0)
        site.routes["/"] = _home("/new-privacy")
        watcher.run_cycle(T0 + MONTH)
        site.routes["/"] = _home("/privacy")  # a one-off (an A/B test, a broken deploy)
        watcher.run_cycle(T0 + 2 * MONTH)
        site.routes["/"] = _home("/new-privacy")
        watcher.run_cycle(T0 + 3 * MONTH)
        db = store.connect(tmp_path / "t.db")
        pid = store.policy_id(db, "quince.example-privacy")
        assert [s["url"] for s in store.url_segments(db, pid)] == [f"{site.url}/privacy"]
        watcher.run_cycle(T0 + 4 * MONTH)
        assert len(store.url_segments(db, pid)) == 2
        assert not [a for a in hook.received if a["event"] == "moved"]  # moves = false


def test_a_discovered_link_to_another_private_address_is_refused(tmp_path: Path) -> None:
    """The homepage is on 127.0.0.1, so its links may stay there; a link to a link-local
    address (cloud metadata) is never fetched."""
    with RouteSite() as site, WebhookReceiver(None) as hook:
        site.routes["/"] = _home("http://169.254.169.254/latest/privacy")
        watcher = Watcher(load_config(_config(tmp_path, site, hook)), rng=random.Random(1))
        watcher.run_cycle(T0)
        db = store.connect(tmp_path / "t.db")
        (seen,) = store.rows(db, "SELECT * FROM site_observations")
        assert seen["state"] == "gap" and "169.254.169.254" in seen["reason"]
        assert store.policy_id(db, "quince.example-privacy") is None
