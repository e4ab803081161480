"""Real servers on 127.0.0.1 for the tests: a policy site the test edits, a webhook receiver,
and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import Message
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from crawler.watch import ID_HEADER, SIGNATURE_HEADER, sign


class _Server:
    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> Any:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class PolicySite(_Server):
    """Serves `body` at any path, with an ETag; `status` overrides the answer."""

    def __init__(self, body: bytes = b"") -> None:
        self.body = body
        self.status = 200
        self.requests: list[dict[str, str]] = []
        super().__init__(_SiteHandler)

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


class _SiteHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        site: PolicySite = self.server.owner  # type: ignore[attr-defined]
        site.requests.append({k.lower(): v for k, v in self.headers.items()})
        if site.status != 200:
            self.send_response(site.status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.headers.get("If-None-Match") == site.etag:
            self.send_response(304)
            self.send_header("ETag", site.etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("ETag", site.etag)
        self.send_header("Content-Length", str(len(site.body)))
        self.end_headers()
        self.wfile.write(site.body)

    def log_message(self, *args: object) -> None:
        pass


class WebhookReceiver(_Server):
    """Collects POSTed alerts; answers 500 while `failing` > 0 (counting down) or `down`."""

    def __init__(self, secret: str | None) -> None:
        self.secret = secret
        self.failing = 0
        self.down = False
        self.attempts = 0
        self.received: list[dict[str, Any]] = []
        self.bad_signatures = 0
        super().__init__(_HookHandler)

    def unique(self) -> dict[str, dict[str, Any]]:
        """The alerts after dropping repeats by their stable id, as a receiver should."""
        return {alert["id"]: alert for alert in self.received}


class _HookHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802
        hook: WebhookReceiver = self.server.owner  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        hook.attempts += 1
        if hook.down or hook.failing > 0:
            hook.failing = max(0, hook.failing - 1)
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if hook.secret is None:  # a plain JSON receiver (Apprise's json:// URLs)
            hook.received.append(json.loads(body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.headers.get(SIGNATURE_HEADER) != sign(hook.secret, body):
            hook.bad_signatures += 1
        payload = json.loads(body)
        assert payload["id"] == self.headers.get(ID_HEADER)
        hook.received.append(payload)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def smtp_server() -> Iterator[tuple[int, list[Message]]]:
    """aiosmtpd on a free port of 127.0.0.1; yields (port, received messages)."""
    from aiosmtpd.controller import Controller

    from crawler.demo import free_port

    received: list[Message] = []

    class Handler:
        async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802
            received.append(message_from_bytes(envelope.content, policy=default))
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()


ROOT = Path(__file__).parents[1]


def policytrail_process(*args: str, **popen: Any) -> subprocess.Popen[Any]:
    """`python -m crawler.cli ARGS` as a child process that imports this checkout."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "crawler.cli", *args], env=env, **popen)


def wait_for_http(url: str, timeout: float = 30.0) -> None:
    """Return once `url` answers at all; fail the test after `timeout` seconds."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {timeout:.0f} s")


def serve_on_free_port(config: Path) -> tuple[subprocess.Popen[Any], str]:
    """`policytrail serve` on a free port of 127.0.0.1, answering; (process, base URL)."""
    from crawler.demo import free_port

    port = free_port()
    process = policytrail_process(
        "--config",
        str(config),
        "serve",
        "--port",
        str(port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    wait_for_http(base + "/")
    return process, base
