"""pandera imported for the command without hypothesis: validation works as ever, and hypothesis stays importable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tasks.labor.pandera_import import import_pandera

ROOT = Path(__file__).resolve().parents[3]
_FRESH = """
import sys
from tasks.labor.pandera_import import import_pandera
import_pandera()
assert "pandera" in sys.modules and "hypothesis" not in sys.modules
from config import load_config
from tasks.labor.read import empty_batch
from tasks.labor.validate import validate_labor
cfg = load_config()
check = validate_labor(empty_batch(cfg), cfg)
assert check.n_rows == 0 and "hypothesis" not in sys.modules, "the first validation did not import it either"
import hypothesis
print("ok", hypothesis.__name__)
"""


def test_a_fresh_process_validates_without_importing_hypothesis() -> None:
    done = subprocess.run([sys.executable, "-c", _FRESH], capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok hypothesis"


def test_once_pandera_is_imported_nothing_changes() -> None:
    import pandera.pandas  # noqa: F401 - as any test importing the contracts does first

    before = sys.modules.get("hypothesis"), sys.modules.get("pandera")
    import_pandera()
    assert (sys.modules.get("hypothesis"), sys.modules.get("pandera")) == before
