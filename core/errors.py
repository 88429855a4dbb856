"""Errors the CLI turns into a one-line message and an exit code instead of a traceback.

Exit codes are a contract: 0 ok, 1 an input was rejected, 2 a usage error, 3 the command could not do its work
(warehouse or Prefect unreachable, a crash, a timeout). fupin/cli.py maps every failure to one of these.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2
EXIT_CANNOT_WORK = 3


class FupinError(Exception):
    """A failure the user can act on; exit_code 1: an input was rejected."""

    exit_code = EXIT_REJECTED


class UsageError(FupinError):
    """The command was called wrongly (a missing file, a bad month): exit 2."""

    exit_code = EXIT_USAGE


class CannotWork(FupinError):
    """The command could not do its work (warehouse or Prefect unreachable, a crash, a timeout): exit 3."""

    exit_code = EXIT_CANNOT_WORK


def unreadable_warehouse(exc: Exception) -> CannotWork:
    """The one-line error for a warehouse that is missing, unreachable or not initialised (exc: a DBAPIError)."""
    cause = getattr(exc, "orig", None) or exc
    return CannotWork(
        f"无法读取数据仓库 / cannot read the warehouse ({type(cause).__name__}): run `fupin init` first, or check "
        "FUPIN_WAREHOUSE_URL"
    )
