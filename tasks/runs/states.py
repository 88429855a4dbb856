"""The final states a file's run can end in: Completed, Failed named Rejected (an expected outcome), Crashed."""

from __future__ import annotations

from typing import Any

REJECTED = "Rejected"


def final_state(status: str, message: str, data: Any = None) -> Any:
    """The Prefect state for a file's status; a rejection is a FAILED state named Rejected, never an exception.
    `data` is what a completed run returns to its caller."""
    from prefect.states import Completed, Crashed, Failed

    if status in ("accepted", "duplicate"):
        return Completed(message=message, data=data)
    if status == "crashed":
        return Crashed(message=message)
    return Failed(name=REJECTED, message=message)
