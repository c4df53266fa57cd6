"""Prompt candidates for a cost-aware prompt search: proposals from a seed prompt, the Pareto front, the choice.

A prompt here is an instruction, k demonstrations and a separator around the task's own query format (the
query line and answer slot never change, so every candidate is scored on the same cloze continuations).
Candidates come from two sources, as in APE (Zhou et al., 2023) and OPRO (Yang et al., 2024), but with the
prompt's length as a second objective rather than accuracy alone:

- **rewrites**: the local LM paraphrases the seed instruction ("Rewrite this instruction more briefly"),
  sampled (``rewrite_instruction``);
- **recombination**: the seed instruction, its first sentence, the rewrites or none, crossed with k = 0..K
  demos and two separators, drawn without replacement by a seeded generator, one per instruction before any
  instruction's second (``propose_candidates``).

``pareto_front`` keeps the candidates no other candidate beats on both accuracy (higher) and prompt tokens
(lower); ``choose`` takes the cheapest candidate whose dev accuracy is within ``tolerance`` of the best.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SEPARATORS = ("\n\n", "\n")
REWRITE_REQUEST = "Rewrite this instruction more briefly:\n\n{instruction}"


@dataclass(frozen=True)
class PromptCandidate:
    """One prompt design: ``instruction`` printed once ('' for none), the first ``k`` of a fixed demo list, and
    ``separator`` between instruction, demos and the query. ``origin`` says how it was made (seed, shortened,
    rewrite, none)."""
    instruction: str
    k: int
    separator: str = "\n\n"
    origin: str = "seed"

    @property
    def name(self) -> str:
        sep = "nl2" if self.separator == "\n\n" else "nl1"
        return f"{self.origin}/k{self.k}/{sep}"


def first_sentence(instruction: str) -> str:
    """The instruction cut after its first sentence ('.', '!' or '?' followed by a space), or unchanged."""
    parts = re.split(r"(?<=[.!?])\s+", instruction.strip(), maxsplit=1)
    return parts[0]


def clean_rewrite(text: str, max_chars: int) -> str | None:
    """A generated rewrite reduced to its first non-empty line without quotes or a leading label; None when
    nothing usable is left or it is longer than ``max_chars``."""
    for line in text.strip().splitlines():
        line = re.sub(r"^(rewritten|instruction|answer|brief(er)?( version)?)\s*:\s*", "", line.strip(), flags=re.I)
        line = line.strip().strip('"“”\'').strip()
        if line:
            return line if len(line) <= max_chars else None
    return None


def rewrite_instruction(model, tokenizer, instruction: str, n: int, seed: int = 0, max_new_tokens: int = 40,
                        temperature: float = 0.8) -> list[str]:
    """Up to ``n`` distinct rewrites of ``instruction`` sampled from a chat model (temperature, top-p 0.9),
    seeded by ``seed``; rewrites no shorter than the instruction, empty ones and duplicates are dropped."""
    import torch

    messages = [{"role": "user", "content": REWRITE_REQUEST.format(instruction=instruction)}]
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    ids = tokenizer(text, return_tensors="pt", add_special_tokens=False).to(next(model.parameters()).device)
    torch.manual_seed(seed)
    with torch.inference_mode():
        out = model.generate(**ids, do_sample=True, temperature=temperature, top_p=0.9, max_new_tokens=max_new_tokens,
                             num_return_sequences=max(1, 2 * n), pad_token_id=tokenizer.pad_token_id)
    rewrites: list[str] = []
    for seq in out:
        line = clean_rewrite(tokenizer.decode(seq[ids["input_ids"].shape[1]:], skip_special_tokens=True),
                             max_chars=len(instruction) - 1)
        if line and line not in rewrites and line != instruction:
            rewrites.append(line)
    return rewrites[:n]


def propose_candidates(seed_instruction: str, seed_k: int, n: int, rewrites: Sequence[str] = (),
                       max_k: int | None = None, seed: int = 0) -> list[PromptCandidate]:
    """``n`` candidates: the seed prompt first, then a seeded draw without replacement from the grid
    instructions (seed, first sentence, each rewrite, none) x k in 0..max_k x separators, stratified so every
    instruction appears once before any appears twice.

    Deterministic for a given (seed, rewrites): the grid is built in a fixed order and permuted by
    ``numpy.random.default_rng(seed)``. Fewer than ``n`` when the grid is smaller."""
    if n < 1:
        raise ValueError(f"n = {n}: at least the seed prompt is a candidate")
    max_k = seed_k if max_k is None else max_k
    instructions: list[tuple[str, str]] = [(seed_instruction, "seed")]
    short = first_sentence(seed_instruction)
    if short != seed_instruction:
        instructions.append((short, "shortened"))
    instructions += [(r, f"rewrite{i}") for i, r in enumerate(rewrites)]
    if seed_instruction:
        instructions.append(("", "none"))
    seed_candidate = PromptCandidate(seed_instruction, seed_k, SEPARATORS[0], "seed")
    grid = [PromptCandidate(text, k, sep, origin) for text, origin in instructions for k in range(max_k + 1)
            for sep in SEPARATORS]
    grid = [c for c in grid if c != seed_candidate]
    order = [grid[i] for i in np.random.default_rng(seed).permutation(len(grid))]
    # stratified by instruction: each instruction's first draw comes before any instruction's second, so a small
    # n still tries every rewrite and the shortened and empty instructions
    rank: dict[str, int] = {}
    ranked = []
    for pos, c in enumerate(order):
        rank[c.origin] = rank.get(c.origin, -1) + 1
        ranked.append((rank[c.origin], pos, c))
    return [seed_candidate] + [c for _, _, c in sorted(ranked, key=lambda t: t[:2])[: n - 1]]


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the (accuracy, tokens) points no other point dominates (accuracy >= and tokens <=, one strictly),
    sorted by tokens. Equal points are all kept."""
    front = []
    for i, (acc, tok) in enumerate(points):
        dominated = any(a >= acc and t <= tok and (a > acc or t < tok) for j, (a, t) in enumerate(points) if j != i)
        if not dominated:
            front.append(i)
    return sorted(front, key=lambda i: (points[i][1], -points[i][0], i))


def choose(points: Sequence[tuple[float, float]], tolerance: float = 0.01) -> int:
    """The chosen point: among those with accuracy >= best - ``tolerance`` (an absolute share, 0.01 = 1 point),
    the fewest tokens; ties on tokens go to the higher accuracy, then the earlier index. Always on the front."""
    if not points:
        raise ValueError("no candidates to choose from")
    best = max(a for a, _ in points)
    near = [i for i, (a, _) in enumerate(points) if a >= best - tolerance - 1e-12]
    return min(near, key=lambda i: (points[i][1], -points[i][0], i))
