"""Backfill against a real pywb archive over WARC files the test writes with warcio."""

from __future__ import annotations

from pathlib import Path

import zstandard

from crawler.demo import EXPECTED_VERSIONS, MOVED_URL, TIMELINE, PywbArchive, policy_html
from db import store
from tests.conftest import history_json, run_cli, write_config


def _iso(ts: str) -> str:
    return f"{ts[0:4]}-{ts[4:6]}-{ts[6:8]}T{ts[8:10]}:{ts[10:12]}:{ts[12:14]}Z"


def test_backfill_finds_exactly_the_distinct_texts(
    tmp_path: Path, pywb_archive: PywbArchive
) -> None:
    config = write_config(tmp_path, pywb_archive.url)
    code, out = run_cli("--config", str(config), "backfill")
    assert code == 0, out
    versions = history_json(config)
    assert [(v["first_seen"], v["last_seen"], v["snapshots"]) for v in versions] == [
        (_iso(first), _iso(last), n) for first, last, n in EXPECTED_VERSIONS
    ]
    assert [v["number"] for v in versions] == [1, 2, 3, 4, 5]


def test_every_capture_is_settled_with_its_reason(
    tmp_path: Path, pywb_archive: PywbArchive
) -> None:
    config = write_config(tmp_path, pywb_archive.url)
    assert run_cli("--config", str(config), "backfill")[0] == 0
    db = store.connect(tmp_path / "test.db")
    rows = {r["timestamp"]: r for r in store.rows(db, "SELECT * FROM captures")}
    # The exact-URL query sees http, https and www variants, but not the moved URL's own captures.
    policy_captures = [c for c in TIMELINE if "/legal/privacy" in c.url]
    assert sorted(rows) == sorted(c.timestamp for c in policy_captures)
    assert rows["20200817000000"]["state"] == "skipped"
    assert rows["20200817000000"]["reason"] == "HTTP 404 capture"
    assert rows["20240601000000"]["state"] == "skipped"
    assert "PDF" in rows["20240601000000"]["reason"]  # a broken PDF capture
    revisit = rows["20190614101010"]
    assert revisit["mimetype"] == "warc/revisit" and revisit["state"] == "fetched"
    assert revisit["version_id"] == rows["20181103170000"]["version_id"]
    for ts in ("20210705080000", "20220301120000"):
        assert rows[ts]["state"] == "fetched"
        assert MOVED_URL in rows[ts]["reason"]
        snapshot = next(
            store.rows(db, "SELECT * FROM snapshots WHERE id = ?", [rows[ts]["snapshot_id"]])
        )
        assert snapshot["url"] == MOVED_URL and '"captured"' in snapshot["redirects"]
    assert {r["state"] for r in rows.values()} == {"fetched", "skipped"}


def test_raw_bodies_are_kept_compressed_and_exact(
    tmp_path: Path, pywb_archive: PywbArchive
) -> None:
    config = write_config(tmp_path, pywb_archive.url)
    assert run_cli("--config", str(config), "backfill")[0] == 0
    db = store.connect(tmp_path / "test.db")
    snapshot = next(store.rows(db, "SELECT * FROM snapshots WHERE timestamp = '20180525120000'"))
    assert store.get_blob(db, snapshot["blob_sha256"]) == policy_html(2, 4)
    blob = next(store.rows(db, "SELECT * FROM blobs WHERE sha256 = ?", [snapshot["blob_sha256"]]))
    assert blob["compression"] == "zstd"
    assert len(blob["data"]) < blob["size"]
    assert zstandard.ZstdDecompressor().decompress(blob["data"]) == policy_html(2, 4)


def test_second_backfill_adds_nothing_and_plays_nothing(
    tmp_path: Path, pywb_archive: PywbArchive
) -> None:
    config = write_config(tmp_path, pywb_archive.url)
    assert run_cli("--config", str(config), "backfill")[0] == 0
    db = store.connect(tmp_path / "test.db")
    before = store.table_counts(db)
    versions_before = history_json(config)
    code, out = run_cli("--config", str(config), "backfill")
    assert code == 0, out
    assert "0 playback requests" in out and "0 new versions" in out
    after = store.table_counts(db)
    assert {k: v for k, v in after.items() if k != "runs"} == {
        k: v for k, v in before.items() if k != "runs"
    }
    assert history_json(config) == versions_before


def test_date_range_limits_the_captures(tmp_path: Path, pywb_archive: PywbArchive) -> None:
    config = write_config(tmp_path, pywb_archive.url)
    code, out = run_cli("--config", str(config), "backfill", "--from", "2018-05", "--to", "2019")
    assert code == 0, out
    versions = history_json(config)
    assert [(v["first_seen"][:10], v["last_seen"][:10]) for v in versions] == [
        ("2018-05-25", "2019-06-14")
    ]


