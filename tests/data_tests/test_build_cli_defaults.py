"""The ``build`` command's defaults are the option dataclasses' defaults (issue 15 item 3)."""

from __future__ import annotations

import dataclasses

import typer.main

from avg_bench.cli import app
from avg_bench.data.fetch import FetchOptions
from avg_bench.data.remote import RunOptions

#: CLI option -> (dataclass, field) it stands for.
_OPTIONS = {
    "workers": (RunOptions, "workers"),
    "rate": (RunOptions, "requests_per_minute"),
    "host_requests": (RunOptions, "host_requests_per_minute"),
    "retries": (RunOptions, "retries"),
    "backoff": (RunOptions, "backoff_base_s"),
    "retry_failed": (RunOptions, "retry_failed"),
    "timeout": (FetchOptions, "timeout_s"),
    "stall_timeout": (FetchOptions, "stall_s"),
    "margin": (FetchOptions, "margin_s"),
}


def _build_defaults() -> dict[str, object]:
    command = typer.main.get_command(app)
    build = command.commands["build"]  # type: ignore[attr-defined]
    return {param.name: param.default for param in build.params}


def test_build_cli_defaults_equal_the_option_dataclasses():
    defaults = _build_defaults()
    for option, (options_class, field_name) in _OPTIONS.items():
        field = {f.name: f for f in dataclasses.fields(options_class)}[field_name]
        assert defaults[option] == field.default, f"--{option.replace('_', '-')} default differs from {options_class.__name__}.{field_name}"


def test_the_fetch_margin_has_one_definition():
    from avg_bench.data.canonical import CanonicalFormat

    assert "fetch_margin_s" not in {f.name for f in dataclasses.fields(CanonicalFormat)}
    # The audio pre-roll must stay inside the fetched margin (canonical.py's comment on decode_preroll_s).
    assert CanonicalFormat().decode_preroll_s < FetchOptions().margin_s
