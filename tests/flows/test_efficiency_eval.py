"""`winnow eval` end to end on a tiny budget: curated first, both arms trained per seed, reports written, compared,
rerun reused."""

from __future__ import annotations

import json

import pytest

from flows.cli import main
from tests.conftest import shared


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_curate_eval_then_compare(tmp_path, capsys):
    out, curated = tmp_path / "eval", tmp_path / "curated"
    raw = str(shared("web", "llamafactory_c4_demo.jsonl"))
    (tmp_path / "curate.yaml").write_text("{}\n")  # the default curation steps
    args = ["eval", "--raw", raw, "--curated", str(curated), "--curate-config", str(tmp_path / "curate.yaml"),
            "--out", str(out), "--token-budget", "2048", "--seeds", "0", "1", "2", "--slo", "ttft_s=60"]
    assert main(args) == 0, capsys.readouterr().err
    curation = json.loads((curated / "report.json").read_text())  # the curate stage ran first, in the same flow
    assert curation["input"] == 300 and curation["kept"] > 100
    printed = capsys.readouterr().out
    assert "| heldout_loss/wikitext |" in printed and "tokens_to_raw_final_loss" in printed
    raw_metrics = json.loads((out / "raw" / "eval_report.json").read_text())["metrics"]
    raw_tokens = raw_metrics["data/tokens_available"]["mean"]
    raw_final = {"wikitext": raw_metrics["heldout_loss/wikitext"]["mean"]}
    for arm in ("raw", "curated"):
        report = json.loads((out / arm / "eval_report.json").read_text())
        m = report["metrics"]
        assert m["heldout_loss/wikitext"]["n"] == 3 and m["heldout_loss/wikitext"]["ci95"][0] < m["heldout_loss/wikitext"]["mean"]
        assert m["serving/ttft_p50_s"]["mean"] > 0 and m["serving/output_token_throughput"]["mean"] > 0
        lo, hi = m["serving/e2e_p50_s"]["ci95"]  # bootstrap interval over the 8 requests
        assert lo <= m["serving/e2e_p50_s"]["mean"] <= hi
        assert m["serving/tpot_p50_s"]["mean"] <= m["serving/e2e_p50_s"]["mean"]
        assert len(report["details"]["serving_latencies"]["e2e_s"]) == 8
        assert m["serving/goodput"]["mean"] == pytest.approx(m["serving/request_throughput"]["mean"])  # all in SLO
        assert m["data/tokens_kept_fraction"]["mean"] == (1.0 if arm == "raw" else pytest.approx(
            m["data/tokens_available"]["mean"] / raw_tokens))
        assert m["heldout_loss/wikitext"]["baseline_name"] == "unigram"  # printed beside the loss
        size_ratio = raw_tokens / m["data/tokens_available"]["mean"]
        assert m["data/mcr/wikitext"]["mean"] == (1.0 if arm == "raw" else pytest.approx(  # EfficientLLM's MCR
            size_ratio * raw_final["wikitext"] / m["heldout_loss/wikitext"]["mean"]))
        assert len(report["details"]["runs"]) == 3 and report["versions"]["torch"].startswith("2.13")
        assert (out / arm / "eval_report.png").stat().st_size > 5_000
        for seed in range(3):
            assert (out / arm / f"seed{seed}" / "model.safetensors").exists()
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    keys = ["eval-raw", "eval-curated", "eval-raw-plot", "eval-curated-plot", "compare-report"]
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=keys)))
    assert set(keys) <= {a.key for a in artifacts}  # what the Prefect UI shows on the run's Artifacts tab
    verdicts = json.loads((out / "compare.json").read_text())
    assert {r["verdict"] for r in verdicts} <= {"better", "worse", "within noise", "no interval", "missing"}
    # a rerun reuses every finished training run (same config, same data hashes)
    logs = {p: p.stat().st_mtime_ns for p in out.glob("*/seed*/model.safetensors")}
    assert main(args) == 0
    assert {p: p.stat().st_mtime_ns for p in out.glob("*/seed*/model.safetensors")} == logs
    capsys.readouterr()
    assert main(["compare", str(out / "raw"), str(out / "curated")]) == 0
    assert "| metric | raw | curated |" in capsys.readouterr().out
