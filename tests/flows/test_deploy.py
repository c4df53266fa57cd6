"""Every flow gets a deployment from configs/deployments.yaml, with its relative paths resolved."""

from __future__ import annotations

from pathlib import Path

from flows.deploy import build_deployments, flows

ROOT = Path(__file__).resolve().parents[2]


def test_every_flow_is_deployed_with_resolved_paths():
    deployments = {d.name: d for d in build_deployments(ROOT / "configs" / "deployments.yaml", base=ROOT)}
    assert set(deployments) == {name.replace("_", "-") for name in flows()} == {
        "curate-corpus", "select-finetune", "select-demos", "compress-prompts", "efficiency-eval", "compare-reports",
        "mix-corpus", "augment-pool", "prompt-search"}
    select = deployments["select-finetune"].parameters
    assert select["strategy"] == "kcenter" and Path(select["pool"][0]).is_absolute()
    assert Path(select["pool"][0]).exists() and Path(select["out"]).is_absolute()
    compress = deployments["compress-prompts"].parameters
    assert Path(compress["path"]).is_file() and compress["rate"] == 0.5
    assert deployments["curate-corpus"].schedules  # the nightly cron
    mix = deployments["mix-corpus"].parameters
    assert Path(mix["inputs"][0]).is_file() and mix["by"] == "label" and Path(mix["out"]).is_absolute()
