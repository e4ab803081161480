"""Generate a large policytrail database for the query benchmarks (no network).

    .venv/bin/python scripts/make_big_db.py OUT.db [--policies 1000] [--versions 30]
        [--bodies] [--quick-changes]

Each policy gets `versions` text versions (about 700 words each, drawn from policy-like
sentences, each version editing a few sections of the one before), one capture per version
spread over 2010-2025, and its change records with section summaries computed by the real
diff. The database is a real policytrail database: every command and page can open it.

--bodies also stores, per version, the raw page it came from (the text inside a site's own
chrome: head, inline scripts, navigation, footer, and a per-capture session token) through
the store's own compressed, delta-encoded blob path, and a snapshot row pointing at it.
--quick-changes writes each change's summary from the edits the generator made instead of
running the diff (for 1,000,000 versions the real diff alone would take hours).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.text.diff import diff_texts  # noqa: E402
from db import store  # noqa: E402

TOPICS = [
    "Information We Collect",
    "How We Use Information",
    "Cookies and Tracking",
    "Sharing and Disclosure",
    "Data Retention",
    "Your Rights",
    "Children's Privacy",
    "International Transfers",
    "Security",
    "California Privacy Rights",
    "Biometric Data",
    "Advertising",
    "Analytics",
    "Changes to This Policy",
    "Contact Us",
    "Legal Bases",
]
WORDS = [
    "personal",
    "information",
    "data",
    "account",
    "service",
    "provider",
    "partner",
    "cookie",
    "device",
    "location",
    "browser",
    "advertising",
    "analytics",
    "consent",
    "request",
    "delete",
    "access",
    "correct",
    "retain",
    "purpose",
    "law",
    "enforcement",
    "security",
    "breach",
    "transfer",
    "processor",
    "controller",
    "user",
    "customer",
    "email",
    "address",
    "phone",
    "payment",
    "billing",
    "marketing",
    "newsletter",
    "preference",
    "opt",
    "out",
    "third",
    "party",
    "affiliate",
    "subsidiary",
    "merger",
    "acquisition",
    "court",
    "order",
    "fraud",
    "abuse",
    "research",
    "improve",
    "product",
    "feature",
    "support",
    "communication",
    "identifier",
    "biometric",
    "health",
    "children",
]


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(10, 22))]
    return "We " + " ".join(words) + "."


def make_text(rng: random.Random, company: str) -> list[tuple[str, str]]:
    topics = rng.sample(TOPICS, 9)
    return [(t, " ".join(sentence(rng) for _ in range(rng.randint(3, 7)))) for t in topics]


def render(company: str, sections: list[tuple[str, str]]) -> str:
    body = "\n\n".join(f"## {h}\n\n{t}" for h, t in sections)
    return f"# Privacy Policy | {company}\n\n{body}\n"


def edit(rng: random.Random, sections: list[tuple[str, str]]) -> list[tuple[str, str]]:
    sections = list(sections)
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(sections))
        heading, text = sections[i]
        words = text.split()
        j = rng.randrange(len(words))
        words[j : j + 3] = [rng.choice(WORDS) for _ in range(rng.randint(1, 5))]
        sections[i] = (heading, " ".join(words))
    if rng.random() < 0.2:
        spare = [t for t in TOPICS if t not in {h for h, _ in sections}]
        if spare:
            sections.insert(rng.randrange(len(sections)), (rng.choice(spare), sentence(rng)))
    return sections


def site_chrome(rng: random.Random, company: str) -> tuple[str, str]:
    """One site's page around the policy: head, scripts and navigation; footer."""
    links = "".join(
        f'<li><a href="/{rng.choice(WORDS)}/{rng.choice(WORDS)}-{k}">'
        f"{rng.choice(WORDS).title()} {rng.choice(WORDS)}</a></li>"
        for k in range(rng.randint(30, 80))
    )
    script = ";".join(
        f"window.{rng.choice(WORDS)}{k}=function(a,b){{return a.{rng.choice(WORDS)}(b||{k})}}"
        for k in range(rng.randint(40, 120))
    )
    head = (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Privacy | {company}"
        f"</title><link rel='stylesheet' href='/assets/site-{rng.getrandbits(32):08x}.css'>"
        f"<script>{script}</script></head><body><header><nav><ul>{links}</ul></nav></header>"
        "<main><article>"
    )
    foot = f"</article></main><footer><ul>{links[: len(links) // 2]}</ul>&copy; {company}</footer>"
    return head, foot


