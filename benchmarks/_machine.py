"""What every benchmark prints: its results table, titled with the machine it ran on."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def describe_machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split()[1])
        memory = f", {kib / 2**20:.0f} GiB RAM"
    return (
        f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} cores{memory}, "
        f"Python {platform.python_version()}"
    )


def print_table(console, title: str, rows) -> None:
    """Rows of (measure, result, target, ok) as a rich table titled with the machine."""
    from rich.table import Table

    table = Table(title=f"{title} · {describe_machine()}", title_justify="left")
    for column in ("measure", "result", "target", "ok"):
        table.add_column(column)
    for measure, result, target, ok in rows:
        table.add_row(measure, result, target, "yes" if ok else "[red]NO[/]")
    console.print(table)
