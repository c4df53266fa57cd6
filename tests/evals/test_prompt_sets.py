"""Raw / kNN-selected / compressed few-shot prompt sets, built from the shared eval data."""

import pytest

from evals.prompt_sets import build, gsm8k_items, gsm8k_train_demos, quality


def test_gsm8k_train_demos_match_the_olmes_format():
    demos = gsm8k_train_demos()
    context, queries = gsm8k_items(3)
    assert len(demos) == 7473 and len(context) == 8 and len(queries) == 3
    question, text = demos[0]
    assert text.startswith(f"Question: {question}\nAnswer: ") and text.endswith("So the answer is 72.")
    assert not any("<<" in t or "####" in t or "\n" in t.split("\nAnswer: ", 1)[1] for _, t in demos)
    # the same shape as the published 8-shot context
    assert all(c.startswith("Question: ") and "\nAnswer: " in c and "So the answer is" in c for c in context)


@pytest.mark.slow
def test_arc_easy_sets_share_queries_and_differ_in_context():
    from core.embed import Embedder
    from core.models import load_smollm2

    model, tok = load_smollm2("cpu")
    sets = build("arc_easy", 3, model, tok, Embedder(show_progress=False).embed, rate=0.33)
    raw, sel, comp = sets["raw"], sets["selected"], sets["compressed"]
    assert [q.text for q in raw.queries] == [q.text for q in sel.queries] == [q.text for q in comp.queries]
    for ps in sets.values():
        assert all(p.endswith(q.text) for p, q in zip(ps.prompts, ps.queries))
    assert len({p.rsplit("\n\n", 1)[0] for p in raw.prompts}) == 1  # one fixed context
    assert len({p.rsplit("\n\n", 1)[0] for p in sel.prompts}) == 3  # demos chosen per query
    assert all(p.count("\n\n") == 5 for p in sel.prompts)           # 5 demos, then the query
    assert 0.25 < comp.notes["context_ratio"] < 0.42
    q = quality(raw.prompts, raw.queries, model, tok)
    assert q["accuracy"]["n"] == 3 and q["gold_logprob_per_token"]["mean"] < 0


def test_per_query_compression_is_cached_on_disk(tmp_path, monkeypatch):
    """The slow compressor runs once per (budget, context, query); a second build reads the file."""
    import prompts.compress as compress_module
    from evals.prompt_sets import PromptSet, Query, compress_per_query

    calls = []

    def fake_compress(prompt, target_tokens=None, **_):
        calls.append(prompt["question"])
        text = " ".join(" ".join(prompt["context"]).split()[:target_tokens]) + "\n\n" + prompt["question"]
        return type("Out", (), {"text": text, "latency_s": 4.5})()

    monkeypatch.setattr(compress_module, "compress", fake_compress)
    queries = [Query(f"Question: q{i}?\nAnswer:", [" a", " b"], 0) for i in range(3)]
    raw = PromptSet("arc_easy", "raw", [], queries)
    context = ["Question: d1?\nAnswer: x y z", "Question: d2?\nAnswer: u v w"]
    first = compress_per_query(raw, context, [3, 3, 4], None, None, None, tmp_path / "c.json")
    again = compress_per_query(raw, context, [3, 3, 4], None, None, None, tmp_path / "c.json")
    assert len(calls) == 3 and first.prompts == again.prompts  # the second build compressed nothing
    assert first.notes["compressor_s"] == [4.5] * 3 and not first.notes["shared_prefix"]
    assert all(p.endswith(q.text) for p, q in zip(first.prompts, queries))
