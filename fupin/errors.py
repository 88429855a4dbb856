"""Errors the CLI turns into a one-line message and an exit code instead of a traceback."""
from __future__ import annotations


class FupinError(Exception):
    """A failure the user can act on; exit_code 1 (rejected or failed) or 2 (usage)."""

    exit_code = 1


class UsageError(FupinError):
    exit_code = 2
