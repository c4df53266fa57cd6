"""The kinds of disagreement with the papers found in issue 13, each pinned with the paper's answer, plus the
compiled path (curation/rule_kernel.py) giving the same decisions as the readable ``check`` on real documents."""

import gzip
import json

import polars as pl
import pytest

from curation.rule_text import tokens_of, word_stats
from curation.steps.c4 import C4QualityConfig, C4QualityFilter, count_sentences
from curation.steps.fineweb import FineWebQualityConfig, FineWebQualityFilter
from curation.steps.gopher import GopherQualityConfig, GopherQualityFilter, GopherRepetitionConfig, GopherRepetitionFilter
from tests.conftest import shared

PROSE = (
    "The committee met on Tuesday to discuss the budget for the coming year. Members agreed that the library "
    "should have more funding, and that the park needs new benches. The chair said she would write to the council "
    "with the proposal. Several residents spoke in favour of the plan, and one asked about the cost of repairs to "
    "the old bridge. The meeting ended with a vote, and the motion passed by a wide margin."
)
SENTENCES = [s.strip() + "." for s in PROSE.split(".") if s.strip()]
gopher_rep = GopherRepetitionFilter(GopherRepetitionConfig())
gopher_q = GopherQualityFilter(GopherQualityConfig())
fineweb = FineWebQualityFilter(FineWebQualityConfig())


def test_paragraph_breaks_are_not_duplicate_short_or_unpunctuated_lines():
    # Five one-sentence paragraphs separated by blank lines: the old rule counted each blank line after the first as
    # a duplicate line (4 of 9 lines = 0.44 > 0.3) and as a short line without punctuation.
    text = "\n\n".join(SENTENCES)
    assert gopher_rep.check(text) is None
    assert fineweb.check(text) is None
    # a heading, then paragraphs, as a wikitext article is laid out
    article = " = Budget meeting = \n\n" + text.replace("\n\n", "\n \n")
    assert gopher_rep.check(article) is None


def test_whitespace_only_lines_are_not_lines_either():
    assert gopher_rep.check("\n \n\t\n".join(SENTENCES)) is None


def test_punctuation_tokens_as_spacy_counts_them():
    # FineWeb's newline/token ratio divides by spaCy's tokens: a mark per token, runs of periods or hyphens as one
    assert tokens_of("_____ --Harlan !!") == ["_"] * 5 + ["--", "Harlan", "!", "!"]
    assert word_stats("don't stop well-known a.B 10:30pm").n_tokens == 2 + 1 + 3 + 3 + 1


def test_separator_lines_are_not_ngrams():
    # a line of 132 dashes and a dotted leader were the "most frequent 2-gram" (35-44 % of the text) when each
    # punctuation mark was a token; word n-grams skip punctuation runs, and a run is one token
    text = PROSE + "\n" + "-" * 132 + "\n" + "Contents " + "." * 40 + " 5"
    assert gopher_rep.check(text) is None
    assert tokens_of("-" * 132) == ["-" * 132]


def test_links_emails_and_paths_are_one_word():
    assert tokens_of("see https://example.org/a/b?c=1). mail me@example.org, or /usr/local/bin") == [
        "see", "https://example.org/a/b?c=1", ")", ".", "mail", "me@example.org", ",", "or", "/usr/local/bin"]
    # 10 links with a word each: 20 words (short), not 80 words of URL fragments with a mean length under 10
    links = "\n".join(f"Link https://www.example.com/page/{i}/index.html" for i in range(10))
    assert word_stats(links).n_words == 20
    assert gopher_q.check(links) == "gopher_short_doc"


def test_symbol_soup_is_not_prose():
    # "##@@" and "%%^^" are words without a letter: 2 of 5 words per repeat (60 % < 80 %), and the hashes alone
    # are 40 per 60 words; either rule removes it (hashes come first in Gopher's order)
    soup = " ".join(["the ##@@ cat %%^^ sat"] * 20)
    assert gopher_q.check(soup) == "gopher_too_many_hashes"
    soup = " ".join(["the @@!! cat %%^^ sat with"] * 20)
    assert gopher_q.check(soup) == "gopher_below_alpha_threshold"
    # ordinary punctuation is attached to words and does not count against prose (datatrove counts each comma)
    assert gopher_q.check(PROSE) is None


def test_stop_words_are_counted_as_distinct_words():
    # a Polish page with 38 times "to" and no other listed word: one distinct stop word, not 38
    polish = " ".join(["to jest strona to kraj to dom"] * 13)
    assert polish.split().count("to") == 39
    assert gopher_q.check(polish) == "gopher_too_few_stop_words"
    assert gopher_q.check("The " + PROSE) is None  # case-insensitive ("The" counts as "the")


def test_bullets_include_dashes():
    lines = "\n".join(f"- item {i} of the list with the words and more" for i in range(60))
    assert gopher_q.check(lines) == "gopher_too_many_bullets"


