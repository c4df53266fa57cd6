"""The plan's units and the one composition (``curation.execute``): segments, unit names, caching keys."""

import json

from curation.config import CurationConfig
from curation.execute import LocalExecutor, execute
from curation.plan import CurationPlan, segments
from tests.conftest import DEMO_CONFIG


def test_demo_pipeline_is_three_segments():
    """Global steps cut the pipeline: exact_dedup's map ends the first segment, its apply starts the second."""
    plan = segments(CurationConfig.load(DEMO_CONFIG).steps)
    assert [[op.label for op in s.ops] for s in plan] == [
        ["01-mail_body", "02-normalize", "03-exact_dedup-map"],
        ["03-exact_dedup-apply", "04-langid", "05-gopher_repetition", "06-gopher_quality", "07-c4_quality",
         "08-fineweb_quality", "09-minhash-map"],
        ["09-minhash-apply"],
    ]
    assert [s.reduce.label if s.reduce else None for s in plan] == ["03-exact_dedup-reduce", "09-minhash-reduce", None]


def test_pipeline_without_global_steps_is_one_segment():
    steps = CurationConfig.model_validate({"steps": [{"step": "normalize"}, {"step": "gopher_quality"}]}).steps
    (only,) = segments(steps)
    assert [op.label for op in only.ops] == ["01-normalize", "02-gopher_quality"] and only.reduce is None
    assert segments([]) == ()


class Recording(LocalExecutor):
    def __init__(self):
        self.units = []

    def map(self, units):
        self.units += [u.name for u in units]
        return super().map(units)

    def run(self, unit):
        self.units.append(unit.name)
        return super().run(unit)


def test_execute_runs_the_plan_in_dependency_order_and_keeps_one_manifest_per_step(tmp_path):
    docs = [{"id": str(i), "text": f"document number {i % 7} with some words"} for i in range(30)]
    (tmp_path / "in.jsonl").write_text("\n".join(json.dumps(d) for d in docs))
    config = CurationConfig.model_validate({"steps": [{"step": "normalize"}, {"step": "exact_dedup"},
                                                      {"step": "gopher_quality"}], "shard_docs": 20})
    plan = CurationPlan.build([str(tmp_path / "in.jsonl")], tmp_path / "run", config)
    executor = Recording()
    report = execute(plan, executor)
    chains = ("01-normalize..02-exact_dedup-map", "02-exact_dedup-apply..03-gopher_quality")
    assert executor.units == ["read-00000", *(f"{chains[0]}-00000-{p:04d}" for p in range(2)), "02-exact_dedup-reduce",
                              *(f"{chains[1]}-00000-{p:04d}" for p in range(2)), "export-00000-0000",
                              "export-00000-0001", "write-report"]
    assert report["kept"] + report["removed"] == 30 and report["steps"][2]["removed"] == 23  # 7 distinct texts
    stages = tmp_path / "run" / "_stages"  # fused units, but each step still has its own manifest per shard
    assert sorted(p.name for p in (stages / "01-normalize").glob("*.json")) == ["shard-00000-0000.json",
                                                                                 "shard-00000-0001.json"]
    # a finished run's units all verify (what Prefect's cache keys are made of); a deleted stage file voids one
    chain = plan.chain_units(plan.segments[0], [s for r in [plan.read_units()[0].run()] for s in r.shards], None)
    assert all(c.verified_key() for c in chain)
    (stages / "02-exact_dedup" / "work" / "manifest-map-00000-0001.json").unlink()
    assert chain[0].verified_key() is not None and chain[1].verified_key() is None
