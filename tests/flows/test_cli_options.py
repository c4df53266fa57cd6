"""Options generated from the flows' and configs' fields (flows.cli_options): defaults cannot drift from the models."""

from __future__ import annotations

import argparse

import pytest
from pydantic_core import PydanticUndefined

from flows.cli_options import UNDESCRIBED, add_options, default_of, fields_of


def generated_commands() -> dict[str, argparse.ArgumentParser]:
    from flows.cli import OPTIONS, build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {name: sub.choices[name] for name in OPTIONS}


@pytest.fixture(scope="module")
def commands():
    return generated_commands()


def test_every_cli_default_is_its_models_default(commands):
    checked = 0
    for command, parser in commands.items():
        actions = {a.dest: a for a in parser._actions}
        assert parser.generated_options, command
        for opt in parser.generated_options:
            action, default = actions[opt.name], default_of(opt.info)
            assert UNDESCRIBED not in action.help, (command, opt.flag)
            if opt.from_config:  # curate: the config file's value applies unless the flag is given
                assert action.default is argparse.SUPPRESS, (command, opt.flag)
            elif default is not PydanticUndefined and not action.required:
                assert action.default == default, (command, opt.flag, action.default, default)
                checked += 1
    assert checked >= 60  # every optional, non-config option of the ten generated commands


def test_flows_that_mirror_a_config_state_the_same_defaults():
    """augment_pool, mix_corpus and prompt_search take their model's fields one by one (the Prefect form shows
    them flat); their signature's defaults must be the model's."""
    from curation.steps.mix import MixConfig
    from evals.prompt_search import SearchConfig
    from flows.augment import augment_pool
    from flows.mix import mix_corpus
    from flows.prompt_search import prompt_search
    from selection.augment import AugmentParams

    for flow, model in ((augment_pool, AugmentParams), (mix_corpus, MixConfig), (prompt_search, SearchConfig)):
        flow_fields, model_fields = fields_of(flow), fields_of(model)
        shared = set(flow_fields) & set(model_fields)
        assert len(shared) >= 5, flow.name
        for name in shared:
            assert default_of(flow_fields[name]) == default_of(model_fields[name]), (flow.name, name)


def test_a_field_becomes_a_typed_option_with_its_range_and_default():
    from pydantic import BaseModel, Field

    from core.config_types import Fraction, PositiveInt

    class Settings(BaseModel):
        ngram: PositiveInt = Field(5, description="shingle size")
        share: Fraction = Field(0.25, description="a share")
        mode: str = Field("fast", description="how")
        tags: list[str] = Field(default_factory=lambda: ["a", "b"], description="tags")
        check: bool = Field(True, description="check it")

    parser = argparse.ArgumentParser()
    options = add_options(parser, Settings)
    help_text = parser.format_help()
    assert "shingle size; >= 1; default: 5" in help_text and "a share; in [0, 1]; default: 0.25" in help_text
    assert options.values(parser.parse_args([])) == Settings().model_dump()
    args = parser.parse_args(["--ngram", "7", "--tags", "x", "y", "--no-check"])
    assert options.values(args) == {"ngram": 7, "share": 0.25, "mode": "fast", "tags": ["x", "y"], "check": False}
    with pytest.raises(KeyError, match="not \\['default'\\]"):  # a spelling never restates a default
        add_options(argparse.ArgumentParser(), Settings, spelling={"ngram": {"default": 3}})


def test_curate_help_states_the_default_pipeline_from_default_steps(commands):
    """The C4 setting the issue found stated in three places: the help reads it from default_steps()."""
    from curation.steps import default_steps

    text = " ".join(commands["curate"].format_help().split())
    steps = [c.step for c in default_steps()]
    positions = [text.index(f" {name}", text.index("Default steps")) for name in steps]
    assert positions == sorted(positions)
    assert "c4_quality (terminal-punctuation rule off, >= 5 sentences, >= 3 words a line)" in text
    assert "minhash (5-gram shingles, 112 perms = 14 bands x 8 rows)" in text
