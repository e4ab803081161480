"""The optional mypyc build of crawler/extract.py (setup.py) never runs stale code."""

from __future__ import annotations

import importlib.machinery
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import crawler

PACKAGE = Path(crawler.__file__).parent


def imported_from(package_parent: Path) -> str:
    probe = "import crawler.extract as e; print(e.__file__)"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "PYTHONPATH": str(package_parent)},
        cwd=package_parent,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_a_compiled_copy_older_than_its_source_is_not_used(tmp_path: Path) -> None:
    package = tmp_path / "crawler"
    shutil.copytree(PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    for built in package.glob("extract*.so"):
        built.unlink()
    # A stand-in for the compiled module that would fail to load if it were imported.
    compiled = package / f"extract{importlib.machinery.EXTENSION_SUFFIXES[0]}"
    compiled.write_bytes(b"not a shared object")
    now = time.time()
    os.utime(compiled, (now - 100, now - 100))
    os.utime(package / "extract.py", (now, now))  # edited after the build
    assert imported_from(tmp_path) == str(package / "extract.py")


def test_the_installed_module_compiled_or_not_is_the_one_imported(tmp_path: Path) -> None:
    compiled = sorted(PACKAGE.glob("extract.*.so"))
    if not compiled:
        # Not a skip: the pure-Python install is a supported one (POLICYTRAIL_PURE=1).
        assert imported_from(PACKAGE.parent).endswith("extract.py")
        return
    assert imported_from(PACKAGE.parent) == str(compiled[0])
