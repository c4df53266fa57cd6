"""Near copies across scripts: which labelled zh/ja pairs share a 14 x 8 LSH bucket, per engine and edit.

    .venv/bin/python benchmarks/dedup_scripts.py     # ~20 s; writes benchmarks/results/dedup_scripts.json

Pairs: ``shared/data/multilingual/neardup_pairs_zh_ja.jsonl`` (450 constructed near copies, 1,000 real
Traditional/Simplified sentence pairs, 150 hard negatives). A pair is found when its two signatures share a band
bucket, which is what makes the ``minhash`` step compare them. ``tests/curation/steps/test_dedup_scripts.py``
pins the same counts; ``tests/benchmarks/test_readme_tables.py`` checks this JSON against them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.shared_data import shared_data_dir  # noqa: E402
from curation.dedup.signatures import SIGNATURE_VERSION, band_hashes, minhash_signatures  # noqa: E402
from curation.steps.minhash import datasketch_signatures  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "dedup_scripts.json"
BANDS, ROWS = 14, 8


def found(engine: str, a: list[str], b: list[str]):
    if engine == "winnow":
        sa, sb = minhash_signatures(a), minhash_signatures(b)
    else:
        sa, sb = datasketch_signatures(a, BANDS * ROWS, 5, 1), datasketch_signatures(b, BANDS * ROWS, 5, 1)
    return (band_hashes(sa, BANDS, ROWS) == band_hashes(sb, BANDS, ROWS)).any(axis=1)


def main() -> None:
    path = shared_data_dir() / "multilingual" / "neardup_pairs_zh_ja.jsonl"
    pairs = [json.loads(line) for line in path.read_text().splitlines()]
    a, b = [p["a_text"] for p in pairs], [p["b_text"] for p in pairs]
    groups = Counter((p["kind"], p["label"]) for p in pairs)
    result = {"benchmark": "dedup_scripts", "command": "python benchmarks/dedup_scripts.py", "scheme": SIGNATURE_VERSION,
              "bands": BANDS, "rows": ROWS, "pairs": len(pairs),
              "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                       text=True).stdout.strip(),
              "groups": {f"{k}/label={lab}": n for (k, lab), n in sorted(groups.items())}, "engines": {}}
    for engine in ("winnow", "datasketch"):
        hit = found(engine, a, b)
        per_edit, per_group = Counter(), Counter()
        for p, f in zip(pairs, hit):
            per_edit[f"{p['lang']}/{p['edit']}"] += int(f)
            per_group[f"{p['kind']}/label={p['label']}"] += int(f)
        result["engines"][engine] = {"found_per_group": dict(sorted(per_group.items())),
                                     "found_per_edit": dict(sorted(per_edit.items()))}
    OUT.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({e: v["found_per_group"] for e, v in result["engines"].items()}))


if __name__ == "__main__":
    main()
