"""policytrail: follow how privacy policies and terms of service change over time."""

from __future__ import annotations

__version__ = "0.1.0"
