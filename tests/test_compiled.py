"""The optional mypyc build of the extraction modules (setup.py) never runs stale code."""

from __future__ import annotations

import importlib.machinery
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import crawler
from crawler.text._compiled import COMPILED

PACKAGE = Path(crawler.__file__).parent
TEXT = PACKAGE / "text"


def imported_from(package_parent: Path) -> dict[str, str]:
    """Where each compiled-group module is imported from, in a fresh interpreter."""
    probe = (
        "import importlib, json; from crawler.text._compiled import COMPILED; "
        "print(json.dumps({n: importlib.import_module('crawler.text.' + n).__file__ "
        "for n in COMPILED}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "PYTHONPATH": str(package_parent)},
        cwd=package_parent,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(result.stdout))


def test_a_compiled_group_older_than_one_of_its_sources_is_not_used(tmp_path: Path) -> None:
    package = tmp_path / "crawler"
    shutil.copytree(PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    now = time.time()
    # Stand-ins for the compiled modules that would fail to load if they were imported.
    for name in COMPILED:
        compiled = package / "text" / f"{name}{importlib.machinery.EXTENSION_SUFFIXES[0]}"
        compiled.write_bytes(b"not a shared object")
        os.utime(compiled, (now - 100, now - 100))
        os.utime(package / "text" / f"{name}.py", (now - 200, now - 200))
    os.utime(package / "text" / "walk.py", (now, now))  # one module edited after the build
    found = imported_from(tmp_path)
    assert found == {name: str(package / "text" / f"{name}.py") for name in COMPILED}


def test_the_installed_modules_compiled_or_not_are_the_ones_imported() -> None:
    found = imported_from(PACKAGE.parent)
    compiled = {p.name.split(".", 1)[0]: p for p in TEXT.glob("*.so")}
    for name in COMPILED:
        if name in compiled:
            assert found[name] == str(compiled[name])
        else:
            # Not a skip: the pure-Python install is a supported one (POLICYTRAIL_PURE=1).
            assert found[name] == str(TEXT / f"{name}.py")