def page(head: str, foot: str, sections: list[tuple[str, str]], token: int) -> bytes:
    body = "".join(f"<h2>{h}</h2><p>{t}</p>" for h, t in sections)
    noise = f"<script>var csrf='{token:032x}';</script></body></html>"
    return (head + body + foot + noise).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--policies", type=int, default=1000)
    parser.add_argument("--versions", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bodies", action="store_true", help="store a raw page per version")
    parser.add_argument("--quick-changes", action="store_true", help="summaries without diff")
    args = parser.parse_args()
    if args.out.exists():
        sys.exit(f"{args.out} exists: choose a new file")
    rng = random.Random(args.seed)
    db = store.connect(args.out)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    start = time.monotonic()
    span = (datetime(2025, 6, 1, tzinfo=UTC) - datetime(2010, 1, 1, tzinfo=UTC)).total_seconds()
    for n in range(args.policies):
        company = f"Company {n:04d}"
        name = f"company-{n:04d}-privacy"
        pid = store.upsert_policy(
            db, name, f"https://www.company{n:04d}.example/privacy", "privacy", now
        )
        offsets = sorted(rng.uniform(0, span) for _ in range(args.versions))
        sections = make_text(rng, company)
        head, foot = site_chrome(rng, company) if args.bodies else ("", "")
        previous_text = None
        edited: list[str] = []
        with store.writing(db):
            for i, offset in enumerate(offsets):
                when = datetime(2010, 1, 1, tzinfo=UTC) + timedelta(seconds=offset)
                ts = when.strftime("%Y%m%d%H%M%S")
                if i:
                    before = sections
                    sections = edit(rng, sections)
                    edited = [h for h, t in sections if (h, t) not in before]
                text = render(company, sections)
                snapshot_id = None
                if args.bodies:
                    body = page(head, foot, sections, rng.getrandbits(128))
                    blob = store.put_blob(db, body, base=store.keyframe(db, pid))
                    snapshot_id = store.insert_snapshot(
                        db,
                        pid,
                        source="archive",
                        timestamp=ts,
                        url=f"https://www.company{n:04d}.example/privacy",
                        requested_url=f"https://www.company{n:04d}.example/privacy",
                        playback_url="",
                        status=200,
                        content_type="text/html; charset=utf-8",
                        digest=f"D{n}-{i}",
                        blob_sha256=blob,
                        redirects=[],
                        extractor_version=1,
                        now=now,
                    )
                vid = store.record_version(
                    db,
                    pid,
                    text=text,
                    title=company,
                    timestamp=ts,
                    snapshot_id=snapshot_id,
                    extractor_version=1,
                    now=now,
                )
                if snapshot_id is not None:
                    store.link_snapshot_version(db, snapshot_id, vid)
                db.execute(
                    "INSERT INTO captures (policy_id, timestamp, original, urlkey, mimetype, "
                    "status, digest, state, attempts, version_id, seen_at, source) VALUES "
                    "(?, ?, ?, '', 'text/html', 200, ?, 'fetched', 1, ?, ?, 'archive')",
                    [
                        pid,
                        ts,
                        f"https://www.company{n:04d}.example/privacy",
                        f"D{n}-{i}",
                        vid,
                        store.iso(now),
                    ],
                )
                if previous_text is None:
                    store.insert_change(
                        db,
                        pid,
                        from_version_id=None,
                        to_version_id=vid,
                        at_timestamp=ts,
                        previous_timestamp=None,
                        kind="first",
                        substantive=True,
                        summary="first record",
                        sections="[]",
                        words_added=len(text.split()),
                        words_removed=0,
                        now=now,
                    )
                else:
                    if args.quick_changes:
                        substantive, summary, sections_json = (
                            True,
                            f"{len(edited)} sections modified or added: "
                            + ", ".join(f"'{h}'" for h in edited),
                            "[]",
                        )
                        added = removed = len(edited)
                    else:
                        result = diff_texts(previous_text, text)
                        substantive, summary = result.substantive, result.summary
                        sections_json = json.dumps(
                            [c.to_dict() for c in result.changes if c.kind != "unchanged"]
                        )
                        added, removed = result.words_added, result.words_removed
                    store.insert_change(
                        db,
                        pid,
                        from_version_id=vid - 1,
                        to_version_id=vid,
                        at_timestamp=ts,
                        previous_timestamp=ts,
                        kind="change",
                        substantive=substantive,
                        summary=summary,
                        sections=sections_json,
                        words_added=added,
                        words_removed=removed,
                        now=now,
                    )
                previous_text = text
        if n % (1000 if args.policies >= 10000 else 100) == 99:
            print(f"{n + 1} policies, {time.monotonic() - start:.0f} s", file=sys.stderr)
    db.execute("ANALYZE")
    counts = store.table_counts(db)
    print(
        f"{args.out}: {counts['policies']} policies, {counts['versions']} versions, "
        f"{args.out.stat().st_size / 1e6:.0f} MB, {time.monotonic() - start:.0f} s"
    )


if __name__ == "__main__":
    main()
