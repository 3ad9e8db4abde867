"""Registers the shared fixtures in tests/support for every test module."""

from __future__ import annotations

pytest_plugins = ["tests.support.fixtures"]
