"""`policytrail export DIR --format git`: the database as a git repository, for researchers'
own tools. One commit per step of each document's timeline (its first text, then each change,
a return to an older text included), in date order across documents, committed at the capture's
date; one file per site and kind in the reference corpus's prefix layout
(`l/li/lin/linux.org/privacy.md`), opening with the corpus's provenance line; the commit message
holds the stable version id and the capture as JSON. `git log -p -- l/li/lin/linux.org/privacy.md`
is then the policy's history.

The history is written with `git fast-import` in one stream and rebuilt on every export, so the
same database always gives the same commits (same hashes): a rerun changes nothing.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import click

AUTHOR = "policytrail <policytrail@localhost>"
BRANCH = "refs/heads/main"


def corpus_path(domain: str, kind: str) -> str:
    """`linux.org`, `privacy` → `l/li/lin/linux.org/privacy.md`."""
    safe = re.sub(r"[^a-z0-9._-]+", "_", domain.lower()).strip("._") or "_"
    return f"{safe[:1]}/{safe[:2]}/{safe[:3]}/{safe}/{kind}.md"


def _steps(db: Any) -> list[dict[str, Any]]:
    """Every document's timeline steps, oldest first across documents."""
    from db import store

    return list(
        store.rows(
            db,
            "SELECT c.id, c.policy_id, c.to_version_id, c.at_timestamp, c.kind, c.summary, "
            "p.name AS policy, p.url, p.kind AS policy_kind, v.uid, v.text, "
            "(SELECT s.domain FROM site_documents d JOIN sites s ON s.id = d.site_id "
            " WHERE d.policy_id = p.id) AS domain "
            "FROM changes c JOIN policies p ON p.id = c.policy_id "
            "JOIN versions v ON v.id = c.to_version_id ORDER BY c.at_timestamp, c.id",
        )
    )


def _stream(db: Any, archive_url: str) -> tuple[bytes, int, set[str]]:
    from crawler.archive import ArchiveEndpoint, timestamp_to_datetime
    from crawler.cite import capture_link, replay_prefixes
    from crawler.text import host_of
    from crawler.text.render import archive_provenance, live_provenance, render_with_provenance
    from db import store

    endpoint = ArchiveEndpoint.from_url(archive_url)
    prefix = replay_prefixes(db, archive_url)
    out: list[bytes] = [f"reset {BRANCH}\n".encode()]
    files: set[str] = set()
    count = 0
    for step in _steps(db):
        capture = store.capture_showing(db, step["to_version_id"], step["at_timestamp"])
        url = capture["url"] if capture else step["url"]
        if capture and capture["source"] == "live":
            line = live_provenance(
                url, step["policy_kind"], timestamp_to_datetime(step["at_timestamp"])
            )
        else:
            line = archive_provenance(
                url,
                step["policy_kind"],
                step["at_timestamp"],
                endpoint.base,
                endpoint.is_internet_archive,
            )
        body = render_with_provenance(line, step["text"]).encode("utf-8")
        path = corpus_path(
            step["domain"] or host_of(step["url"]).removeprefix("www."), step["policy_kind"]
        )
        files.add(path)
        link = capture_link(capture, prefix(step["policy_id"]))
        message = json.dumps(
            {
                "policy": step["policy"],
                "version": step["uid"],
                "kind": step["kind"],
                "summary": step["summary"],
                "captured": store.ts_iso(step["at_timestamp"]),
                "capture": link["link"] if link else None,
                "url": url,
            },
            ensure_ascii=False,
            indent=1,
        ).encode("utf-8")
        title = f"{step['policy']}: {step['uid']}".encode()
        message = title + b"\n\n" + message + b"\n"
        when = int(timestamp_to_datetime(step["at_timestamp"]).timestamp())
        out += [
            f"commit {BRANCH}\n".encode(),
            f"author {AUTHOR} {when} +0000\n".encode(),
            f"committer {AUTHOR} {when} +0000\n".encode(),
            f"data {len(message)}\n".encode(),
            message,
            f"M 100644 inline {path}\n".encode(),
            f"data {len(body)}\n".encode(),
            body,
            b"\n",
        ]
        count += 1
    return b"".join(out), count, files


def export_git(config: Any, db: Any, target: Path) -> int:
    """Write (or rewrite) the repository at `target`; returns the number of commits."""
    target.mkdir(parents=True, exist_ok=True)
    git = ["git", "-C", str(target)]
    if not (target / ".git").exists():
        if any(target.iterdir()):
            raise click.ClickException(
                f"{target} is a folder with files and no git repository; give an empty or new "
                "folder (or a repository an earlier export made)"
            )
        subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    stream, count, _files = _stream(db, config.archive.url)
    if count == 0:
        raise click.ClickException(f"{config.database}: no versions to export yet")
    done = subprocess.run(
        [*git, "fast-import", "--quiet", "--force", "--done"],
        input=stream + b"done\n",
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise click.ClickException(
            f"git fast-import failed in {target}: {done.stderr.decode()[:300]}"
        )
    subprocess.run([*git, "symbolic-ref", "HEAD", BRANCH], check=True)
    subprocess.run([*git, "reset", "-q", "--hard", BRANCH], check=True)
    subprocess.run([*git, "clean", "-q", "-fd"], check=True)
    return count
