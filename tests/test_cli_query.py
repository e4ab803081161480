"""Query commands through click's CliRunner on a real database, then the files they write."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from crawler.demo import PywbArchive
from tests.conftest import run_cli, write_config


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory, pywb_archive: PywbArchive) -> Path:
    path = write_config(tmp_path_factory.mktemp("query"), pywb_archive.url)
    assert run_cli("--config", str(path), "backfill")[0] == 0
    return path


def cli_json(config: Path, *args: str) -> object:
    code, out = run_cli("--config", str(config), *args, "--json")
    assert code == 0, out
    return json.loads(out)


def test_policies(config: Path) -> None:
    (policy,) = cli_json(config, "policies")  # type: ignore[misc]
    assert policy["name"] == "larkspur-privacy" and policy["versions"] == 5
    assert (
        policy["first_change"][:10] == "2017-03-15" and policy["last_change"][:10] == "2023-04-10"
    )
    assert policy["last_check_at"] is None
    code, out = run_cli("--config", str(config), "policies")
    assert code == 0 and "larkspur-privacy" in out


def test_history_carries_change_summaries(config: Path) -> None:
    versions = cli_json(config, "history", "larkspur-privacy")
    # Summaries name the sections that changed.
    assert [v["change"] for v in versions][1:] == [  # type: ignore[index]
        "'Contact Us' modified; 'Legal Bases for Processing', 'Your Rights' added; 1 cosmetic",
        "'California Privacy Rights', 'Data Retention' added; 1 cosmetic",
        "'Cookies' moved; 'Sharing' renamed 'How We Share Information'; 1 cosmetic",
        "'Data Retention' modified; 'Biometric Data' added; 1 cosmetic",
    ]


@pytest.mark.parametrize(
    ("args", "number"),
    [
        (("--at", "2019"), 2),
        (("--at", "2018-05"), 2),  # a month means its end: version 2 came on 2018-05-25
        (("--at", "2018-05-24"), 1),
        (("--at", "2021-07-05"), 4),
        (("--version", "3"), 3),
        ((), 5),
    ],
)
def test_show_as_it_stood(config: Path, args: tuple[str, ...], number: int) -> None:
    data = cli_json(config, "show", "larkspur-privacy", *args)
    assert data["number"] == number  # type: ignore[index]
    code, out = run_cli("--config", str(config), "show", "larkspur-privacy", *args)
    first, _, rest = out.partition("\n\n")
    assert first.startswith(
        "> *The following text is extracted and transformed from the "
        "larkspur-labs.example privacy policy that was archived on"
    )
    assert rest.startswith("# Privacy Policy | Larkspur Labs")
    assert ("## Biometric Data" in rest) == (number == 5)


def test_show_before_any_capture_is_a_clear_error(config: Path) -> None:
    code, out = run_cli("--config", str(config), "show", "larkspur-privacy", "--at", "2016")
    assert code == 2 and "no version was captured by 2016" in out


def test_changes_filters(config: Path) -> None:
    every = cli_json(config, "changes")
    assert [c["kind"] for c in every] == ["change"] * 4 + ["first"]  # type: ignore[index]
    recent = cli_json(
        config, "changes", "--since", "2020", "--substantive", "--policy", "larkspur-privacy"
    )
    assert [c["at"][:10] for c in recent] == ["2023-04-10", "2021-07-05", "2020-02-12"]  # type: ignore[index]
    assert any(s["new_heading"] == "Biometric Data" for s in recent[0]["sections"])  # type: ignore[index]


def test_search_with_snippets_and_date_ranges(config: Path) -> None:
    hits = cli_json(config, "search", "biometric data")
    assert len(hits) == 1 and "[[Biometric]]" in hits[0]["snippet"]  # type: ignore[index,arg-type]
    # Still the latest text, last seen in the archive (never "now": no live check saw it).
    assert hits[0]["present"] == [  # type: ignore[index]
        {
            "from": "2023-04-10T15:00:00Z",
            "until": None,
            "last_seen": "2024-09-02T09:00:00Z",
            "live": False,
        }
    ]
    assert hits[0]["version"].startswith("2023-04-10-")  # type: ignore[index]
    hits = cli_json(config, "search", '"three years"')
    assert {h["first_seen"][:10] for h in hits} == {"2020-02-12", "2021-07-05"}  # type: ignore[index]
    assert hits[0]["present"] == [
        {
            "from": "2020-02-12T09:00:00Z",  # type: ignore[index]
            "until": "2023-04-10T15:00:00Z",
        }
    ]
    code, out = run_cli("--config", str(config), "search", "Data Protection Officer")
    assert code == 0 and "present 2018-05-25 → last seen 2024-09-02" in out
    assert "[[" not in out  # the highlight marks are for terminals, plain text when piped
    code, out = run_cli("--config", str(config), "search", "zebra")
    assert code == 0 and "no version mentions" in out
    code, out = run_cli("--config", str(config), "search", '"unbalanced')
    assert code == 2 and "not a search query" in out


def test_export_md_jsonl_csv(config: Path, tmp_path: Path) -> None:
    code, out = run_cli("--config", str(config), "export", str(tmp_path / "md"))
    assert code == 0 and "exported 5 versions" in out
    files = sorted(
        p.relative_to(tmp_path / "md").as_posix() for p in (tmp_path / "md").rglob("*.md")
    )
    assert files == [
        f"larkspur-labs.example/privacy/{d}.md"
        for d in ("2017-03-15", "2018-05-25", "2020-02-12", "2021-07-05", "2023-04-10")
    ]
    text = (tmp_path / "md" / files[1]).read_text()
    assert text.startswith("> *The following text is extracted") and "20180525120000id_" in text
    assert (
        run_cli("--config", str(config), "export", str(tmp_path / "j"), "--format", "jsonl")[0] == 0
    )
    rows = [json.loads(x) for x in (tmp_path / "j" / "versions.jsonl").read_text().splitlines()]
    assert [r["number"] for r in rows] == [1, 2, 3, 4, 5] and "text" in rows[0]
    assert (
        run_cli(
            "--config",
            str(config),
            "export",
            str(tmp_path / "c"),
            "--format",
            "csv",
            "--policy",
            "larkspur-privacy",
        )[0]
        == 0
    )
    with (tmp_path / "c" / "versions.csv").open() as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 5 and table[4]["first_seen"].startswith("2023-04-10")


def test_export_path_parts_cannot_climb_out_of_the_folder() -> None:
    from crawler.cli.export import _safe_part

    for hostile in ("..", "../../etc", "a/b", "/abs", "x\\..\\y", "..."):
        part = _safe_part(hostile)
        assert "/" not in part and "\\" not in part and part not in (".", "..")


def test_stats(config: Path) -> None:
    data = cli_json(config, "stats")
    assert data["tables"]["versions"] == 5 and data["tables"]["changes"] == 5  # type: ignore[index]
    assert 0 < data["stored_raw_bytes"] < data["raw_bytes"]  # type: ignore[index,operator]
    code, out = run_cli("--config", str(config), "stats")
    assert code == 0 and "raw bodies" in out


def test_every_command_has_help_and_is_in_the_readme() -> None:
    from crawler.cli import cli

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for name, command in cli.commands.items():
        assert command.help, f"{name} has no help text"
        assert f"policytrail {name}" in readme or f"`{name}`" in readme, f"{name} not in README"
