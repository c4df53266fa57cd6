"""Plots benchmarks/results/dedup_speed.json: the LSH S-curve (measured vs theory) and signature throughput.

    .venv/bin/python benchmarks/plot_dedup.py   # writes benchmarks/results/dedup_speed.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> int:
    data = json.loads((RESULTS / "dedup_speed.json").read_text())
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    curve = data["s_curve"]
    b, r = curve["bands"], curve["rows"]
    j = np.linspace(0, 1, 200)
    ax1.plot(j, 1 - (1 - j**r) ** b, color="#999", label=f"theory 1-(1-J^{r})^{b}")
    pts = curve["points"]
    ax1.plot([p["mean_jaccard"] for p in pts], [p["measured"] for p in pts], "o", color="#2b6cb0",
             label="measured (real text, edited copies)")
    ax1.axvline((1 / b) ** (1 / r), ls=":", color="#c05621", label=f"threshold {(1 / b) ** (1 / r):.2f}")
    ax1.set_xlabel("exact Jaccard of word 5-gram sets")
    ax1.set_ylabel("P(candidate pair)")
    ax1.set_title(f"LSH S-curve, {b} bands x {r} rows")
    ax1.legend(fontsize=8)
    rows = data["signatures"]
    labels = [f"{x['input'].replace('scale_sample_', 'scale ')}\n{x['docs'] if 'docs' in x else ''}x{x['workers']}"
              for x in rows]
    x = np.arange(len(rows))
    ax2.bar(x - 0.2, [row["winnow"]["mb_per_s"] for row in rows], 0.4, label="winnow (numba)", color="#2b6cb0")
    ax2.bar(x + 0.2, [row["datasketch"]["mb_per_s"] for row in rows], 0.4, label="datasketch update_batch",
            color="#c05621")
    ax2.set_yscale("log")
    ax2.set_xticks(x, labels, fontsize=8)
    ax2.set_ylabel("MB/s (signatures incl. tokenisation)")
    ax2.set_title("Signature throughput, same shingles, 112 perms")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(RESULTS / "dedup_speed.png", dpi=110)
    print(RESULTS / "dedup_speed.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
