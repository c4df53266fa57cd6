"""Configs that parse but make no sense are refused before a run, naming the field, the value and the range.

Cases from ../shared/cases (config-ranges, language-codes) and other values of the same kinds: zero or negative
sizes, fractions outside [0, 1], min > max, bands x rows > num_perm, language codes lid.176 cannot predict.
"""

from __future__ import annotations

import math

import polars as pl
import pytest

from curation.config import ConfigError, CurationConfig
from core.config_types import check_min_max
from core.languages import LID176_LABELS, check_language, suggest_language
from curation.steps.langid import LanguageId, LanguageIdConfig
from tests.conftest import shared


def _refused(data: dict) -> str:
    with pytest.raises(ConfigError) as info:
        CurationConfig.checked(data, "cfg.yaml")
    message = str(info.value)
    assert "\n" not in message  # one line, the CLI prints it as is
    return message


@pytest.mark.parametrize("case,field,value,allowed", [
    ("f-zero-ngram.yaml", "steps[0] (minhash).ngram", "0", "must be >= 1"),
    ("e-zero-bands.yaml", "steps[0] (minhash).bands", "0", "must be >= 1"),
])
def test_case_configs_are_refused_naming_field_value_and_range(case, field, value, allowed):
    path = shared("..", "cases", "config-ranges", case)
    with pytest.raises(ConfigError) as info:
        CurationConfig.load(path)
    assert str(info.value) == f"{path}: {field} = {value}: {allowed}"


@pytest.mark.parametrize("step,expected", [
    ({"step": "minhash", "bands": 16, "rows": 8},  # 128 band rows from 112 permutations: rows would be invented
     "cfg.yaml: steps[0] (minhash): bands x rows = 16 x 8 = 128 exceeds num_perm = 112: must be bands x rows <= num_perm"),
    ({"step": "minhash", "rows": -1}, "cfg.yaml: steps[0] (minhash).rows = -1: must be >= 1"),
    ({"step": "minhash", "num_perm": 0}, "cfg.yaml: steps[0] (minhash).num_perm = 0: must be >= 1"),
    ({"step": "minhash", "seed": -1}, "cfg.yaml: steps[0] (minhash).seed = -1: must be >= 0"),
    ({"step": "minhash", "verify_threshold": -0.1}, "cfg.yaml: steps[0] (minhash).verify_threshold = -0.1: must be in [0, 1]"),
    ({"step": "langid", "min_score": 1.5}, "cfg.yaml: steps[0] (langid).min_score = 1.5: must be in [0, 1]"),
    ({"step": "langid", "languages": []}, "cfg.yaml: steps[0] (langid).languages = []: must have at least 1 item(s)"),
    ({"step": "normalize", "max_blank_lines": -1}, "cfg.yaml: steps[0] (normalize).max_blank_lines = -1: must be >= 0"),
    ({"step": "line_dedup", "min_docs": 1}, "cfg.yaml: steps[0] (line_dedup).min_docs = 1: must be >= 2"),
    ({"step": "line_dedup", "min_line_chars": -5}, "cfg.yaml: steps[0] (line_dedup).min_line_chars = -5: must be >= 0"),
    ({"step": "decontaminate", "evals": [{"path": str(shared("math", "gsm8k_test.jsonl"))}], "ngram": 0},
     "cfg.yaml: steps[0] (decontaminate).ngram = 0: must be >= 1"),
    ({"step": "decontaminate", "evals": []}, "cfg.yaml: steps[0] (decontaminate).evals = []: must have at least 1 item(s)"),
    ({"step": "quality", "model_path": "m.bin", "threshold": 2}, "cfg.yaml: steps[0] (quality).threshold = 2: must be in [0, 1]"),
    ({"step": "quality", "model_path": "m.bin", "top_percentile": 0},
     "cfg.yaml: steps[0] (quality).top_percentile = 0: must be in (0, 100]"),
    ({"step": "minhash", "ngramm": 3}, "cfg.yaml: steps[0] (minhash).ngramm = 3: unknown field (check its spelling)"),
    # the heuristic filters use the same types; an item of a tuple gets its own range, not its container's
    ({"step": "gopher_repetition", "top_n_grams": [[0, 0.2]]},
     "cfg.yaml: steps[0] (gopher_repetition).top_n_grams[0][0] = 0: must be >= 1"),
    ({"step": "gopher_repetition", "dup_n_grams": [[5, 1.2]]},
     "cfg.yaml: steps[0] (gopher_repetition).dup_n_grams[0][1] = 1.2: must be in [0, 1]"),
    ({"step": "gopher_quality", "min_doc_words": 500, "max_doc_words": 50},
     "cfg.yaml: steps[0] (gopher_quality): min_doc_words = 500 is greater than max_doc_words = 50: "
     "must be min_doc_words <= max_doc_words"),
    ({"step": "fineweb_quality", "short_line_thr": -1}, "cfg.yaml: steps[0] (fineweb_quality).short_line_thr = -1: must be in [0, 1]"),
])
def test_step_values_out_of_range_are_refused(step, expected):
    assert _refused({"steps": [step]}) == expected


