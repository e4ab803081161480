"""Config loading: every mistake is one line naming the file, the key and the fix."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from crawler.config import add_policy, load_config
from crawler.errors import ConfigError
from tests.conftest import run_cli

GOOD = """# my policies
[database]
path = "p.db"   # the database

[archive]
url = "https://web.archive.org"

[[policy]]
name = "contactually-privacy"
url = "https://www.contactually.com/legal/privacy"
kind = "privacy"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_config_loads_with_polite_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert config.database == tmp_path / "p.db"
    assert config.archive.cdx_per_minute == 24 and config.archive.playback_per_second == 8
    assert config.archive.is_internet_archive
    assert config.policy("contactually-privacy").kind == "privacy"


def test_the_projects_own_config_is_valid() -> None:
    config = load_config(Path(__file__).parents[1] / "config.toml")
    assert config.policies and config.archive.cdx_per_minute <= 30


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[archive]\nurl = 'ftp://x'\n", "archive.url = 'ftp://x' is not an http(s) URL"),
        ("[archive]\ncdx_per_minute = 100\n", "above the Internet Archive's limit of 30/min"),
        ("[archive]\nplayback_per_second = 50\n", "above the Internet Archive's limit of 600/min"),
        ("[archive]\nworkers = 'many'\n", "archive.workers must be a number"),
        ("[archive]\nspeed = 3\n", "unknown key archive.speed"),
        ("[[policy]]\nname = 'x'\n", "policy[0] has no url"),
        ("[[policy]]\nurl = 'https://a.example/p'\nkind = 'tos'\n", "policy[0].kind = 'tos'"),
        ("[[policy]]\nname = 'Bad Name'\nurl = 'https://a.example/p'\n", "is not a valid name"),
        (
            "[[policy]]\nname='a'\nurl='https://a.example/p'\n[[policy]]\nname='a'\n"
            "url='https://b.example/p'\n",
            "two policies are named 'a'",
        ),
        ("[policy]\nname = 'a'\n", "written as [[policy]] tables"),
        ("[database\n", "invalid TOML"),
        ("[alerts]\n", "unknown section [alerts]"),
        ("[diff]\nignore = ['(unclosed']\n", "diff.ignore has an invalid regular expression"),
        (
            "[[policy]]\nurl = 'https://a.example/p'\nignore = 'Version'\n",
            "policy[0].ignore must be a list",
        ),
    ],
)
def test_mistakes_are_one_line_naming_file_and_key(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert expected in message and str(path) in message and "\n" not in message


def test_missing_file(tmp_path: Path) -> None:
    code, out = run_cli("--config", str(tmp_path / "nope.toml"), "backfill")
    assert code == 1
    assert "nope.toml: config file not found" in out and out.count("\n") == 1


def test_add_keeps_comments_and_layout(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    code, out = run_cli("--config", str(path), "add", "https://www.example.org/terms-of-use")
    assert code == 0, out
    text = path.read_text()
    assert text.startswith(GOOD)
    policies = tomllib.loads(text)["policy"]
    assert policies[-1] == {
        "name": "example-terms",
        "url": "https://www.example.org/terms-of-use",
        "kind": "terms",
    }
    add_policy(path, "https://example.net/p", name="net", kind="other")
    assert load_config(path).policy("net").kind == "other"


def test_add_refuses_duplicates_and_bad_urls(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    before = path.read_text()
    code, out = run_cli("--config", str(path), "add", "https://www.contactually.com/legal/privacy")
    assert code == 1 and "tracked already as 'contactually-privacy'" in out
    code, out = run_cli("--config", str(path), "add", "not a url")
    assert code == 1 and "is not an http(s) URL" in out
    assert path.read_text() == before


def test_failed_validation_never_creates_the_database(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "\n[[policy]]\nurl = 'nope'\n")
    code, _ = run_cli("--config", str(path), "backfill")
    assert code == 1
    assert not (tmp_path / "p.db").exists()


def test_bad_dates_are_usage_errors(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    code, out = run_cli("--config", str(path), "backfill", "--from", "2018-13")
    assert code == 2 and "not a valid date" in out
