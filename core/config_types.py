"""Constrained field types for every config (steps, selection, compression, the run) and one-line error messages.

A value that parses but makes no sense (an n-gram of 0, a fraction of 1.5, a language lid.176 cannot predict)
must be refused before any work starts, naming the field, the value and the allowed range. The ranges live in
the types (pydantic ``Field`` bounds), so the same check runs for a YAML file, a CLI flag and the Prefect UI form
(which reads them from the JSON schema as minimum/maximum).

Use them as field annotations::

    ngram: PositiveInt = 5                 # >= 1
    min_score: Fraction = 0.65             # in [0, 1]
    min_doc_words: WordCount | None = 50   # >= 0
    languages: tuple[LanguageCode, ...]    # lid.176 labels

and ``check_min_max(self, "min_doc_words", "max_doc_words")`` in a ``model_validator(mode="after")`` for pairs.
"""

from __future__ import annotations

import typing
from typing import Annotated, Any

import annotated_types
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, TypeAdapter, ValidationError

from core.languages import LID176_LABELS, check_language

Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
"""A share, a probability, a ratio of counts or a Jaccard/cosine threshold: in [0, 1]."""
PositiveFraction = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
"""A share that must select something: in (0, 1]."""


def not_bool(value: Any) -> Any:
    """Refuses ``true``/``false`` where a count is expected (pydantic's lax mode would read ``ngram: true`` as 1);
    other ints, numpy ints and whole strings like ``"5"`` still pass to the int check."""
    if isinstance(value, bool):
        raise ValueError(f"must be a whole number, not a boolean ({str(value).lower()})")
    return value


PositiveInt = Annotated[int, Field(ge=1), BeforeValidator(not_bool)]
"""n-gram sizes, permutations, bands, rows, batch and shard sizes: >= 1."""
WordCount = Annotated[int, Field(ge=0), BeforeValidator(not_bool)]
"""Counts of words, characters, lines or sentences: >= 0."""
NonNegativeFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
"""Lengths and other unbounded measures: finite, >= 0."""
Seed = Annotated[int, Field(ge=0), BeforeValidator(not_bool)]
"""Random seeds: numpy generators refuse negative seeds."""
LanguageCode = Annotated[str, AfterValidator(check_language), Field(json_schema_extra={"enum": list(LID176_LABELS)})]
"""A fastText lid.176 label (``en``, ``fr``, ``zh``, ``ceb``...)."""


class ConfigError(ValueError):
    """A config value out of its range, named with field, value and allowed range, on one line."""


def check_call(fn: Any, source: str | None = None, **values: Any) -> None:
    """ConfigError unless every ``values[name]`` fits ``fn``'s annotation for ``name`` (a flow's parameters,
    checked before a run starts with the same types Prefect validates the UI form with)."""
    import inspect

    hints = typing.get_type_hints(inspect.unwrap(fn), include_extras=True)
    problems = []
    for name, value in values.items():
        try:
            TypeAdapter(hints[name]).validate_python(value)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                where = f"{source}: " if source else ""
                problems.append(f"{where}{name} = {value!r}: {_message(error, _constraints(hints[name]))}")
    if problems:
        raise ConfigError("; ".join(problems))


def count_arg(text: str) -> int:
    """argparse ``type=`` for counts given on the command line (workers, epochs, seeds per arm): whole, >= 1."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: must be >= 1")
    return value


_DATACLASSES: dict[str, type] = {}


def named_in_errors(cls: type) -> type:
    """Class decorator for pydantic dataclasses: ``describe`` finds their ranges by the error's title."""
    _DATACLASSES[cls.__name__] = cls
    return cls


def _model_titled(title: str) -> type | None:
    if title in _DATACLASSES:
        return _DATACLASSES[title]
    stack = list(BaseModel.__subclasses__())
    while stack:
        cls = stack.pop()
        if cls.__name__ == title:
            return cls
        stack.extend(cls.__subclasses__())
    return None


def check_min_max(model: Any, low: str, high: str) -> None:
    """ValueError when both fields are set and ``low`` > ``high`` (call from an after-validator)."""
    lo, hi = getattr(model, low), getattr(model, high)
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"{low} = {lo} is greater than {high} = {hi}: must be {low} <= {high}")


_BOUNDS = (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))


def _constraints(annotation: Any) -> list:
    """annotated_types bounds anywhere in ``annotation`` (``Fraction | None`` keeps them inside the union)."""
    found, stack = [], [annotation]
    while stack:
        t = stack.pop()
        for arg in getattr(t, "__metadata__", ()):
            found.extend(getattr(arg, "metadata", [arg]))
        stack.extend(typing.get_args(t))
    return found