@pytest.mark.parametrize("data,expected", [
    ({"drop_alarm": 1.5}, "cfg.yaml: drop_alarm = 1.5: must be in [0, 1]"),
    ({"drop_alarm": math.nan}, "cfg.yaml: drop_alarm = nan: must be in [0, 1]"),
    ({"shard_docs": 0}, "cfg.yaml: shard_docs = 0: must be >= 1"),
    ({"partitions": 5000}, "cfg.yaml: partitions = 5000: must be in [1, 4096]"),
    ({"reader": {"batch_size": -1}}, "cfg.yaml: reader.batch_size = -1: must be >= 1"),
])
def test_run_values_out_of_range_are_refused(data, expected):
    assert _refused(data) == expected


def test_every_error_is_reported_at_once():
    message = _refused({"steps": [{"step": "minhash", "ngram": 0}, {"step": "langid", "min_score": -1}]})
    assert message == ("cfg.yaml: steps[0] (minhash).ngram = 0: must be >= 1; "
                       "cfg.yaml: steps[1] (langid).min_score = -1: must be in [0, 1]")


def test_min_above_max_names_both_fields():
    class Pair:
        min_doc_words, max_doc_words = 500, 50

    with pytest.raises(ValueError, match=r"^min_doc_words = 500 is greater than max_doc_words = 50: "
                                         r"must be min_doc_words <= max_doc_words$"):
        check_min_max(Pair(), "min_doc_words", "max_doc_words")
    Pair.max_doc_words = None  # an unset bound never conflicts
    check_min_max(Pair(), "min_doc_words", "max_doc_words")


def test_lid176_labels_are_the_models_labels():
    from curation.classifiers.fasttext_models import lid176_path, load_fasttext

    labels = sorted(label.removeprefix("__label__") for label in load_fasttext(lid176_path()).get_labels())
    assert len(labels) == 176
    assert labels == sorted(LID176_LABELS)


def test_language_code_case_is_refused_with_hint_and_list():
    path = shared("..", "cases", "language-codes", "config-eng.yaml")
    with pytest.raises(ConfigError) as info:
        CurationConfig.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: steps[0] (langid).languages[0] = 'eng': not a lid.176 language code; "
                              "did you mean 'en' (English)? valid codes (176): af, als, am,")
    assert message.endswith(", yue, zh")


@pytest.mark.parametrize("given,hint", [
    ("eng", "en"), ("fra", "fr"), ("fre", "fr"), ("French", "fr"), ("german", "de"), ("Chinese", "zh"), ("zho", "zh"),
    ("cmn", "zh"), ("jpn", "ja"), ("en-US", "en"), ("zh_CN", "zh"), ("EN", "en"), ("nb", "no"), ("iw", "he"),
    ("Cebuano", "ceb"), ("tha", "th"), ("klingonese", None), ("xx", None),
])
def test_hints_for_three_letter_codes_names_and_region_tags(given, hint):
    assert suggest_language(given) == hint
    with pytest.raises(ValueError, match=f"did you mean '{hint}'" if hint else r"^not a lid.176 language code; valid"):
        check_language(given)


