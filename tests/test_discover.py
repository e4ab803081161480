"""Sites → documents over time: discovery in a simulated 15-year site archive (pywb over WARC
files written with warcio), URL segments, one timeline across URLs, gaps with their reasons."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from crawler.demo import PywbArchive
from db import store
from tests.conftest import run_cli, write_config
from tests.servers import serve_on_free_port
from tests.site_archive import (
    FENNEL_GAPS,
    FENNEL_SEGMENTS,
    FENNEL_VERSIONS,
    MID_URL,
    NEW_URL,
    OLD_URL,
    bramble_site,
    clover_site,
    fennel_site,
    write_records,
)

SITES = '[[site]]\ndomain = "fennel.example"\n\n[[site]]\ndomain = "bramble.example"\n'


@pytest.fixture(scope="module")
def site_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PywbArchive]:
    root = tmp_path_factory.mktemp("sites")
    warcs = [
        write_records(root / "fennel.warc.gz", fennel_site()),
        write_records(root / "bramble.warc.gz", bramble_site()),
        write_records(root / "clover.warc.gz", clover_site()),
    ]
    archive = PywbArchive(root / "archive", collection="sites")
    archive.add_warcs(*warcs)
    with archive.start():
        yield archive


def _iso(ts: str | None) -> str | None:
    return store.ts_iso(ts) if ts else None


def _sites_json(config: Path, *domains: str) -> list[dict[str, object]]:
    code, out = run_cli("--config", str(config), "sites", "--json", *domains)
    assert code == 0, out
    return json.loads(out)  # type: ignore[no-any-return]


def _discover(tmp_path: Path, archive: PywbArchive, *args: str) -> Path:
    config = write_config(tmp_path, archive.url, policies=SITES)
    code, out = run_cli("--config", str(config), "discover", "--to", "2023", *args)
    assert code == 0, out
    return config


def test_discovery_finds_the_url_segments_and_the_gaps(
    tmp_path: Path, site_archive: PywbArchive
) -> None:
    config = _discover(tmp_path, site_archive)
    (fennel,) = _sites_json(config, "fennel.example")
    (document,) = fennel["documents"]  # type: ignore[index]
    assert document["kind"] == "privacy" and document["policy"] == "fennel.example-privacy"
    assert [(s["url"], s["from"], s["to"]) for s in document["segments"]] == [
        (url, _iso(start), _iso(end)) for url, start, end in FENNEL_SEGMENTS
    ]
    first, second, third = document["segments"]
    assert first["evidence"]["link_text"] == "privacy"
    assert second["evidence"]["link_text"] == "privacy notice"
    assert third["evidence"]["link_text"] == "datenschutzerklärung"
    assert third["evidence"]["redirected_from"] == MID_URL  # 2018: the old URL's redirect
    assert third["evidence"]["classifier"]["kind"] == "privacy"
    assert third["evidence"]["homepage_timestamp"] == "20180405120000"
    gaps = [(g["code"], g["from"], g["to"]) for g in fennel["gaps"]]  # type: ignore[index]
    assert gaps == [(code, _iso(a), _iso(b)) for code, a, b in FENNEL_GAPS]
    reasons = {g["code"]: g["reason"] for g in fennel["gaps"]}  # type: ignore[index]
    assert reasons["no-homepage"] == "no homepage capture in the period"
    assert "legal/privacy-notice was captured as HTTP 404" in reasons["http-error"]
    (bramble,) = _sites_json(config, "bramble.example")
    assert bramble["documents"][0]["segments"] == []  # type: ignore[index]
    gaps = [(g["code"], g["from"], g["to"]) for g in bramble["gaps"]]  # type: ignore[index]
    assert gaps == [
        ("not-policy", _iso("20150101000000"), _iso("20170101000000")),
        ("no-homepage", _iso("20170101000000"), _iso("20240101000000")),  # no capture since
    ]
    assert "blog/privacy-tips is not a privacy document" in bramble["gaps"][0]["reason"]  # type: ignore[index]


def test_backfill_walks_each_url_over_its_segment_into_one_timeline(
    tmp_path: Path, site_archive: PywbArchive
) -> None:
    config = _discover(tmp_path, site_archive)
    code, out = run_cli("--config", str(config), "backfill")
    assert code == 0, out
    code, out = run_cli("--config", str(config), "history", "fennel.example-privacy", "--json")
    assert code == 0, out
    versions = json.loads(out)
    assert [(v["first_seen"], v["last_seen"]) for v in versions] == [
        (_iso(a), _iso(b)) for _, a, b in FENNEL_VERSIONS
    ]
    db = store.connect(tmp_path / "test.db")
    pid = store.policy_id(db, "fennel.example-privacy")
    urls = {
        r["original"]
        for r in store.rows(db, "SELECT original FROM captures WHERE policy_id = ?", [pid])
    }
    assert {u.replace("https://", "http://").replace("www.", "") for u in urls} == {
        OLD_URL,
        MID_URL,
        NEW_URL.replace("https://", "http://"),
    }
    # Outside its segment a URL is never walked: the old page's 2014 stub is not a version.
    stubs = store.rows(db, "SELECT * FROM versions WHERE text LIKE '%has moved%'")
    assert list(stubs) == []
    # The moves are events, not changes: four text changes for five texts, across three URLs.
    code, out = run_cli(
        "--config", str(config), "changes", "--policy", "fennel.example-privacy", "--json"
    )
    changes = [c for c in json.loads(out) if c.get("kind") == "change"]
    assert len(changes) == 4
    code, out = run_cli("--config", str(config), "history", "fennel.example-privacy")
    assert f"moved to {MID_URL}" in out and f"moved to {NEW_URL}" in out
    # The web timeline shows the addresses over time, the moves marked.
    process, base = serve_on_free_port(config)
    try:
        page = httpx.get(f"{base}/p/fennel.example-privacy", timeout=10).text
    finally:
        process.terminate()
        process.communicate(timeout=10)
    assert "Addresses over time" in page and page.count(">moved</span>") == 2
    assert all(url in page for url in (OLD_URL, MID_URL, NEW_URL))
    # Export for researchers: a git repository whose log on the file is the history.
    repo = tmp_path / "corpus-git"
    code, out = run_cli("--config", str(config), "export", str(repo), "--format", "git")
    assert code == 0 and "exported 5 commits" in out, out
    file = "f/fe/fen/fennel.example/privacy.md"
    log = subprocess.run(
        ["git", "-C", str(repo), "log", "--reverse", "--format=%cI %s", "--", file],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert [line.split(" ")[0] for line in log] == [
        _iso(first).replace("Z", "+00:00") for _, first, _ in FENNEL_VERSIONS
    ]
    assert [line.split(": ")[1] for line in log] == [v["uid"] for v in versions]
    head = subprocess.run(
        ["git", "-C", str(repo), "log", "-1", "--format=%B"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    message = json.loads(head.split("\n", 2)[2])
    assert message["version"] == versions[-1]["uid"] and message["url"] == NEW_URL
    assert message["capture"].endswith(f"/{FENNEL_VERSIONS[-1][1]}/{NEW_URL}")
    text = (repo / file).read_text()
    assert text.startswith("> *The following text is extracted and transformed from the ")
    assert "archived on 2021-03-15" in text
    before = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout
    assert run_cli("--config", str(config), "export", str(repo), "--format", "git")[0] == 0
    after = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout
    assert before == after  # the same database, the same commits
    # A second backfill walks nothing new, and the history stays the same.
    code, again = run_cli("--config", str(config), "backfill")
    assert code == 0 and "0 new versions" in again


def test_discovery_resumes_and_is_idempotent(tmp_path: Path, site_archive: PywbArchive) -> None:
    config = _discover(tmp_path, site_archive)
    db = store.connect(tmp_path / "test.db")
    before = list(store.rows(db, "SELECT * FROM url_segments ORDER BY id"))
    observed = db.execute("SELECT count(*) FROM site_observations").fetchone()[0]
    code, out = run_cli("--config", str(config), "discover", "--to", "2023")
    assert code == 0, out
    assert "0 sites to do" in out and "0 CDX queries" in out
    assert list(store.rows(db, "SELECT * FROM url_segments ORDER BY id")) == before
    assert db.execute("SELECT count(*) FROM site_observations").fetchone()[0] == observed
    # Periods lost (a kill before they settled) are done again, and only they.
    db.execute(
        "DELETE FROM site_observations WHERE period_from >= '2016' AND site_id = "
        "(SELECT id FROM sites WHERE domain = 'fennel.example')"
    )
    db.conn.commit()
    code, out = run_cli("--config", str(config), "discover", "--to", "2023")
    assert code == 0, out
    assert "1 site to do, 16 site-periods" in out
    assert [dict(r, id=0) for r in store.rows(db, "SELECT * FROM url_segments ORDER BY id")] == [
        dict(r, id=0) for r in before
    ]


def test_a_legal_hub_is_followed_one_level(tmp_path: Path, site_archive: PywbArchive) -> None:
    config = write_config(
        tmp_path, site_archive.url, policies='[[site]]\ndomain = "clover.example"\n'
    )
    code, out = run_cli("--config", str(config), "discover", "--from", "2020", "--to", "2020-06")
    assert code == 0, out
    (clover,) = _sites_json(config)
    (segment,) = clover["documents"][0]["segments"]  # type: ignore[index]
    assert segment["url"] == "http://clover.example/legal/privacy-policy"
    assert segment["evidence"]["via"] == "http://clover.example/legal"
    assert segment["evidence"]["link_text"] == "privacy & terms"


def test_plan_prints_the_budget_and_sends_nothing(
    tmp_path: Path, site_archive: PywbArchive
) -> None:
    config = write_config(tmp_path, site_archive.url, policies=SITES)
    code, out = run_cli(
        "--config", str(config), "discover", "--plan", "--from", "2009", "--to", "2023"
    )
    assert code == 0, out
    # 2 sites x 30 half-years; per site 1 homepage CDX + 2 per kind; 2 playbacks per period.
    assert "2 sites to do, 60 site-periods" in out
    assert "about 6 CDX queries and at most 120 playbacks" in out
    db = store.connect(tmp_path / "test.db")
    assert db.execute("SELECT count(*) FROM site_observations").fetchone()[0] == 0


def test_sites_import_reads_a_tranco_list_and_a_plain_list(tmp_path: Path) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9/none", policies="")
    tranco = tmp_path / "tranco.csv"
    lines = ["rank,domain"] + [f"{i},site{i}.example" for i in range(1, 12001)]
    lines[500] = "500,not a domain!"
    tranco.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out = run_cli(
        "--config", str(config), "sites", "import", str(tranco), "--kinds", "privacy,terms"
    )
    assert code == 0, out
    assert "imported 11999 sites" in out
    assert f"{tranco}:501: 'not a domain!' is not a domain; skipped (1 line in all)" in out
    plain = tmp_path / "list.txt"
    plain.write_text(
        "# my sites\nsite1.example\nhttps://www.Example-Shop.com/about\n\n", encoding="utf-8"
    )
    code, out = run_cli("--config", str(config), "sites", "import", str(plain))
    assert code == 0 and "imported 1 site" in out and "(1 known already)" in out
    db = store.connect(tmp_path / "test.db")
    first, *_ = store.list_sites(db)
    assert first["domain"] == "site1.example" and first["rank"] == 1
    assert first["kinds"] == ["privacy", "terms"]
    assert store.list_sites(db, ["example-shop.com"])[0]["rank"] is None
    code, out = run_cli("--config", str(config), "sites", "import", str(tmp_path / "missing.csv"))
    assert code == 1 and "missing.csv: no such file" in out


def test_add_site_appends_a_site_table_and_refuses_bad_input(tmp_path: Path) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9/none", policies="# my sites\n")
    code, out = run_cli(
        "--config",
        str(config),
        "add-site",
        "https://www.Fennel.example/",
        "--kinds",
        "privacy,terms",
    )
    assert code == 0, out
    text = config.read_text()
    assert "# my sites" in text and 'domain = "fennel.example"' in text
    assert 'kinds = ["privacy", "terms"]' in text
    code, out = run_cli("--config", str(config), "add-site", "fennel.example")
    assert code == 1 and "listed already" in out
    code, out = run_cli("--config", str(config), "add-site", "exa mple")
    assert code == 1 and "is not a domain name" in out
    code, out = run_cli("--config", str(config), "add-site", "x.example", "--kinds", "recipes")
    assert code == 2 and "'recipes' is not one of privacy, terms, cookies" in out
    bad = tmp_path / "bad" / "config.toml"
    write_config(
        bad.parent,
        "http://127.0.0.1:9/none",
        policies='[[site]]\ndomain = "x.example"\nkinds = ["faq"]\n',
    )
    code, out = run_cli("--config", str(bad), "sites")
    assert code == 1 and "site[0]: kind 'faq' is not one of privacy, terms, cookies" in out


def _discovery_state(db_path: Path) -> dict[str, object]:
    import sqlite3

    if not db_path.exists():
        return {}
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return {
            "observations": conn.execute(
                "SELECT s.domain, o.kind, o.source, o.period_from, o.period_to, o.state, o.url, "
                "o.code, o.reason, o.evidence FROM site_observations o JOIN sites s ON "
                "s.id = o.site_id ORDER BY s.domain, o.kind, o.period_from"
            ).fetchall(),
            "segments": conn.execute(
                "SELECT p.name, g.url, g.from_ts, g.to_ts, g.evidence FROM url_segments g "
                "JOIN policies p ON p.id = g.policy_id ORDER BY p.name, g.from_ts"
            ).fetchall(),
            "policies": conn.execute(
                "SELECT name, url, kind FROM policies ORDER BY name"
            ).fetchall(),
        }
    finally:
        conn.close()


def test_sigkill_during_discovery_then_rerun_equals_one_run(
    tmp_path: Path, site_archive: PywbArchive
) -> None:
    import os
    import random
    import signal
    import sys
    import time

    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1]))
    reference = _discover(tmp_path / "reference", site_archive)
    expected = _discovery_state(tmp_path / "reference" / "test.db")
    config = write_config(tmp_path / "killed", site_archive.url, policies=SITES)
    slow = config.read_text().replace("playback_per_second = 1000", "playback_per_second = 6")
    config.write_text(slow)
    command = [
        sys.executable,
        "-m",
        "crawler.cli",
        "--config",
        str(config),
        "discover",
        "--to",
        "2023",
    ]
    rng = random.Random(20261205)
    for _ in range(6):
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.8, 2.5))
        assert process.poll() is None, "discovery finished before its kill: slow it down"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        _discovery_state(config.parent / "test.db")  # integrity after every kill
    assert _discovery_state(config.parent / "test.db") != expected, "the kills came too late"
    config.write_text(slow.replace("playback_per_second = 6", "playback_per_second = 1000"))
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert _discovery_state(config.parent / "test.db") == expected
    assert reference.exists()


def test_an_unreachable_archive_stops_discovery_with_one_line(tmp_path: Path) -> None:
    from crawler.demo import free_port

    config = write_config(tmp_path, f"http://127.0.0.1:{free_port()}/sites", policies=SITES)
    code, out = run_cli("--config", str(config), "discover", "--from", "2020", "--to", "2020")
    assert code == 1
    assert "cannot reach the archive" in out and "check archive.url" in out
    db = store.connect(tmp_path / "test.db")
    # Nothing is recorded as the sites' gaps: the next run does it all again.
    assert db.execute("SELECT count(*) FROM site_observations").fetchone()[0] == 0
