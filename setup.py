"""Compile the extraction modules (crawler/text/, the per-page hot path) with mypyc when it can.

Everything else is in pyproject.toml. The compiled modules are the same source, checked by mypy
and translated to C (as black and mypy ship themselves), as one group whose calls to each other
are native: about a sixth faster per page. It is optional in every way: POLICYTRAIL_PURE=1
skips it, and if mypy or the C compiler fails, the install goes on with the pure-Python
modules, which behave identically. Which modules: `COMPILED` in crawler/text/_compiled.py.
"""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent


def compiled_names() -> list[str]:
    """`COMPILED` from crawler/text/_compiled.py, read without importing the package."""
    tree = ast.parse((HERE / "crawler" / "text" / "_compiled.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "COMPILED":
            return list(ast.literal_eval(node.value))
    raise LookupError("COMPILED is not in crawler/text/_compiled.py")


def compiled_modules() -> list[object]:
    if os.environ.get("POLICYTRAIL_PURE") == "1":
        return []
    paths = [f"crawler/text/{name}.py" for name in compiled_names()]
    try:
        from mypyc.build import mypycify

        # --follow-imports=silent: crawler.text.pdf imports pypdf, which the build does not
        # install. One group: the modules call each other natively.
        modules = mypycify(["--follow-imports=silent", *paths], opt_level="3")
    except (Exception, SystemExit) as exc:  # mypy exits on a type error
        message = f"setup.py: not compiling crawler/text ({exc!r}); using it as Python\n"
        sys.stderr.write(message)
        return []
    for module in modules:
        module.optional = True  # a failed C compile leaves the pure-Python modules
    return list(modules)


setup(ext_modules=compiled_modules())
