"""The counts `make demo` shows, written to ``benchmarks/results/demo_counts.json`` for the README's demo table.

    .venv/bin/python benchmarks/demo_counts.py     # ~1.5 min on 2 shared cores

Runs the demo pipeline (``configs/demo_mail.yaml``) without Prefect (``curation.runner.curate_local``: the same
units and counts as ``winnow curate``) on the shared copy of the SpamAssassin corpus, which ``make demo`` converts to
``data/demo/spamassassin.jsonl``. ``tests/curation/test_pipeline.py`` pins the same counts on every test run, and
``tests/benchmarks/test_readme_tables.py`` checks that this JSON agrees with those pinned counts.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.shared_data import shared_data_dir  # noqa: E402
from curation.config import CurationConfig  # noqa: E402
from curation.runner import curate_local  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "demo_counts.json"
CONFIG = "configs/demo_mail.yaml"


def main() -> None:
    source = shared_data_dir() / "mail" / "spamassassin.jsonl.gz"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        report = curate_local([str(source)], Path(tmp) / "demo", CurationConfig.load(ROOT / CONFIG))
        wall = time.perf_counter() - t0
    result = {
        "benchmark": "demo_counts",
        "command": "python benchmarks/demo_counts.py",
        "input_file": "mail/spamassassin.jsonl.gz (shared data; make demo converts the same 6,046 messages)",
        "config": CONFIG,
        "commit": commit,
        **{k: report[k] for k in ("input", "kept", "removed", "quarantined")},
        "steps": [{k: s[k] for k in ("name", "input", "kept", "removed", "reasons", "seconds")}
                  for s in report["steps"]],
        "step_seconds": round(sum(s["seconds"] for s in report["steps"]), 1),
        "wall_seconds": round(wall, 1),
        "note": "seconds measured on a shared 2-core machine: noisy",
    }
    OUT.write_text(json.dumps(result, indent=1) + "\n")
    print(f"{OUT}: kept {result['kept']:,} of {result['input']:,}")


if __name__ == "__main__":
    main()
