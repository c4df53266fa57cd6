"""Selection budgets: a count (``500``), a fraction of the pool (``0.1`` or ``10%``) or tokens (``200k tokens``).

Tokens are counted with SmolLM2's tokenizer, the family winnow trains and serves, so a token budget means
the same here as in training. A budget is honoured exactly: never more than asked, and exactly the count when
the pool has enough items.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, Field

_TOKENS_RE = re.compile(r"^\s*(\d[\d_]*(?:\.\d+)?)\s*([km]?)\s*(t|tok|tokens)\s*$", re.I)
_COUNT_RE = re.compile(r"^\d[\d_]*$")
_FRACTION_RE = re.compile(r"^(?:\d+\.\d*|\.\d+)$")
_PERCENT_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*%$")
_SCALE = {"": 1, "k": 1_000, "m": 1_000_000}
ACCEPTED = ("a count of items (500), a fraction of the pool in (0, 1] (0.1 or 10%) "
            "or a number of tokens (200k tokens)")


def _refuse(spec: object, why: str) -> ValueError:
    return ValueError(f"budget {spec!r}: {why}; a budget is {ACCEPTED}")


@dataclass(frozen=True)
class Budget:
    kind: str  # "count" | "fraction" | "tokens"
    value: float

    @classmethod
    def parse(cls, spec: "str | int | float | Budget") -> "Budget":
        """Strict: a whole count >= 1, a fraction in (0, 1] (a decimal point or %), or whole tokens >= 1.

        ``1.5`` (neither a fraction nor a whole count), ``inf``, ``nan``, negatives and zero are refused with the
        accepted forms; nothing is rounded or truncated silently.
        """
        if isinstance(spec, Budget):
            return spec
        if isinstance(spec, bool):
            raise _refuse(spec, "not a number")
        if isinstance(spec, int):
            if spec < 1:
                raise _refuse(spec, "a count must be at least 1 (0 or fewer items selects nothing)")
            return cls("count", spec)
        if isinstance(spec, float):
            return cls._fraction(spec, spec)
        text = str(spec).strip()
        if m := _TOKENS_RE.match(text):
            tokens = Decimal(m.group(1).replace("_", "")) * _SCALE[m.group(2).lower()]
            if tokens < 1 or tokens != int(tokens):
                raise _refuse(spec, f"a token budget must be a whole number of tokens >= 1, not {tokens:g}")
            return cls("tokens", int(tokens))
        if m := _PERCENT_RE.match(text):
            return cls._fraction(spec, float(m.group(1)) / 100, percent=True)
        if _FRACTION_RE.match(text):
            return cls._fraction(spec, float(text))
        if _COUNT_RE.match(text):
            count = int(text.replace("_", ""))
            if count < 1:
                raise _refuse(spec, "a count must be at least 1 (0 items selects nothing)")
            return cls("count", count)
        if text.lstrip().startswith("-"):
            raise _refuse(spec, "a budget cannot be negative")
        try:
            number = float(text)
        except ValueError:
            raise _refuse(spec, "not a number") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise _refuse(spec, "not a finite number")
        raise _refuse(spec, "write a count as a whole number and a fraction with a decimal point")

    @classmethod
    def _fraction(cls, spec: object, value: float, percent: bool = False) -> "Budget":
        if value != value or value in (float("inf"), float("-inf")):
            raise _refuse(spec, "not a finite number")
        if not 0 < value <= 1:
            hint = ""
            if value > 1 and percent:
                hint = " (more than the whole pool)"
            elif value > 1:
                hint = (f" (for a count of {int(value)} items write {int(value)})" if value == int(value) else
                        " (a number with a decimal point is a fraction of the pool; a count is a whole number)")
            raise _refuse(spec, f"a fraction of the pool must be in (0, 1], got {value:g}{hint}")
        return cls("fraction", value)

    def count(self, pool_size: int) -> int | None:
        """Items to take, or None for a token budget."""
        if self.kind == "count":
            return min(int(self.value), pool_size)
        if self.kind == "fraction":
            return min(pool_size, round(self.value * pool_size))
        return None

    def empty_reason(self, pool_size: int, smallest_tokens: int | None = None) -> str | None:
        """Why this budget selects nothing from a non-empty pool of ``pool_size`` items (None when it selects some)."""
        if pool_size and self.kind == "fraction" and self.count(pool_size) == 0:
            return (f"budget {self.value:g} of a pool of {pool_size} items is {self.value * pool_size:.3g} items, "
                    f"which rounds to 0: nothing selected; ask for a fraction above {0.5 / pool_size:.3g} "
                    f"(1 item) or a count such as 1")
        if pool_size and self.kind == "tokens" and smallest_tokens is not None and smallest_tokens > self.value:
            return (f"budget {int(self.value)} tokens: the smallest item has {smallest_tokens} tokens, so no item fits; "
                    f"nothing selected")
        return None

    def __str__(self) -> str:
        return {"count": f"{int(self.value)}", "fraction": f"{self.value:g} of the pool",
                "tokens": f"{int(self.value)} tokens"}[self.kind]


def _valid_spec(spec: str) -> str:
    try:
        Budget.parse(spec)
    except ValueError as exc:  # the field and value are named by whoever reports this
        raise ValueError(str(exc).split(": ", 1)[1]) from None
    return spec


BudgetSpec = Annotated[str, AfterValidator(_valid_spec), Field(description=f"budget: {ACCEPTED}")]
"""A budget as flows take it (CLI, Prefect UI form): a string refused at parameter validation when malformed."""


def token_counts(texts: list[str]) -> list[int]:
    from core.models import load_smollm2_tokenizer

    tokenizer = load_smollm2_tokenizer()
    return [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]] if texts else []