def _field_range(metadata: list) -> str | None:
    """'in [0, 1]', '>= 1', ... from annotated_types bounds, or None."""
    bounds: dict[str, Any] = {}
    for m in metadata:
        for name, _ in _BOUNDS:
            if isinstance(m, getattr(annotated_types, name.capitalize())):
                bounds[name] = getattr(m, name)
    low = next(((k, bounds[k]) for k in ("ge", "gt") if k in bounds), None)
    high = next(((k, bounds[k]) for k in ("le", "lt") if k in bounds), None)
    if low and high:
        return f"in {'[' if low[0] == 'ge' else '('}{low[1]}, {high[1]}{']' if high[0] == 'le' else ')'}"
    sign = dict(_BOUNDS)
    return f"{sign[low[0]]} {low[1]}" if low else f"{sign[high[0]]} {high[1]}" if high else None


def allowed_range(annotation: Any, metadata: list | tuple = ()) -> str | None:
    """The range of a field as its errors state it ('in [0, 1]', '>= 1', ...) from the bounds in ``annotation``
    and the field's own ``metadata``; None when unbounded (a CLI option's help states it)."""
    return _field_range(list(metadata) + _constraints(annotation))


def _fields(t: Any) -> dict:
    return getattr(t, "model_fields", None) or getattr(t, "__pydantic_fields__", None) or {}


def _members(annotation: Any) -> list:
    """Model classes reachable in ``annotation`` (through Optional, list, tuple, Annotated unions)."""
    found, stack = [], [annotation]
    while stack:
        t = stack.pop()
        if _fields(t):
            found.append(t)
        else:
            stack.extend(typing.get_args(t))
    return found


def _item(annotation: Any, index: int) -> Any:
    """The annotation of item ``index`` in ``tuple[X, ...]``, ``tuple[A, B]``, ``list[X]`` (through Optional)."""
    for t in (annotation, *typing.get_args(annotation)):
        t = getattr(t, "__origin__", t) if typing.get_origin(t) is Annotated else t
        args = typing.get_args(t)
        if typing.get_origin(t) is tuple:
            if len(args) == 2 and args[1] is Ellipsis:
                return args[0]
            return args[index] if index < len(args) else None
        if typing.get_origin(t) is list:
            return args[0]
    return None


def _resolve(model: Any, loc: tuple) -> tuple[list, str]:
    """(bounds of the field at ``loc``, readable path like ``steps[0] (minhash).ngram``)."""
    path, metadata, candidates, annotation = "", [], [model] if model is not None else [], None
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
            if annotation is not None:  # an item's bounds, not its container's
                annotation = _item(annotation, part)
                metadata = _constraints(annotation) if annotation is not None else []
            continue
        tagged = [c for c in candidates if "step" in _fields(c) and _fields(c)["step"].default == part]
        if tagged:  # a discriminated union's tag: ``steps.0.minhash``
            path, candidates, annotation = path + f" ({part})", tagged, None
            continue
        owner = next((c for c in candidates if part in _fields(c)), None)
        if owner is None:
            if not str(part).startswith(("function-", "constrained-")) and part not in ("list", "tuple", "nullable"):
                path += ("." if path else "") + str(part)
            continue
        info = _fields(owner)[part]
        path += ("." if path else "") + str(part)
        metadata = list(info.metadata) + _constraints(info.annotation)
        candidates, annotation = _members(info.annotation), info.annotation
    return metadata, path

def _message(error: dict, metadata: list) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than", "finite_number"):
        allowed = _field_range(metadata)
        if allowed:
            return f"must be {allowed}"
        key = next((k for k, _ in _BOUNDS if k in ctx), None)
        return f"must be {dict(_BOUNDS)[key]} {ctx[key]}" if key else "must be a finite number"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length', 1)} item(s)"
    if kind == "extra_forbidden":
        return "unknown field (check its spelling)"
    return error["msg"][0].lower() + error["msg"][1:]


def describe(exc: ValidationError, model: type | None = None, source: str | None = None) -> str:
    """One line per error: ``SOURCE: steps[0] (minhash).ngram = 0: must be >= 1``."""
    lines = []
    model = model if model is not None else _model_titled(exc.title)
    errors = exc.errors(include_url=False)
    for error in errors:
        if error["type"] == "too_short" and any(e["loc"][: len(error["loc"])] == error["loc"] and e is not error
                                                for e in errors):
            continue  # a list emptied by its own bad items: the item errors say it
        metadata, path = _resolve(model, error["loc"])
        value = error.get("input")
        shown = "" if error["type"] == "missing" or isinstance(value, (dict, BaseModel)) else f" = {value!r}"
        where = f"{source}: " if source else ""
        lines.append(f"{where}{path or exc.title}{shown}: {_message(error, metadata)}")
    return "; ".join(lines)
