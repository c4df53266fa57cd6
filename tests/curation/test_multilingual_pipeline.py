"""Chinese and Japanese corpora through the default pipeline (langid set to the corpus language): clean prose is
kept, planted near copies are removed, and the word-based filters say they did not judge (issue 15)."""

import json

import orjson
import pytest

from curation.config import CurationConfig
from curation.runner import curate_local
from curation.steps import default_steps
from curation.steps.langid import LanguageIdConfig
from tests.conftest import shared

MARK = {"zh": "。", "ja": "、"}


@pytest.mark.parametrize("lang", ["zh", "ja"])
def test_cjk_corpus_through_the_default_pipeline(lang, tmp_path):
    records = [json.loads(line) for line in open(shared("multilingual", f"{lang}.jsonl"), encoding="utf-8")]
    paragraphs = [r for r in records if r["unit"] == "paragraph"][:300]
    # a near copy: one punctuation mark inserted in the middle of each of the first 20 paragraphs
    copies = [{"id": r["id"] + "-copy", "text": r["text"][: len(r["text"]) // 2] + MARK[lang]
               + r["text"][len(r["text"]) // 2 :]} for r in paragraphs[:20]]
    path = tmp_path / f"{lang}.jsonl"
    path.write_text("".join(json.dumps({"id": r["id"], "text": r["text"]}, ensure_ascii=False) + "\n"
                            for r in paragraphs + copies), encoding="utf-8")
    steps = [LanguageIdConfig(languages=(lang,)) if s.step == "langid" else s for s in default_steps()]
    report = curate_local([str(path)], tmp_path / "run", CurationConfig(steps=steps))
    # all 300 clean Wikipedia paragraphs kept (before issue 15 the word-based rules removed nearly all of them);
    # the 20 copies are near duplicates of their originals (character 5-grams)
    assert (report["input"], report["kept"], report["removed"], report["quarantined"]) == (320, 300, 20, 0)
    by_step = {s["name"]: s for s in report["steps"]}
    for name in ("gopher_repetition", "gopher_quality", "c4_quality", "fineweb_quality"):
        assert by_step[name]["removed"] == 0 and by_step[name]["unjudged"] == {lang: 320}
    assert by_step["minhash"]["reasons"] == {"near_duplicate": 20}
    removed = [orjson.loads(line) for f in (tmp_path / "run" / "removed").rglob("*.jsonl")
               for line in f.read_bytes().splitlines()]
    assert sorted(r["id"] for r in removed) == sorted(c["id"] for c in copies)
    assert "Passed through unjudged" in (tmp_path / "run" / "report.md").read_text()