def test_noise_never_makes_a_version(pywb_archive: PywbArchive) -> None:
    """Every pair of captures of one text version extracts to the same text."""
    from crawler.text import extract
    from crawler.text.render import render_text

    texts = {}
    for noise in range(1, 13):
        texts[noise] = render_text(extract(policy_html(3, noise), base_url=TIMELINE[0].url))
    assert len(set(texts.values())) == 1
    text = texts[1]
    for leak in (
        "Sponsored",
        "cookies to improve",
        "All rights reserved",
        "Pricing",
        "Subscribe",
        "window.__session",
    ):
        assert leak not in text
    assert "## Data Retention" in text and "# Privacy Policy | Larkspur Labs" in text


def test_changes_follow_the_timeline_with_section_summaries(
    tmp_path: Path, pywb_archive: PywbArchive
) -> None:
    config = write_config(tmp_path, pywb_archive.url)
    assert run_cli("--config", str(config), "backfill")[0] == 0
    db = store.connect(tmp_path / "test.db")
    changes = list(reversed(store.changes(db, store.policy_id(db, "larkspur-privacy"))))
    assert [(c["at"][:10], c["kind"]) for c in changes] == [
        ("2017-03-15", "first"),
        ("2018-05-25", "change"),
        ("2020-02-12", "change"),
        ("2021-07-05", "change"),
        ("2023-04-10", "change"),
    ]
    assert all(c["substantive"] for c in changes)
    assert changes[1]["summary"] == (
        "'Contact Us' modified; 'Legal Bases for Processing', 'Your Rights' added; 1 cosmetic"
    )
    assert changes[3]["summary"] == (
        "'Cookies' moved; 'Sharing' renamed 'How We Share Information'; 1 cosmetic"
    )
    assert "'Biometric Data'" in changes[4]["summary"]
    # A second run records nothing new.
    before = store.table_counts(db)
    assert run_cli("--config", str(config), "backfill")[0] == 0
    assert len(store.changes(db)) == len(changes)
    assert store.table_counts(db)["versions"] == before["versions"]


def test_reextraction_is_a_technical_change_never_an_alert(
    tmp_path: Path, pywb_archive: PywbArchive
) -> None:
    config = write_config(tmp_path, pywb_archive.url, extra="")
    assert run_cli("--config", str(config), "backfill")[0] == 0
    # The extraction rules change: drop the "Contact Us" heading from every text.
    text = config.read_text().replace(
        'kind = "privacy"', 'kind = "privacy"\nremove = "h2:last-of-type"'
    )
    text += '\n[[alert]]\nname = "feed"\ntype = "feed"\nthreshold = "any"\n'
    config.write_text(text)
    code, out = run_cli("--config", str(config), "reextract")
    assert code == 0 and "technical change recorded" in out, out
    db = store.connect(tmp_path / "test.db")
    (technical,) = [c for c in store.changes(db) if c["kind"] == "technical"]
    assert not technical["substantive"] and technical["summary"].startswith("re-extracted")
    assert store.list_alerts(db) == []
    versions = history_json(config)
    assert len(versions) == 5 and all(v["snapshots"] for v in versions)
    code, out = run_cli("--config", str(config), "show", "larkspur-privacy")
    assert "## Contact Us" not in out and "## Information We Collect" in out
    kinds = [c["kind"] for c in store.changes(db)]
    assert kinds.count("change") == 4 and kinds.count("first") == 1
    # Again: nothing changes.
    code, out = run_cli("--config", str(config), "reextract")
    assert "0 captures with a new text" in out


def test_pywb_cdx_pages_by_time_windows(pywb_archive: PywbArchive) -> None:
    """pywb has no resume keys: small pages walk the index by time windows, nothing twice."""
    import httpx

    from crawler.archive import ArchiveEndpoint, Transport, search
    from crawler.archive.ratelimit import Limiters

    endpoint = ArchiveEndpoint.from_url(pywb_archive.url)
    with httpx.Client() as client:
        transport = Transport(client, Limiters(60000, 1000))
        pages = list(search(transport, endpoint, TIMELINE[0].url, page_size=4))
        whole = list(search(transport, endpoint, TIMELINE[0].url))
    rows = [c for page in pages for c in page]
    assert len(pages) >= 4 and all(len(page) <= 4 for page in pages)
    assert rows == [c for page in whole for c in page]
    assert len({(c.timestamp, c.original) for c in rows}) == len(rows) == 15
