"""``compress(prompt, rate=... | target_tokens=...) -> CompressedPrompt``: coarse-to-fine prompt compression.

1. Split into instruction / context items / question. Instruction and question are never touched; inside the
   context, numbers (with their units), versions, dates, IDs, URLs, code and ``<keep>`` spans are protected
   (``protect``).
2. Coarse (budget controller): drop the least relevant context items while the rest would still need the
   token-level step to cut more than ``max_fine_drop`` of its words (``coarse``). An item holding hard protected
   spans (``<keep>`` blocks, code, URLs, e-mails, versions, numbers with units, dates, IDs) is never lost: it is
   reduced to those spans, byte for byte, joined by spaces (``CompressedPrompt.spans_of_dropped``).
3. Fine: iterative self-information pruning with SmolLM2 of the remaining free words to the exact budget
   (``token_level``), then measured again with the target tokenizer and corrected if the ratio is off. Words
   are the units in spaced scripts; in Chinese, Japanese and Thai each character is one, so the budget is met
   there too. ``CompressConfig(method="classifier")`` scores the words with a keep/drop classifier distilled from
   this step instead (``classifier``, LLMLingua-2 style): no SmolLM2 forward pass, same budget loop.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import numpy as np
from pydantic import ConfigDict, Field
from pydantic.dataclasses import dataclass as pydantic_dataclass

from core.config_types import Fraction, PositiveInt, named_in_errors

from prompts.compress.protect import split_protected, strip_markers
from prompts.compress.token_level import choose, join, score_units, units_of


@dataclass
class CompressedPrompt:
    text: str
    original_tokens: int
    compressed_tokens: int
    ratio: float                   # compressed / original tokens (the requested ``rate`` is the same measure)
    kept_mask: list[bool]          # per unit (word; character where a script has no spaces) of kept items, in order
    latency_s: float
    dropped_items: list[int] = field(default_factory=list)  # context indices (0-based) the coarse step dropped
    spans_of_dropped: list[list[str]] = field(default_factory=list)  # per dropped item: the hard spans kept
    note: str = ""


@named_in_errors
@pydantic_dataclass(config=ConfigDict(extra="forbid"))
class CompressConfig:
    """Validated on construction: the CLI, Python callers and the Prefect UI form share these ranges."""

    max_fine_drop: Fraction = 0.5  # coarse step drops items until the token step cuts at most this fraction
    coarse_scorer: Literal["embedding", "perplexity"] = "embedding"  # perplexity is question-aware, needs a question
    segment_tokens: PositiveInt = 256
    protect_patterns: bool = True  # numbers, IDs, URLs, code (marked <keep> spans are always protected)
    separator: str = "\n\n"
    method: Literal["self_information", "classifier"] = Field(
        "self_information", description="fine step: SmolLM2 self-information, or the keep/drop word classifier "
        "distilled from it (LLMLingua-2 style: no LM forward pass, only SmolLM2's tokenizer)")


def _parts(prompt) -> tuple[str, list[str], str]:
    if isinstance(prompt, str):
        return "", [prompt], ""
    if not isinstance(prompt, dict):
        raise ValueError(f"prompt must be a string or {{instruction, context, question}}, got {type(prompt).__name__}")
    context = prompt.get("context") or []
    context = [context] if isinstance(context, str) else list(context)
    return prompt.get("instruction") or "", context, prompt.get("question") or ""


def _join_parts(instruction: str, context: list[str], question: str, sep: str) -> str:
    return sep.join(p for p in [instruction, *context, question] if p)


def check_budget(rate: float | None, target_tokens: int | None) -> None:
    """The one budget check: for one prompt, for a file before its first line, and for the CLI."""
    if (rate is None) == (target_tokens is None):
        raise ValueError("give exactly one of rate (0 < rate <= 1) or target_tokens")
    if rate is not None and not 0 < rate <= 1:
        raise ValueError(f"rate {rate}: must be in (0, 1] (compressed / original tokens)")
    if target_tokens is not None and (isinstance(target_tokens, bool) or target_tokens < 1):
        raise ValueError(f"target_tokens {target_tokens}: must be a whole number >= 1")


def compress(prompt, rate: float | None = None, target_tokens: int | None = None, config: CompressConfig | None = None,
             model=None, tokenizer=None, embed=None) -> CompressedPrompt:
    """Compress to ``rate`` x the original tokens or to ``target_tokens`` (counted with the target tokenizer)."""
    from core.models import load_smollm2

    start = time.perf_counter()
    cfg = config or CompressConfig()
    check_budget(rate, target_tokens)
    needs_lm = cfg.method == "self_information" or cfg.coarse_scorer == "perplexity"
    if tokenizer is None and not needs_lm:
        tokenizer = smollm2_tokenizer()
    elif tokenizer is None or (model is None and needs_lm):
        model, tokenizer = load_smollm2()
    count = lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"]) if text else 0  # noqa: E731
    instruction, context, question = _parts(prompt)
    instruction, question = strip_markers(instruction), strip_markers(question)
    original_text = _join_parts(instruction, [strip_markers(c) for c in context], question, cfg.separator)
    original = count(original_text)
    target = original if rate is None and target_tokens >= original else (
        int(round(rate * original)) if rate is not None else int(target_tokens))

    def result(text: str, mask: list[bool], dropped: list[int], note: str = "",
               spans: list[list[str]] | None = None) -> CompressedPrompt:
        n = count(text)
        return CompressedPrompt(text, original, n, n / original if original else 1.0, mask,
                                time.perf_counter() - start, dropped, spans or [[] for _ in dropped], note)

    if original == 0 or target >= original:
        return result(original_text, [], [], "" if original else "empty prompt: nothing to compress")

    items = [split_protected(c, cfg.protect_patterns) for c in context]
    fixed = count(_join_parts(instruction, [], question, cfg.separator))
    free_tokens = [sum(count(p.text) for p in pieces if not p.protected) for pieces in items]
    item_tokens = [count(strip_markers(c)) for c in context]
    protected_tokens = [t - f for t, f in zip(item_tokens, free_tokens)]
    # what is left of an item the coarse step drops: its hard spans (an item without any disappears)
    remnants = [" ".join(p.text for p in pieces if p.hard) for pieces in items]
    remnant_tokens = [count(r) for r in remnants]
    if fixed + sum(protected_tokens) >= target and not any(free_tokens):
        return result(original_text, [], [], "only protected content (instruction, question, numbers, IDs, code, "
                      "marked spans): returned unchanged")

    # coarse: drop least relevant items while the fine step would have to cut more than max_fine_drop
    keep_items = list(range(len(items)))
    if len(items) > 1:
        if cfg.coarse_scorer == "perplexity" and question:
            from prompts.compress.coarse import rank_by_question_perplexity

            relevance = rank_by_question_perplexity([strip_markers(c) for c in context], question, model, tokenizer)
        else:
            from prompts.compress.coarse import rank_by_embedding

            if embed is None:
                from core.embed import Embedder

                embed = Embedder().embed
            relevance = rank_by_embedding([strip_markers(c) for c in context], question or None, embed)
        for i in sorted(keep_items, key=lambda i: (relevance[i], -i)):
            if len(keep_items) == 1:
                break
            kept_free = sum(free_tokens[j] for j in keep_items)
            if _fixed_tokens(fixed, protected_tokens, remnant_tokens, keep_items) + (
                    1 - cfg.max_fine_drop) * kept_free <= target:
                break
            keep_items.remove(i)
    dropped = [i for i in range(len(items)) if i not in keep_items]

    # fine: iterative self-information over the kept items, then an exact cut to the budget
    units_per_item = {i: units_of(items[i]) for i in keep_items}
    flat = [u for i in keep_items for u in units_per_item[i]]
    kept_free = sum(free_tokens[i] for i in keep_items)
    kept_fixed = _fixed_tokens(fixed, protected_tokens, remnant_tokens, keep_items)
    fraction = max(0.0, min(1.0, (target - kept_fixed) / kept_free)) if kept_free else 1.0
    if cfg.method == "classifier":
        from prompts.compress import classifier

        starts = np.cumsum([0] + [len(units_per_item[i]) for i in keep_items][:-1]).tolist()
        classifier.score_units(flat, tokenizer, starts)
    else:
        score_units(flat, model, tokenizer, fraction, cfg.segment_tokens)
    free_budget = max(0, target - kept_fixed)
    text = ""
    for _ in range(4):  # re-measure with the tokenizer: joins change token counts slightly
        choose(flat, free_budget)
        text = _join_parts(instruction, [join(units_per_item[i]) if i in units_per_item else remnants[i]
                                         for i in range(len(items))], question, cfg.separator)
        error = count(text) - target
        if abs(error) <= max(1, 0.02 * target):
            break
        free_budget = max(0, free_budget - error)
    note = ""
    if kept_fixed > target:
        note = (f"protected content alone is {kept_fixed} tokens > target {target}: every free word was dropped "
                f"and the budget cannot be met without losing protected spans")
    return result(text, [u.keep for u in flat], dropped, note,
                  [[p.text for p in items[i] if p.hard] for i in dropped])


@lru_cache(maxsize=1)
def smollm2_tokenizer():
    """SmolLM2's tokenizer alone (the classifier needs no model weights in memory)."""
    from transformers import AutoTokenizer

    from core.models import smollm2_dir

    return AutoTokenizer.from_pretrained(smollm2_dir())


def _fixed_tokens(fixed: int, protected_tokens: list[int], remnant_tokens: list[int], keep_items: list[int]) -> int:
    """Tokens no word pruning can remove: instruction, question, protected spans of kept items, remnants of dropped."""
    kept = set(keep_items)
    return fixed + sum(protected_tokens[i] if i in kept else remnant_tokens[i] for i in range(len(protected_tokens)))
