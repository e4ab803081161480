"""A fault-injecting HTTP proxy in front of pywb, for the survival tests and the fault table.

On a seeded schedule it answers with what the Internet Archive really does on a bad day
(../shared/docs/wayback-facts.md): 429s with and without Retry-After, 5xx bursts, connection
resets before and in the middle of a body, stalled bodies, truncated gzip, the double
Content-Encoding header, empty 200s, a PDF or a 20 MB page where HTML was captured, invalid
UTF-8, redirect loops; and in CDX answers malformed lines, triplicate rows, invalid timestamps,
`-` in status and length, and the blocked-site 403. Everything else passes through unchanged.
"""

from __future__ import annotations

import contextlib
import gzip
import random
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

PLAYBACK_FAULTS = [
    "429",
    "429-retry-after",
    "5xx-burst",
    "reset-before-body",
    "reset-mid-body",
    "stalled-body",
    "truncated-gzip",
    "double-content-encoding",
    "empty-200",
    "pdf-instead",
    "image-instead",
    "20mb-page",
    "invalid-utf8",
    "redirect-loop",
]
CDX_FAULTS = [
    "cdx-malformed-lines",
    "cdx-triplicates",
    "cdx-invalid-timestamps",
    "cdx-dash-fields",
    "cdx-blocked-403",
    "cdx-5xx",
    "cdx-429",
]
HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


class FaultProxy:
    def __init__(
        self,
        upstream: str,
        seed: int,
        rate: float = 0.35,
        stall_seconds: float = 2.5,
        decks: dict[str, list[str]] | None = None,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.rng = random.Random(seed)
        self.rate = rate
        self.stall_seconds = stall_seconds
        self.injected: Counter[str] = Counter()
        self.bursts: dict[str, int] = {}
        # Shared across proxies, so that successive rounds go on dealing the same decks.
        self.decks: dict[str, list[str]] = decks if decks is not None else {}
        self.lock = threading.Lock()
        self.enabled = True
        self.client = httpx.Client(timeout=30)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.proxy = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def choose(self, path: str, kind: str) -> str | None:
        with self.lock:
            if self.bursts.get(path, 0) > 0:
                self.bursts[path] -= 1
                return "5xx"
            if not self.enabled or self.rng.random() >= self.rate:
                return None
            deck = self.decks.setdefault(kind, [])
            if not deck:  # a shuffled deck: every class comes up, in a seeded order
                deck.extend(CDX_FAULTS if kind == "cdx" else PLAYBACK_FAULTS)
                self.rng.shuffle(deck)
            fault = deck.pop()
            self.injected[fault] += 1
            if fault in ("5xx-burst", "cdx-5xx"):
                self.bursts[path] = self.rng.randint(1, 3)
                return "5xx"
            return fault

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.client.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _send(
        self, status: int, headers: list[tuple[str, str]], body: bytes, length: int | None = None
    ) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def _abort(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):  # the client may have gone already
            self.connection.shutdown(socket.SHUT_RDWR)

    def do_GET(self) -> None:  # noqa: N802
        proxy: FaultProxy = self.server.proxy  # type: ignore[attr-defined]
        kind = "cdx" if "/cdx" in self.path.split("?")[0] else "playback"
        fault = proxy.choose(self.path, kind)
        if fault == "reset-before-body":
            return self._abort()
        if fault == "5xx":
            return self._send(proxy.rng.choice([500, 502, 503, 504]), [], b"")
        if fault in ("429", "cdx-429"):
            return self._send(429, [], b"Too Many Requests")
        if fault == "429-retry-after":
            return self._send(429, [("Retry-After", "2")], b"")
        if fault == "cdx-blocked-403":
            return self._send(
                403,
                [
                    (
                        "X-Archive-Wayback-Runtime-Error",
                        "AdministrativeAccessControlException: Blocked Site Error",
                    )
                ],
                b"AdministrativeAccessControlException: Blocked Site Error\n",
            )
        if fault == "redirect-loop":
            return self._send(302, [("Location", self.path)], b"")
        upstream = proxy.client.get(proxy.upstream + self.path, follow_redirects=False)
        headers = [(k, v) for k, v in upstream.headers.multi_items() if k.lower() not in HOP]
        body = upstream.content
        if kind == "cdx" and upstream.status_code == 200 and fault:
            body = _cdx_fault(fault, body.decode(), proxy.rng).encode()
        elif fault == "reset-mid-body" and body:
            self.send_response(upstream.status_code)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            return self._abort()
        elif fault == "stalled-body" and body:
            self.send_response(upstream.status_code)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 3])
            self.wfile.flush()
            time.sleep(proxy.stall_seconds)
            return self._abort()
        elif fault == "truncated-gzip" and body:
            packed = gzip.compress(body)
            cut = packed[: max(10, len(packed) // 2)]
            return self._send(upstream.status_code, [*headers, ("Content-Encoding", "gzip")], cut)
        elif fault == "double-content-encoding" and body:
            packed = gzip.compress(body)
            return self._send(
                upstream.status_code,
                [*headers, ("Content-Encoding", ""), ("Content-Encoding", "gzip")],
                packed,
            )
        elif fault == "empty-200":
            return self._send(200, headers, b"")
        elif fault == "pdf-instead":
            replaced = [(k, v) for k, v in headers if k.lower() != "content-type"]
            return self._send(
                200, [*replaced, ("Content-Type", "application/pdf")], b"%PDF-1.4\n%not the page\n"
            )
        elif fault == "image-instead":
            replaced = [(k, v) for k, v in headers if k.lower() != "content-type"]
            return self._send(
                200,
                [*replaced, ("Content-Type", "image/png")],
                b"\x89PNG\r\n\x1a\n" + bytes(proxy.rng.randrange(256) for _ in range(200)),
            )
        elif fault == "20mb-page":
            token = str(proxy.rng.random()).encode()  # corruption never repeats byte for byte
            return self._send(
                200,
                headers,
                b"<html><body><p>"
                + token
                + b"</p>"
                + b"<p>filler text</p>" * 1_200_000
                + b"</body></html>",
            )
        elif fault == "invalid-utf8":
            cut = proxy.rng.randrange(len(body) + 1)
            junk = bytes(proxy.rng.choice([0xFF, 0xFE, 0xC3, 0x80, 0xED]) for _ in range(6))
            return self._send(upstream.status_code, headers, body[:cut] + junk + body[cut:])
        self._send(upstream.status_code, headers, body)


def _cdx_fault(fault: str, text: str, rng: random.Random) -> str:
    lines = [line for line in text.split("\n") if line.strip()]
    if fault == "cdx-malformed-lines":
        lines.insert(rng.randrange(len(lines) + 1), "this is not a cdx line")
        lines.append("example,larkspur-labs)/legal/privacy 2019 http://mailto:x@y unk 301 - -")
    elif fault == "cdx-triplicates":
        lines = [line for line in lines for _ in range(3)]
    elif fault == "cdx-invalid-timestamps":
        lines.insert(
            rng.randrange(len(lines) + 1),
            "example,larkspur-labs)/legal/privacy 2019x0614 https://x/ text/html 200 AAAA 1",
        )
    elif fault == "cdx-dash-fields":
        lines = [" ".join([*line.split(" ")[:6], "-"]) for line in lines]
    return "\n".join(lines) + "\n"
