"""A fast start for commands whose options are plain values: parse them without typer.

Importing typer costs ~80 ms, and typer 0.29 coerces every parameter through a pydantic
``TypeAdapter`` (~0.2 s more), together more than scoring 20,000 predictions. A command listed in
:data:`FAST_COMMANDS` declares its parameters with :mod:`avg_bench.cli.declare` (typer's own
arguments, recorded without importing typer); :func:`parse_plain` reads those declarations (names,
defaults, ``min``/``max``) and parses ``argv`` with :mod:`argparse`. Anything it does not handle
(``--help``, an unknown option, a value out of range, a type other than str/int/float/bool/Path
or a list of them, a path check) returns None and the full typer app runs instead, so errors and
help are typer's own. The options stay declared once, in the command's module.
"""

from __future__ import annotations

import argparse
import inspect
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Commands that may take the fast start: name -> (module, function).
FAST_COMMANDS = {"evaluate": ("avg_bench.cli.evaluate", "evaluate")}
_PLAIN = (str, int, float, bool, Path)


class _Unhandled(Exception):
    """The fast parser declines; typer takes over."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> typing.NoReturn:
        raise _Unhandled(message)


def parse_plain(function: Callable, argv: list[str]) -> dict[str, Any] | None:
    """Keyword arguments for ``function`` from ``argv``, or None when typer must handle them."""
    from avg_bench.cli.declare import Declared

    if any(arg in ("--help", "-h") for arg in argv):
        return None
    hints = typing.get_type_hints(function)
    parser = _Parser(add_help=False, allow_abbrev=False)
    checks: dict[str, Any] = {}
    for name, parameter in inspect.signature(function).parameters.items():
        info, kind = parameter.default, hints.get(name)
        many = typing.get_origin(kind) is list
        base = typing.get_args(kind)[0] if many else kind
        if base not in _PLAIN or not isinstance(info, Declared):
            return None
        if info.get("exists", False) or info.get("callback") is not None:
            return None
        default = [] if many and info.default is None else info.default
        if default is ...:
            default = None
        convert = Path if base is Path else base
        if info.argument:
            parser.add_argument(name, type=convert, nargs="+" if many else None)
        elif base is bool:
            decls = [d for d in (info.param_decls or ()) if "/" not in d]
            if not decls:
                return None
            parser.add_argument(*decls, dest=name, action="store_true", default=bool(default))
        else:
            decls = list(info.param_decls or ()) or [f"--{name.replace('_', '-')}"]
            parser.add_argument(*decls, dest=name, type=convert, default=default, action="append" if many else "store")
        checks[name] = (info.get("min"), info.get("max"))
    try:
        values = vars(parser.parse_args(argv))
    except (_Unhandled, ValueError, TypeError):
        return None
    for name, (low, high) in checks.items():
        value = values.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if (low is not None and value < low) or (high is not None and value > high):
                return None
    return values


def run_fast(argv: list[str]) -> bool:
    """Run ``argv``'s command through the fast start when it can; True when it ran."""
    if not argv or argv[0] not in FAST_COMMANDS:
        return False
    import importlib

    module, name = FAST_COMMANDS[argv[0]]
    function = getattr(importlib.import_module(module), name)
    function = getattr(function, "__wrapped__", function)
    values = parse_plain(function, argv[1:])
    if values is None:
        return False
    function(**values)
    return True
