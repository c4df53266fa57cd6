"""Curation without Prefect: ``curation.execute`` with a ``LocalExecutor`` (tests, benchmarks, library use).

``flows.curate`` runs the very same plan through ``execute`` with Prefect's executor; both write identical outputs.
"""

from __future__ import annotations

from pathlib import Path

from curation.config import CurationConfig
from curation.execute import LocalExecutor, execute, run_segments
from curation.plan import CurationPlan
from curation.records import ShardRef
from curation.report import alarm_error
from core.storage import run_lock


def curate_local(inputs: list[str], run_dir: str | Path, config: CurationConfig | None = None) -> dict:
    """Curates ``inputs`` into ``run_dir`` in this process; returns report.json's dict (see ``curation.execute``).

    A strict run whose drop alarm fires raises ``DropAlarmError`` once the report is written."""
    config = config or CurationConfig()
    plan = CurationPlan.build(inputs, run_dir, config)
    with run_lock(plan.run_dir):
        report = execute(plan, LocalExecutor())
    if config.strict and (error := alarm_error(report)) is not None:
        raise error
    return report


def run_frames(config, frames: list, work_dir: str | Path, partitions: int = 8):
    """Applies one step to in-memory frames, each treated as a shard; returns (kept, removed) concatenated.

    For tests and notebooks: the same units as a real run, on a throwaway directory.
    """
    import polars as pl

    from core.storage import atomic_write_parquet

    work = Path(work_dir)
    shards = []
    for i, frame in enumerate(frames):
        path = work / "input" / f"kept-{i:05d}-0000.parquet"
        atomic_write_parquet(path, frame)
        shards.append(ShardRef(f"{i:05d}-0000", str(path), frame.height, f"frames-{i}"))
    plan = CurationPlan.build([], work / "run", CurationConfig(steps=[config], partitions=partitions))
    shards, (stage,) = run_segments(plan, shards, LocalExecutor())
    kept = pl.concat([pl.read_parquet(s.kept_path) for s in shards], how="diagonal_relaxed")
    removed = pl.concat([pl.read_parquet(s.removed_path) for s in stage.shards], how="diagonal_relaxed")
    return kept, removed


if __name__ == "__main__":  # `python -m curation.runner OUT INPUT... [--config FILE]`: no Prefect, for tests
    import argparse

    ap = argparse.ArgumentParser(description="Curate without Prefect (same units and outputs as the flow).")
    ap.add_argument("out")
    ap.add_argument("inputs", nargs="+")
    ap.add_argument("--config")
    ns = ap.parse_args()
    r = curate_local(ns.inputs, ns.out, CurationConfig.load(ns.config))
    print(f"kept {r['kept']} removed {r['removed']} quarantined {r['quarantined']} of {r['input']}")
