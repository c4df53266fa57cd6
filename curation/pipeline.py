"""Stages on disk, shard by shard: ``_stages/NN-step/{kept,removed}-KEY.parquet`` plus one manifest per unit.

A unit of work (reading one input file, one step on one shard, a global step's map/reduce/apply) is done when
its manifest exists, names the same fingerprint (input content + every upstream config) and its files still
hash to what the manifest says; then it is reused, not recomputed. Manifests are written last and atomically,
so a killed unit is never taken as done. Every function here is a self-contained unit of work; ``curation.plan``
groups them into the units an executor runs and ``curation.execute`` composes them (once, for every executor).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import polars as pl

from core.documents import DOC_SCHEMA, QUARANTINE_SCHEMA, removed_schema
from core.readers import ReaderConfig, expand_inputs, read_shard
from curation.records import MapResult, ReadResult, ReduceResult, ShardRef, ShardResult, StageShard, StageSummary
from curation.steps import build_step
from curation.steps.base import ShardContext, StepConfig
from curation.steps.heuristic import count_unjudged
from core.storage import ParquetBatchWriter, atomic_write_json, fault_point, file_hash, fingerprint, iter_parquet

STAGES = "_stages"
STAGE_FORMAT = 2


class InvariantError(RuntimeError):
    """Documents were lost or double counted: a bug, never to be silenced."""


@dataclass(frozen=True)
class RunSettings:
    """What every unit of one run shares: its directory (absolute), the hash partitions of global steps' work
    files, and how many documents are read per batch."""

    run_dir: str
    partitions: int = 8
    batch_size: int = 1000


@dataclass(frozen=True)
class InputFile:
    """One input file of a run: its position (the ``NNNNN`` of its shard keys), path, reader settings and the
    most documents per shard."""

    index: int
    path: str
    reader: ReaderConfig
    shard_docs: int
    run_dir: str


@dataclass(frozen=True)
class StepRun:
    """One step of one run: its config, its 1-based position in the pipeline (stage directory ``NN-step``) and
    the run's settings. Every unit function below takes one, instead of threading the five values."""

    config: StepConfig
    index: int
    settings: RunSettings

    @property
    def directory(self) -> Path:
        return stage_dir(self.settings.run_dir, self.index, self.config.step)

    def context(self, key: str) -> ShardContext:
        return ShardContext(key=key, work_dir=self.directory / "work", partitions=self.settings.partitions)


def stage_dir(run_dir: str | Path, index: int, name: str) -> Path:
    return Path(run_dir) / STAGES / f"{index:02d}-{name}"


def error_kind(error: str) -> str:
    """The stable part of a quarantine message (before details), used as the reason in counts."""
    return error.split(":")[0]


def load_done(manifest_path: Path, fp: str) -> dict | None:
    """The unit's manifest if it finished with this fingerprint and its files are intact; paths made absolute."""
    if not manifest_path.exists():
        return None
    try:
        manifest = orjson.loads(manifest_path.read_bytes())
    except orjson.JSONDecodeError:
        return None
    if manifest.get("fingerprint") != fp:
        return None
    base = manifest_path.parent
    for name, digest in manifest.get("files", {}).items():
        f = base / name
        if not f.exists() or file_hash(f) != digest:
            return None
    return _with_paths(manifest, base, reused=True)


def _with_paths(manifest: dict, base: Path, reused: bool) -> dict:
    """Absolute ``*_path`` for every ``*_file`` (the run directory may have moved since)."""
    for key in [k for k in manifest if k.endswith("_file")]:
        manifest[key[: -len("_file")] + "_path"] = str(base / manifest[key])
    manifest["reused"] = reused
    return manifest


def unit_name(manifest_path: Path) -> str:
    """A unit's name for logs and fault injection, e.g. ``03-exact_dedup/work/manifest-map-00000-0000``."""
    parts = manifest_path.with_suffix("").parts
    return "/".join(parts[parts.index(STAGES) + 1 :]) if STAGES in parts else manifest_path.stem


