"""A small archive of a made-up company's privacy policy, served by pywb on 127.0.0.1.

Larkspur Labs' policy over 2017–2024: five text versions, captures whose HTML differs only in page
noise (session tokens, ad slots, cookie banners, footers), a revisit record, a 404 capture, a PDF
capture, http/https/www variants, and two captured 301s to the URL the policy moved to for a while.
Used by `policytrail demo` and by the tests. Needs the `demo` extra (pywb, warcio).
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from crawler.archive import payload_digest

POLICY_URL = "https://www.larkspur-labs.example/legal/privacy"
MOVED_URL = "https://www.larkspur-labs.example/privacy-policy"
COLLECTION = "larkspur"

INTRO = (
    'Larkspur Labs, Inc. ("Larkspur", "we", "us") makes scheduling software for small '
    "clinics. This policy explains what personal information we collect when you use our "
    "website and apps, why we collect it, and the choices you have."
)
SECTIONS_2017 = [
    (
        "Information We Collect",
        [
            "We collect information you give us when you create an account, such as your name, "
            "e-mail address, clinic name and billing details.",
            "We also collect information automatically when you use the service, including your IP "
            "address, browser type, pages visited and the time of each visit.",
        ],
    ),
    (
        "How We Use Information",
        [
            "We use your information to provide and improve the service, to process payments, and "
            "to send you messages about your account."
        ],
    ),
    (
        "Cookies",
        [
            "We use cookies to keep you signed in and to understand how the service is used. You can "
            "refuse cookies in your browser settings, but parts of the service may stop working."
        ],
    ),
    (
        "Sharing",
        [
            "We do not sell your personal information. We share it with service providers who host "
            "our servers and process payments for us, under contracts that protect it."
        ],
    ),
    ("Contact Us", ["Questions about this policy can be sent to privacy@larkspur-labs.example."]),
]


def _sections(version: int) -> list[tuple[str, list[str]]]:
    s = [(h, list(p)) for h, p in SECTIONS_2017]
    if version >= 2:  # 2018: GDPR update
        s.insert(
            2,
            (
                "Legal Bases for Processing",
                [
                    "We process personal data to perform our contract with you, to meet legal "
                    "obligations, and for our legitimate interests in running a secure service."
                ],
            ),
        )
        s.insert(
            5,
            (
                "Your Rights",
                [
                    "If you are in the European Economic Area you may ask to access, correct, delete or "
                    "port your personal data, and you may object to processing.",
                    "You can also lodge a complaint with your local data protection authority.",
                ],
            ),
        )
        s[-1] = (
            "Contact Us",
            [
                "Questions about this policy can be sent to our Data Protection "
                "Officer at dpo@larkspur-labs.example."
            ],
        )
    if version >= 3:  # 2020: CCPA and retention
        s.insert(
            6,
            (
                "California Privacy Rights",
                [
                    "California residents may request the categories and specific pieces of personal "
                    "information we collected about them in the last twelve months."
                ],
            ),
        )
        s.insert(
            7,
            (
                "Data Retention",
                [
                    "We keep account data for as long as your account is open and for three years after "
                    "it closes, unless the law requires us to keep it longer."
                ],
            ),
        )
    if version >= 4:  # 2021: sharing renamed and reworded, cookies moved to the end
        for i, (heading, _paras) in enumerate(s):
            if heading == "Sharing":
                s[i] = (
                    "How We Share Information",
                    [
                        "We do not sell your personal information. We share it only with service "
                        "providers who host our servers, process payments and send e-mail for us, "
                        "under contracts that protect it."
                    ],
                )
        cookies = next(x for x in s if x[0] == "Cookies")
        s.remove(cookies)
        s.insert(len(s) - 1, cookies)
    if version >= 5:  # 2023: biometric data, retention shortened
        s.insert(
            2,
            (
                "Biometric Data",
                [
                    "If your clinic turns on face sign-in, we process a template of your face to verify "
                    "your identity. We delete it within 30 days after you turn the feature off."
                ],
            ),
        )
        for i, (heading, _) in enumerate(s):
            if heading == "Data Retention":
                s[i] = (
                    "Data Retention",
                    [
                        "We keep account data for as long as your account is open and for one year "
                        "after it closes, unless the law requires us to keep it longer."
                    ],
                )
    return s


UPDATED = {
    1: "March 1, 2017",
    2: "May 25, 2018",
    3: "January 1, 2020",
    4: "June 30, 2021",
    5: "April 1, 2023",
}
ADS = [
    "Try Larkspur Cloud free for 30 days",
    "Meet Larkspur at HealthTech Summit",
    "New: online booking widgets",
    "Sponsored: ClinicPay card readers",
]


def policy_html(version: int, noise: int) -> bytes:
    """The page of text version `version` (1–5), with page noise varying with `noise`."""
    token = hashlib.sha1(f"token-{noise}".encode()).hexdigest()
    year = 2016 + noise // 2 + 1
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        "<title>Privacy Policy | Larkspur Labs</title>",
        f"<script>window.__session = \"{token}\"; dataLayer.push({{'n': {noise}}});</script>",
        "<style>.ad-slot{float:right}</style></head><body>",
        '<div id="cookie-banner" class="cookie-consent"><p>We use cookies to improve your '
        'experience. <a href="/cookies">Learn more</a> <button>Accept</button></p></div>',
        '<header class="site-header"><a href="/">Larkspur Labs</a><nav><ul>'
        '<li><a href="/product">Product</a></li><li><a href="/pricing">Pricing</a></li>'
        '<li><a href="/blog">Blog</a></li></ul></nav></header>',
        '<div class="layout"><main class="content"><article>',
        "<h1>Privacy Policy</h1>",
        f"<p><em>Last updated: {UPDATED[version]}</em></p>",
        f"<p>{INTRO}</p>",
    ]
    for heading, paragraphs in _sections(version):
        parts.append(f"<h2>{heading}</h2>")
        parts.extend(f"<p>{p}</p>" for p in paragraphs)
    parts += [
        "</article></main>",
        f'<aside class="ad-slot"><p>{ADS[noise % len(ADS)]}</p>'
        f'<img src="/ads/{token[:8]}.png" alt=""></aside></div>',
        f'<form class="newsletter"><input type="hidden" name="csrf" value="{token}">'
        '<input type="email" name="email"><button>Subscribe</button></form>',
        f"<footer><p>&copy; {year} Larkspur Labs, Inc. All rights reserved.</p>"
        '<a href="/terms">Terms</a> <a href="/legal/privacy">Privacy</a></footer>',
        "</body></html>",
    ]
    return "\n".join(parts).encode("utf-8")


@dataclass(frozen=True)
class FixtureCapture:
    timestamp: str
    url: str
    kind: str  # page | revisit | redirect | notfound | pdf
    version: int = 0
    noise: int = 0
    target: str = ""


TIMELINE = [
    FixtureCapture("20170315093000", "http://larkspur-labs.example/legal/privacy", "page", 1, 1),
    FixtureCapture(
        "20170921141500", "http://www.larkspur-labs.example/legal/privacy", "page", 1, 2
    ),
    FixtureCapture("20180110080000", POLICY_URL, "page", 1, 3),
    FixtureCapture("20180525120000", POLICY_URL, "page", 2, 4),
    FixtureCapture("20181103170000", POLICY_URL, "page", 2, 5),
    FixtureCapture("20190614101010", POLICY_URL, "revisit", target="20181103170000"),
    FixtureCapture("20200212090000", POLICY_URL, "page", 3, 6),
    FixtureCapture("20200817000000", POLICY_URL, "notfound"),
    FixtureCapture("20210120111111", POLICY_URL, "page", 3, 7),
    FixtureCapture("20210705080000", POLICY_URL, "redirect", target=MOVED_URL),
    FixtureCapture("20210705080004", MOVED_URL, "page", 4, 8),
    FixtureCapture("20220301120000", POLICY_URL, "redirect", target=MOVED_URL),
    FixtureCapture("20220301120002", MOVED_URL, "page", 4, 9),
    FixtureCapture("20230410150000", POLICY_URL, "page", 5, 10),
    FixtureCapture("20240118090000", POLICY_URL, "page", 5, 11),
    FixtureCapture("20240601000000", POLICY_URL, "pdf"),
    FixtureCapture("20240902090000", "https://larkspur-labs.example/legal/privacy", "page", 5, 12),
]
# What a correct backfill of POLICY_URL finds: (first capture, last capture, captures) per version.
EXPECTED_VERSIONS = [
    ("20170315093000", "20180110080000", 3),
    ("20180525120000", "20190614101010", 3),
    ("20200212090000", "20210120111111", 2),
    ("20210705080000", "20220301120000", 2),
    ("20230410150000", "20240902090000", 3),
]


def _warc_date(timestamp: str) -> str:
    t = timestamp
    return f"{t[0:4]}-{t[4:6]}-{t[6:8]}T{t[8:10]}:{t[10:12]}:{t[12:14]}Z"


def write_warc(path: Path, timeline: list[FixtureCapture] | None = None) -> Path:
    """Write the timeline as a gzipped WARC with warcio."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    timeline = timeline or TIMELINE
    bodies: dict[str, tuple[str, bytes]] = {}
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for cap in timeline:
            date = _warc_date(cap.timestamp)
            if cap.kind == "revisit":
                orig_url, body = bodies[cap.target]
                digest = "sha1:" + payload_digest(body)
                headers = StatusAndHeaders(
                    "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
                )
                record = writer.create_revisit_record(
                    cap.url,
                    digest=digest,
                    refers_to_uri=orig_url,
                    refers_to_date=_warc_date(cap.target),
                    http_headers=headers,
                    warc_headers_dict={"WARC-Date": date},
                )
                writer.write_record(record)
                record.raw_stream.close()  # warcio buffers into a temp file it never closes
                continue
            if cap.kind == "page":
                status, ctype, body = (
                    "200 OK",
                    "text/html; charset=utf-8",
                    policy_html(cap.version, cap.noise),
                )
                extra: list[tuple[str, str]] = []
            elif cap.kind == "redirect":
                status, ctype, body = "301 Moved Permanently", "text/html; charset=utf-8", b""
                extra = [("Location", cap.target)]
            elif cap.kind == "notfound":
                status, ctype, body = (
                    "404 Not Found",
                    "text/html; charset=utf-8",
                    b"<html><body><h1>Not Found</h1></body></html>",
                )
                extra = []
            else:
                status, ctype, body = "200 OK", "application/pdf", b"%PDF-1.4\n%fixture\n"
                extra = []
            bodies[cap.timestamp] = (cap.url, body)
            headers = StatusAndHeaders(
                status,
                [("Content-Type", ctype), ("Content-Length", str(len(body))), *extra],
                protocol="HTTP/1.1",
            )
            record = writer.create_warc_record(
                cap.url,
                "response",
                payload=io.BytesIO(body),
                http_headers=headers,
                warc_headers_dict={"WARC-Date": date},
            )
            writer.write_record(record)
            record.raw_stream.close()
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tool(name: str) -> str:
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(
            f"{name} not found: install the demo extra (pip install 'policytrail[demo]')"
        )
    return found


