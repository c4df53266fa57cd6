"""Reliability figures: fuzz cases run through whole curation runs, faults injected (SIGKILL) and survived,
documents lost. Writes benchmarks/results/reliability.json.

    .venv/bin/python benchmarks/reliability.py [--fuzz-cases 300]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.readers import InputError  # noqa: E402
from curation.runner import curate_local  # noqa: E402
from tests.reliability.test_crash_resume import CONFIG, FAULTS, manifests, outputs, run  # noqa: E402
from tests.reliability.test_fuzzed_inputs import CONTAINERS, LIGHT, LINE_KINDS, outputs_count, write_shard  # noqa: E402

SAMPLE_TEXTS = ["The committee met on Tuesday.", "Le conseil s'est réuni.", "数据整理很重要。", "same text", "",
                "emoji 🙂\ttab", "x" * 200]


def fuzz(cases: int, seed: int) -> dict:
    rng = random.Random(seed)
    stats = {"cases": 0, "records": 0, "kept": 0, "removed": 0, "quarantined": 0, "documents_lost": 0,
             "empty_input_errors": 0, "other_errors": 0, "by_container": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for case in range(cases):
            kinds = [rng.choice(sorted(LINE_KINDS)) for _ in range(rng.randint(1, 30))]
            lines = [LINE_KINDS[k](rng.choice(SAMPLE_TEXTS), i) for i, k in enumerate(kinds)]
            endings = [rng.choice([b"\n", b"\r\n"]) for _ in kinds]
            container = rng.choice(CONTAINERS)
            path, _ = write_shard(Path(tmp) / f"c{case}", lines, endings, container)
            stats["cases"] += 1
            stats["by_container"][container] = stats["by_container"].get(container, 0) + 1
            try:
                report = curate_local([str(path)], Path(tmp) / f"run{case}", LIGHT)
            except InputError:
                stats["empty_input_errors"] += 1
                continue
            except Exception:  # noqa: BLE001 - counted, must stay 0
                stats["other_errors"] += 1
                continue
            written = outputs_count(Path(tmp) / f"run{case}")
            stats["records"] += report["input"]
            for k in ("kept", "removed", "quarantined"):
                stats[k] += report[k]
            stats["documents_lost"] += report["input"] - written
    return stats


def faults() -> dict:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "c.yaml").write_text(CONFIG)
        assert run(tmp / "clean", tmp / "c.yaml").returncode == 0
        expected = outputs(tmp / "clean")
        for fault in FAULTS:
            out = tmp / fault.replace("/", "_").replace(":", "_")
            killed = run(out, tmp / "c.yaml", fault).returncode == -9
            finished = manifests(out)
            start = time.perf_counter()
            resumed = run(out, tmp / "c.yaml").returncode == 0
            after = manifests(out)
            results.append({"fault": fault, "killed": killed, "resumed": resumed,
                            "identical_outputs": outputs(out) == expected,
                            "finished_units_kept": sum(after.get(k) == v for k, v in finished.items()),
                            "finished_units": len(finished), "resume_seconds": round(time.perf_counter() - start, 2)})
    survived = sum(r["killed"] and r["resumed"] and r["identical_outputs"] and r["finished_units_kept"] == r["finished_units"]
                   for r in results)
    return {"injected": len(results), "survived": survived, "cases": results}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fuzz-cases", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "reliability.json"))
    args = ap.parse_args()
    result = {"benchmark": "reliability", "command": "python benchmarks/reliability.py " + " ".join(sys.argv[1:]),
              "fuzz": fuzz(args.fuzz_cases, args.seed), "faults": faults()}
    result["documents_lost"] = result["fuzz"]["documents_lost"]
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    f, k = result["fuzz"], result["faults"]
    print(f"fuzz: {f['cases']} cases, {f['records']} records, lost {f['documents_lost']}, errors {f['other_errors']}; "
          f"faults: {k['survived']}/{k['injected']} survived; wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
