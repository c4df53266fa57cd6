"""The drop alarm: a step removing more than ``drop_alarm`` of its input marks the report; ``strict`` fails the run.

An English pipeline pointed at a Chinese shard (the first 200 paragraphs of shared multilingual/zh.jsonl, CMRC 2018
prose) loses everything at langid: the report must say so before anyone trusts the empty output.
"""

from __future__ import annotations

import json

import pytest

from curation.config import CurationConfig
from curation.report import DropAlarmError, drop_alarms
from curation.runner import curate_local
from tests.conftest import shared

ENGLISH = {"steps": [{"step": "normalize"}, {"step": "langid", "languages": ["en"]}]}


@pytest.fixture(scope="module")
def zh_shard(tmp_path_factory):
    path = tmp_path_factory.mktemp("zh") / "zh200.jsonl"
    with open(shared("multilingual", "zh.jsonl"), encoding="utf-8") as src:
        path.write_text("".join(next(src) for _ in range(200)), encoding="utf-8")
    return path


def test_english_pipeline_on_chinese_shard_raises_the_alarm_naming_langid(zh_shard, tmp_path):
    report = curate_local([str(zh_shard)], tmp_path / "run", CurationConfig.checked(ENGLISH))
    # lid.176 labels none of the 200 Chinese paragraphs `en`: langid removes all 200 as wrong_language
    assert (report["kept"], report["removed"]) == (0, 200)
    assert [(w["step"], w["input"], w["removed"], w["share"], w["top_reasons"]) for w in report["warnings"]] == [
        ("langid", 200, 200, 1.0, {"wrong_language": 200})]
    message = report["warnings"][0]["message"]
    assert message.startswith("drop alarm: langid removed 100.0% of its input (200 of 200 documents; alarm above 90%); "
                              "top reasons: wrong_language 200.")
    on_disk = json.loads((tmp_path / "run" / "report.json").read_text())
    assert on_disk["warnings"] == report["warnings"]
    md = (tmp_path / "run" / "report.md").read_text().splitlines()
    assert md[2] == f"> **WARNING** {message}"  # right under the title, before any count
    assert "| 2 | langid **(drop alarm)** | 200 | 0 | 200 | 100.0% |" in "\n".join(md)


def test_strict_run_fails_after_writing_the_report(zh_shard, tmp_path):
    config = CurationConfig.checked(ENGLISH | {"strict": True})
    with pytest.raises(DropAlarmError, match=r"^strict run failed: drop alarm: langid removed 100.0%"):
        curate_local([str(zh_shard)], tmp_path / "run", config)
    assert json.loads((tmp_path / "run" / "report.json").read_text())["warnings"][0]["step"] == "langid"


def test_alarm_threshold_is_a_run_setting(zh_shard, tmp_path):
    off = curate_local([str(zh_shard)], tmp_path / "run", CurationConfig.checked(ENGLISH | {"drop_alarm": 1.0}))
    assert off["warnings"] == []  # 1 turns the alarm off: no step removes more than all of its input


def test_alarm_fires_only_above_the_share():
    steps = [
        {"name": "read", "input": 100, "kept": 5, "removed": 0, "quarantined": 95, "reasons": {"invalid_json": 95}},
        {"name": "exact_dedup", "input": 10, "kept": 1, "removed": 9, "reasons": {"exact_duplicate": 9}},  # 90%: not more
        {"name": "gopher_quality", "input": 20, "kept": 1, "removed": 19,
         "reasons": {"gopher_short_doc": 10, "gopher_too_few_stop_words": 5, "gopher_long_doc": 3, "gopher_x": 1}},
        {"name": "minhash", "input": 0, "kept": 0, "removed": 0, "reasons": {}},  # nothing in: nothing to judge
    ]
    alarms = drop_alarms(steps, 0.9)
    assert [(a["step"], a["position"], a["share"]) for a in alarms] == [("read", 0, 0.95), ("gopher_quality", 2, 0.95)]
    assert alarms[1]["top_reasons"] == {"gopher_short_doc": 10, "gopher_too_few_stop_words": 5, "gopher_long_doc": 3}
    assert [a["step"] for a in drop_alarms(steps, 0.5)] == ["read", "exact_dedup", "gopher_quality"]
