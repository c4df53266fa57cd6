"""EDA edits (exact outputs on a fixed seed), their records, the kNN label check, determinism, the WordNet reader."""

from __future__ import annotations

import numpy as np
import pytest

from selection.augment import AugmentParams, augment, knn_labels
from selection.augment.eda import random_deletion, random_swap
from selection.augment.wordnet import WordNetSynonyms, parse_wordnet

SYNONYMS = {"movie": ("film", "motion picture"), "funny": ("amusing", "comic"), "plot": ("secret plan",)}
TEXT = "a funny movie with a thin plot and a great cast of actors"


def synonyms(word: str) -> tuple[str, ...]:
    return SYNONYMS.get(word, ())


def test_each_operation_on_a_fixed_seed_gives_the_recorded_output():
    result = augment([TEXT], ["pos"], ["s1"], AugmentParams(check=False, alpha=0.2), synonyms=synonyms)
    got = {a.operation: a.text for a in result.items}
    # n = max(1, int(0.2 * 13 words)) = 2 edits for synonym/insert/swap; delete drops each word with p = 0.2.
    # The outputs are what the seed-0 generator for (parent "s1", operation, k=0) draws: recorded once, pinned here.
    assert got == {
        "synonym": "a funny motion picture with a thin secret plan and a great cast of actors",  # movie, plot
        "insert": "a funny movie with a thin plot and a great cast of secret plan actors",
        "swap": "with funny movie a a great plot and a thin cast of actors",  # two swaps: same words, reordered
        "delete": "a movie with a great cast of",
    }
    assert sorted(got["swap"].split()) == sorted(TEXT.split())
    assert [a.params["n"] for a in result.items] == [2, 2, 2, 6]  # delete records the words it deleted: 13 - 7


def test_every_edit_names_its_parent_operation_and_parameters():
    params = AugmentParams(check=False, per_item=2, alpha=0.1, seed=7)
    result = augment([TEXT, "how many people live in china ?"], ["pos", "NUM"], ["a", "b"], params, synonyms=synonyms)
    assert len(result.items) == 2 * 4 * 2  # items x operations x per_item
    for item in result.items:
        assert item.parent_id in ("a", "b")
        assert item.operation in ("synonym", "insert", "swap", "delete")
        assert item.id.startswith(f"{item.parent_id}#{item.operation}-")
        assert item.params["alpha"] == 0.1 and item.params["seed"] == 7 and item.params["k"] in (0, 1)
        assert item.label == {"a": "pos", "b": "NUM"}[item.parent_id]
    # no synonyms are known for the question's words: synonym replacement finds nothing to do and says so
    unchanged = [a for a in result.items if a.parent_id == "b" and a.operation in ("synonym", "insert")]
    assert {a.reason for a in unchanged} == {"unchanged"} and not any(a.kept for a in unchanged)


def bag_embed(texts: list[str]) -> np.ndarray:
    """A toy embedding: counts of good/bad and of the nouns, normalized (sentiment words weigh 3x)."""
    vocab = {"good": 3.0, "bad": 3.0, "film": 1.0, "movie": 1.0, "show": 1.0}
    out = np.array([[w * t.split().count(word) for word, w in vocab.items()] for t in texts], dtype=np.float32)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_the_label_check_drops_an_edit_that_flips_the_knn_label():
    texts = ["good film", "good movie", "good show", "bad film", "bad movie", "bad show"]
    labels = ["pos", "pos", "pos", "neg", "neg", "neg"]
    # WordNet lists "bad" among the senses of "good" (good/bad as nouns of a ledger); any synonym source can
    # hand back an antonym, and replacing it flips the meaning
    params = AugmentParams(ops=["synonym", "swap"], k=3, check_rule="label")
    result = augment(texts, labels, [f"t{i}" for i in range(6)], params, embed=bag_embed,
                     synonyms=lambda w: ("bad",) if w == "good" else ())
    first = {a.operation: a for a in result.items if a.parent_id == "t0"}
    assert first["synonym"].text == "bad film"
    assert first["synonym"].knn_label == "neg" and not first["synonym"].kept
    assert first["synonym"].reason == "knn label neg != parent label pos"
    assert first["swap"].text == "film good" and first["swap"].kept and first["swap"].knn_label == "pos"
    ops = result.summary["operations"]
    # every "good" parent loses its synonym edit, every "bad" parent has none to make ("bad" has no synonym here)
    assert ops["synonym"] == {"made": 6, "kept": 0, "dropped_label_check": 3, "unchanged": 3}
    # a swap keeps the words, so it never flips the toy label; in one of the six two-word items the first
    # position was redrawn 4 times without leaving itself (EDA gives up after 3 redraws): recorded as unchanged
    assert ops["swap"] == {"made": 6, "kept": 5, "dropped_label_check": 0, "unchanged": 1}


def test_knn_vote_leaves_the_parent_out():
    originals = bag_embed(["good film", "bad film", "bad movie"])
    # the query is the first original itself: with the parent left out, only the two "bad" items can vote
    assert knn_labels(originals[:1], originals, ["pos", "neg", "neg"], k=1, exclude=[0]) == ["neg"]
    assert knn_labels(originals[:1], originals, ["pos", "neg", "neg"], k=1) == ["pos"]


