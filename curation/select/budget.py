"""Selection budgets: a count (``500``), a fraction of the pool (``0.1`` or ``10%``) or tokens (``200k tokens``).

Tokens are counted with SmolLM2's tokenizer, the family winnow trains and serves, so a token budget means
the same here as in training. A budget is honoured exactly: never more than asked, and exactly the count when
the pool has enough items.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKENS_RE = re.compile(r"^\s*([\d_.]+)\s*([km]?)\s*(t|tok|tokens)\s*$", re.I)
_SCALE = {"": 1, "k": 1_000, "m": 1_000_000}


@dataclass(frozen=True)
class Budget:
    kind: str  # "count" | "fraction" | "tokens"
    value: float

    @classmethod
    def parse(cls, spec: "str | int | float | Budget") -> "Budget":
        if isinstance(spec, Budget):
            return spec
        if isinstance(spec, int):
            return cls._checked("count", spec)
        if isinstance(spec, float):
            return cls._checked("fraction", spec)
        text = str(spec).strip()
        if m := _TOKENS_RE.match(text):
            return cls._checked("tokens", int(float(m.group(1).replace("_", "")) * _SCALE[m.group(2).lower()]))
        if text.endswith("%"):
            return cls._checked("fraction", float(text[:-1]) / 100)
        try:
            number = float(text.replace("_", ""))
        except ValueError:
            raise ValueError(f"budget {spec!r}: expected a count (500), a fraction (0.1 or 10%) or tokens (200k tokens)")
        if number < 1 and "." in text:
            return cls._checked("fraction", number)
        return cls._checked("count", int(number))

    @classmethod
    def _checked(cls, kind: str, value: float) -> "Budget":
        if value <= 0 or (kind == "fraction" and value > 1):
            raise ValueError(f"budget {value} {kind}: must be positive" + (" and at most 1" if kind == "fraction" else ""))
        return cls(kind, value)

    def count(self, pool_size: int) -> int | None:
        """Items to take, or None for a token budget."""
        if self.kind == "count":
            return min(int(self.value), pool_size)
        if self.kind == "fraction":
            return min(pool_size, round(self.value * pool_size))
        return None

    def __str__(self) -> str:
        return {"count": f"{int(self.value)}", "fraction": f"{self.value:g} of the pool",
                "tokens": f"{int(self.value)} tokens"}[self.kind]


def token_counts(texts: list[str]) -> list[int]:
    from curation.models import load_smollm2_tokenizer

    tokenizer = load_smollm2_tokenizer()
    return [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]] if texts else []