def test_fineweb_terminal_punctuation_is_any_scripts_and_not_quotes():
    ideographic = "\n".join(f"Line {i} of the text ends with an ideographic full stop here。" for i in range(6))
    assert fineweb.check(ideographic) is None
    quoted = "\n".join(f'He said "line number {i} is long enough to count"' for i in range(20))
    # quotes are not terminal punctuation for FineWeb (its authors' set); every line ends in one here
    assert fineweb.check(quoted) == "fineweb_line_punct_ratio"


def test_lines_split_on_newline_only():
    # \r, \x0b, \x0c and \u2028 do not end a line for the Gopher repetition and FineWeb rules
    text = "\u2028".join(SENTENCES * 2)
    assert gopher_rep.check(text) != "gopher_dup_line_frac"


def test_c4_counts_a_lines_last_sentence_and_skips_abbreviations():
    assert count_sentences("One. Two. Three without a mark") == 3
    assert count_sentences("Dr. Smith met H. gammarus in the U.S. on Monday.") == 1
    assert count_sentences("Wait... what?") == 1
    assert count_sentences('He said "stop." Then he left.') == 2
    assert count_sentences("Costs rose to 3 @.@ 5 million . Then fell .") == 2
    c4 = C4QualityFilter(C4QualityConfig(filter_no_terminal_punct=False, min_num_sentences=3, min_words_per_line=3))
    assert c4.check("First sentence here. Second one here. Third sentence has no mark")[0] is None


def test_c4_paper_defaults():
    # Raffel et al. 2020, 2.2 and tensorflow_datasets' c4_utils: pages with fewer than 3 sentences go, lines need 5
    # words (datatrove's defaults swap them); a line ending in an apostrophe is not terminated
    c = C4QualityConfig()
    assert (c.min_num_sentences, c.min_words_per_line) == (3, 5)
    reason, text = C4QualityFilter(c).check(PROSE.replace(". ", ".\n") + "\nThe books of the students'")
    assert reason is None and "students'" not in text


@pytest.fixture(scope="module")
def real_docs():
    docs = [json.loads(line)["text"] for line in gzip.open(shared("web", "dolma_CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"), "rt")]
    docs += [json.loads(line)["text"] for line in open(shared("web", "llamafactory_c4_demo.jsonl"))]
    wiki = open(shared("lm", "wikitext-2_valid.txt")).read()
    docs += [p for p in wiki.split("\n \n") if p.strip()][:400]
    docs += ["", " ", "\n\n", "....", "x ... y …", "#### ## #", "  • a\n- b\n\n* c", "a\r\nb\x0cc\u2028d",
             "_____\nlist --Harlan end.-- ***** ===== ----- !!! don't well-known a.B x:y 3-4 it's (see ...)"]
    return [d for d in docs if d]


@pytest.mark.parametrize("make", [
    lambda: GopherQualityFilter(GopherQualityConfig()),
    lambda: GopherRepetitionFilter(GopherRepetitionConfig()),
    lambda: FineWebQualityFilter(FineWebQualityConfig()),
    lambda: C4QualityFilter(C4QualityConfig()),
    lambda: C4QualityFilter(C4QualityConfig(filter_no_terminal_punct=False, min_num_sentences=5, min_words_per_line=3)),
])
def test_compiled_path_decides_as_check(make, real_docs):
    f = make()
    reasons, texts = f.decide(pl.Series("text", real_docs))
    expected = [f.check(t) for t in real_docs]
    assert reasons == [e[0] if isinstance(e, tuple) else e for e in expected]
    if texts is not None:  # C4's cleaned text of each kept document
        assert [t for t, r in zip(texts, reasons) if r is None] == [e[1] for e in expected if isinstance(e, tuple)]


def test_unsegmented_scripts_pass_through_with_a_note():
    zh = [json.loads(line)["text"] for line in open(shared("multilingual", "zh.jsonl"))][:50]
    batch = pl.DataFrame({"id": [str(i) for i in range(len(zh))], "text": zh, "metadata": ["{}"] * len(zh),
                          "source": ["t"] * len(zh)})
    for f in (gopher_q, gopher_rep, fineweb, C4QualityFilter(C4QualityConfig())):
        kept, removed = f.run(batch)
        assert removed.height == 0
        assert kept["unjudged"].to_list() == [f"{f.name}:unsegmented_script"] * len(zh)
    # with a langid column, a language outside gopher_quality's languages (English stop words) is noted by name
    fr = batch.with_columns(pl.lit("fr").alias("lang"), pl.Series("text", [PROSE] * len(zh)))
    kept, removed = gopher_q.run(fr)
    assert removed.height == 0 and set(kept["unjudged"]) == {"gopher_quality:fr"}


def test_configs_that_would_remove_everything_are_refused():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="min_stop_words = 2 needs at least that many distinct stop_words"):
        GopherQualityConfig(stop_words=())
    with pytest.raises(ValidationError, match="max_word_length = 0: must be -1"):
        C4QualityConfig(max_word_length=0)
    assert GopherQualityConfig(stop_words=(), min_stop_words=0).min_stop_words == 0
