"""Compile crawler/extract.py, the per-page hot path, with mypyc when it can.

Everything else is in pyproject.toml. The compiled module is the same source, checked by mypy
and translated to C (as black and mypy ship themselves): about a sixth faster per page. It is
optional in every way: POLICYTRAIL_PURE=1 skips it, and if mypy or the C compiler fails, the
install goes on with the pure-Python module, which behaves identically.
"""

from __future__ import annotations

import os
import sys

from setuptools import setup


def compiled_modules() -> list[object]:
    if os.environ.get("POLICYTRAIL_PURE") == "1":
        return []
    try:
        from mypyc.build import mypycify

        # --follow-imports=silent: crawler.pdf imports pypdf, which the build does not install.
        modules = mypycify(["--follow-imports=silent", "crawler/extract.py"], opt_level="3")
    except (Exception, SystemExit) as exc:  # mypy exits on a type error
        message = f"setup.py: not compiling crawler/extract.py ({exc!r}); using it as Python\n"
        sys.stderr.write(message)
        return []
    for module in modules:
        module.optional = True  # a failed C compile leaves the pure-Python module
    return list(modules)


setup(ext_modules=compiled_modules())
