"""`serve` reading while another process writes the same file under load: no "database is
locked", no torn reads (each page is one consistent snapshot)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import httpx

from db import store
from tests.servers import serve_on_free_port

WRITER = """
import sys
from datetime import UTC, datetime
sys.path.insert(0, {root!r})
from db import store
from crawler.pipeline import record_changes
db = store.connect({db!r})
now = datetime(2026, 1, 1, tzinfo=UTC)
pid = store.upsert_policy(db, "busy-terms", "https://busy.example/terms", "terms", now)
for i in range({count}):
    ts = f"2020{{(i // 28) % 12 + 1:02d}}{{i % 28 + 1:02d}}{{i % 24:02d}}0000"
    ts = str(2000 + i // 300) + ts[4:]
    with db.atomic():
        text = "# Busy Terms\\n\\n## Clause\\n\\nVersion " + str(i) + " of the terms.\\n"
        vid = store.record_version(db, pid, text=text, title="Busy", timestamp=ts,
                                   snapshot_id=None, extractor_version=1, now=now)
        store.add_live_capture(db, pid, timestamp=ts, url="https://busy.example/terms",
                               mimetype="text/html", status=200, digest=str(i), state="fetched",
                               reason=None, snapshot_id=None, version_id=vid, now=now)
        record_changes(db, pid, now)
print("wrote", {count})
"""


def test_pages_stay_consistent_while_another_process_writes(tmp_path: Path) -> None:
    root = str(Path(__file__).parents[1])
    db_path = tmp_path / "busy.db"
    store.connect(db_path).close()
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\npath = "{db_path}"\n')
    server, base = serve_on_free_port(config)
    env = dict(os.environ, PYTHONPATH=root)
    try:
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER.format(root=root, db=str(db_path), count=400)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        problems: list[str] = []
        pages = [0]

        def read() -> None:
            with httpx.Client(base_url=base, timeout=30) as client:
                while writer.poll() is None:
                    for path in ("/", "/p/busy-terms", "/changes?all=1", "/search?q=terms"):
                        response = client.get(path)
                        pages[0] += 1
                        if response.status_code == 404 and path == "/p/busy-terms":
                            continue  # before the writer's first commit
                        if response.status_code != 200:
                            problems.append(f"{path}: {response.status_code}")
                            continue
                        if path == "/p/busy-terms":
                            # Torn read check: the header's count and the rows agree.
                            stated = int(re.search(r"· (\d+) versions?", response.text)[1])
                            rows = len(
                                re.findall(
                                    r"<tr><td>\d+</td><td class=\"nowrap\"><a href=\"/p/busy-terms/v/",
                                    response.text,
                                )
                            )
                            if stated != rows:
                                problems.append(f"torn page: {stated} versions, {rows} rows")

        readers = [threading.Thread(target=read) for _ in range(4)]
        for thread in readers:
            thread.start()
        out, err = writer.communicate(timeout=240)
        for thread in readers:
            thread.join(60)
        assert writer.returncode == 0 and "wrote 400" in out, err
        assert problems == []
        assert pages[0] > 40
    finally:
        server.terminate()
        _, server_err = server.communicate(timeout=30)
    assert "locked" not in server_err
    assert len(store.history(store.connect(db_path), 1)) == 400
