"""Steps are registered once: the config names the step (``step=``), ``register_step`` files the class under it,
and the README's "How to add a step" example works as written."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import polars as pl
import pytest
from pydantic import TypeAdapter, ValidationError

from curation.steps import STEP_CLASSES, build_step, step_config_union
from curation.steps.base import StepConfig, register_step

README = Path(__file__).resolve().parents[3] / "README.md"


@pytest.fixture
def readme_step():
    """The README example, executed as the module a newcomer would save; unregistered afterwards."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### How to add a step"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    module = types.ModuleType("curation.steps.min_chars")
    sys.modules[module.__name__] = module
    exec(compile(code, "README.md: How to add a step", "exec", dont_inherit=True), module.__dict__)
    yield module.__dict__
    STEP_CLASSES.pop("min_chars", None)
    del sys.modules[module.__name__]


def test_every_step_is_registered_under_its_configs_one_name():
    # 18 steps: the 8 of the default pipeline and 10 optional ones (README "Steps" and "Common Crawl in")
    assert len(STEP_CLASSES) == 18
    for name, cls in STEP_CLASSES.items():
        assert cls.name == name == cls.config_class.model_fields["step"].default


def test_the_readme_example_registers_and_runs(readme_step):
    config_class, step_class = readme_step["MinCharsConfig"], readme_step["MinChars"]
    assert STEP_CLASSES["min_chars"] is step_class and step_class.name == "min_chars"
    # a config file's entry picks the new config through the union of registered configs
    (config,) = TypeAdapter(list[step_config_union()]).validate_python([{"step": "min_chars", "min_chars": 12}])
    assert isinstance(config, config_class) and config.min_chars == 12
    with pytest.raises(ValidationError):
        config_class(min_chars=0)
    batch = pl.DataFrame({"id": ["a", "b", "c"], "text": ["short", "long enough text", "x" * 12]})
    kept, removed = build_step(config).run(batch)
    # "short" (5 characters) is under 12; the 16- and 12-character texts stay
    assert kept["id"].to_list() == ["b", "c"]
    assert removed["id"].to_list() == ["a"] and removed["reason"].to_list() == ["min_chars_too_short"]
    assert removed["step"].to_list() == ["min_chars"]


def test_a_step_name_is_taken_once(readme_step):
    class OtherConfig(StepConfig, step="min_chars"):
        pass

    with pytest.raises(ValueError, match="already registered by MinChars"):
        register_step(OtherConfig)(type("Other", (readme_step["MinChars"].__mro__[1],), {}))
    with pytest.raises(ValueError, match="names no step"):
        register_step(StepConfig)
