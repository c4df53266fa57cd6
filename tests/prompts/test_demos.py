"""Demonstration selection and templates: kNN is exact, MMR trades relevance for diversity, order is fixed."""

from __future__ import annotations

import numpy as np
import pytest

from prompts.demos import select_demos
from prompts.templates import Template, render, render_chat


def _unit(rows) -> np.ndarray:
    a = np.asarray(rows, dtype=np.float32)
    return a / np.linalg.norm(a, axis=1, keepdims=True)


POOL = _unit([[1, 0, 0], [0.9, 0.1, 0], [0.9, 0.1, 0.0001], [0, 1, 0], [0.5, 0.5, 0], [0, 0, 1]])
QUERY = _unit([[1, 0.05, 0]])[0]


def test_knn_is_the_exact_top_k_with_the_most_similar_last():
    picks = select_demos(QUERY, POOL, 3, "knn")
    sims = POOL @ QUERY
    assert {p.index for p in picks} == set(np.argsort(-sims)[:3])
    assert [p.similarity for p in picks] == sorted(p.similarity for p in picks)
    assert picks[-1].index == int(np.argmax(sims))


def test_mmr_skips_a_near_duplicate_that_knn_takes():
    knn = {p.index for p in select_demos(QUERY, POOL, 2, "knn")}
    mmr = {p.index for p in select_demos(QUERY, POOL, 2, "mmr", lam=0.5)}
    assert knn == {1, 2} or knn == {0, 1} or knn == {0, 2}  # two of the three near-identical rows
    assert len(mmr & {0, 1, 2}) == 1  # MMR keeps one of them and adds something different
    assert {p.index for p in select_demos(QUERY, POOL, 3, "mmr", lam=1.0)} == {
        p.index for p in select_demos(QUERY, POOL, 3, "knn")}


def test_balanced_shows_every_label():
    labels = ["a", "a", "a", "b", "b", "c"]
    picks = select_demos(QUERY, POOL, 3, "balanced", labels=labels)
    assert sorted(labels[p.index] for p in picks) == ["a", "b", "c"]


def test_random_is_seeded_and_excludes_the_query_row():
    a = select_demos(QUERY, POOL, 3, "random", seed=7, exclude=0)
    b = select_demos(QUERY, POOL, 3, "random", seed=7, exclude=0)
    assert a == b and all(p.index != 0 for p in a)
    assert select_demos(QUERY, POOL, 10, "knn", exclude=0).__len__() == 5
    assert select_demos(QUERY, POOL, 0, "knn") == []
    with pytest.raises(ValueError, match="unknown demo strategy"):
        select_demos(QUERY, POOL, 2, "best")


def test_real_sentences_pick_the_related_demo(tmp_path):
    from curation.embed import Embedder

    embed = Embedder(cache=tmp_path).embed
    pool = embed(["How many legs does a spider have?", "What is the capital of Peru?",
                  "Convert 5 kilometres to miles.", "Who painted the Mona Lisa?"])
    query = embed(["Which city is the capital of Chile?"])[0]
    assert select_demos(query, pool, 1, "knn")[0].index == 1


def test_templates_render_demos_then_query():
    t = Template(input="Q: {input}", output="\nA: {output}", instruction="Answer briefly.")
    text = render(t, [{"input": "2+2?", "output": "4"}], {"input": "3+3?", "output": ""})
    assert text == "Answer briefly.\n\nQ: 2+2?\nA: 4\n\nQ: 3+3?"


def test_chat_template_uses_the_models_own_format():
    from curation.models import load_smollm2_tokenizer

    text = render_chat(Template(), [{"input": "2+2?", "output": "4"}], {"input": "3+3?"}, load_smollm2_tokenizer())
    assert text.count("<|im_start|>user\n") == 2 and "<|im_start|>assistant\n4<|im_end|>" in text
    assert text.endswith("<|im_start|>assistant\n")
