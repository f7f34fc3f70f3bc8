"""``avg-bench doctor``: is this machine ready to build AVG? Each check says what to fix.

Checks yt-dlp (present, and recent: YouTube breaks old releases within months), a JavaScript
runtime (yt-dlp needs deno or node for full YouTube support), ffmpeg and ffprobe with the encoders
the canonical format uses, torchcodec loading (what ``datasets`` decodes media with; checked in a
child process so a broken CUDA build cannot take this one down), free disk and write access.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from avg_bench.tools import find_tool

#: yt-dlp older than this many days is flagged (its version is its release date).
YTDLP_MAX_AGE_DAYS = 120
MIN_FREE_GIB = 20.0
ENCODERS = ("libx264", "aac", "flac", "mjpeg")


@dataclass(frozen=True)
class Check:
    """One finding of ``avg-bench doctor``: what was checked, whether it passed, and how to fix it."""
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True


def _run(args: list[str], timeout: float = 60.0) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def check_ytdlp(today: dt.date | None = None) -> Check:
    """yt-dlp is installed and recent enough (platforms change and old releases stop working)."""
    try:
        from yt_dlp.version import __version__ as version
    except ImportError:
        return Check("yt-dlp", False, "not installed", "pip install 'avg-bench[remote]' (or pip install -U yt-dlp)")
    try:
        released = dt.date(*map(int, version.split(".")[:3]))
    except (TypeError, ValueError):
        return Check("yt-dlp", True, f"{version} (release date unknown)")
    age = ((today or dt.date.today()) - released).days
    if age > YTDLP_MAX_AGE_DAYS:
        return Check("yt-dlp", False, f"{version} is {age} days old", "pip install -U yt-dlp (YouTube breaks old releases)")
    return Check("yt-dlp", True, f"{version} ({age} days old)")


def check_js_runtime() -> Check:
    """A JavaScript runtime (deno or node), which yt-dlp needs for some platforms' signatures."""
    for name in ("deno", "node"):
        path = find_tool(name)
        if path:
            try:
                version = _run([path, "--version"]).stdout.strip().splitlines()[0]
            except (OSError, subprocess.SubprocessError, IndexError):
                version = "version unknown"
            return Check("JavaScript runtime", True, f"{name} {version}", required=False)
    return Check("JavaScript runtime", False, "neither deno nor node found",
                 "install deno (https://deno.com) or node (apt-get install nodejs): yt-dlp needs one for YouTube", required=False)


def check_ffmpeg() -> list[Check]:
    """Ffmpeg and ffprobe are on PATH and run."""
    checks = []
    for name in ("ffmpeg", "ffprobe"):
        path = find_tool(name)
        if path is None:
            checks.append(Check(name, False, "not found", "apt-get install ffmpeg"))
            continue
        first = _run([path, "-hide_banner", "-version"]).stdout.splitlines()[:1]
        checks.append(Check(name, True, first[0] if first else path))
    ffmpeg = find_tool("ffmpeg")
    if ffmpeg:
        listing = _run([ffmpeg, "-hide_banner", "-encoders"]).stdout
        missing = [e for e in ENCODERS if f" {e} " not in listing]
        checks.append(Check("ffmpeg encoders", not missing,
                            "missing " + ", ".join(missing) if missing else ", ".join(ENCODERS),
                            "install an ffmpeg built with libx264 (Debian's ffmpeg package)" if missing else ""))
    return checks


def check_torchcodec() -> Check:
    """Torchcodec imports beside the installed torch and ffmpeg (datasets decodes media with it)."""
    try:
        done = _run([sys.executable, "-c", "import torchcodec.decoders; import torchcodec; print(torchcodec.__version__)"], timeout=120)
    except subprocess.TimeoutExpired:
        return Check("torchcodec", False, "import timed out", required=False)
    if done.returncode == 0:
        return Check("torchcodec", True, f"loads ({done.stdout.strip()})", required=False)
    last = (done.stderr.strip().splitlines() or ["import failed"])[-1]
    return Check("torchcodec", False, last[:200],
                 "pip install 'torchcodec>=0.12,<0.14' beside CPU torch, and Debian's ffmpeg for its shared libraries "
                 "(needed to load the dataset with `datasets`)", required=False)


def check_disk(path: Path, min_free_gib: float = MIN_FREE_GIB) -> list[Check]:
    """Enough free disk where the dataset will be written."""
    probe_dir = path
    while not probe_dir.exists() and probe_dir != probe_dir.parent:
        probe_dir = probe_dir.parent
    free = shutil.disk_usage(probe_dir).free / 2**30
    checks = [Check("free disk", free >= min_free_gib, f"{free:.1f} GiB free at {probe_dir}",
                    f"free space or pick another --path: AVG needs about {min_free_gib:g} GiB" if free < min_free_gib else "")]
    try:
        with tempfile.NamedTemporaryFile(dir=probe_dir, prefix=".avg-bench-doctor-"):
            pass
        checks.append(Check("write access", True, f"can write to {probe_dir}"))
    except OSError as exc:
        checks.append(Check("write access", False, f"{probe_dir}: {exc.strerror}", "choose a writable --path"))
    return checks


def run_checks(path: str | Path = ".", *, min_free_gib: float = MIN_FREE_GIB) -> list[Check]:
    """Every check, in the order ``avg-bench doctor`` prints them."""
    return [check_ytdlp(), check_js_runtime(), *check_ffmpeg(), check_torchcodec(),
            *check_disk(Path(path).absolute(), min_free_gib)]


def as_dicts(checks: list[Check]) -> list[dict]:
    """The checks as JSON-ready dicts (``avg-bench doctor --json``)."""
    return [asdict(c) for c in checks]
