"""Errors the CLI turns into a one-line message and an exit code instead of a traceback."""

from __future__ import annotations


class FupinError(Exception):
    """A failure the user can act on; exit_code 1 (rejected or failed) or 2 (usage)."""

    exit_code = 1


class UsageError(FupinError):
    exit_code = 2


def unreadable_warehouse(exc: Exception) -> FupinError:
    """The one-line error for a warehouse that is missing, unreachable or not initialised (exc: a DBAPIError)."""
    cause = getattr(exc, "orig", None) or exc
    return FupinError(
        f"cannot read the warehouse ({type(cause).__name__}): run `fupin init` first, or check FUPIN_WAREHOUSE_URL"
    )
