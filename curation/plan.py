"""The curation plan: which units of work a run consists of, what each one reads, and what it waits for.

A run is: one ``ReadUnit`` per input file; then the steps, cut into *segments* at every global step; then one
``ExportUnit`` per shard and one ``ReportUnit``. A segment is the per-shard work between two global reduces,
fused into one ``ChainUnit`` per shard (as datatrove runs a whole pipeline per shard): the apply phase of the
global step before it, the per-document steps, and the map phase of the global step that ends it, followed by
that step's ``ReduceUnit``. For ``mail_body, normalize, exact_dedup, langid, minhash``:

    read-00000
    01-mail_body..03-exact_dedup-map-KEY     (one per shard)  -> 03-exact_dedup-reduce
    03-exact_dedup-apply..05-minhash-map-KEY (one per shard)  -> 05-minhash-reduce
    05-minhash-apply-KEY                     (one per shard)
    export-KEY (one per shard), write-report

Dependencies: a chain unit waits for the same shard's chain in the previous segment and for the previous
segment's reduce; a reduce waits for every chain of its segment; exports wait for the last segment. Shard keys
are known only once the inputs are read, so the plan is built from the config (``CurationPlan.build``: files and
segments) and gives the concrete units from the previous units' results (``chain_units``, ``reduce_unit``, ...).

Inside a chain each step keeps its own stage directory and verified manifest (``curation.pipeline.cached``):
fusing changes how many units an executor schedules, never what is written or what a resumed run reuses.
Every unit is a frozen dataclass with ``name`` (its identity in logs and the Prefect UI), ``run()`` and, for
the cached kinds, ``verified_key()``: the key an executor may cache the unit's result under, offered only while
every manifest of the unit and its files still verify on disk.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from core.storage import fingerprint
from curation import pipeline
from curation.config import CurationConfig
from curation.outputs import export_shard, write_outputs
from curation.records import ChainResult, ExportResult, MapResult, ReadResult, ReduceResult, ShardRef, StageSummary
from curation.report import write_report
from curation.steps import STEP_CLASSES
from curation.steps.base import StepConfig

Phase = Literal["shard", "map", "apply", "reduce"]


@dataclass(frozen=True)
class StepOp:
    """One step's part in a unit: a per-document step on a shard, or a global step's map, apply or reduce."""

    index: int  # 1-based position in the pipeline: the stage directory ``NN-step``
    config: StepConfig
    phase: Phase

    @property
    def name(self) -> str:
        return STEP_CLASSES[self.config.step].name

    def on(self, settings: pipeline.RunSettings) -> pipeline.StepRun:
        return pipeline.StepRun(self.config, self.index, settings)

    @property
    def label(self) -> str:
        """``03-exact_dedup-map``; a per-document step is just ``02-normalize``."""
        return f"{self.index:02d}-{self.name}" + ("" if self.phase == "shard" else f"-{self.phase}")


@dataclass(frozen=True)
class Segment:
    """Per-shard ops run back to back on each shard, then the reduce of the global step whose map ends them."""

    ops: tuple[StepOp, ...]
    reduce: StepOp | None = None


def segments(steps: list[StepConfig]) -> tuple[Segment, ...]:
    """The steps cut at each global step: its map ends one segment, its apply starts the next."""
    out, ops = [], []
    for index, config in enumerate(steps, start=1):
        if STEP_CLASSES[config.step].is_global:
            out.append(Segment((*ops, StepOp(index, config, "map")), StepOp(index, config, "reduce")))
            ops = [StepOp(index, config, "apply")]
        else:
            ops.append(StepOp(index, config, "shard"))
    if ops:
        out.append(Segment(tuple(ops)))
    return tuple(out)


def _verified(units: list[tuple[Path, str]]) -> str | None:
    """A cache key naming every (manifest, fingerprint), or None unless all of them verify on disk now."""
    if all(pipeline.load_done(manifest, fp) is not None for manifest, fp in units):
        return fingerprint([(str(manifest.resolve()), fp) for manifest, fp in units])
    return None


@dataclass(frozen=True)
class ReadUnit:
    """Reading one input file into shards of at most ``shard_docs`` documents, and its quarantine."""

    source: pipeline.InputFile

    @property
    def name(self) -> str:
        return f"read-{self.source.index:05d}"

    def verified_key(self) -> str | None:
        return _verified([pipeline.read_unit(self.source)])

    def run(self) -> ReadResult:
        return pipeline.read_input(self.source)


@dataclass(frozen=True)
class ChainUnit:
    """One shard through a segment's ops; ``reduced`` is the previous segment's reduce (for its apply)."""

    shard: ShardRef
    ops: tuple[StepOp, ...]
    reduced: ReduceResult | None
    settings: pipeline.RunSettings

    @property
    def name(self) -> str:
        first, last = self.ops[0].label, self.ops[-1].label
        return f"{first}-{self.shard.key}" if len(self.ops) == 1 else f"{first}..{last}-{self.shard.key}"

    def manifests(self) -> list[tuple[Path, str]]:
        """(manifest, fingerprint) of each op, computed ahead: a step's fingerprint is its input's plus its own."""
        units, shard = [], self.shard
        for op in self.ops:
            step = op.on(self.settings)
            if op.phase == "map":
                units.append(pipeline.map_unit(step, shard))
                continue
            unit = (pipeline.shard_unit(step, shard) if op.phase == "shard"
                    else pipeline.apply_unit(step, shard, self.reduced))
            units.append(unit)
            shard = replace(shard, fingerprint=unit[1])
        return units

    def verified_key(self) -> str | None:
        return _verified(self.manifests())

    def run(self) -> ChainResult:
        shard, results, mapped = self.shard, [], None
        for op in self.ops:
            step = op.on(self.settings)
            if op.phase == "map":
                mapped = pipeline.map_shard(step, shard)
                continue
            result = (pipeline.run_shard(step, shard) if op.phase == "shard"
                      else pipeline.apply_shard(step, shard, self.reduced))
            results.append(result)
            shard = result.next_shard()
        return ChainResult(tuple(results), mapped)


@dataclass(frozen=True)
class ReduceUnit:
    """A global step's decisions from every shard's map output."""

    op: StepOp
    maps: tuple[MapResult, ...]
    settings: pipeline.RunSettings

    @property
    def name(self) -> str:
        return self.op.label

    def verified_key(self) -> str | None:
        return _verified([pipeline.reduce_unit(self.op.on(self.settings), list(self.maps))])

    def run(self) -> ReduceResult:
        return pipeline.reduce_stage(self.op.on(self.settings), list(self.maps))


@dataclass(frozen=True)
class ExportUnit:
    """One shard's kept documents and its removals at every step, to ``kept/`` and ``removed/NN-step/``."""

    shard: ShardRef
    removed: tuple[tuple[str, str], ...]  # (stage directory "NN-step", that stage's removed file of this shard)
    run_dir: str
    output_format: str

    @property
    def name(self) -> str:
        return f"export-{self.shard.key}"

    def run(self) -> ExportResult:
        return export_shard(self.shard.key, self.shard.kept_path, list(self.removed), self.run_dir, self.output_format)


