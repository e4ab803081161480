"""A simulated archive of whole sites over 15 years, written as WARC files with warcio and
served by pywb: homepages redesigned over the years, policy links that change their text and
their URL (once to another domain, with a captured redirect from the old URL), decoy links, a
half-year without a homepage capture, a link to a 404, a "privacy" link to a blog post, and a
legal hub. Made-up companies; `fennel_site`'s expectations are the discovery tests' answers.
Also used by scripts/bench_discover_sites.py to build 1,000 sites.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from crawler.demo import policy_html


@dataclass(frozen=True)
class Record:
    timestamp: str
    url: str
    status: int = 200
    body: bytes = b""
    location: str = ""


def _warc_date(t: str) -> str:
    return f"{t[0:4]}-{t[4:6]}-{t[6:8]}T{t[8:10]}:{t[10:12]}:{t[12:14]}Z"


def write_records(path: Path, records: list[Record]) -> Path:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    reasons = {200: "OK", 301: "Moved Permanently", 302: "Found", 404: "Not Found"}
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for r in records:
            headers = [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", str(len(r.body))),
            ]
            if r.location:
                headers.append(("Location", r.location))
            record = writer.create_warc_record(
                r.url,
                "response",
                payload=io.BytesIO(r.body),
                http_headers=StatusAndHeaders(
                    f"{r.status} {reasons[r.status]}", headers, protocol="HTTP/1.1"
                ),
                warc_headers_dict={"WARC-Date": _warc_date(r.timestamp)},
            )
            writer.write_record(record)
            record.raw_stream.close()
    return path


def policy_page(company: str, domain: str, version: int, noise: int) -> bytes:
    """A privacy policy page (the demo's texts 1-5) for another made-up company."""
    body = policy_html(version, noise)
    return body.replace(b"Larkspur Labs", company.encode()).replace(
        b"larkspur-labs.example", domain.encode()
    )


def homepage(company: str, links: list[tuple[str, str]], lang: str = "en", noise: int = 0) -> bytes:
    """A homepage whose footer holds `links` (text, href), beside product links."""
    footer = " ".join(f'<a href="{href}">{text}</a>' for text, href in links)
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{company}: software for small clinics</title></head><body>"
        f'<header><a href="/">{company}</a><nav><a href="/product">Product</a> '
        f'<a href="/pricing">Pricing</a> <a href="/blog">Blog</a></nav></header>'
        f"<main><h1>{company}</h1><p>Scheduling, billing and reminders in one place. "
        f'Issue {noise}.</p><p><a href="/signup">Start free</a></p></main>'
        f'<footer class="site-footer">{footer}<p>&copy; {company}</p></footer></body></html>'
    ).encode()


BLOG_POST = (
    b"<!DOCTYPE html><html><head><title>Five privacy tips for your holidays | Bramble blog</title>"
    b"</head><body><header><a href='/'>Bramble</a></header><main><article>"
    b"<h1>Five privacy tips for your holidays</h1><p>Travelling soon? Pack light and bring a "
    b"good book. Our team collected tips from a summer of trips to the coast and the hills.</p>"
    b"<h2>Pick a window seat</h2><p>The view is better, and nobody climbs over you to reach "
    b"the aisle. Bring a scarf: trains are cold in the morning.</p>"
    b"<h2>Use a screen filter</h2><p>A filter keeps your neighbour from reading over your "
    b"shoulder while you finish that novel you started in spring.</p>"
    b"<h2>Leave the laptop at home</h2><p>Walk, swim, read. The inbox will wait for you.</p>"
    b"</article></main></body></html>"
)


def _ts(year: int, month: int, day: int, hour: int = 12) -> str:
    return f"{year:04d}{month:02d}{day:02d}{hour:02d}0000"


# Fennel Health: its policy moves twice over 15 years (2009-2023).
FENNEL = "fennel.example"
OLD_URL = "http://fennel.example/privacy.html"
MID_URL = "http://fennel.example/legal/privacy"
NEW_URL = "https://privacy.fennel-group.example/datenschutz"
TYPO_URL = "http://fennel.example/legal/privacy-notice"


