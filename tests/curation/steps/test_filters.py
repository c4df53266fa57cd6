"""Heuristic rules on real text (C4, wikitext) and on minimal counter-examples, one per drop reason."""

import json

import polars as pl
import pytest

from curation.steps.c4 import C4QualityConfig, C4QualityFilter
from curation.steps.fineweb import FineWebQualityConfig, FineWebQualityFilter
from curation.steps.gopher import GopherQualityConfig, GopherQualityFilter, GopherRepetitionConfig, GopherRepetitionFilter
from tests.conftest import shared

PROSE = (
    "The committee met on Tuesday to discuss the budget for the coming year. Members agreed that the library "
    "should have more funding, and that the park needs new benches. The chair said she would write to the council "
    "with the proposal. Several residents spoke in favour of the plan, and one asked about the cost of repairs to "
    "the old bridge. The meeting ended with a vote, and the motion passed by a wide margin."
)


@pytest.fixture(scope="module")
def c4_docs():
    with open(shared("web", "llamafactory_c4_demo.jsonl")) as fh:
        return [json.loads(line)["text"] for line in fh]


def test_gopher_quality_keeps_prose_and_names_each_failure():
    f = GopherQualityFilter(GopherQualityConfig())
    assert f.check(PROSE) is None
    assert f.check("too short to be a document") == "gopher_short_doc"
    assert f.check(PROSE + " #tag" * 20) == "gopher_too_many_hashes"
    assert f.check("\n".join(f"• committee meeting number {i} with the library and council" for i in range(60))) == "gopher_too_many_bullets"
    assert f.check(" ".join(["lorem", "ipsum", "dolor", "sitamet"] * 20)) == "gopher_too_few_stop_words"
    assert f.check(" ".join(["12345"] * 60)) == "gopher_below_alpha_threshold"


def test_gopher_repetition_catches_repeated_lines_and_ngrams():
    f = GopherRepetitionFilter(GopherRepetitionConfig())
    assert f.check(PROSE) is None
    menu = "\n".join(["Home | About | Contact", "Some words of text.", "Home | About | Contact", "Other words here."] * 3)
    assert f.check(menu) == "gopher_dup_line_frac"
    assert f.check("buy now " * 50) == "gopher_top_2_gram"


def test_c4_rules_and_line_cleanup():
    f = C4QualityFilter(C4QualityConfig())
    text = PROSE.replace(". ", ".\n") + "\nPlease enable JavaScript to view this page.\nMenu"
    reason, cleaned = f.check(text)
    assert reason is None and "JavaScript" not in cleaned and "Menu" not in cleaned
    assert f.check(PROSE + "\nLorem ipsum dolor sit amet.") == "c4_lorem_ipsum"
    assert f.check(PROSE + "\nThe settings were {a: 1} at the time.") == "c4_curly_bracket"
    assert f.check("One sentence only.") == "c4_too_few_sentences"


def test_fineweb_rules():
    f = FineWebQualityFilter(FineWebQualityConfig())
    assert f.check(PROSE) is None
    assert f.check("\n".join(f"menu entry {i}" for i in range(20))) == "fineweb_line_punct_ratio"
    assert f.check("\n".join(["Short.", "Tiny.", "Also short.", PROSE])) == "fineweb_short_line_ratio"


def test_rules_on_real_c4_sample(c4_docs):
    """C4 documents already passed C4's own rules; most pass Gopher quality too (regression counts)."""
    batch = pl.DataFrame({"id": [str(i) for i in range(len(c4_docs))], "text": c4_docs,
                          "metadata": ["{}"] * len(c4_docs), "source": [f"c4:{i}" for i in range(len(c4_docs))]})
    kept, removed = GopherQualityFilter(GopherQualityConfig()).run(batch)
    assert kept.height + removed.height == 300
    assert removed["reason"].value_counts().sort("reason").rows() == EXPECTED_C4_GOPHER
    assert set(removed.columns) >= {"step", "reason", "duplicate_of", "cluster_id"}


# Re-derived when the rules were brought to the paper (issue 13): 28 -> 29 short documents because a URL is one word
# now (c4 doc "nortonloginn ... https://diggo.wikitechguru.com ..." has 46 words, it had 50+ when the URL was split
# into 6); 0 -> 2 "too few stop words" because the rule asks for two *distinct* stop words ("Access All Records Of
# 213-484-0480 Now!" x20 has only "of"; an all-caps listing has only "with"), as Gopher says.
EXPECTED_C4_GOPHER = [("gopher_short_doc", 29), ("gopher_too_few_stop_words", 2), ("gopher_too_many_ellipsis", 1)]
