"""pandera imported for a labor load without hypothesis, which it imports whenever it is installed.

pandera uses hypothesis only to synthesise data (`schema.example()`), which the pipeline never asks for; the
development extra installs it (for the tests), so a command run from a development install paid ~0.09 s for it,
which a production install (no hypothesis) never does. Called first by the in-process `fupin labor`.
"""

from __future__ import annotations

import importlib
import sys

# What pandera imports before and at its first validation (registering its pandas backends) that looks for
# hypothesis: its strategies modules, through the built-in checks.
_PANDERA = ("pandera.pandas", "pandera.backends.pandas.builtin_checks")


def import_pandera() -> None:
    """Import pandera with hypothesis out of sight, then give it back: hypothesis stays importable, only pandera's
    data synthesis is off in this process. A no-op once either is imported: nothing imported is changed."""
    if "pandera" in sys.modules or "hypothesis" in sys.modules:
        return
    sys.modules["hypothesis"] = None  # type: ignore[assignment]  # None in sys.modules: ImportError on import
    try:
        for name in _PANDERA:
            importlib.import_module(name)
    finally:
        del sys.modules["hypothesis"]
