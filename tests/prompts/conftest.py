"""Fixtures shared by the compression tests."""

from __future__ import annotations

import gzip
import json

import pytest

from tests.conftest import shared


@pytest.fixture(scope="module")
def gsm8k_prompt() -> dict:
    with gzip.open(shared("eval_mc", "gsm8k", "gold_bpb_5shot", "requests.jsonl.gz"), "rt") as f:
        context = json.loads(f.readline())["request"]["context"]
    demos, question = context.rsplit("\n\nQuestion: ", 1)
    return {"context": demos.split("\n\n"), "question": "Question: " + question}