def cached(manifest_path: Path, fp: str, compute: Callable[[], tuple[dict, list[str]]]) -> dict:
    """Runs ``compute`` unless a verified manifest exists; ``compute`` returns (result, files it wrote)."""
    if (done := load_done(manifest_path, fp)) is not None:
        return done
    unit = unit_name(manifest_path)
    fault_point(f"{unit}:start")
    result, files = compute()
    fault_point(f"{unit}:written")  # outputs on disk, manifest not yet: must be recomputed, never trusted
    result["fingerprint"] = fp
    result["files"] = {name: file_hash(manifest_path.parent / name) for name in files}
    atomic_write_json(manifest_path, result)
    return _with_paths(result, manifest_path.parent, reused=False)


def _progress(total: int | None, desc: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="doc", disable=None, leave=False, dynamic_ncols=True)


def plan_inputs(inputs: list[str]) -> list[str]:
    return [str(p) for p in expand_inputs(inputs)]


def _content_hash(path: Path) -> str:
    if path.is_file():
        return file_hash(path)
    return fingerprint([(str(f.relative_to(path)), file_hash(f)) for f in sorted(path.rglob("*")) if f.is_file()])


def read_unit(source: InputFile) -> tuple[Path, str]:
    """(manifest path, fingerprint) of reading one input file; the same for every executor's cache."""
    fp = fingerprint("read", STAGE_FORMAT, source.path, _content_hash(Path(source.path)), source.reader.model_dump(),
                     source.shard_docs)
    return stage_dir(source.run_dir, 0, "read") / f"input-{source.index:05d}.json", fp


def _identity(config: StepConfig) -> dict:
    """What a step's outputs depend on: its config and its implementation version (e.g. the signature scheme)."""
    from curation.steps import STEP_CLASSES

    return config.model_dump(mode="json") | {"_version": STEP_CLASSES[config.step].version}


def shard_unit(step: StepRun, shard: ShardRef) -> tuple[Path, str]:
    fp = fingerprint("shard", shard.fingerprint, _identity(step.config))
    return step.directory / f"shard-{shard.key}.json", fp


def map_unit(step: StepRun, shard: ShardRef) -> tuple[Path, str]:
    fp = fingerprint("map", shard.fingerprint, _identity(step.config), step.settings.partitions)
    return step.directory / "work" / f"manifest-map-{shard.key}.json", fp


def reduce_unit(step: StepRun, maps: list[MapResult]) -> tuple[Path, str]:
    fp = fingerprint("reduce", _identity(step.config), [m.fingerprint for m in maps], step.settings.partitions)
    return step.directory / "work" / "manifest-reduce.json", fp


def apply_unit(step: StepRun, shard: ShardRef, reduced: ReduceResult) -> tuple[Path, str]:
    fp = fingerprint("apply", shard.fingerprint, _identity(step.config), reduced.fingerprint)
    return step.directory / f"shard-{shard.key}.json", fp


