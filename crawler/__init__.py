"""policytrail: follow how privacy policies and terms of service change over time."""

from __future__ import annotations

import importlib.util
import os
import sys

__version__ = "0.1.0"


def _prefer_an_edited_source() -> None:
    """Run crawler/extract.py itself when it has changed since setup.py compiled it.

    An editable install compiles the module in place, and Python imports the compiled copy
    before the source: an edit (or a checkout) since the last install would silently not run.
    A compiled copy older than its source is set aside; reinstalling compiles it again."""
    here = os.path.dirname(__file__)
    source = os.path.join(here, "extract.py")
    try:
        compiled = [
            os.path.join(here, name)
            for name in os.listdir(here)
            if name.startswith("extract.") and name.endswith((".so", ".pyd"))
        ]
        if not compiled or not os.path.exists(source):
            return
        # Two seconds of slack: installing a wheel writes both files moments apart.
        if os.path.getmtime(source) <= min(os.path.getmtime(path) for path in compiled) + 2:
            return
    except OSError:  # not a folder of files (a zip, say): nothing compiled beside the source
        return
    spec = importlib.util.spec_from_file_location(f"{__name__}.extract", source)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)


_prefer_an_edited_source()
