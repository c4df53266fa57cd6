"""Final run outputs: ``kept/``, ``removed/``, ``quarantine/`` and the report, with the invariant checked.

The invariant is checked against an independent count of the input records and the rows read back from the
files just written, so a bug anywhere between reader and writer shows up as a failed run, not a quiet loss.
"""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import polars as pl

from curation.pipeline import InvariantError
from curation.readers import count_records
from curation.storage import iter_parquet

OUTPUT_DIRS = ("kept", "removed", "quarantine")


def _jsonl_rows(batch: pl.DataFrame) -> bytes:
    out = bytearray()
    for row in batch.iter_rows(named=True):
        if isinstance(row.get("metadata"), str):
            row["metadata"] = orjson.loads(row["metadata"])
        out += orjson.dumps(row) + b"\n"
    return bytes(out)


def export(parquet: str | Path, dest: Path, fmt: str) -> tuple[Path, int]:
    """Copies a stage file to its user-facing place, atomically (temp name, then rename)."""
    dest = dest.with_suffix(f".{fmt}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    rows = 0
    if fmt == "parquet":
        frame = pl.read_parquet(parquet)
        frame.write_parquet(tmp, compression="zstd")
        rows = frame.height
    else:
        with open(tmp, "wb") as fh:
            for batch in iter_parquet(parquet):
                fh.write(_jsonl_rows(batch))
                rows += batch.height
    tmp.replace(dest)
    return dest, rows


def write_outputs(run_dir: str | Path, inputs: list[str], stages: list[dict], fmt: str, config: dict) -> dict:
    """Exports the last stage's kept documents, every stage's removals and the quarantine; returns the report."""
    run = Path(run_dir)
    read, steps = stages[0], stages[1:]
    kept_path, n_kept = export(stages[-1]["kept_path"], run / "kept" / "kept", fmt)
    removed_files, n_removed = [], 0
    for stage in steps:
        path, rows = export(stage["removed_path"], run / "removed" / f"{stage['index']:02d}-{stage['name']}", fmt)
        removed_files.append(str(path))
        n_removed += rows
    quarantine_path, n_quarantined = export(read["quarantine_path"], run / "quarantine" / "quarantine", fmt)
    n_input = count_records(inputs)
    report = {
        "input": n_input,
        "kept": n_kept,
        "removed": n_removed,
        "quarantined": n_quarantined,
        "invariant_ok": n_input == n_kept + n_removed + n_quarantined,
        "steps": [
            {
                "name": s["name"], "input": s["input"], "kept": s["kept"], "removed": s["removed"],
                "seconds": s["seconds"], "reasons": s["reasons"], "reused": s.get("reused", False),
                **({"quarantined": s["quarantined"]} if s["name"] == "read" else {}),
            }
            for s in stages
        ],
        "inputs": read["inputs"],
        "outputs": {"kept": str(kept_path), "removed": removed_files, "quarantine": str(quarantine_path)},
        "config": config,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if not report["invariant_ok"]:
        from curation.report import write_report

        write_report(run, report)
        raise InvariantError(
            f"{n_input} input records but kept {n_kept} + removed {n_removed} + quarantined {n_quarantined} "
            f"= {n_kept + n_removed + n_quarantined}; see {run / 'report.json'}"
        )
    return report
