"""Training the quality classifier on real clean text vs raw Common Crawl: deterministic, and it separates them."""

import polars as pl
import pytest

from curation.classifiers.quality_model import QualityTrainingConfig, train_quality_model
from curation.runner import run_frames
from curation.steps.quality import QualityConfig
from core.storage import file_hash
from tests.conftest import DOLMA_CC, shared


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    cfg = QualityTrainingConfig(
        positive=[str(shared("lm", "wikitext-2_valid.txt")), str(shared("instruct", "lima.json"))],
        negative=[str(DOLMA_CC)], positive_field="output",
        bucket=100_000,  # 26 MB per model instead of fastText's 0.5 GB default: the suite trains two
    )
    a, b = tmp_path_factory.mktemp("qa"), tmp_path_factory.mktemp("qb")
    return train_quality_model(cfg, a), train_quality_model(cfg, b), a, b


def test_training_is_deterministic_and_reports_auc(trained):
    ra, rb, a, b = trained
    assert file_hash(a / "model.bin") == file_hash(b / "model.bin")
    assert ra["holdout_roc_auc"] == rb["holdout_roc_auc"] > 0.85
    assert ra["holdout"]["positive"] > 50 and ra["holdout"]["negative"] > 50
    assert "held-out ROC AUC" in (a / "report.md").read_text()
    # the bootstrap interval is seeded (same report twice) and brackets the held-out AUC it resamples
    lo, hi = ra["holdout_roc_auc_ci95"]
    assert ra["holdout_roc_auc_ci95"] == rb["holdout_roc_auc_ci95"] and lo <= ra["holdout_roc_auc"] <= hi <= 1


def test_quality_step_scores_and_keeps_top_percentile(trained, tmp_path):
    _, _, a, _ = trained
    texts = [ln for ln in shared("lm", "wikitext-2_test.txt").read_text().splitlines() if len(ln.split()) > 40][:20]
    raw = pl.read_ndjson(DOLMA_CC).filter(pl.col("text").str.len_chars() > 200)["text"].head(20).to_list()
    batch = pl.DataFrame({"id": [str(i) for i in range(40)], "text": texts + raw, "metadata": ["{}"] * 40,
                          "source": ["s"] * 40})
    config = QualityConfig(model_path=str(a / "model.bin"), top_percentile=50)
    kept, removed = run_frames(config, [batch[:25], batch[25:]], tmp_path)
    assert kept.height == 20 and removed.height == 20
    assert set(removed["reason"]) == {"quality_below_top_percentile"}
    clean_kept = kept.filter(pl.col("id").cast(pl.Int32) < 20).height
    assert clean_kept >= 16  # the clean paragraphs mostly outrank raw web pages