def read_input(source: InputFile) -> ReadResult:
    """Reads one input file into shards of at most ``shard_docs`` documents, plus its quarantine."""
    manifest, fp = read_unit(source)
    directory = manifest.parent
    file_index, path, reader, shard_docs = source.index, source.path, source.reader, source.shard_docs

    def compute() -> tuple[dict, list[str]]:
        start = time.perf_counter()
        errors: Counter[str] = Counter()
        pending: list[dict] = []
        qname = f"quarantine-{file_index:05d}.parquet"
        quarantine = ParquetBatchWriter(directory / qname, QUARANTINE_SCHEMA)
        shards: list[dict] = []
        writer: ParquetBatchWriter | None = None

        def flush_quarantine() -> None:
            quarantine.write(pl.DataFrame(pending, schema=QUARANTINE_SCHEMA))
            pending.clear()

        def to_quarantine(file: str, line: int, error: str, raw: str) -> None:
            errors[error_kind(error)] += 1
            pending.append({"file": file, "line": line, "error": error, "raw": raw})
            if len(pending) >= 1000 or len(raw) > 1 << 24:
                flush_quarantine()

        def close_part() -> None:
            rows = writer.close()
            shards[-1]["rows"] = rows

        with _progress(None, f"read {Path(path).name}") as bar:
            for batch in read_shard(Path(path), reader, to_quarantine):
                bar.update(batch.height)
                while batch.height:
                    if writer is None or writer.rows >= shard_docs:
                        if writer is not None:
                            close_part()
                        key = f"{file_index:05d}-{len(shards):04d}"
                        writer = ParquetBatchWriter(directory / f"kept-{key}.parquet", DOC_SCHEMA)
                        shards.append({"key": key, "kept_file": f"kept-{key}.parquet"})
                    room = shard_docs - writer.rows
                    writer.write(batch[:room])
                    batch = batch[room:]
                    fault_point(f"00-read/input-{file_index:05d}:mid")
        if writer is not None:
            close_part()
        flush_quarantine()
        n_quarantined = quarantine.close()
        result = {"file": path, "index": file_index, "shards": shards, "quarantined": n_quarantined,
                  "documents": sum(s["rows"] for s in shards), "quarantine_file": qname,
                  "reasons": dict(errors.most_common()), "seconds": round(time.perf_counter() - start, 3)}
        return result, [qname] + [s["kept_file"] for s in shards]

    return ReadResult.from_manifest(cached(manifest, fp, compute))


def input_shards(reads: list[ReadResult]) -> list[ShardRef]:
    """The read stage's shards in input order, each with its own fingerprint."""
    return [s for r in reads for s in r.shards]


def _split_shard(directory: Path, key: str, shard: ShardRef, step_name: str,
                 outputs: Iterator[tuple[pl.DataFrame, pl.DataFrame]]) -> tuple[dict, list[str]]:
    """Writes one shard's kept/removed files and checks no document went missing."""
    start = time.perf_counter()
    in_schema = pl.read_parquet_schema(shard.kept_path)
    kept = ParquetBatchWriter(directory / f"kept-{key}.parquet", in_schema)
    removed = ParquetBatchWriter(directory / f"removed-{key}.parquet", removed_schema(in_schema))
    reasons: Counter[str] = Counter()
    unjudged: Counter[str] = Counter()
    try:
        with _progress(shard.rows, f"{step_name} {key}") as bar:
            for k, r in outputs:
                kept.write(k)
                removed.write(r)
                reasons.update(r["reason"].to_list())
                unjudged.update(count_unjudged(k, step_name))
                bar.update(k.height + r.height)
                fault_point(f"{directory.name}/shard-{key}:mid")
        n_kept, n_removed = kept.close(), removed.close()
    except BaseException:
        kept.abort()
        removed.abort()
        raise
    if n_kept + n_removed != shard.rows:
        raise InvariantError(f"{step_name} on shard {key}: {shard.rows} in, {n_kept} kept + {n_removed} removed out")
    result = {"key": key, "input": shard.rows, "rows": n_kept, "removed": n_removed,
              "reasons": dict(reasons.most_common()), "unjudged": dict(unjudged.most_common()), "kept_file": f"kept-{key}.parquet",
              "removed_file": f"removed-{key}.parquet", "seconds": round(time.perf_counter() - start, 3)}
    return result, [result["kept_file"], result["removed_file"]]


def run_shard(stage: StepRun, shard: ShardRef) -> ShardResult:
    """A per-document step on one shard."""
    step = build_step(stage.config)
    manifest, fp = shard_unit(stage, shard)
    outputs = lambda: (step.run(b) for b in iter_parquet(shard.kept_path, stage.settings.batch_size))  # noqa: E731
    result = cached(manifest, fp, lambda: _split_shard(manifest.parent, shard.key, shard, step.name, outputs()))
    return ShardResult.from_manifest(result, fp)


