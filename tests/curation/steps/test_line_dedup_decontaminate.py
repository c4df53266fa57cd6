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
    # 1346 lines cut in 228 documents: 4 of them are zh-Wikipedia's "跳至導覽 跳至搜尋" (skip to navigation/search),
    # 9 characters but 18 display columns, so over min_line_chars = 10 since widths count (1342 / 227 before)
    assert (removed.height, int(kept["boilerplate_lines"].sum()), int((kept["boilerplate_lines"] > 0).sum())) == (7, 1346, 228)
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


def multilingual_frame(lang: str) -> pl.DataFrame:
    docs = [json.loads(x) for x in shared("multilingual", f"{lang}.jsonl").read_text().splitlines()]
    ids = [d["id"] for d in docs]
    return pl.DataFrame({"id": ids, "text": [d["text"] for d in docs], "metadata": ["{}"] * len(docs), "source": ids})


def test_line_dedup_on_real_thai_product_pages(tmp_path):
    """th.jsonl (829 records): lines are compared whole, so Thai works as is. The 13 lines cut are the iApp
    product-page template (รายละเอียดสินค้า "product details" in 5 pages, two specification lines in 4)."""
    frame = multilingual_frame("th")
    kept, removed = run_frames(LineDedupConfig(), [frame[:400], frame[400:]], tmp_path, partitions=2)
    assert (removed.height, int(kept["boilerplate_lines"].sum()), int((kept["boilerplate_lines"] > 0).sum())) == (0, 13, 5)
    assert not any("รายละเอียดสินค้า" in t.split("\n") for t in kept["text"])


def test_line_dedup_cuts_planted_chinese_and_japanese_footers_by_display_width(tmp_path):
    """Real zh/ja paragraphs (no line repeats in either file) with footers planted in 3 documents each: a
    5-character line is 10 columns wide and counts as boilerplate like a 10-letter English line; 4 characters
    (8 columns) is too short, as "Home" would be."""
    zh, ja = multilingual_frame("zh").head(200), multilingual_frame("ja").head(200)
    footers = {"本文来源于网络，如有侵权请联系删除。": [3, 50, 120], "上一篇 下一篇": [4, 51, 121], "返回首页": [5, 52, 122]}
    texts = zh["text"].to_list()
    for line, rows in footers.items():
        for r in rows:
            texts[r] += "\n" + line
    ja_texts = ja["text"].to_list()
    for r in (7, 70, 170):
        ja_texts[r] = "※この記事は転載です。無断転載を禁じます。\n" + ja_texts[r]
    frame = pl.concat([zh.with_columns(pl.Series("text", texts)), ja.with_columns(pl.Series("text", ja_texts))])
    kept, removed = run_frames(LineDedupConfig(), [frame[:250], frame[250:]], tmp_path, partitions=3)
    assert removed.height == 0
    cut = dict(zip(kept["id"], kept["boilerplate_lines"]))
    assert {i: n for i, n in cut.items() if n} == {frame["id"][r]: 1 for r in [3, 50, 120, 4, 51, 121, 207, 270, 370]}
    assert sum("返回首页" in t for t in kept["text"]) == 3