def test_french_case_keeps_the_three_french_documents():
    config = CurationConfig.load(shared("..", "cases", "language-codes", "config-fr.yaml"))
    assert config.steps[0].languages == ("fr",)
    batch = pl.read_ndjson(shared("..", "cases", "language-codes", "input.jsonl"))
    kept, removed = LanguageId(config.steps[0]).run(batch)
    # the input holds 3 French and 3 English sentences; lid.176 labels each French one `fr` above 0.65
    assert kept["id"].to_list() == ["fr-0", "fr-1", "fr-2"]
    assert removed["reason"].to_list() == ["wrong_language"] * 3


def test_ui_form_gets_the_ranges_and_refuses_the_same_values():
    from prefect.exceptions import ParameterTypeError

    from flows.curate import curate_corpus

    defs = curate_corpus.parameters.definitions
    assert defs["MinHashConfig"]["properties"]["ngram"]["minimum"] == 1
    assert defs["LanguageIdConfig"]["properties"]["min_score"]["maximum"] == 1
    assert len(defs["LanguageIdConfig"]["properties"]["languages"]["items"]["enum"]) == 176
    assert defs["CurationConfig"]["properties"]["drop_alarm"]["maximum"] == 1
    for bad in ({"step": "minhash", "ngram": 0}, {"step": "langid", "languages": ["eng"]}):
        with pytest.raises(ParameterTypeError):
            curate_corpus.validate_parameters({"inputs": ["x.jsonl"], "out_dir": "out", "config": {"steps": [bad]}})


@pytest.mark.parametrize("args,expected", [
    (["--config", "f-zero-ngram.yaml"], "f-zero-ngram.yaml: steps[0] (minhash).ngram = 0: must be >= 1"),
    (["--config", "e-zero-bands.yaml"], "e-zero-bands.yaml: steps[0] (minhash).bands = 0: must be >= 1"),
    (["--drop-alarm", "-0.5"], "options: drop_alarm = -0.5: must be in [0, 1]"),
    (["--batch-size", "0"], "options: reader.batch_size = 0: must be >= 1"),
])
def test_cli_refuses_with_one_line_and_exit_code_2(tmp_path, capsys, monkeypatch, args, expected):
    from flows.cli import main

    cases = shared("..", "cases", "config-ranges")
    monkeypatch.chdir(cases)
    assert main(["curate", "input.jsonl", "--out", str(tmp_path / "out"), *args]) == 2
    err = capsys.readouterr().err
    assert err == f"winnow curate: error: {expected}\n"
    assert not (tmp_path / "out").exists()  # refused before anything ran


def test_select_and_compress_settings_are_ranged():
    from pydantic import ValidationError

    from core.config_types import describe
    from selection import SelectParams
    from prompts.compress import CompressConfig, check_budget

    for make, expected in [
        (lambda: SelectParams(semdedup_eps=1.5), "semdedup_eps = 1.5: must be in [0, 1]"),
        (lambda: SelectParams(deita_threshold=2), "deita_threshold = 2: must be in [-1, 1]"),
        (lambda: SelectParams(max_per_group=0), "max_per_group = 0: must be > 0"),
        (lambda: SelectParams(max_per_group=2.5),
         "max_per_group = 2.5: a cap of 2.5: a count must be a whole number (or a fraction of the budget < 1)"),
        (lambda: SelectParams(deita_score="size"), "deita_score = 'size': input should be 'ifd', 'quality' or 'length'"),
        (lambda: CompressConfig(max_fine_drop=-0.2), "max_fine_drop = -0.2: must be in [0, 1]"),
        (lambda: CompressConfig(segment_tokens=0), "segment_tokens = 0: must be >= 1"),
    ]:
        with pytest.raises(ValidationError) as info:
            make()
        assert describe(info.value) == expected
    for rate, tokens in [(math.nan, None), (0.0, None), (1.5, None), (None, 0), (None, -3)]:
        with pytest.raises(ValueError, match="rate|target_tokens"):
            check_budget(rate, tokens)


@pytest.mark.parametrize("argv,expected", [
    (["curate", "in.jsonl", "--out", "o", "--workers", "0"], "argument --workers: 0: must be >= 1"),
    # options generated from a config (flows.cli_options) are checked by the config itself, as a YAML value is
    (["train-quality", "--positive", "p", "--negative", "n", "--out", "o", "--epoch", "0"], "epoch = 0: must be >= 1"),
    (["eval", "--raw", "r", "--curated", "c", "--token-budget", "-5"], "options: token_budget = -5: must be >= 1"),
    (["eval", "--raw", "r", "--curated", "c", "--concurrency", "two"], "argument --concurrency: 'two' is not a whole number"),
])
def test_cli_counts_are_refused_in_one_line(capsys, argv, expected):
    from flows.cli import main

    try:
        code = main(argv)
    except SystemExit as exit:  # argparse's own refusal
        code = exit.code
    assert code == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith(f"error: {expected}")


