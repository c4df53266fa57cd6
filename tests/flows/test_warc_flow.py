"""WARC and HTML through the real entry points: the curate flow's domain artifact, the CLI with --text-field html,
and ``winnow tokenize``."""

from __future__ import annotations

import gzip
import json

import pytest

from curation.config import CurationConfig
from flows.cli import main
from tests.conftest import shared

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_flow_on_warc_publishes_the_domain_table(tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    from flows.curate import curate_corpus

    cfg = CurationConfig.model_validate({"steps": [{"step": "url_dedup"}, {"step": "extract"}, {"step": "pii"}]})
    files = [str(shared("web", "dolma_sample-0000.warc.gz")), str(shared("web", "dolma_sample-0001.warc.gz"))]
    state = curate_corpus(inputs=files, out_dir=str(tmp_path / "run"), config=cfg, return_state=True)
    report = state.result()
    # 22 + 15 HTML responses; allenai.org is fetched three times in the second file
    assert (report["input"], report["kept"], report["removed"], report["quarantined"]) == (37, 35, 2, 0)
    assert report["corpus"]["domains"][0] == {"domain": "maria-antoniak.github.io", "kept": 6, "removed": 0}
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id])))
    by_key = {a.key: a for a in artifacts}
    assert by_key["curation-domains"].type == "table" and "maria-antoniak.github.io" in by_key["curation-domains"].data
    assert "## Top domains" in by_key["curation-report"].data


def test_cli_html_field_then_tokenize(tmp_path, capsys):
    truth = json.loads(shared("html_extraction", "ground-truth.json").read_text())
    keys = sorted(truth)[:3]
    pages = tmp_path / "pages.jsonl"
    pages.write_text("".join(json.dumps({"id": k, "url": truth[k]["url"], "html": gzip.open(
        shared("html_extraction", "html", f"{k}.html.gz"), "rt", encoding="utf8").read()}) + "\n" for k in keys))
    cfg = tmp_path / "x.yaml"
    cfg.write_text("steps:\n  - step: extract\n  - step: tokenize\n")
    run = tmp_path / "run"
    assert main(["curate", str(pages), "--text-field", "html", "--config", str(cfg), "--out", str(run)]) == 0
    kept = [json.loads(line) for line in (run / "kept" / "part-00000-0000.jsonl").read_text().splitlines()]
    assert [d["id"] for d in kept] == keys
    assert all(d["metadata"]["title"] and "<" not in d["text"][:200] for d in kept)
    report = json.loads((run / "report.json").read_text())
    capsys.readouterr()
    assert main(["tokenize", str(run), "--out", str(tmp_path / "tokens")]) == 0
    assert f"{report['corpus']['tokens']['kept']:,} tokens in 3 documents (uint16" in capsys.readouterr().out
    summary = json.loads((tmp_path / "tokens" / "tokens.json").read_text())
    assert summary["tokens"] == sum(d["n_tokens"] for d in kept)
