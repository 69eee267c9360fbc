"""Logging set-up shared by the command line and the worker processes."""

from __future__ import annotations

import logging


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s"
    )
