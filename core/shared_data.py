"""Where the project's real data lives: ``../shared/data`` beside the checkout (read in place, never copied)."""

from __future__ import annotations

import os
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """$WINNOW_SHARED_DATA, else the nearest ``shared/data`` beside this checkout or an ancestor, else /work's."""
    if env := os.environ.get("WINNOW_SHARED_DATA"):
        return Path(env)
    for base in [_ROOT, *_ROOT.parents]:
        candidate = base.parent / "shared" / "data" if base == _ROOT else base / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return Path("/work/shared/data")