def test_quality_training_settings_are_ranged():
    from pydantic import ValidationError

    from curation.classifiers.quality_model import QualityTrainingConfig
    from core.config_types import describe

    for kwargs, expected in [({"holdout_fraction": 1.0}, "holdout_fraction = 1.0: must be in (0, 1)"),
                             ({"lr": 0}, "lr = 0: must be > 0"), ({"word_ngrams": 0}, "word_ngrams = 0: must be >= 1")]:
        with pytest.raises(ValidationError) as info:
            QualityTrainingConfig(**kwargs)
        assert describe(info.value) == expected


# --- values refused before the run that used to pass validation and fail mid-run (issue 15 re-run) ---------------

@pytest.mark.parametrize("step,expected", [
    # /tmp/cases-out/config-ranges/*.yaml: accepted, then the run crashed after `read` without naming the field
    ({"step": "tokenize", "tokenizer": "bogus"},
     "cfg.yaml: steps[0] (tokenize).tokenizer = 'bogus': not a known tokenizer and no such file: give 'smollm2' or "
     "a path to a tokenizers JSON file (tokenizer.json)"),
    ({"step": "mix", "by": "lang", "budget": "4", "tokenizer": "bogus"},
     "cfg.yaml: steps[0] (mix).tokenizer = 'bogus': not a known tokenizer and no such file: give 'words', 'smollm2' "
     "or a path to a tokenizers JSON file (tokenizer.json)"),
    ({"step": "decontaminate", "evals": [{"path": str(shared("math", "gsm8k_test.jsonl"))},
                                         {"path": "/nonexistent/eval.jsonl"}]},
     "cfg.yaml: steps[0] (decontaminate).evals[1].path = '/nonexistent/eval.jsonl': no such eval file "
     "(a JSONL file, .gz or .zst, one eval item a line)"),
    # pydantic's lax mode read `ngram: true` as 1
    ({"step": "minhash", "ngram": True},
     "cfg.yaml: steps[0] (minhash).ngram = True: must be a whole number, not a boolean (true)"),
    ({"step": "normalize", "max_blank_lines": False},
     "cfg.yaml: steps[0] (normalize).max_blank_lines = False: must be a whole number, not a boolean (false)"),
    ({"step": "minhash", "seed": True}, "cfg.yaml: steps[0] (minhash).seed = True: must be a whole number, not a boolean (true)"),
])
def test_values_that_used_to_fail_mid_run_are_refused(step, expected):
    assert _refused({"steps": [step]}) == expected


def test_known_tokenizers_and_files_are_accepted(tmp_path):
    tok = tmp_path / "tokenizer.json"
    tok.write_text("{}")  # an existing file is accepted here; loading it is the tokenizers library's check
    config = CurationConfig.checked({"steps": [
        {"step": "tokenize"}, {"step": "tokenize", "tokenizer": "smollm2"}, {"step": "tokenize", "tokenizer": str(tok)},
        {"step": "mix", "by": "lang", "budget": "4"}, {"step": "mix", "by": "lang", "budget": "4", "tokenizer": "smollm2"},
        {"step": "mix", "by": "lang", "budget": "4", "tokenizer": str(tok)},
    ]})
    assert [s.tokenizer for s in config.steps] == ["smollm2", "smollm2", str(tok), "words", "smollm2", str(tok)]


def test_whole_numbers_from_yaml_json_and_strings_still_pass(tmp_path):
    (tmp_path / "c.yaml").write_text("steps:\n  - step: minhash\n    ngram: 3\n    seed: 0\n")
    (tmp_path / "c.json").write_text('{"steps": [{"step": "minhash", "ngram": 3, "seed": 0}]}')
    for name in ("c.yaml", "c.json"):
        step = CurationConfig.load(tmp_path / name).steps[0]
        assert (step.ngram, step.seed) == (3, 0)
    assert CurationConfig.checked({"steps": [{"step": "minhash", "ngram": "4"}]}).steps[0].ngram == 4