def map_shard(stage: StepRun, shard: ShardRef) -> MapResult:
    """Phase 1 of a global step on one shard: compact state to the stage's work directory."""
    step = build_step(stage.config)
    ctx = stage.context(shard.key)
    manifest, fp = map_unit(stage, shard)

    def compute() -> tuple[dict, list[str]]:
        start = time.perf_counter()
        ctx.work_dir.mkdir(parents=True, exist_ok=True)
        stats = step.map_shard(iter_parquet(shard.kept_path, stage.settings.batch_size), ctx)
        files = sorted(p.name for p in ctx.work_dir.glob(f"*-{shard.key}.*") if not p.name.startswith("manifest-"))
        return {"key": shard.key, "source": shard.kept_path, "stats": stats,
                "seconds": round(time.perf_counter() - start, 3)}, files

    return MapResult.from_manifest(cached(manifest, fp, compute))


def reduce_stage(stage: StepRun, maps: list[MapResult]) -> ReduceResult:
    """Phase 2 of a global step: decisions from all map outputs, partition by partition."""
    step = build_step(stage.config)
    manifest, fp = reduce_unit(stage, maps)
    work, partitions = manifest.parent, stage.settings.partitions

    def compute() -> tuple[dict, list[str]]:
        start = time.perf_counter()
        keys = [m.key for m in maps]
        map_files = {name for m in maps for name in m.files}
        work.mkdir(parents=True, exist_ok=True)
        # no shards (every input line quarantined): nothing to decide, and no shard will ask
        stats = step.reduce(keys, work, partitions, {m.key: m.source for m in maps}) if keys else {}
        files = sorted(p.name for p in work.iterdir()
                       if p.is_file() and p.name not in map_files and not p.name.startswith(("manifest-", ".")))
        return {"stats": stats, "seconds": round(time.perf_counter() - start, 3)}, files

    return ReduceResult.from_manifest(cached(manifest, fp, compute))


def apply_shard(stage: StepRun, shard: ShardRef, reduced: ReduceResult) -> ShardResult:
    """Phase 3 of a global step on one shard: split its documents by the reduce's decisions."""
    step = build_step(stage.config)
    ctx = stage.context(shard.key)
    manifest, fp = apply_unit(stage, shard, reduced)
    outputs = lambda: step.apply_shard(iter_parquet(shard.kept_path, stage.settings.batch_size), ctx)  # noqa: E731
    result = cached(manifest, fp, lambda: _split_shard(manifest.parent, shard.key, shard, step.name, outputs()))
    return ShardResult.from_manifest(result, fp)


def _merged(counts: list[dict[str, int]]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for c in counts:
        total.update(c)
    return dict(total.most_common())


def summarize_stage(name: str, index: int, results: list[ShardResult], maps: list[MapResult] | None = None,
                    reduced: ReduceResult | None = None) -> StageSummary:
    """Stage totals for the report; ``seconds`` is the work time of all its units (not wall time)."""
    units = [*results, *(maps or []), *([reduced] if reduced else [])]
    return StageSummary(
        name=name, index=index, input=sum(r.input for r in results), kept=sum(r.rows for r in results),
        removed=sum(r.removed for r in results), reasons=_merged([r.reasons for r in results]),
        unjudged=_merged([r.unjudged for r in results]),
        seconds=round(sum(u.seconds for u in units), 3), reused=all(u.reused for u in units),
        shards=tuple(StageShard(r.key, r.removed_path) for r in results),
        stats=reduced.stats if reduced else None,
    )


def summarize_read(reads: list[ReadResult]) -> StageSummary:
    docs, quarantined = sum(r.documents for r in reads), sum(r.quarantined for r in reads)
    return StageSummary(name="read", index=0, input=docs + quarantined, kept=docs, removed=0, quarantined=quarantined,
                        reasons=_merged([r.reasons for r in reads]), seconds=round(sum(r.seconds for r in reads), 3),
                        reused=all(r.reused for r in reads), inputs=tuple(r.file for r in reads),
                        quarantine_paths=tuple(r.quarantine_path for r in reads))
