"""Thresholds shared by the load driver (locustfile.py) and the report (report.py)."""

from __future__ import annotations

SHORTFALL = 0.97
"""A step that reached less than this share of its target rate counts as failed."""
