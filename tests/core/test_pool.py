"""Pools: every instruction-data shape is recognised, and bad lines are quarantined with file and line."""

from __future__ import annotations

from selection import load_pool
from tests.conftest import shared


def test_known_shapes():
    alpaca = load_pool([shared("instruct", "alpaca_en_demo.json")])
    assert len(alpaca) == 999 and not alpaca.quarantined
    assert alpaca.prompts[0] == "Describe a process of making crepes." and alpaca.responses[0].startswith("Making crepes")
    gsm = load_pool([shared("math", "gsm8k_train.jsonl")])
    assert len(gsm) == 7473 and gsm.prompts[0].startswith("Natalia sold clips") and gsm.responses[0].endswith("#### 72")
    dpo = load_pool([shared("instruct", "dpo_en_demo.json")])
    assert len(dpo) == 300 and dpo.prompts[0].startswith("Hi! I'd like to create") and dpo.responses[0]
    lima = load_pool([shared("instruct", "lima.json")])
    assert len(lima) + len(lima.quarantined) == 1029


def test_plain_text_and_bad_lines(tmp_path):
    f = tmp_path / "docs.jsonl"
    f.write_text('{"text": "one document", "url": "https://a.example/x"}\nnot json\n{"text": ""}\n'
                 '{"text": "two", "url": "http://b.example"}\n')
    pool = load_pool([f])
    assert pool.responses == ["one document", "two"] and pool.prompts == ["", ""]
    assert pool.group("url_domain") == ["a.example", "b.example"]
    assert [(q["line"], q["error"].split(":")[0]) for q in pool.quarantined] == [(2, "invalid JSON"), (3, "empty text")]
    assert all(q["file"] == str(f) for q in pool.quarantined)
