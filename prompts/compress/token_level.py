"""Token-level pruning by self-information under SmolLM2 (Selective Context / LLMLingua's fine step).

Units are words (a run of tokens with its leading whitespace), so pruning never splits a word or a
multi-byte character. Scripts written without spaces (Chinese, Japanese, Thai, Lao, Khmer, Myanmar, Tibetan)
have no words to split on: there each grapheme cluster (a character with its combining marks) is a unit, the
character-level granularity LLMLingua reaches with its tokens, so a whole paragraph is never one unit that either
fits the budget or is dropped (LLMLingua#152), and no character is ever cut in half. A unit's score is the mean surprisal (-log p) of its tokens. Scoring is iterative
(LLMLingua): the text is processed in segments, and each segment is scored conditioned on the already
*compressed* text before it, so what was pruned earlier changes what looks predictable later.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import regex

NO_SPACE_SCRIPTS = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Tibetan}"
# a word with its leading whitespace; inside text without spaces, one grapheme cluster (or a run of other symbols)
UNIT_RE = regex.compile(rf"\s*(?:(?=[{NO_SPACE_SCRIPTS}])\X|[^\s{NO_SPACE_SCRIPTS}]+)|\s+$")
SEGMENT_TOKENS = 256  # tokens scored per forward pass, each conditioned on the compressed text before it


@dataclass
class Unit:
    text: str
    protected: bool
    ids: list[int] = field(default_factory=list)  # the unit's own token ids, filled by score_units
    surprisal: float = 0.0
    keep: bool = True

    @property
    def tokens(self) -> int:
        return len(self.ids)


def units_of(pieces) -> list[Unit]:
    units: list[Unit] = []
    for piece in pieces:
        if piece.protected:
            units.append(Unit(piece.text, True))
        else:
            # whitespace-only units (a piece's trailing space) are kept: dropping them would fuse words
            units.extend(Unit(m.group(0), not m.group(0).strip()) for m in UNIT_RE.finditer(piece.text))
    return units


def score_units(units: list[Unit], model, tokenizer, keep_fraction: float, segment_tokens: int = SEGMENT_TOKENS,
                max_context: int = 512) -> None:
    """Fills ``ids`` and ``surprisal`` of every unit, segment by segment over the compressed prefix."""
    import torch

    dev = next(model.parameters()).device
    if units:  # one tokenizer call for every unit; segments and the compressed prefix reuse these ids
        for u, ids in zip(units, tokenizer([u.text for u in units], add_special_tokens=False)["input_ids"]):
            u.ids = ids
    prefix_ids: list[int] = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
    start = 0
    while start < len(units):
        end, budget = start, 0
        while end < len(units) and (budget < segment_tokens or end == start):
            budget += units[end].tokens
            end += 1
        seg = units[start:end]
        seg_ids, owner = [], []
        for j, u in enumerate(seg):
            seg_ids += u.ids
            owner += [j] * len(u.ids)
        context = prefix_ids[-max_context:]
        ids = torch.tensor([context + seg_ids], device=dev)
        with torch.inference_mode():
            logits = model(input_ids=ids).logits[0].float()
        logp = torch.log_softmax(logits[:-1], dim=-1).gather(-1, ids[0, 1:].unsqueeze(-1)).squeeze(-1).cpu().numpy()
        # token t of the segment sits at position len(context) + t; its log p comes from the position before
        seg_logp = logp[len(context) - 1:] if context else np.concatenate([[np.nan], logp])
        sums = np.zeros(len(seg))
        counts = np.zeros(len(seg))
        for t, j in enumerate(owner):
            if np.isfinite(seg_logp[t]):
                sums[j] -= seg_logp[t]
                counts[j] += 1
        for j, u in enumerate(seg):
            u.surprisal = sums[j] / counts[j] if counts[j] else float("inf")
        # provisional pruning of this segment at the requested fraction, so the next one sees compressed text
        free = [u for u in seg if not u.protected]
        if free and keep_fraction < 1:
            cut = np.quantile([u.surprisal for u in free], 1 - keep_fraction)
            for u in free:
                u.keep = u.surprisal >= cut
        for u in seg:
            if u.keep:
                prefix_ids += u.ids
        start = end


def choose(units: list[Unit], free_token_budget: int) -> None:
    """Final selection: the most surprising free units that fit ``free_token_budget`` tokens."""
    order = sorted((i for i, u in enumerate(units) if not u.protected), key=lambda i: (-units[i].surprisal, i))
    spent = 0
    for i in order:
        u = units[i]
        u.keep = spent + u.tokens <= free_token_budget
        if u.keep:
            spent += u.tokens
    for u in units:
        if u.protected:
            u.keep = True


def join(units: list[Unit]) -> str:
    """Kept units in order; where a dropped unit carried the only space between two kept ones, a space goes back.

    Two numbers never fuse: when the units dropped between them leave a digit right before a digit (``5から7``
    pruned to ``57``), a space goes between them."""
    out: list[str] = []
    dropped_space = dropped_any = False
    for u in units:
        if not u.keep:
            dropped_space = dropped_space or u.text[:1].isspace()
            dropped_any = True
            continue
        text = u.text if out or not units or units[0].text[:1].isspace() else u.text.lstrip()
        if out and text and not text[0].isspace() and not out[-1][-1:].isspace() and (
                dropped_space or (dropped_any and out[-1][-1:].isdigit() and text[0].isdigit())):
            text = " " + text
        out.append(text)
        dropped_space = dropped_any = False
    return "".join(out)
