"""The one place that finds and runs external executables (ffmpeg, ffprobe, espeak-ng, yt-dlp, ...).

Every subprocess the toolkit starts goes through :func:`run_tool`: no stdin (a tool never waits on
a prompt inside a batch job), stderr captured, a hard timeout, and on any failure a
:class:`ToolError` that shows the command and the last lines of the tool's stderr. A missing tool is
a :class:`ToolNotFoundError` that says how to install it.

>>> ToolNotFoundError("nonexistent-tool").install_hint
'install nonexistent-tool and put it on PATH'
"""

from __future__ import annotations

import functools
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from avg_bench.errors import AvgBenchError

#: How to install each executable the toolkit uses (Debian package or pip distribution).
INSTALL_HINTS: dict[str, str] = {
    "ffmpeg": "apt-get install ffmpeg",
    "ffprobe": "apt-get install ffmpeg",
    "espeak-ng": "apt-get install espeak-ng",
    "yt-dlp": "pip install yt-dlp",
    # yt-dlp needs a JavaScript runtime for full YouTube support.
    "deno": "install deno (https://deno.com) or node (apt-get install nodejs)",
    "node": "apt-get install nodejs",
}

#: Lines of stderr quoted in a ToolError: enough for ffmpeg's real complaint, not its whole log.
STDERR_TAIL_LINES = 12


class ToolNotFoundError(AvgBenchError):
    """An external executable is not installed (or not on PATH)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.install_hint = INSTALL_HINTS.get(name, f"install {name} and put it on PATH")
        super().__init__(f"{name!r} was not found on PATH; {self.install_hint} (then check with `avg-bench doctor`)")


class ToolError(AvgBenchError):
    """An external executable failed, or ran past its time limit."""

    def __init__(self, what: str, command: Sequence[str], *, returncode: int | None, stderr: str, timeout_s: float | None = None) -> None:
        self.what = what
        self.command = list(command)
        self.returncode = returncode
        self.timed_out = timeout_s is not None
        self.stderr_tail = tail(stderr)
        if self.timed_out:
            problem = f"{what}: {Path(self.command[0]).name} ran past its {timeout_s:g} s time limit and was killed"
        else:
            problem = f"{what}: {Path(self.command[0]).name} failed with exit code {returncode}"
        detail = f"\n{self.stderr_tail}" if self.stderr_tail else " (no error output)"
        super().__init__(f"{problem}{detail}\ncommand: {shlex.join(self.command)}")


def tail(text: str, lines: int = STDERR_TAIL_LINES) -> str:
    """The last non-blank ``lines`` lines of ``text``."""
    kept = [line.rstrip() for line in text.splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


@functools.cache
def find_tool(name: str) -> str | None:
    """The absolute path of executable ``name``, or None when it is missing (the lookup is cached).

    Looks on ``PATH``, then beside the running Python (tools pip-installed into a virtual
    environment that is not activated, such as yt-dlp).
    """
    found = shutil.which(name)
    if found is None:
        beside = Path(sys.executable).parent / name
        if beside.is_file() and os.access(beside, os.X_OK):
            found = str(beside)
    return found


def require_tool(name: str) -> str:
    """The absolute path of executable ``name``; :class:`ToolNotFoundError` with an install hint if missing."""
    found = find_tool(name)
    if found is None:
        raise ToolNotFoundError(name)
    return found


def run_tool(
    args: Sequence[str | os.PathLike[str]],
    *,
    timeout_s: float,
    what: str,
    capture_stdout: bool = True,
    cwd: str | os.PathLike[str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``args`` (``args[0]`` is a tool name, resolved by :func:`require_tool`) and return its result.

    Args:
        args: the command; the first item is looked up on PATH, the rest are passed as they are.
        timeout_s: wall-clock limit; the process is killed when it is reached.
        what: what the command does, for the error message ("cutting clip.mp4 from source.mp4").
        capture_stdout: keep stdout as bytes in the result (else it is discarded).
        cwd: working directory of the tool.

    Raises:
        ToolNotFoundError: the tool is not installed.
        ToolError: non-zero exit status, or the time limit was reached.
    """
    command = [require_tool(str(args[0])), *(os.fspath(a) for a in args[1:])]
    try:
        result = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if capture_stdout else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=timeout_s,
            cwd=cwd,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:  # subprocess.run has already killed and reaped the child
        raise ToolError(what, command, returncode=None, stderr=_text(exc.stderr), timeout_s=timeout_s) from None
    if result.returncode != 0:
        raise ToolError(what, command, returncode=result.returncode, stderr=_text(result.stderr))
    return result


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode("utf-8", errors="replace")
