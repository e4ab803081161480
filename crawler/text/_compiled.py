"""The mypyc-compiled extraction modules never run stale code.

setup.py compiles the modules in `COMPILED` in place (one group: their calls to each other are
native C calls). Python imports a compiled copy before its source, so an edit (or a checkout)
since the last install would silently not run. If any of the group's sources is newer than its
compiled copy, every module of the group is imported from its source: a compiled module calls
its compiled siblings directly, so the group is run as source or compiled, never mixed.
Reinstalling (`pip install -e .`) compiles it again.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from types import ModuleType

COMPILED = ("model", "urls", "decode", "inline", "boilerplate", "walk", "documents", "extraction")
HERE = os.path.dirname(__file__)
PACKAGE = __name__.rsplit(".", 1)[0]


def _stale() -> bool:
    """A compiled copy exists and some source of the group is newer than it (two seconds of
    slack: installing writes the files moments apart)."""
    try:
        names = os.listdir(HERE)
    except OSError:  # not a folder of files (a zip, say): nothing compiled beside the sources
        return False
    built = [
        os.path.join(HERE, name)
        for name in names
        if name.endswith((".so", ".pyd")) and name.split(".", 1)[0] in COMPILED
    ]
    if not built:
        return False
    oldest = min(os.path.getmtime(path) for path in built)
    sources = [os.path.join(HERE, f"{module}.py") for module in COMPILED]
    return any(os.path.exists(s) and os.path.getmtime(s) > oldest + 2 for s in sources)


class _SourceFirst(importlib.abc.MetaPathFinder):
    """Finds the group's modules as their .py sources."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        package, _, module = fullname.rpartition(".")
        if package != PACKAGE or module not in COMPILED:
            return None
        return importlib.util.spec_from_file_location(fullname, os.path.join(HERE, f"{module}.py"))


def prefer_edited_sources() -> None:
    if _stale() and not any(isinstance(f, _SourceFirst) for f in sys.meta_path):
        sys.meta_path.insert(0, _SourceFirst())
