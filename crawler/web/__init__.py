"""The read-only web pages: a Starlette app (`app`) over the same queries the CLI uses, with
its Jinja2 templates (`templates/`)."""

from __future__ import annotations

from crawler.web.app import create_app

__all__ = ["create_app"]
