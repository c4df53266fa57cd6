"""Token counts and shards match the tokenizer; the WARC-to-tokens run end to end with exact counts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from curation.config import CurationConfig
from curation.runner import curate_local
from curation.steps.extract import ExtractConfig
from curation.steps.pii import PiiConfig
from curation.steps.tokenize import TokenizeConfig
from curation.steps.urls import UrlDedupConfig, UrlFilterConfig
from curation.tokenize import eos_id, load_document, load_tokenizer, tokenize_kept
from tests.conftest import ROOT, shared

WARCS = ["web/dolma_sample-0000.warc.gz", "web/dolma_sample-0001.warc.gz", "warc/pywb_iana.warc.gz",
         "warc/resiliparse_warcfile.warc.gz", "warc/warcio_example-iana.org-chunked.warc"]


@pytest.fixture(scope="module")
def warc_run(tmp_path_factory):
    lists = ROOT / "configs" / "url_blocklist"
    cfg = CurationConfig(steps=[
        UrlFilterConfig(domain_files=[str(lists / "domains.txt")], url_files=[str(lists / "urls.txt")],
                        substring_files=[str(lists / "substrings.txt")]),
        UrlDedupConfig(), ExtractConfig(), PiiConfig(), TokenizeConfig()])
    out = tmp_path_factory.mktemp("warc") / "run"
    return out, curate_local([str(shared(*p.split("/"))) for p in WARCS], out, cfg)


def test_smollm2_tokenizer_offline():
    tok = load_tokenizer()
    assert tok.get_vocab_size(with_added_tokens=True) == 49152 and eos_id(tok) == 0  # <|endoftext|>
    assert tok.encode("Hello world, this is SmolLM2.", add_special_tokens=False).ids == [
        19556, 905, 28, 451, 314, 3511, 308, 34519, 34, 30]


def test_warc_run_counts(warc_run):
    _, report = warc_run
    steps = {s["name"]: (s["input"], s["kept"], s["removed"]) for s in report["steps"]}
    # 22 + 15 + (48 responses + 123 revisits) + 16 + 1 = 225 records; 72 HTML pages (see test_warc.py)
    assert report["input"] == 225 and report["quarantined"] == 153 and report["invariant_ok"]
    # blocked: 0755krk.com, 035.psb556.com (domains), 096355.com/video/... (URL), 05925.net/.../vod/type/ (substring)
    assert steps["url_filter"] == (72, 68, 4)
    # allenai.org fetched three times in dolma_sample-0001; www.iana.org/ in pywb (2014) and warcio's file (2017)
    assert steps["url_dedup"] == (68, 65, 3)
    assert steps["extract"] == (65, 65, 0) and steps["pii"] == (65, 65, 0) and report["kept"] == 65


def test_report_tokens_match_shards_and_tokenizer(warc_run, tmp_path):
    run, report = warc_run
    corpus = report["corpus"]
    parts = sorted((run / "kept").glob("part-*.jsonl"))
    kept = [json.loads(line) for f in parts for line in f.read_text().splitlines()]
    tok = load_tokenizer()
    counts = [len(tok.encode(d["text"], add_special_tokens=False).ids) for d in kept]
    assert [d["n_tokens"] for d in kept] == counts
    assert corpus["tokens"]["kept"] == sum(counts) and corpus["tokens"]["kept_documents"] == 65
    assert sum(r["kept"] for r in corpus["domains"]) <= 65 and corpus["domains"][0]["domain"] == "iana.org"
    assert corpus["pii"] == {"email": sum(d["pii_email"] for d in kept), "ip": sum(d["pii_ip"] for d in kept),
                             "phone": sum(d["pii_phone"] for d in kept)}
    assert "## Top domains" in (run / "report.md").read_text()

    summary = tokenize_kept(run / "kept", tmp_path / "tok", shard_tokens=20_000)
    assert summary["tokens"] == sum(counts) and summary["documents"] == 65 and summary["dtype"] == "uint16"
    assert len(summary["shards"]) > 1  # 20k-token shards split the run's tokens
    assert summary["tokens_with_eos"] == sum(counts) + 65
    first = load_document(tmp_path / "tok", 0, 0)
    assert first[-1] == 0 and first[:-1].tolist() == tok.encode(kept[0]["text"], add_special_tokens=False).ids
    total = 0
    for s in summary["shards"]:
        tokens = np.load(tmp_path / "tok" / s["tokens"], mmap_mode="r")
        index = np.load(tmp_path / "tok" / s["index"], mmap_mode="r")
        assert index[0] == 0 and index[-1] == len(tokens) and tokens.dtype == np.uint16
        total += len(tokens)
    assert total == summary["tokens_with_eos"]