@dataclass(frozen=True)
class ReportUnit:
    """The quarantine exported, the invariant checked on the written files, report.json/.md/.png written."""

    run_dir: str
    files: tuple[str, ...]
    stages: tuple[StageSummary, ...]
    exported: tuple[ExportResult, ...]
    config: CurationConfig

    name = "write-report"

    def run(self) -> dict:
        report = write_outputs(self.run_dir, list(self.files), list(self.stages), list(self.exported), self.config)
        return write_report(self.run_dir, report).as_json()


@dataclass(frozen=True)
class CurationPlan:
    """A run's files and segments (from the config); the concrete units come from earlier units' results."""

    files: tuple[str, ...]
    segments: tuple[Segment, ...]
    run_dir: str
    config: CurationConfig

    @classmethod
    def build(cls, inputs: list[str], run_dir: str | Path, config: CurationConfig) -> CurationPlan:
        return cls(tuple(pipeline.plan_inputs(inputs)), segments(config.steps), str(Path(run_dir).resolve()), config)

    @property
    def settings(self) -> pipeline.RunSettings:
        return pipeline.RunSettings(self.run_dir, self.config.partitions, self.config.reader.batch_size)

    def read_units(self) -> list[ReadUnit]:
        c = self.config
        return [ReadUnit(pipeline.InputFile(i, f, c.reader, c.shard_docs, self.run_dir)) for i, f in enumerate(self.files)]

    def chain_units(self, segment: Segment, shards: list[ShardRef], reduced: ReduceResult | None) -> list[ChainUnit]:
        return [ChainUnit(s, segment.ops, reduced, self.settings) for s in shards]

    def reduce_unit(self, segment: Segment, maps: list[MapResult]) -> ReduceUnit:
        return ReduceUnit(segment.reduce, tuple(maps), self.settings)

    def export_units(self, shards: list[ShardRef], steps: list[StageSummary]) -> list[ExportUnit]:
        return [ExportUnit(s, tuple((f"{st.index:02d}-{st.name}", st.removed_path(s.key)) for st in steps),
                           self.run_dir, self.config.output_format) for s in shards]

    def report_unit(self, stages: list[StageSummary], exported: list[ExportResult]) -> ReportUnit:
        return ReportUnit(self.run_dir, self.files, tuple(stages), tuple(exported), self.config)
