"""Command-line options generated from the typed parameters a command runs with, so a default is stated once.

The source of a command's options is what the Prefect UI form is built from: a flow's signature (Prefect turns it
into the run form's JSON schema) or the pydantic model a flow takes (``SelectParams``, ``CompressConfig``,
``CurationConfig``...). For every field this module writes one ``argparse`` option:

- flag ``--field-name`` (the field's name, kebab-case), ``dest`` the field's name;
- type from the annotation: ``int``/``float``/``str``; ``Literal[...]`` gives ``choices``; ``list[X]`` gives
  ``nargs="+"``; ``bool`` gives ``--x``/``--no-x`` (argparse's ``BooleanOptionalAction``);
- default: the field's default (none written here); a field without a default is a required option;
- help: the field's ``description`` (or the command's ``help`` entry for a field without one), its allowed range
  from the annotation's bounds (``in [0, 1]``, ``>= 1``) and its default.

Ranges are not checked by argparse: the command builds the model (or checks the flow's parameters with
``core.config_types.check_call``) from the parsed values, so a flag, a YAML file and the UI form are refused with
the same one-line message. A ``spelling`` entry may change how an option is written on the command line (flag
name, positional, metavar, ``required``, a ``type`` for a legacy syntax such as ``--ops a,b``, a ``convert`` of
the parsed value) but never its default: ``tests/flows/test_cli_options.py`` checks that every option's default
is its field's default.

Why not pydantic-settings' ``CliApp`` (which also builds argparse options from a model): with pydantic-settings
2.16.3 a list is written ``--seeds 0,1`` or ``--seeds 0 --seeds 1``, and ``--seeds 0 1 2`` (README, tests) is
refused ("unrecognized arguments: 1"); the space-separated shard lists and positionals of every command would
change. So this is a small generator over ``model_fields`` feeding argparse.
"""

from __future__ import annotations

import argparse
import inspect
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Union

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from core.config_types import allowed_range

UNDESCRIBED = "(undescribed: give the field a description)"
SPELLING_KEYS = {"flag", "positional", "metavar", "required", "type", "nargs", "convert", "help", "choices"}


def fields_of(source: Any) -> dict[str, FieldInfo]:
    """name -> FieldInfo of a pydantic model or pydantic dataclass, or of a function's (a Prefect flow's) parameters
    in signature order, each with its annotation, bounds (``metadata``), default and description."""
    fields = getattr(source, "model_fields", None)
    fields = getattr(source, "__pydantic_fields__", None) if fields is None else fields
    if isinstance(source, type) and fields is not None:  # a model or pydantic dataclass (maybe without fields)
        return dict(fields)
    fn = inspect.unwrap(getattr(source, "fn", source))  # a Prefect Flow wraps its function in .fn
    hints = typing.get_type_hints(fn, include_extras=True)
    out = {}
    for name, param in inspect.signature(fn).parameters.items():
        default = PydanticUndefined if param.default is inspect.Parameter.empty else param.default
        out[name] = FieldInfo.from_annotated_attribute(hints.get(name, Any), default)
    return out


def descriptions(source: Any) -> dict[str, str]:
    """name -> description of the fields of ``source`` that have one (help for a flow that mirrors a model)."""
    return {name: info.description for name, info in fields_of(source).items() if info.description}


def default_of(info: FieldInfo) -> Any:
    """The field's default (a default factory called), or PydanticUndefined when the field is required."""
    return info.get_default(call_default_factory=True)


def _plain(annotation: Any) -> Any:
    """The annotation without Annotated and Optional wrappers; a list of alternatives for other unions."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            alternatives = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(alternatives) != 1:
                return alternatives
            annotation = alternatives[0]
        else:
            return annotation


def whole_number(text: str) -> int:
    """argparse ``type`` of an int field: the range is the field's to check, the spelling argparse's."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _scalar(annotation: Any, name: str) -> dict:
    t = _plain(annotation)
    if isinstance(t, list):  # int | float, Literal[...] | dict: the first alternative a flag can spell
        t = next((a for a in map(_plain, t) if a in (int, float, str) or typing.get_origin(a) is Literal), None)
    if typing.get_origin(t) is Literal:
        choices = list(typing.get_args(t))
        return {"choices": choices, "type": type(choices[0])}
    if t is int:
        return {"type": whole_number}
    if t in (float, str):
        return {"type": t}
    if t is Path or t is Any:
        return {"type": str}
    raise TypeError(f"{name}: {annotation!r} has no command-line form: skip it or give a spelling with its type")


