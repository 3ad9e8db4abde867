"""Registers the shared fixtures in tests/support for every test module."""

from __future__ import annotations

import os

# The CLI's Rich consoles take a fixed width from COLUMNS if it is set when they are made;
# made without it, they read each test's COLUMNS as it runs (tests pass their own).
_columns = os.environ.pop("COLUMNS", None)
import bot.cli.kit  # noqa: E402, F401

if _columns is not None:
    os.environ["COLUMNS"] = _columns

pytest_plugins = ["tests.support.fixtures"]
