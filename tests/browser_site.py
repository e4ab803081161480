"""A made-up company's site on 127.0.0.1 whose policies need a browser, or do not:

- /csr: a client-rendered policy (the HTML is a shell; a script fetches /csr.json and builds it);
- /guard: a bot guard: 403 and a challenge to clients without a browser user agent and the
  cookie its script sets, then the policy;
- /consent: the policy under a cookie-consent overlay (plain HTTP reads it);
- /slow: a shell whose text a script adds after 2 s;
- /hang: the policy, with a script that never finishes loading (/never.js never answers);
- /void: a page that is only a shell, whatever runs (no text ever comes).

Also the pieces of an archived client-rendered site (`fable_pages`) and a counter of hits for
"elsewhere" (a host a replay must never reach).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECTIONS = [
    ("Information We Collect", "We collect your name, e-mail address and the pages you visit."),
    ("How We Use It", "We use it to run the service and to answer your questions."),
    ("Sharing", "We share it only with processors bound by contract, never for advertising."),
    ("Retention", "We keep account data for as long as the account is open, then two years."),
    ("Your Rights", "You may access, correct, delete or port your data at any time."),
]


def policy_markup(company: str) -> str:
    """The policy's HTML body: a heading and five sections of real text (well over 60 words)."""
    parts = [f"<h1>{company} Privacy Policy</h1>"]
    for heading, text in SECTIONS:
        parts.append(f"<h2>{heading}</h2><p>{company} {text} {text}</p>")
    return "".join(parts)


def page(title: str, body: str, head: str = "") -> bytes:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>{head}</head>"
        f"<body>{body}</body></html>"
    ).encode()


SHELL = "<div id='root'><noscript>You need to enable JavaScript to run this app.</noscript></div>"
CSR_SCRIPT = (
    "<script>fetch('/csr.json').then(r => r.json()).then(d => {"
    "document.getElementById('root').innerHTML = d.html; })</script>"
)
SLOW_SCRIPT = (
    "<script>setTimeout(() => { document.getElementById('root').innerHTML = "
    + json.dumps(policy_markup("Slowpoke"))
    + " }, 2000)</script>"
)
CHALLENGE = page(
    "Just a moment...",
    "<p>Checking your browser before accessing the site.</p>"
    "<script>document.cookie = 'guard=passed; path=/'; setTimeout(() => location.reload(), 300)"
    "</script>",
)
CONSENT = (
    "<div role='dialog' aria-modal='true' class='cookie-consent' style='position:fixed;inset:0'>"
    "We use cookies. <button>Accept all</button></div>"
)


class BrowserSite:
    """Serves the pages above; `hits` counts requests per path."""

    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?")[0]
                site.hits[path] = site.hits.get(path, 0) + 1
                status, ctype, body = site.answer(path, dict(self.headers.items()))
                if path == "/never.js":
                    time.sleep(60)  # never finishes loading (the server thread is a daemon)
                    return
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, path: str, headers: dict[str, str]) -> tuple[int, str, bytes]:
        html = "text/html; charset=utf-8"
        if path == "/csr":
            return 200, html, page("Acme Privacy", SHELL + CSR_SCRIPT)
        if path == "/csr.json":
            return 200, "application/json", json.dumps({"html": policy_markup("Acme")}).encode()
        if path == "/guard":
            agent = headers.get("User-Agent", "")
            cookie = headers.get("Cookie", "")
            if "Mozilla" not in agent or "guard=passed" not in cookie:
                return 403, html, CHALLENGE
            return 200, html, page("Bastion Privacy", policy_markup("Bastion"))
        if path == "/consent":
            return 200, html, page("Cookie Co Privacy", CONSENT + policy_markup("Cookie Co"))
        if path == "/slow":
            return 200, html, page("Slowpoke Privacy", SHELL + SLOW_SCRIPT)
        if path == "/hang":
            body = policy_markup("Hangfire") + "<script src='/never.js'></script>"
            return 200, html, page("Hangfire Privacy", body)
        if path == "/void":
            return 200, html, page("Void", SHELL + "<script>1</script>")
        if path == "/agent":  # what the browser says it is
            return 200, "text/plain", headers.get("User-Agent", "").encode()
        return 404, html, page("Not found", "<p>Not found</p>")

    def __enter__(self) -> BrowserSite:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def fable_pages(elsewhere: str) -> dict[str, tuple[str, bytes]]:
    """An archived client-rendered site (URL → (content type, body)): the shell page, its
    script and its JSON. The shell also asks `elsewhere` (another host) for a beacon, and the
    script tries to post there: a replay must let neither out."""
    base = "https://www.fable-labs.example"
    shell = page(
        "Fable Labs Privacy",
        SHELL + f"<img src='{elsewhere}/pixel.gif'><script src='/static/app.js'></script>",
        head=f"<script src='{elsewhere}/beacon.js'></script>",
    )
    script = (
        "fetch('/api/policy.json').then(r => r.json()).then(d => {"
        "document.getElementById('root').innerHTML = d.html;"
        f"fetch('{elsewhere}/collect', {{method: 'POST', body: 'x'}}).catch(() => 0); }});"
    ).encode()
    data = json.dumps({"html": policy_markup("Fable Labs")}).encode()
    return {
        f"{base}/privacy": ("text/html; charset=utf-8", shell),
        f"{base}/static/app.js": ("application/javascript", script),
        f"{base}/api/policy.json": ("application/json", data),
    }
