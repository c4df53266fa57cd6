"""The README's WARC demo and quality-classifier numbers, written to ``benchmarks/results/`` (never typed).

    .venv/bin/python benchmarks/curation_demos.py     # ~2 min on 2 shared cores
    .venv/bin/python benchmarks/curation_demos.py --only quality_classifier   # that JSON alone (~30 s)

- ``warc_demo.json``: the README's WARC command (``configs/warc_demo.yaml`` on the 5 WARC files of ``shared/data``),
  run without Prefect (``curation.runner.curate_local``, the same units and counts as ``winnow curate``): per-step
  counts and reasons, quarantine errors, kept tokens and PII replacements.
- ``quality_classifier.json``: ``winnow train-quality`` with the README's positives (wikitext-2 valid, the
  LLaMA-Factory wiki demo, LIMA, Alpaca demo) and negatives (the dolma CC shard): its ``report.json``, with a 95%
  bootstrap interval for the held-out ROC AUC (``holdout_roc_auc_ci95``: each class's documents resampled, 2,000
  resamples).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)  # the WARC config's block-list paths are relative to the repository root

from core.shared_data import shared_data_dir  # noqa: E402
from curation.classifiers.quality_model import QualityTrainingConfig, train_quality_model  # noqa: E402
from curation.config import CurationConfig  # noqa: E402
from curation.runner import curate_local  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
WARCS = ("web/dolma_sample-0000.warc.gz", "web/dolma_sample-0001.warc.gz", "warc")


def _commit() -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True).stdout.strip()


def quarantine_kind(error: str) -> str:
    """A quarantine error message without its record-specific details (content type, offsets)."""
    return error.split(":")[0].split(" (")[0].strip()


def warc_demo(shared: Path, tmp: Path) -> dict:
    run = tmp / "warc_demo"
    report = curate_local([str(shared / p) for p in WARCS], run, CurationConfig.load(ROOT / "configs/warc_demo.yaml"))
    errors = Counter(quarantine_kind(json.loads(line)["error"])
                     for f in sorted((run / "quarantine").glob("*.jsonl")) for line in f.read_text().splitlines())
    return {
        "benchmark": "warc_demo", "command": "python benchmarks/curation_demos.py", "commit": _commit(),
        "inputs": list(WARCS), "config": "configs/warc_demo.yaml",
        "files": sum(1 if (shared / p).is_file() else len(list((shared / p).glob("*.warc*"))) for p in WARCS),
        **{k: report[k] for k in ("input", "kept", "removed", "quarantined")},
        "quarantine_errors": dict(errors.most_common()),
        "steps": [{k: s[k] for k in ("name", "input", "kept", "removed", "reasons")} for s in report["steps"]],
        "tokens_kept": report["corpus"]["tokens"]["kept"], "pii": report["corpus"]["pii"],
    }


def quality_classifier(shared: Path, tmp: Path) -> dict:
    cfg = QualityTrainingConfig(
        positive=[str(shared / p) for p in ("lm/wikitext-2_valid.txt", "lm/llamafactory_wiki_demo.txt",
                                            "instruct/lima.json", "instruct/alpaca_en_demo.json")],
        negative=[str(shared / "web/dolma_CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz")],
        positive_field="output")
    report = train_quality_model(cfg, tmp / "quality")
    report["config"] = {**report["config"], "positive": [Path(p).name for p in cfg.positive],
                        "negative": [Path(p).name for p in cfg.negative]}
    report.pop("model_path")
    return {"benchmark": "quality_classifier", "command": "python benchmarks/curation_demos.py",
            "commit": _commit(), **report}


def main() -> None:
    import argparse

    demos = {"warc_demo": warc_demo, "quality_classifier": quality_classifier}
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", action="append", choices=sorted(demos), help="write only this JSON (repeatable)")
    only = ap.parse_args().only or list(demos)
    shared = shared_data_dir()
    with tempfile.TemporaryDirectory() as tmp:
        for name, fn in ((n, demos[n]) for n in only):
            result = fn(shared, Path(tmp))
            (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=1, default=str) + "\n")
            print(f"wrote benchmarks/results/{name}.json")


if __name__ == "__main__":
    main()