def test_same_seed_same_edits_whatever_the_pool_order():
    texts = [TEXT, "the plot of this movie is funny", "what a funny movie"]
    params = AugmentParams(check=False, per_item=3, seed=3)
    one = augment(texts, ["p"] * 3, ["x", "y", "z"], params, synonyms=synonyms)
    two = augment(texts[::-1], ["p"] * 3, ["z", "y", "x"], params, synonyms=synonyms)
    assert sorted((a.id, a.text) for a in one.items) == sorted((a.id, a.text) for a in two.items)
    other = augment(texts, ["p"] * 3, ["x", "y", "z"], params.model_copy(update={"seed": 4}), synonyms=synonyms)
    assert [a.text for a in other.items] != [a.text for a in one.items]


def test_swap_and_delete_edge_cases():
    import random

    assert random_swap(["alone"], 3, random.Random(0)) == ["alone"]
    assert random_deletion(["alone"], 1.0, random.Random(0)) == ["alone"]
    kept = random_deletion(["a", "b", "c"], 1.0, random.Random(0))  # all deleted: one random word stays
    assert len(kept) == 1 and kept[0] in "abc"


def test_params_refuse_unknown_operations_and_out_of_range_values():
    with pytest.raises(ValueError, match="unknown operations"):
        AugmentParams(ops=["synonym", "backtranslate"])
    with pytest.raises(ValueError):
        AugmentParams(alpha=1.5)
    with pytest.raises(ValueError):
        AugmentParams(per_item=0)


def test_wordnet_reader_on_a_two_synset_database(tmp_path):
    # wndb(5WN) lines: offset lex_filenum ss_type w_cnt(hex) word lex_id ... p_cnt | gloss; header lines start "  "
    (tmp_path / "data.noun").write_text(
        "  1 This software and database is being provided\n"
        "03082979 06 n 03 movie 0 film 0 motion_picture 0 000 | a form of entertainment\n"
        "03083000 06 n 02 city 0 metropolis 0 000 | a large town\n")
    (tmp_path / "data.verb").write_text("01000000 29 v 02 laugh 0 express_joy 0 000 | produce laughter\n")
    (tmp_path / "data.adj").write_text("00000001 00 s 02 funny(a) 0 amusing 0 000 | arousing laughter\n")
    (tmp_path / "data.adv").write_text("")
    wn = WordNetSynonyms(parse_wordnet(tmp_path))
    assert wn("movie") == ("film", "motion picture")
    assert wn("movies") == ("movie", "film", "motion picture")  # morphy: movies -> movie (noun rule s -> "")
    assert wn("laughing") == ("laugh", "express joy")  # verb rule ing -> ""
    assert wn("funny") == ("amusing",)  # the (a) position marker is not part of the lemma
    assert wn("table") == ()


def test_check_is_skipped_and_said_so_with_one_label():
    result = augment(["good film", "good movie"], ["pos", "pos"], ["a", "b"], AugmentParams(ops=["swap"]),
                     embed=bag_embed)
    assert result.summary["note"] == "label check skipped: it needs at least two items and two labels"
    assert all(a.knn_label is None for a in result.items)


def test_flow_artifact_lists_operations_with_kept_and_dropped():
    from flows.augment import render_markdown

    result = augment(["good film", "bad film", "good movie", "bad movie"], ["pos", "neg", "pos", "neg"],
                     list("abcd"), AugmentParams(ops=["synonym", "swap"], k=1), embed=bag_embed,
                     synonyms=lambda w: ("bad",) if w == "good" else ())
    text = render_markdown(result.summary | {"unlabelled": 0, "quarantined": 0, "out": "o.jsonl",
                                             "dropped_file": "o.dropped.jsonl", "written": 4 + result.summary["kept"]})
    assert "| synonym | 4 | 0 | 2 | 2 |" in text  # good -> bad flips both "good" items; "bad" has no synonym
    assert "| operation | made | kept | dropped by label check | unchanged |" in text


def test_flip_rule_keeps_edits_of_a_parent_already_among_another_label():
    # "good show" is labelled neg but sits among pos items: its own vote (itself left out) is already pos, so the
    # "label" rule drops every edit of it, even a swap that changes nothing the embedding sees; "flip" keeps it
    # and still drops the good -> bad edit of "good film", whose own vote was right
    texts = ["good film", "good movie", "good show", "bad film", "bad movie"]
    labels = ["pos", "pos", "neg", "neg", "neg"]
    synonyms = lambda w: ("bad",) if w == "good" else ()  # noqa: E731
    results = {rule: augment(texts, labels, list("abcde"), AugmentParams(ops=["synonym", "swap"], k=1,
                                                                      check_rule=rule),
                             embed=bag_embed, synonyms=synonyms) for rule in ("label", "flip")}
    edit = {rule: {(a.parent_id, a.operation): a for a in r.items} for rule, r in results.items()}
    assert edit["label"][("c", "swap")].text == "show good" and not edit["label"][("c", "swap")].kept
    assert edit["flip"][("c", "swap")].kept and edit["flip"][("c", "swap")].knn_label == "pos"
    assert edit["flip"][("a", "synonym")].text == "bad film" and not edit["flip"][("a", "synonym")].kept
