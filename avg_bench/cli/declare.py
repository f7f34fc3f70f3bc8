"""Option declarations that do not import typer, for commands that start without it.

``avg-bench evaluate`` is timed against a distance-only script: importing typer (~80 ms) would
be a fifth of its run. Its parameters are therefore declared with :func:`Option` and
:func:`Argument` from here, which take typer's own arguments and only record them. The fast start
(:mod:`avg_bench.cli.fast`) parses ``argv`` from these records; :func:`typer_command` turns the
same function into a typer command when the full app is built (``--help``, anything the fast start
declines). The options stay declared once.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Declared:
    """One parameter's declaration: what ``typer.Option``/``typer.Argument`` would be called with."""

    default: Any
    param_decls: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    argument: bool = False

    def get(self, name: str, fallback: Any = None) -> Any:
        """A keyword given to the declaration (``min``, ``max``, ``exists``, ``callback``, ...)."""
        return self.options.get(name, fallback)


def Option(default: Any, *param_decls: str, **options: Any) -> Any:  # noqa: N802 - typer's name, on purpose
    """Record ``typer.Option(default, *param_decls, **options)``."""
    return Declared(default, param_decls, options)


def Argument(default: Any, **options: Any) -> Any:  # noqa: N802 - typer's name, on purpose
    """Record ``typer.Argument(default, **options)``."""
    return Declared(default, (), options, argument=True)


def typer_command(function: Callable) -> Callable:
    """``function`` with each :class:`Declared` default replaced by the typer declaration it records."""
    import typer

    signature = inspect.signature(function)
    parameters = []
    for parameter in signature.parameters.values():
        declared = parameter.default
        if isinstance(declared, Declared):
            if declared.argument:
                info = typer.Argument(declared.default, **declared.options)
            else:
                info = typer.Option(declared.default, *declared.param_decls, **declared.options)
            parameter = parameter.replace(default=info)
        parameters.append(parameter)

    @functools.wraps(function)
    def command(*args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)

    command.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return command
