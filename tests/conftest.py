from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli import cli
from crawler.demo import POLICY_URL, PywbArchive, write_warc

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
LOOPBACK = ("127.", "::1", "localhost")


@pytest.fixture(autouse=True)
def no_traffic_beyond_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests talk to servers they start on 127.0.0.1, never to anything else: a lookup or a
    connection elsewhere fails the test at once instead of leaking traffic."""
    import socket

    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if host is not None and not name.startswith(LOOPBACK):
            raise OSError(f"test tried to resolve {name}: only 127.0.0.1 is allowed")
        return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    def connect(self: socket.socket, address: object) -> None:
        if isinstance(address, tuple) and not str(address[0]).startswith(LOOPBACK):
            raise OSError(f"test tried to connect to {address[0]}: only 127.0.0.1 is allowed")
        real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture(scope="session")
def pywb_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PywbArchive]:
    """pywb on a free port of 127.0.0.1, serving the Larkspur fixture WARC written by warcio."""
    root = tmp_path_factory.mktemp("pywb")
    warc = write_warc(root / "larkspur.warc.gz")
    archive = PywbArchive(root / "archive")
    archive.add_warcs(warc)
    archive.start()
    try:
        yield archive
    finally:
        archive.stop()


def write_config(
    folder: Path, archive_url: str, *, policies: str | None = None, extra: str = ""
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    policies = (
        policies
        if policies is not None
        else (f'[[policy]]\nname = "larkspur-privacy"\nurl = "{POLICY_URL}"\nkind = "privacy"\n')
    )
    path.write_text(
        f'[database]\npath = "test.db"\n\n[archive]\nurl = "{archive_url}"\n'
        f"cdx_per_minute = 60000\nplayback_per_second = 1000\n{extra}\n{policies}",
        encoding="utf-8",
    )
    return path


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def history_json(config: Path, name: str = "larkspur-privacy") -> list[dict[str, object]]:
    code, out = run_cli("--config", str(config), "history", name, "--json")
    assert code == 0, out
    return json.loads(out)  # type: ignore[no-any-return]


def needs_shared() -> None:
    if not SHARED.exists():
        pytest.skip(
            f"{SHARED} is absent: the real corpus is only beside the checkout in CI "
            "and on development machines"
        )


# The browser tests' fixtures (a real `serve`, Debian's Chromium), shared by their modules.
from tests.web_fixtures import browser, server  # noqa: E402, F401
