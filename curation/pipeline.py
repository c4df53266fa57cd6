"""Runs the read stage and each step as a stage on disk: ``_stages/NN-name/{kept,removed}.parquet`` + manifest.

A stage is done when its manifest exists, names the same fingerprint (inputs + every upstream config) and its
files still hash to what the manifest says; then it is reused, not recomputed. The manifest is written last and
atomically, so a killed stage is never taken as done.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import orjson
import polars as pl

from curation.documents import DOC_SCHEMA, QUARANTINE_SCHEMA, removed_schema
from curation.readers import ReaderConfig, expand_inputs, read_documents
from curation.steps import build_step
from curation.steps.base import StepConfig
from curation.storage import ParquetBatchWriter, atomic_write_json, file_hash, fingerprint, iter_parquet, parquet_rows

STAGES = "_stages"
WINNOW_STAGE_FORMAT = 1


class InvariantError(RuntimeError):
    """Documents were lost or double counted: a bug, never to be silenced."""


def stage_dir(run_dir: str | Path, index: int, name: str) -> Path:
    return Path(run_dir) / STAGES / f"{index:02d}-{name}"


def input_fingerprint(inputs: list[str], reader: ReaderConfig) -> str:
    shards = expand_inputs(inputs)
    hashes = [
        (str(p), file_hash(p)) if p.is_file() else (str(p), [(str(f), file_hash(f)) for f in sorted(p.rglob("*")) if f.is_file()])
        for p in shards
    ]
    return fingerprint("input", WINNOW_STAGE_FORMAT, hashes, reader.model_dump())


def load_done(directory: Path, fp: str) -> dict | None:
    """The stage's manifest if the stage finished with this fingerprint and its files are intact."""
    path = directory / "manifest.json"
    if not path.exists():
        return None
    manifest = orjson.loads(path.read_bytes())
    if manifest.get("fingerprint") != fp:
        return None
    for name, digest in manifest["files"].items():
        f = directory / name
        if not f.exists() or file_hash(f) != digest:
            return None
    for key in ("kept_path", "removed_path", "quarantine_path"):
        if key in manifest:  # the run directory may have moved since
            manifest[key] = str(directory / Path(manifest[key]).name)
    manifest["reused"] = True
    return manifest


def _finish(directory: Path, manifest: dict, files: list[str]) -> dict:
    manifest["files"] = {name: file_hash(directory / name) for name in files}
    manifest["reused"] = False
    atomic_write_json(directory / "manifest.json", manifest)
    return manifest


def _progress(total: int | None, desc: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="doc", disable=None, leave=False, dynamic_ncols=True)


def error_kind(error: str) -> str:
    """The stable part of a quarantine message (before details), used as the reason in counts."""
    return error.split(":")[0]


def run_read_stage(inputs: list[str], reader: ReaderConfig, run_dir: str | Path) -> dict:
    """Reads every shard into ``kept.parquet``; unusable lines go to ``quarantine.parquet`` with file and line."""
    fp = input_fingerprint(inputs, reader)
    directory = stage_dir(run_dir, 0, "read")
    if (done := load_done(directory, fp)) is not None:
        return done
    start = time.perf_counter()
    kept = ParquetBatchWriter(directory / "kept.parquet", DOC_SCHEMA)
    quarantine = ParquetBatchWriter(directory / "quarantine.parquet", QUARANTINE_SCHEMA)
    errors: Counter[str] = Counter()
    pending: list[dict] = []

    def flush_quarantine() -> None:
        quarantine.write(pl.DataFrame(pending, schema=QUARANTINE_SCHEMA))
        pending.clear()

    def to_quarantine(file: str, line: int, error: str, raw: str) -> None:
        errors[error_kind(error)] += 1
        pending.append({"file": file, "line": line, "error": error, "raw": raw})
        if len(pending) >= 1000 or len(raw) > 1 << 24:
            flush_quarantine()

    try:
        with _progress(None, "read") as bar:
            for batch in read_documents(inputs, reader, to_quarantine):
                kept.write(batch)
                bar.update(batch.height)
        flush_quarantine()
        n_kept, n_quarantined = kept.close(), quarantine.close()
    except BaseException:
        kept.abort()
        quarantine.abort()
        raise
    manifest = {
        "name": "read", "index": 0, "fingerprint": fp, "inputs": [str(p) for p in expand_inputs(inputs)],
        "input": n_kept + n_quarantined, "kept": n_kept, "removed": 0, "quarantined": n_quarantined,
        "reasons": dict(errors.most_common()), "seconds": round(time.perf_counter() - start, 3),
        "kept_path": str(directory / "kept.parquet"), "quarantine_path": str(directory / "quarantine.parquet"),
    }
    return _finish(directory, manifest, ["kept.parquet", "quarantine.parquet"])


def run_step_stage(config: StepConfig, previous: dict, index: int, run_dir: str | Path, batch_size: int = 1000) -> dict:
    """Applies one step to the previous stage's kept documents and checks that none went missing."""
    step = build_step(config)
    fp = fingerprint("step", previous["fingerprint"], config.model_dump(mode="json"))
    directory = stage_dir(run_dir, index, step.name)
    if (done := load_done(directory, fp)) is not None:
        return done
    start = time.perf_counter()
    source = previous["kept_path"]
    in_schema = pl.read_parquet_schema(source)
    kept = ParquetBatchWriter(directory / "kept.parquet", in_schema)
    removed = ParquetBatchWriter(directory / "removed.parquet", removed_schema(in_schema))
    reasons: Counter[str] = Counter()

    def batches() -> Iterator[pl.DataFrame]:
        return iter_parquet(source, batch_size)

    try:
        with _progress(previous["kept"], step.name) as bar:
            for k, r in step.process(batches):
                kept.write(k)
                removed.write(r)
                reasons.update(r["reason"].to_list())
                bar.update(k.height + r.height)
        n_kept, n_removed = kept.close(), removed.close()
    except BaseException:
        kept.abort()
        removed.abort()
        raise
    if n_kept + n_removed != previous["kept"]:
        raise InvariantError(
            f"step {step.name}: {previous['kept']} documents in, {n_kept} kept + {n_removed} removed out"
        )
    manifest = {
        "name": step.name, "index": index, "fingerprint": fp, "config": config.model_dump(mode="json"),
        "input": previous["kept"], "kept": n_kept, "removed": n_removed, "reasons": dict(reasons.most_common()),
        "seconds": round(time.perf_counter() - start, 3),
        "kept_path": str(directory / "kept.parquet"), "removed_path": str(directory / "removed.parquet"),
    }
    return _finish(directory, manifest, ["kept.parquet", "removed.parquet"])


def stage_rows(manifest: dict, key: str) -> int:
    return parquet_rows(manifest[key])