def fennel_site() -> list[Record]:
    records: list[Record] = []
    company = "Fennel Health"
    for year in range(2009, 2024):
        for month in (2, 4, 8, 10):
            if year == 2011 and month in (2, 4):
                continue  # 2011's first half: no homepage capture at all
            half = 1 if month < 7 else 2
            if year < 2013:  # design A: "Privacy"; a Privacy Shield decoy
                links = [("Privacy Shield", "/privacy-shield"), ("Privacy", "/privacy.html")]
                lang = "en"
            elif year < 2018:  # design B: "Privacy Notice"; a cookie-choices decoy
                target = "/legal/privacy-notice" if (year, half) == (2015, 2) else "/legal/privacy"
                links = [("Your Privacy Choices", "/cookie-settings"), ("Privacy Notice", target)]
                lang = "en"
            else:  # design C, the German sister site's footer: "Datenschutzerklärung"
                target = MID_URL if year == 2018 else NEW_URL
                links = [("Impressum", "/impressum"), ("Datenschutzerklärung", target)]
                lang = "de"
            body = homepage(company, links, lang, noise=year * 10 + month)
            url = "http://fennel.example/" if year < 2016 else "https://www.fennel.example/"
            records.append(Record(_ts(year, month, 5), url, body=body))
    # The policy pages and their texts: 1 (2009-10), 2 (2011-15, across the first move), 3
    # (2016-17), 4 (2018-20, the new domain), 5 (2021-).
    for year in range(2009, 2015):
        for month in (3, 9):
            if year <= 2013:
                version = 1 if year <= 2010 else 2
                body = policy_page(company, FENNEL, version, year + month)
            else:  # after the move, the old page says where the policy went (a stub)
                body = (
                    b"<html><head><title>Moved</title></head><body><h1>This page has moved</h1>"
                    b"<p>See our new privacy notice.</p></body></html>"
                )
            records.append(Record(_ts(year, month, 15), OLD_URL, body=body))
    for year in range(2013, 2018):
        for month in (3, 9):
            version = 2 if year <= 2015 else 3
            body = policy_page(company, FENNEL, version, year + month)
            records.append(Record(_ts(year, month, 15), MID_URL, body=body))
    for month in (3, 9):  # 2018: the old URL redirects to the new domain, for a year
        records.append(Record(_ts(2018, month, 15), MID_URL, 301, location=NEW_URL))
    for year in range(2018, 2024):
        for month in (3, 9):
            version = 4 if year <= 2020 else 5
            body = policy_page(company, "fennel-group.example", version, year + month)
            records.append(Record(_ts(year, month, 15, 13), NEW_URL, body=body))
    records.append(Record(_ts(2015, 9, 20), TYPO_URL, 404, b"<html><body>Not found</body></html>"))
    records.append(
        Record(
            _ts(2010, 3, 1),
            "http://fennel.example/privacy-shield",
            body=b"<html><head><title>EU-US Privacy Shield</title></head><body><h1>Privacy "
            b"Shield</h1><p>We participate in the framework.</p></body></html>",
        )
    )
    return records


# The expected discovery of Fennel: segments (url, from, to) and gaps (code, from, to).
FENNEL_SEGMENTS = [
    (OLD_URL, "20090101000000", "20130405120000"),
    (MID_URL, "20130405120000", "20180405120000"),
    (NEW_URL, "20180405120000", None),
]
FENNEL_GAPS = [
    ("no-homepage", "20110101000000", "20110701000000"),
    ("http-error", "20150701000000", "20160101000000"),
]
# The versions backfill finds along the segments: (text number, first capture, last capture).
FENNEL_VERSIONS = [
    (1, "20090315120000", "20100915120000"),
    (2, "20110315120000", "20150915120000"),
    (3, "20160315120000", "20170915120000"),
    (4, "20180315120000", "20200915130000"),  # first via the old URL's redirect
    (5, "20210315130000", "20230915130000"),
]


def bramble_site() -> list[Record]:
    """Bramble's "Privacy" link leads to a blog post, never to a policy (2015-2016)."""
    records = []
    for year in (2015, 2016):
        for month in (4, 10):
            body = homepage("Bramble", [("Privacy", "/blog/privacy-tips")], noise=month)
            records.append(Record(_ts(year, month, 2), "http://bramble.example/", body=body))
        records.append(
            Record(_ts(year, 5, 1), "http://bramble.example/blog/privacy-tips", body=BLOG_POST)
        )
        records.append(
            Record(_ts(year, 11, 1), "http://bramble.example/blog/privacy-tips", body=BLOG_POST)
        )
    return records


def clover_site() -> list[Record]:
    """Clover's footer says "Privacy & Terms" and leads to a legal hub (2020)."""
    hub = (
        b"<html><head><title>Legal | Clover</title></head><body><main><h1>Legal</h1><ul>"
        b'<li><a href="/legal/terms">Terms of Service</a></li>'
        b'<li><a href="/legal/privacy-policy">Privacy Policy</a></li>'
        b'<li><a href="/legal/cookies">Cookie Policy</a></li></ul></main></body></html>'
    )
    return [
        Record(
            _ts(2020, 3, 1),
            "http://clover.example/",
            body=homepage("Clover", [("Privacy & Terms", "/legal")]),
        ),
        Record(_ts(2020, 3, 2), "http://clover.example/legal", body=hub),
        Record(
            _ts(2020, 3, 3),
            "http://clover.example/legal/privacy-policy",
            body=policy_page("Clover", "clover.example", 2, 1),
        ),
    ]


def synthetic_site(
    index: int, first_year: int = 2009, last_year: int = 2023
) -> tuple[str, list[Record], list[tuple[str, str, str | None]]]:
    """Site number `index` of a large simulated archive: a homepage captured twice a year, a
    privacy policy captured twice a year that (for two sites in three) moves once to another
    path. Returns (domain, records, expected segments (url, from, to))."""
    domain = f"s{index:05d}.example"
    company = f"Site {index}"
    old, new = f"http://{domain}/privacy", f"http://{domain}/legal/privacy-notice"
    moves = index % 3 != 0
    move_year = first_year + 2 + index % (last_year - first_year - 3) if moves else None
    records: list[Record] = []
    for year in range(first_year, last_year + 1):
        moved = move_year is not None and year >= move_year
        target = new if moved else old
        for month in (3, 9):
            links = [
                ("Privacy Shield", "/shield"),
                ("Privacy Policy" if not moved else "Privacy Notice", target),
            ]
            body = homepage(company, links, noise=year * 100 + month)
            records.append(Record(_ts(year, month, 10), f"http://{domain}/", body=body))
            version = 1 + (year - first_year) // 4
            page = policy_page(company, domain, min(version, 5), year * 100 + month)
            records.append(Record(_ts(year, month, 12), target, body=page))
    start = f"{first_year}0101000000"
    if move_year is None:
        expected: list[tuple[str, str, str | None]] = [(old, start, None)]
    else:
        at = _ts(move_year, 3, 10)
        expected = [(old, start, at), (new, at, None)]
    return domain, records, expected
