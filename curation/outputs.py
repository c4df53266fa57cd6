"""Final run outputs: ``kept/``, ``removed/NN-step/``, ``quarantine/`` (one part per shard) and the report.

The invariant is checked against an independent count of the input records and the rows read back from the
files just written, so a bug anywhere between reader and writer shows up as a failed run, not a quiet loss.
"""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import polars as pl

from curation.config import CurationConfig
from curation.pipeline import InvariantError
from curation.records import CurationReport, ExportResult, StageSummary
from core.readers import InputError, count_records
from core.storage import iter_parquet, parquet_rows


def _jsonl_rows(batch: pl.DataFrame) -> bytes:
    out = bytearray()
    for row in batch.iter_rows(named=True):
        if isinstance(row.get("metadata"), str):
            row["metadata"] = orjson.loads(row["metadata"])
        out += orjson.dumps(row) + b"\n"
    return bytes(out)


def export(parquet: str | Path, dest: Path, fmt: str) -> int:
    """Copies a stage file to its user-facing place atomically (temp name, then rename); empty files are skipped."""
    if parquet_rows(parquet) == 0:
        return 0
    dest = dest.with_suffix(f".{fmt}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    rows = 0
    if fmt == "parquet":  # streamed: a shard is never held in memory whole
        pl.scan_parquet(parquet).sink_parquet(tmp, compression="zstd")
        rows = parquet_rows(tmp)
    else:
        with open(tmp, "wb") as fh:
            for batch in iter_parquet(parquet):
                fh.write(_jsonl_rows(batch))
                rows += batch.height
    tmp.replace(dest)
    return rows


def export_shard(key: str, kept_path: str, removed: list[tuple[str, str]], run_dir: str | Path,
                 fmt: str) -> ExportResult:
    """One shard's kept documents, and its removals at every step to ``removed/NN-step/``; ``removed`` lists
    (stage directory ``NN-step``, the stage's removed file of this shard)."""
    run = Path(run_dir)
    n_removed = sum(export(path, run / "removed" / stage / f"part-{key}", fmt) for stage, path in removed)
    return ExportResult(key=key, kept=export(kept_path, run / "kept" / f"part-{key}", fmt), removed=n_removed)


def require_documents(read_stage: StageSummary) -> None:
    if read_stage.input == 0:
        raise InputError(f"no documents in {', '.join(read_stage.inputs)} (empty input)")


def write_outputs(run_dir: str | Path, inputs: list[str], stages: list[StageSummary], exported: list[ExportResult],
                  config: CurationConfig) -> CurationReport:
    """Exports the quarantine, checks the invariant against the exported files, and returns the report (before
    ``curation.report.write_report`` adds its warnings and writes it)."""
    run = Path(run_dir)
    fmt, read = config.output_format, stages[0]
    n_quarantined = sum(export(p, run / "quarantine" / f"part-{i:05d}", fmt) for i, p in enumerate(read.quarantine_paths))
    n_kept = sum(e.kept for e in exported)
    n_removed = sum(e.removed for e in exported)
    n_input = count_records(inputs)
    report = CurationReport(
        input=n_input, kept=n_kept, removed=n_removed, quarantined=n_quarantined,
        invariant_ok=n_input == n_kept + n_removed + n_quarantined, steps=list(stages), shards=len(exported),
        inputs=list(read.inputs),
        outputs={"kept": str(run / "kept"), "removed": str(run / "removed"), "quarantine": str(run / "quarantine")},
        config=config.model_dump(mode="json"), finished_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
    if not report.invariant_ok:
        from curation.report import write_report

        write_report(run, report)
        raise InvariantError(
            f"{n_input} input records but kept {n_kept} + removed {n_removed} + quarantined {n_quarantined} "
            f"= {n_kept + n_removed + n_quarantined}; see {run / 'report.json'}"
        )
    from curation.corpus_stats import corpus_stats

    report.corpus = corpus_stats(run, report.config)  # per-domain documents/tokens, token totals, PII counts
    return report


def clear_outputs(run_dir: str | Path) -> None:
    """Removes the previous run's exported files so a rerun with another config leaves no stale parts."""
    import shutil

    for name in ("kept", "removed", "quarantine"):
        shutil.rmtree(Path(run_dir) / name, ignore_errors=True)