class PywbArchive:
    """A pywb collection over WARC files, served on 127.0.0.1 (never on every interface)."""

    def __init__(self, root: Path, collection: str = COLLECTION) -> None:
        self.root = root
        self.collection = collection
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{self.collection}"

    def add_warcs(self, *warcs: Path) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if not (self.root / "collections" / self.collection).exists():
            subprocess.run(
                [_tool("wb-manager"), "init", self.collection],
                cwd=self.root,
                check=True,
                capture_output=True,
            )
        subprocess.run(
            [_tool("wb-manager"), "add", self.collection, *map(str, warcs)],
            cwd=self.root,
            check=True,
            capture_output=True,
        )

    def start(self, timeout: float = 30.0) -> PywbArchive:
        self.port = free_port()
        env = dict(os.environ, PYTHONWARNINGS="ignore")
        with (self.root / "pywb.log").open("wb") as log_file:
            self.process = subprocess.Popen(
                [_tool("wayback"), "-b", "127.0.0.1", "-p", str(self.port)],
                cwd=self.root,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=env,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pywb exited: see {self.root / 'pywb.log'}")
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/", timeout=1.0)
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"pywb did not answer on 127.0.0.1:{self.port} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> PywbArchive:
        return self if self.process else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def demo_config(folder: Path, archive_url: str) -> Path:
    """Write a config tracking Larkspur's policy in `archive_url`; returns its path."""
    path = folder / "config.toml"
    path.write_text(
        "# policytrail demo: Larkspur Labs' privacy policy in a local pywb archive\n"
        '[database]\npath = "demo.db"\n\n'
        f'[archive]\nurl = "{archive_url}"\ncdx_per_minute = 6000\nplayback_per_second = 100\n\n'
        '[[policy]]\nname = "larkspur-privacy"\n'
        f'url = "{POLICY_URL}"\nkind = "privacy"\n',
        encoding="utf-8",
    )
    return path
