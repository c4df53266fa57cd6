"""Boilerplate lines on the real Common Crawl shard; eval decontamination against real GSM8K test questions."""

import gzip
import json

import polars as pl
import pytest

from curation.runner import run_frames
from curation.steps.decontaminate import DecontaminateConfig, EvalSource
from curation.steps.line_dedup import LineDedupConfig
from tests.conftest import DOLMA_CC, shared


@pytest.fixture(scope="module")
def cc_frame():
    with gzip.open(DOLMA_CC, "rt") as fh:
        docs = [d for d in map(json.loads, fh) if d["text"].strip()]
    return pl.DataFrame({"id": [d["id"] for d in docs], "text": [d["text"] for d in docs],
                         "metadata": ["{}"] * len(docs), "source": [f"cc:{i}" for i in range(len(docs))]})


def test_line_dedup_cuts_lines_shared_by_three_or_more_documents(cc_frame, tmp_path):
    kept, removed = run_frames(LineDedupConfig(), [cc_frame[:300], cc_frame[300:]], tmp_path, partitions=4)
    assert kept.height + removed.height == 670
    assert (removed.height, int(kept["boilerplate_lines"].sum()), int((kept["boilerplate_lines"] > 0).sum())) == (7, 1342, 227)
    assert set(removed["reason"]) == {"boilerplate_only"}
    original = dict(zip(cc_frame["id"], cc_frame["text"]))
    assert all(original[i] == t for i, t in zip(removed["id"], removed["text"]))  # removed keep their full text
    cut = kept.filter(pl.col("boilerplate_lines") > 0).row(0, named=True)
    assert len(cut["text"]) < len(original[cut["id"]])


def test_line_dedup_is_shard_independent(cc_frame, tmp_path):
    a, _ = run_frames(LineDedupConfig(), [cc_frame], tmp_path / "one", partitions=1)
    b, _ = run_frames(LineDedupConfig(), [cc_frame[:100], cc_frame[100:400], cc_frame[400:]], tmp_path / "three", partitions=5)
    assert a["text"].to_list() == b["text"].to_list()


def test_decontamination_finds_injected_gsm8k_questions(cc_frame, tmp_path):
    tests = [json.loads(x) for x in shared("math", "gsm8k_test.jsonl").read_text().splitlines()]
    texts = cc_frame["text"].head(40).to_list()
    for i, q in [(3, 10), (17, 200), (31, 1000)]:
        texts[i] = texts[i] + "\n\nHomework help: " + tests[q]["question"]
    frame = cc_frame.head(40).with_columns(pl.Series("text", texts))
    config = DecontaminateConfig(evals=(EvalSource(path=str(shared("math", "gsm8k_test.jsonl")), text_field="question"),))
    kept, removed = run_frames(config, [frame], tmp_path)
    assert removed["source"].to_list() == ["cc:3", "cc:17", "cc:31"]
    assert [c.split(" (")[0] for c in removed["contamination"]] == ["gsm8k_test.jsonl:11", "gsm8k_test.jsonl:201", "gsm8k_test.jsonl:1001"]
    assert set(removed["reason"]) == {"eval_contamination"} and kept.height == 37


def test_decontamination_reads_olmes_request_files(tmp_path):
    """Dotted fields: the eval_mc request files hold the question under doc.query."""
    path = next(shared("eval_mc", "arc_easy").rglob("requests.jsonl.gz"))
    with gzip.open(path, "rt") as fh:
        record = json.loads(fh.readline())
    doc = {"id": "x", "text": "Some intro text. " + record["doc"]["query"] + " And more.", "metadata": "{}", "source": "s"}
    config = DecontaminateConfig(evals=(EvalSource(path=str(path), text_field="doc.query", id_field="doc.id"),))
    _, removed = run_frames(config, [pl.DataFrame([doc])], tmp_path)
    assert removed.height == 1 and removed["contamination"][0].startswith(f"requests.jsonl.gz:{record['doc']['id']}")
