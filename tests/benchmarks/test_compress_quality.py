"""benchmarks/compress_quality.py's per-query mode: its demos are never ones the classifier was trained on."""

from __future__ import annotations

from benchmarks.compress_quality import demo_pool
from prompts.compress.classifier import item_key, load_weights


def test_per_query_demos_exclude_every_item_the_classifier_trained_on():
    trained = set(load_weights()["meta"]["trained_items"])
    pool = demo_pool("arc_easy", trained)
    # ARC-Easy's train pool holds 2,251 items; the committed weights' 832 training prompts used 530 of them
    # (5-shot contexts of 3 label runs, repeats counted once), so 1,721 are left to draw evaluation demos from
    assert len(pool) == 1721
    assert not {item_key(t) for t in pool} & trained