@pytest.mark.parametrize("case,message", [
    ("tok-bogus.yaml", "steps[0] (tokenize).tokenizer = 'bogus': not a known tokenizer"),
    ("decontam-missing.yaml", "steps[0] (decontaminate).evals[0].path = '/nonexistent/eval.jsonl': no such eval file"),
])
def test_cli_refuses_bad_tokenizer_and_missing_eval_file_before_reading(tmp_path, capsys, monkeypatch, case, message):
    from flows.cli import main

    (tmp_path / "tok-bogus.yaml").write_text("steps:\n  - step: tokenize\n    tokenizer: bogus\n")
    (tmp_path / "decontam-missing.yaml").write_text(
        "steps:\n  - step: decontaminate\n    evals:\n      - {path: /nonexistent/eval.jsonl}\n")
    monkeypatch.chdir(shared("..", "cases", "config-ranges"))
    assert main(["curate", "input.jsonl", "--config", str(tmp_path / case), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.startswith(f"winnow curate: error: {tmp_path / case}: {message}")
    assert not (tmp_path / "out").exists()  # refused before anything ran


def test_flow_parameters_are_typed_so_the_ui_refuses_them():
    from typing import get_args

    from prefect.exceptions import ParameterTypeError

    from selection.strategies import STRATEGIES
    from flows.compress import compress_prompts
    from flows.select import DemoStrategy, SelectStrategy, select_demos, select_finetune
    from prompts.demos import DEMO_STRATEGIES

    assert get_args(SelectStrategy) == tuple(STRATEGIES) and get_args(DemoStrategy) == DEMO_STRATEGIES
    assert select_finetune.parameters.properties["strategy"]["enum"] == list(STRATEGIES)
    assert select_demos.parameters.properties["strategy"]["enum"] == list(DEMO_STRATEGIES)
    rate = compress_prompts.parameters.properties["rate"]["anyOf"][0]
    assert (rate["exclusiveMinimum"], rate["maximum"]) == (0, 1)
    assert compress_prompts.parameters.properties["target_tokens"]["anyOf"][0]["minimum"] == 1
    for flow, params in [
        (select_finetune, {"pool": ["p.jsonl"], "budget": "5", "strategy": "bogus"}),
        (select_demos, {"pool": ["p.jsonl"], "queries": ["q.jsonl"], "strategy": "bogus"}),
        (compress_prompts, {"path": "p.jsonl", "rate": 1.5}), (compress_prompts, {"path": "p.jsonl", "rate": 0}),
        (compress_prompts, {"path": "p.jsonl", "rate": math.nan}),
        (compress_prompts, {"path": "p.jsonl", "target_tokens": 0}),  # used to run silently at rate 0.5
        (compress_prompts, {"path": "p.jsonl", "target_tokens": -4}),
    ]:
        with pytest.raises(ParameterTypeError):
            flow.validate_parameters(params)
    assert select_finetune.validate_parameters({"pool": ["p"], "budget": "5", "strategy": "kcenter"})["strategy"] == "kcenter"


def test_compress_flow_passes_target_tokens_instead_of_the_default_rate(monkeypatch):
    import flows.compress

    seen = {}

    def fake_task(path, out, rate, target_tokens, config):
        seen.update(rate=rate, target_tokens=target_tokens)
        return {"prompts": 0, "unique_prompts": 0, "quarantined": 0, "original_tokens": 0, "compressed_tokens": 0,
                "ratio": 1.0, "compressor_seconds": 0.0, "dropped": [], "out": out}

    monkeypatch.setattr(flows.compress, "compress_task", fake_task)
    monkeypatch.setattr(flows.compress, "create_markdown_artifact", lambda *a, **k: None)
    monkeypatch.setattr(flows.compress, "get_run_logger", lambda: __import__("logging").getLogger("t"))
    flows.compress.compress_prompts.fn("p.jsonl", target_tokens=7)
    assert seen == {"rate": None, "target_tokens": 7}
    flows.compress.compress_prompts.fn("p.jsonl")
    assert seen == {"rate": 0.5, "target_tokens": None}