def _argparse_kwargs(name: str, info: FieldInfo) -> dict:
    t = _plain(info.annotation)
    if t is bool:
        return {"action": argparse.BooleanOptionalAction}
    origin = typing.get_origin(t)
    if origin in (list, tuple, set, frozenset):
        return {"nargs": "+", **_scalar(typing.get_args(t)[0], name)}
    return _scalar(info.annotation, name)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (list, tuple)):
        return " ".join(map(str, value))
    return repr(value) if isinstance(value, str) and (not value.isprintable() or not value) else str(value)


@dataclass(frozen=True)
class GeneratedOption:
    """One option: the field it stands for, where the field lives, and how the command line spells it."""

    name: str                 # the field's name: argparse dest and the key in ``values``
    source: str               # model or flow name, for messages and the defaults test
    info: FieldInfo
    flag: str                 # '--field-name' or the positional's name
    from_config: bool         # default comes from a config file: the option is only passed when given
    convert: Callable[[Any], Any] | None = None


class OptionSet(list):
    """The options one ``add_options`` call made; ``values(args)`` collects them into keyword arguments."""

    def __add__(self, other: list) -> OptionSet:
        return OptionSet([*self, *other])

    def values(self, args: argparse.Namespace) -> dict[str, Any]:
        out = {}
        for opt in self:
            if not hasattr(args, opt.name):  # a config-backed option not given
                continue
            value = getattr(args, opt.name)
            out[opt.name] = opt.convert(value) if opt.convert is not None and value is not None else value
        return out


def add_options(parser: argparse.ArgumentParser, source: Any, *, only: list[str] | None = None,
                skip: tuple[str, ...] = (), help: dict[str, str] | None = None,
                spelling: dict[str, dict] | None = None, from_config: bool = False,
                group: Any = None) -> OptionSet:
    """Add one option per field of ``source`` (a pydantic model class, pydantic dataclass, function or Prefect flow).

    only / skip: the fields to add (default: all, in declaration order). help: text for fields without a
    ``description``. spelling: per field, how the command line writes it (keys in ``SPELLING_KEYS``; never a
    default). from_config: the defaults live in a config file the command also reads, so an option not given is
    left out of ``values`` (argparse.SUPPRESS) and the help says the field's default applies unless the file sets it.
    group: add to this argument group (e.g. a mutually exclusive one) instead of ``parser``.
    Raises TypeError for a field whose type has no command-line form and is neither skipped nor spelled.
    """
    help, spelling = help or {}, spelling or {}
    fields = fields_of(source)
    unknown = (set(only or ()) | set(skip)) - set(fields)  # help and spelling may cover several sources
    if unknown:
        raise KeyError(f"{getattr(source, '__name__', source)} has no fields {sorted(unknown)}")
    names = [n for n in (only if only is not None else fields) if n not in skip]
    source_name = getattr(source, "name", None) or getattr(source, "__name__", repr(source))
    generated = OptionSet()
    target = group if group is not None else parser
    for name in names:
        info, spell = fields[name], dict(spelling.get(name, {}))
        if set(spell) - SPELLING_KEYS:
            wrong = sorted(set(spell) - SPELLING_KEYS)
            raise KeyError(f"{name}: spelling may set {sorted(SPELLING_KEYS)}, not {wrong}")
        convert = spell.pop("convert", None)
        positional = spell.pop("positional", False)
        text = spell.pop("help", None) or info.description or help.get(name) or UNDESCRIBED  # a test refuses it
        kwargs = {} if "type" in spell else _argparse_kwargs(name, info)  # a spelled type spells the whole form
        flag = spell.pop("flag", name if positional else "--" + name.replace("_", "-"))
        kwargs |= spell
        default = default_of(info)
        required = default is PydanticUndefined
        notes = [text.rstrip(".")]
        allowed = allowed_range(info.annotation, info.metadata)
        if allowed:
            notes.append(allowed)
        if from_config:
            if not required:
                notes.append(f"default: {_shown(default)}, unless --config sets it")
            kwargs["default"] = argparse.SUPPRESS
        elif not required:
            kwargs["default"] = list(default) if isinstance(default, (list, tuple)) else default
            if default is not None and not kwargs.get("required"):
                notes.append(f"default: {_shown(default)}")
        kwargs["help"] = "; ".join(notes).replace("%", "%%")
        if positional:
            if not required:
                raise ValueError(f"{source_name}.{name}: a positional needs a required field")
            kwargs.pop("required", None)
            target.add_argument(name, **kwargs)
        else:
            if required and not from_config:
                kwargs.setdefault("required", True)
            target.add_argument(flag, dest=name, **kwargs)
        generated.append(GeneratedOption(name, source_name, info, flag, from_config, convert))
    parser.__dict__.setdefault("generated_options", []).extend(generated)
    return generated
