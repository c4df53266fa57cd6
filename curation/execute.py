"""The one composition of a curation run: ``execute(plan, executor)``, whatever runs the units.

``curation.runner.curate_local`` (tests, benchmarks, library use) passes a ``LocalExecutor`` (in-process, one
unit after another); ``flows.curate`` (``winnow curate``) passes ``flows.curation_tasks.PrefectExecutor`` (a
Prefect task per unit, on Prefect's thread pool or Dask). Both walk the plan here, so they run the same units in
the same order of dependencies and write the same files. As in datatrove, a unit never knows which executor runs
it, and stage totals are collected here, not by the steps.

An executor provides ``map(units)`` (independent units of one kind; results in the units' order), ``run(unit)``
and ``log(message)``.
"""

from __future__ import annotations

import logging
from typing import Protocol, TypeVar

from curation import pipeline
from curation.outputs import clear_outputs, require_documents
from curation.plan import CurationPlan, Segment
from curation.records import ChainResult, MapResult, ReduceResult, ShardRef, ShardResult, StageSummary

R = TypeVar("R")
log = logging.getLogger("winnow.curation")


class Unit(Protocol[R]):
    name: str

    def run(self) -> R: ...


class Executor(Protocol):
    def map(self, units: list[Unit[R]]) -> list[R]: ...

    def run(self, unit: Unit[R]) -> R: ...

    def log(self, message: str) -> None: ...


class LocalExecutor:
    """Every unit in this process, in plan order: what tests and ``python -m curation.runner`` use."""

    def map(self, units: list[Unit[R]]) -> list[R]:
        return [u.run() for u in units]

    def run(self, unit: Unit[R]) -> R:
        return unit.run()

    def log(self, message: str) -> None:
        log.info(message)


def execute(plan: CurationPlan, executor: Executor) -> dict:
    """Reads, runs every segment, exports and writes the report; returns report.json's dict.

    Raises ``core.readers.InputError`` when no input holds a document and ``pipeline.InvariantError`` when a
    document went missing (the report is written first). A strict run's drop alarm is the caller's to raise.
    """
    reads = executor.map(plan.read_units())
    stages = [pipeline.summarize_read(reads)]
    require_documents(stages[0])
    executor.log(f"read {len(plan.files)} files: {stages[0].kept} documents in {sum(len(r.shards) for r in reads)} "
                 f"shards, {stages[0].quarantined} quarantined")
    shards, steps = run_segments(plan, pipeline.input_shards(reads), executor)
    clear_outputs(plan.run_dir)
    exported = executor.map(plan.export_units(shards, steps))
    return executor.run(plan.report_unit(stages + steps, exported))


def run_segments(plan: CurationPlan, shards: list[ShardRef], executor: Executor,
                 ) -> tuple[list[ShardRef], list[StageSummary]]:
    """Every step over ``shards``, segment by segment; returns the last step's shards and one summary per step."""
    stages: dict[int, StageSummary] = {}
    maps: dict[int, list[MapResult]] = {}
    reduces: dict[int, ReduceResult] = {}
    reduced = None
    for segment in plan.segments:
        chains = executor.map(plan.chain_units(segment, shards, reduced))
        shards = [chain.out(shard) for chain, shard in zip(chains, shards)]
        _summarize(segment, chains, maps, reduces, stages, executor)
        if segment.reduce is not None:
            maps[segment.reduce.index] = [chain.map for chain in chains]
            reduced = reduces[segment.reduce.index] = executor.run(plan.reduce_unit(segment, maps[segment.reduce.index]))
    return shards, [stages[i] for i in sorted(stages)]


def _summarize(segment: Segment, chains: list[ChainResult], maps: dict[int, list[MapResult]],
               reduces: dict[int, ReduceResult], stages: dict[int, StageSummary], executor: Executor) -> None:
    """The summaries of the steps that finished in this segment (a global step finishes with its apply)."""
    finishing = [op for op in segment.ops if op.phase in ("shard", "apply")]
    for position, op in enumerate(finishing):
        results: list[ShardResult] = [chain.shards[position] for chain in chains]
        stage = pipeline.summarize_stage(op.name, op.index, results, maps.get(op.index), reduces.get(op.index))
        stages[op.index] = stage
        executor.log(f"{stage.name}: {stage.input} in, {stage.kept} kept, {stage.removed} removed {stage.reasons}")
